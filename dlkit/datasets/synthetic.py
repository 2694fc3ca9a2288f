"""Small 2-D classification sets: the ones TensorFlow Playground and the book draw.

Every function returns (X, y): X (N, 2) float32 points, y (N,) int64 labels 0..k-1, rows
shuffled so that any slice holds every class. Classes are as balanced as N allows (their
sizes differ by at most one). All randomness comes from one numpy Generator:
`numpy.random.default_rng(seed)`, or dlkit's library generator (see `dlkit.set_seed`) when
`seed` is None, so the same seed gives the same points bit for bit.
"""
import numbers

import numpy as np

__all__ = ["spirals", "moons", "circles", "xor", "blobs"]


def spirals(n_samples=200, noise=0.1, n_classes=2, seed=None):
    """Interleaved spiral arms, one per class: X (n_samples, 2), y (n_samples,).

    Arm j is r (cos t, sin t) with r from 0.05 to 1 and t = 2 pi (r + j / n_classes): one
    turn per arm, plus Gaussian noise of std `noise`. (TensorFlow Playground winds 1.75 turns
    on a 5x larger radius; at this scale that would let noise=0.1 blur the arms together.)
    Not linearly separable: the classic test of whether hidden layers help.
    """
    _check_int("n_classes", n_classes, minimum=2)
    _check_samples(n_samples, n_classes)
    _check_noise(noise)
    rng = _rng(seed)
    parts = []
    for j, n in enumerate(_class_sizes(n_samples, n_classes)):
        r = np.linspace(0.05, 1.0, n)  # start off the origin, where all arms would meet
        t = 2 * np.pi * (r + j / n_classes)
        parts.append(r[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1))
    return _finish(parts, noise, rng)


def moons(n_samples=200, noise=0.1, seed=None):
    """Two interleaving half circles (as sklearn's make_moons): X (n_samples, 2), y (n_samples,).

    Class 0: (cos t, sin t); class 1: (1 - cos t, 0.5 - sin t), t in [0, pi]; then Gaussian
    noise of std `noise`.
    """
    _check_samples(n_samples, 2)
    _check_noise(noise)
    rng = _rng(seed)
    n0, n1 = _class_sizes(n_samples, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    return _finish([upper, lower], noise, rng)


def circles(n_samples=200, noise=0.1, factor=0.5, seed=None):
    """A circle inside a circle: X (n_samples, 2), y (n_samples,).

    Class 0 on the unit circle, class 1 on the circle of radius `factor` (0 < factor < 1),
    evenly spaced in angle, plus Gaussian noise of std `noise`. Separable by radius only.
    """
    _check_samples(n_samples, 2)
    _check_noise(noise)
    if not (isinstance(factor, numbers.Real) and 0 < factor < 1):
        raise ValueError(f"factor is the inner circle's radius relative to the outer one and "
                         f"must be between 0 and 1 (exclusive); got {factor!r}")
    rng = _rng(seed)
    parts = []
    for radius, n in zip((1.0, factor), _class_sizes(n_samples, 2)):
        t = np.linspace(0, 2 * np.pi, n, endpoint=False)
        parts.append(radius * np.stack([np.cos(t), np.sin(t)], axis=1))
    return _finish(parts, noise, rng)


def xor(n_samples=200, noise=0.1, seed=None):
    """The XOR pattern: X (n_samples, 2) in [-1, 1]^2, y (n_samples,) = 1 where x1 * x2 < 0.

    Points are uniform in the four quadrants (a 0.1 margin keeps them off the axes), then
    Gaussian noise of std `noise` is added, so with noise some points cross an axis and
    keep their label, as in TensorFlow Playground.
    """
    _check_samples(n_samples, 2)
    _check_noise(noise)
    rng = _rng(seed)
    # Quadrants alternate class 0, 1, 0, 1, so spare points keep the classes balanced.
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])
    quadrants = [sign * rng.uniform(0.1, 1.0, size=(n, 2))
                 for sign, n in zip(signs, _class_sizes(n_samples, 4))]
    parts = [np.concatenate(quadrants[0::2]), np.concatenate(quadrants[1::2])]
    return _finish(parts, noise, rng)


def blobs(n_samples=200, centers=3, cluster_std=1.0, seed=None):
    """Gaussian clusters (as sklearn's make_blobs): X (n_samples, 2), y (n_samples,).

    centers: the number of clusters k, whose centres are then drawn uniformly from
        [-10, 10]^2, or the centres themselves as a (k, 2) array.
    cluster_std: the standard deviation of every cluster, or one per cluster, shape (k,).
    Cluster i has label i and n_samples / k points (give or take one).
    """
    random_centers = isinstance(centers, numbers.Integral) and not isinstance(centers, bool)
    if random_centers:
        _check_int("centers", centers, minimum=1)
        k = centers
    else:
        centers = np.asarray(centers, dtype=np.float64)
        if centers.ndim != 2 or centers.shape[1] != 2 or len(centers) == 0:
            raise ValueError(f"centers must be a number of clusters or a (k, 2) array of "
                             f"centres; got an array of shape {centers.shape}")
        k = len(centers)
    _check_samples(n_samples, k)
    std = np.asarray(cluster_std, dtype=np.float64)
    if std.ndim == 0:
        std = np.full(k, std)
    if std.shape != (k,) or not np.all(np.isfinite(std)) or np.any(std < 0):
        raise ValueError(f"cluster_std must be a number >= 0 or one per cluster "
                         f"({k} of them); got {cluster_std!r}")
    rng = _rng(seed)
    if random_centers:
        centers = rng.uniform(-10.0, 10.0, size=(k, 2))
    parts = [c + s * rng.standard_normal((n, 2))
             for c, s, n in zip(centers, std, _class_sizes(n_samples, k))]
    return _finish(parts, 0.0, rng)


def _rng(seed):
    if seed is None:
        from dlkit._random import default_rng  # lazily: the library generator, see set_seed

        return default_rng()
    return np.random.default_rng(seed)


def _class_sizes(n_samples, k):
    """Split n_samples into k sizes differing by at most one, the larger ones first."""
    return [n_samples // k + (i < n_samples % k) for i in range(k)]


def _finish(parts, noise, rng):
    """Label part i with class i, add N(0, noise^2) to every coordinate, shuffle the rows."""
    X = np.concatenate(parts)
    y = np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in enumerate(parts)])
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    order = rng.permutation(len(X))
    return X[order].astype(np.float32), y[order]


def _check_int(name, value, minimum):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")


def _check_samples(n_samples, n_classes):
    # Every class needs at least one point, or a label in 0..k-1 would never appear.
    _check_int("n_samples", n_samples, minimum=max(1, n_classes))


def _check_noise(noise):
    if not (isinstance(noise, numbers.Real) and np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise is the standard deviation of the Gaussian noise added to "
                         f"each coordinate and must be a finite number >= 0; got {noise!r}")
