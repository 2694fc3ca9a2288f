"""Weight initialisers with Keras's names and formulas.

fan_in / fan_out of a kernel: Dense (in, out) -> (in, out); Conv2D (kh, kw, c_in, c_out) ->
(kh*kw*c_in, kh*kw*c_out), as Keras computes them.
Glorot & Bengio (2010): uniform limit sqrt(6 / (fan_in + fan_out)).
He et al. (2015): variance 2 / fan_in, for ReLU networks.
"""
import numpy as np

_TRUNC = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]


def compute_fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(rng, shape, std):
    # Keras truncates at two standard deviations and rescales so the variance is std^2.
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return out * (std / _TRUNC)


def _variance_scaling(rng, shape, scale, mode, distribution):
    fan_in, fan_out = compute_fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    var = scale / max(1.0, n)
    if distribution == "uniform":
        lim = np.sqrt(3 * var)
        return rng.uniform(-lim, lim, shape)
    return _truncated_normal(rng, shape, np.sqrt(var))


def _orthogonal(rng, shape):
    # Saxe et al. (2014): a random orthogonal matrix keeps h_t's norm through a recurrence.
    rows = int(np.prod(shape[:-1]))
    cols = shape[-1]
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return q[:rows, :cols].reshape(shape)


INITIALIZERS = {
    "zeros": lambda rng, s: np.zeros(s),
    "ones": lambda rng, s: np.ones(s),
    "glorot_uniform": lambda rng, s: _variance_scaling(rng, s, 1.0, "fan_avg", "uniform"),
    "glorot_normal": lambda rng, s: _variance_scaling(rng, s, 1.0, "fan_avg", "normal"),
    "he_uniform": lambda rng, s: _variance_scaling(rng, s, 2.0, "fan_in", "uniform"),
    "he_normal": lambda rng, s: _variance_scaling(rng, s, 2.0, "fan_in", "normal"),
    "lecun_uniform": lambda rng, s: _variance_scaling(rng, s, 1.0, "fan_in", "uniform"),
    "lecun_normal": lambda rng, s: _variance_scaling(rng, s, 1.0, "fan_in", "normal"),
    "orthogonal": _orthogonal,
    "random_normal": lambda rng, s: rng.normal(0.0, 0.05, s),
    "random_uniform": lambda rng, s: rng.uniform(-0.05, 0.05, s),
}


def get(name):
    """The initialiser function ``f(rng, shape) -> float64 array`` for a Keras name."""
    if callable(name):
        return name
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; valid names: {', '.join(INITIALIZERS)}")
    return INITIALIZERS[name]
