"""Loss surfaces in two dimensions, for watching optimizers move: f(x, y), its analytic
gradient, its minima and a window to draw.

    quadratic        ill-conditioned bowl  f = (x^2 + 10 y^2) / 2          (condition number 10)
    noisy_quadratic  the same bowl, its gradient plus Gaussian noise (what minibatches do)
    rosenbrock       f = (1 - x)^2 + 100 (y - x^2)^2                     min (1, 1)
    beale            f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2   min (3, 0.5)
    saddle           f = x^2 / 2 + y^4 / 4 - y^2 / 2    saddle at (0, 0), minima (0, +-1)
    himmelblau       f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2                four minima, f = 0

``surface.path(optimizer, start, steps)`` runs a dlkit optimizer over a surface with
``dlkit.optimizers.optimize_path``, the same update code that trains networks.
"""
import numpy as np

__all__ = ["Surface", "SURFACES", "get_surface"]


class Surface:
    """A 2-D test function. ``f(x, y)`` works on arrays; ``gradient(p)`` takes p: (2,).

    minima: (k, 2) global minima; min_value: f there; xlim, ylim: the window drawn;
    start: a default starting point; noise: std of Gaussian noise added to each gradient;
    learning_rates: a learning rate per optimizer name that makes a good first picture.
    """

    def __init__(self, name, title, formula, f, grad, minima, xlim, ylim, start,
                 learning_rates, noise=0.0):
        self.name, self.title, self.formula = name, title, formula
        self._f, self._grad = f, grad
        self.minima = np.asarray(minima, dtype=np.float64).reshape(-1, 2)
        self.min_value = float(f(self.minima[0, 0], self.minima[0, 1]))
        self.xlim, self.ylim = tuple(map(float, xlim)), tuple(map(float, ylim))
        self.start = tuple(map(float, start))
        self.learning_rates = dict(learning_rates)
        self.noise = float(noise)
        self._grids = {}

    def __call__(self, x, y):
        return self._f(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))

    def gradient(self, p):
        """Exact gradient at p: (2,) -> (2,). Overflows to inf (a diverging path), never raises."""
        x, y = np.float64(p[0]), np.float64(p[1])  # numpy scalars: inf on overflow, as arrays
        with np.errstate(over="ignore", invalid="ignore"):
            return np.array(self._grad(x, y), dtype=np.float64)

    def gradient_fn(self, seed=0):
        """The gradient an optimizer sees: exact, or exact + N(0, noise^2) from a seeded
        generator (a fresh one per call, so a path is the same for the same seed)."""
        if not self.noise:
            return self.gradient
        rng = np.random.default_rng(seed)
        return lambda p: self.gradient(p) + self.noise * rng.standard_normal(2)

    def path(self, optimizer, start=None, steps=100, seed=0):
        """Points the optimizer visits: (steps + 1, 2), row 0 = start (NaN after divergence)."""
        from ..optimizers import get, optimize_path

        start = self.start if start is None else start
        return optimize_path(get(optimizer), self.gradient_fn(seed), start, int(steps))

    def loss(self, path):
        """f along a path: (n, 2) -> (n,) (noise-free: the true loss, not the noisy one)."""
        path = np.asarray(path, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            return self(path[:, 0], path[:, 1])

    def distance_to_minimum(self, path):
        """Euclidean distance from each point to the nearest global minimum: (n, 2) -> (n,)."""
        path = np.asarray(path, dtype=np.float64)
        d = np.linalg.norm(path[:, None, :] - self.minima[None, :, :], axis=-1)
        return d.min(axis=1)

    def steps_to_reach(self, path, tol):
        """First step whose point lies within ``tol`` of a minimum, or None if none does."""
        hit = np.flatnonzero(self.distance_to_minimum(path) < tol)
        return int(hit[0]) if hit.size else None

    def grid(self, n=160):
        """X, Y, Z on an n x n grid over the window (cached: contours are drawn often)."""
        if n not in self._grids:
            x = np.linspace(*self.xlim, n)
            y = np.linspace(*self.ylim, n)
            X, Y = np.meshgrid(x, y)
            self._grids[n] = (X, Y, self(X, Y))
        return self._grids[n]

    def levels(self, n=20):
        """Contour levels spaced evenly in log(f - min): the valleys get as many lines as the walls."""
        Z = self.grid()[2]
        top = float(Z.max() - self.min_value)
        return self.min_value + np.geomspace(max(top * 1e-5, 1e-12), top, n)

    def __repr__(self):
        noise = f", noise={self.noise:g}" if self.noise else ""
        return f"Surface({self.name!r}: {self.formula}{noise})"


def _quadratic_f(x, y):
    return 0.5 * (x ** 2 + 10.0 * y ** 2)


def _quadratic_g(x, y):
    return 1.0 * x, 10.0 * y


def _rosenbrock_f(x, y):
    return (1 - x) ** 2 + 100.0 * (y - x ** 2) ** 2


def _rosenbrock_g(x, y):
    return -2 * (1 - x) - 400.0 * x * (y - x ** 2), 200.0 * (y - x ** 2)


def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y ** 2, 2.625 - x + x * y ** 3


def _beale_f(x, y):
    a, b, c = _beale_terms(x, y)
    return a ** 2 + b ** 2 + c ** 2


def _beale_g(x, y):
    a, b, c = _beale_terms(x, y)
    dx = 2 * a * (y - 1) + 2 * b * (y ** 2 - 1) + 2 * c * (y ** 3 - 1)
    dy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y ** 2
    return dx, dy


def _saddle_f(x, y):
    return 0.5 * x ** 2 + 0.25 * y ** 4 - 0.5 * y ** 2


def _saddle_g(x, y):
    return x, y ** 3 - y


def _himmelblau_f(x, y):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def _himmelblau_g(x, y):
    a, b = x ** 2 + y - 11, x + y ** 2 - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


_LR_QUADRATIC = dict(sgd=0.15, momentum=0.05, nesterov=0.05, adagrad=1.0, rmsprop=0.1, adam=0.2)

SURFACES = {s.name: s for s in [
    Surface("quadratic", "ill-conditioned bowl", "f = (x² + 10 y²) / 2", _quadratic_f,
            _quadratic_g, [(0, 0)], (-4, 4), (-2, 2), (-3.5, 1.5), _LR_QUADRATIC),
    Surface("noisy_quadratic", "bowl with noisy gradients", "f = (x² + 10 y²) / 2, ∇f + noise",
            _quadratic_f, _quadratic_g, [(0, 0)], (-4, 4), (-2, 2), (-3.5, 1.5),
            _LR_QUADRATIC, noise=2.0),
    Surface("rosenbrock", "Rosenbrock's banana valley", "f = (1 − x)² + 100 (y − x²)²",
            _rosenbrock_f, _rosenbrock_g, [(1, 1)], (-2, 2), (-1, 3), (-1.2, 1.0),
            dict(sgd=1e-3, momentum=4e-4, nesterov=4e-4, adagrad=1.0, rmsprop=0.02, adam=0.1)),
    Surface("beale", "Beale's function",
            "f = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            _beale_f, _beale_g, [(3, 0.5)], (-1.5, 4.5), (-2, 2.5), (1.0, 1.5),
            dict(sgd=1.5e-3, momentum=4e-4, nesterov=4e-4, adagrad=1.0, rmsprop=0.02, adam=0.1)),
    Surface("saddle", "a saddle point between two minima", "f = x²/2 + y⁴/4 − y²/2",
            _saddle_f, _saddle_g, [(0, 1), (0, -1)], (-2, 2), (-2, 2), (-1.8, 0.001),
            dict(sgd=0.1, momentum=0.02, nesterov=0.02, adagrad=0.5, rmsprop=0.02, adam=0.05)),
    Surface("himmelblau", "Himmelblau's four minima", "f = (x² + y − 11)² + (x + y² − 7)²",
            _himmelblau_f, _himmelblau_g,
            [(3.0, 2.0), (-2.805118086952745, 3.131312518250573),
             (-3.779310253377747, -3.283185991286170), (3.584428340330492, -1.848126526964404)],
            (-5, 5), (-5, 5), (0.0, -0.5),
            dict(sgd=0.01, momentum=0.002, nesterov=0.002, adagrad=1.0, rmsprop=0.05, adam=0.1)),
]}


def get_surface(surface):
    """A Surface from its name (see ``SURFACES``) or a Surface (returned as is)."""
    if isinstance(surface, Surface):
        return surface
    try:
        return SURFACES[surface]
    except (KeyError, TypeError):
        raise ValueError(f"unknown surface {surface!r}; choose one of {sorted(SURFACES)} "
                         "or pass a dlkit.viz.Surface") from None
