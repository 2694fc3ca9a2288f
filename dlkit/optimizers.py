"""Optimizers: SGD (momentum, Nesterov), AdaGrad, RMSprop, Adam, AdamW.

One implementation of each update rule (the kernels in ``dlkit.kernels.optim``) moves both a
network's weights and a point on a 2-D loss surface (see ``optimize_path``), so what the
book's widgets draw is exactly what trains the networks.

Interface (as Keras 3): ``optimizer.apply(grads, params)`` updates the arrays in ``params`` in
place. State (velocities, moving averages) is kept per parameter, in the order given.
Defaults, names and formulas are Keras 3's. Keras 2's ``lr=`` (the name the source documents
use, ``SGD(lr=0.01, momentum=0.9)``) still works, with a warning that names the new spelling.
"""
import functools
import math
import warnings

import numpy as np

from . import kernels  # lazy: Numba loads on first use

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "get", "optimize_path"]


def _check(name, value, low=None, high=None, low_open=False, high_open=True):
    """Raise a ValueError that names the hyperparameter, its value and the valid range."""
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    ok = ok and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low}, "
        hi = "" if high is None else f"{high}" + (")" if high_open else "]")
        rng = f"{lo}{hi}" if low is not None and high is not None else (
            f"> {low}" if low_open else f">= {low}")
        raise ValueError(f"{name} must be a number in {rng}, got {value!r}")
    return float(value)


def _accept_keras2_lr(init):
    """Wrap an optimizer's ``__init__`` so that ``lr=`` (Keras 2) means ``learning_rate=``.

    The renaming happens before ``init`` binds its defaults, so giving both names is caught.
    A UserWarning, not a DeprecationWarning: Python hides the latter outside ``__main__``,
    and a reader running a document's code should see why the name changed.
    """
    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        if "lr" in kwargs:
            lr = kwargs.pop("lr")
            if args or "learning_rate" in kwargs:
                raise TypeError(f"{type(self).__name__}() got both `lr` and `learning_rate`; "
                                "`lr` is the old (Keras 2) name of `learning_rate`: pass only "
                                "learning_rate=...")
            warnings.warn(f"`lr` is the old (Keras 2) name of `learning_rate`; use "
                          f"learning_rate={lr!r}", UserWarning, stacklevel=2)
            kwargs["learning_rate"] = lr
        return init(self, *args, **kwargs)
    return wrapper


class Optimizer:
    """Base class: learning rate, weight decay, gradient clipping, step counter, state slots.

    learning_rate > 0; weight_decay >= 0 (decoupled, as Keras: p <- p - lr * wd * p);
    clipnorm: clip each gradient array to this L2 norm; global_clipnorm: clip all gradients
    together to this norm; clipvalue: clip each gradient element to [-clipvalue, clipvalue].
    """

    _slot_names = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:  # every optimizer takes Keras 2's lr= (see above)
            cls.__init__ = _accept_keras2_lr(cls.__dict__["__init__"])

    @_accept_keras2_lr
    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **unknown):
        if unknown:  # name the optimizer the user called, not this base class
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) "
                            f"{', '.join(map(repr, unknown))}")
        self.learning_rate = learning_rate
        self.weight_decay = 0.0 if weight_decay is None else _check("weight_decay", weight_decay, 0)
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError("pass clipnorm or global_clipnorm, not both")
        self.clipnorm = None if clipnorm is None else _check("clipnorm", clipnorm, 0, low_open=True)
        self.global_clipnorm = (None if global_clipnorm is None else
                                _check("global_clipnorm", global_clipnorm, 0, low_open=True))
        self.clipvalue = None if clipvalue is None else _check("clipvalue", clipvalue, 0, low_open=True)
        self.name = name or type(self).__name__.lower()
        self.reset()

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _check("learning_rate", value, 0, low_open=True)

    def reset(self):
        """Forget all state (step count, moving averages): the next apply starts afresh."""
        self.iterations = 0
        self._slots = []
        self._bound = ((), ())
        self._bound_lists = (None, None)
        self._views, self._calls, self._dtype = [], [], None

    def _bind(self, grads, params):
        """Check the arrays, create the state on first use, and cache flat views of everything
        a kernel call needs. Runs again only when different arrays are passed."""
        grads, params = tuple(grads), tuple(params)
        if len(grads) != len(params):
            raise ValueError(f"got {len(grads)} gradients for {len(params)} parameters")
        for i, (p, g) in enumerate(zip(params, grads)):
            if not isinstance(p, np.ndarray) or not p.flags.c_contiguous or not p.flags.writeable:
                raise ValueError(f"parameter {i} must be a writeable, C-contiguous numpy array")
            if not isinstance(g, np.ndarray) or g.shape != p.shape or not g.flags.c_contiguous:
                raise ValueError(f"gradient {i} must be a C-contiguous array of its parameter's "
                                 f"shape {p.shape}, got {getattr(g, 'shape', type(g))}")
        shapes = [p.shape for p in params]
        if self._slots and self._shapes != shapes:
            raise ValueError(
                f"{self!r} holds state for parameters of shapes {self._shapes} but was given "
                f"{shapes}; use a new optimizer for each model (or call optimizer.reset())")
        if not self._slots:
            self._shapes = shapes
            self._slots = [tuple(self._init_slot(n, p) for n in self._slot_names) for p in params]
        self._views = [(p.reshape(-1), g.reshape(-1), slot)
                       for p, g, slot in zip(params, grads, self._slots)]
        self._calls = [(p, g, *slot) for p, g, slot in self._views]   # a kernel's array args
        dtypes = {p.dtype.type for p in params}
        self._dtype = dtypes.pop() if len(dtypes) == 1 else None
        self._bound = (params, grads)

    def _init_slot(self, name, p):
        return np.zeros(p.size, dtype=p.dtype)

    def apply(self, grads, params):
        """One step: update each array of ``params`` in place from the matching ``grads``."""
        bp, bg = self._bound
        # fast path: a model passes the very same lists every step
        if not (params is self._bound_lists[0] and grads is self._bound_lists[1]) and (
                len(params) != len(bp) or any(a is not b for a, b in zip(params, bp))
                or any(a is not b for a, b in zip(grads, bg))):
            self._bind(grads, params)
        self._bound_lists = (params, grads)
        self.iterations += 1
        f = self._dtype
        if f is not None and self.global_clipnorm is None and self.clipnorm is None:
            # the common case, kept lean (it runs once per batch): one dtype, no norm clipping
            h = self._hyper(f) + (f(1.0), f(self.clipvalue or math.inf))
            kernel = self._kernel()
            for args in self._calls:
                kernel(*args, *h)
            return
        gscales = None
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(kernels.optim.sum_squares(g) for _, g, _ in self._views))
            gscales = [min(1.0, self.global_clipnorm / norm) if norm > 0 else 1.0] * len(params)
        elif self.clipnorm is not None:
            norms = [math.sqrt(kernels.optim.sum_squares(g)) for _, g, _ in self._views]
            gscales = [min(1.0, self.clipnorm / n) if n > 0 else 1.0 for n in norms]
        kernel = self._kernel()
        hyper = {}  # the scalars in each parameter dtype: float64 ones would slow float32 loops
        for i, (p, g, slot) in enumerate(self._views):
            dt = p.dtype.type
            if dt not in hyper:
                hyper[dt] = self._hyper(dt) + (dt(self.clipvalue or math.inf),)
            *h, cv = hyper[dt]
            kernel(p, g, *slot, *h, dt(1.0 if gscales is None else gscales[i]), cv)

    def apply_gradients(self, grads_and_vars):
        """Keras's older spelling: ``apply_gradients(zip(grads, params))``."""
        grads, params = zip(*grads_and_vars)
        self.apply(grads, params)

    def _kernel(self):
        """This rule's kernel: f(p, g, *state, *hyperparameters, gscale, clipvalue)."""
        raise NotImplementedError

    def _hyper(self, f):
        """The rule's scalars for this step, converted by ``f`` to the parameters' dtype."""
        raise NotImplementedError

    def _keep(self, f):
        """Decoupled weight decay as a factor: p <- (1 - lr * wd) p."""
        return f(1 - self.learning_rate * self.weight_decay)

    def get_config(self):
        cfg = {"name": self.name, "learning_rate": self.learning_rate}
        for k in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
            v = getattr(self, k)
            if v:
                cfg[k] = v
        return cfg

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum. Keras default lr 0.01.

    v <- momentum * v - lr * g;  p <- p + v.
    (The other common convention, v <- beta v + (1 - beta) g, p <- p - lr' v, is the same
    method with lr' = lr / (1 - beta): the book's optimizer chapter shows why.)
    """

    _slot_names = ("velocity",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check("momentum", momentum, 0, 1)
        self.nesterov = bool(nesterov)

    def _kernel(self):
        return kernels.optim.sgd

    def _hyper(self, f):
        return f(self.learning_rate), f(self.momentum), self.nesterov, self._keep(f)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """AdaGrad: per-coordinate step lr / sqrt(sum of all past g^2). Keras defaults."""

    _slot_names = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = _check("initial_accumulator_value",
                                                initial_accumulator_value, 0)
        self.epsilon = _check("epsilon", epsilon, 0, low_open=True)

    def _init_slot(self, name, p):
        return np.full(p.size, self.initial_accumulator_value, dtype=p.dtype)

    def _kernel(self):
        return kernels.optim.adagrad

    def _hyper(self, f):
        return f(self.learning_rate), f(self.epsilon), self._keep(f)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """RMSprop: divide by the root of an exponential moving average of g^2. Keras defaults.

    s <- rho * s + (1 - rho) * g^2 (a moving average: old gradients are forgotten, unlike AdaGrad's sum).
    """

    _slot_names = ("velocity", "momentum", "average_gradient")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _check("rho", rho, 0, 1)
        self.momentum = _check("momentum", momentum, 0, 1)
        self.epsilon = _check("epsilon", epsilon, 0, low_open=True)
        self.centered = bool(centered)

    def _kernel(self):
        return kernels.optim.rmsprop

    def _hyper(self, f):
        return (f(self.learning_rate), f(self.rho), f(1 - self.rho), f(self.momentum),
                f(self.epsilon), self.centered, self._keep(f))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adam(Optimizer):
    """Adam: momentum on g and an RMSprop-style moving average of g^2, both bias-corrected."""

    _slot_names = ("m", "v", "vmax")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _check("beta_1", beta_1, 0, 1)
        self.beta_2 = _check("beta_2", beta_2, 0, 1)
        self.epsilon = _check("epsilon", epsilon, 0, low_open=True)
        self.amsgrad = bool(amsgrad)

    def _init_slot(self, name, p):
        if name == "vmax" and not self.amsgrad:
            return np.zeros(0, dtype=p.dtype)
        return np.zeros(p.size, dtype=p.dtype)

    def _kernel(self):
        return kernels.optim.adam

    def _hyper(self, f):
        t = self.iterations  # bias correction: early moving averages are biased towards 0
        alpha = self.learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        return (f(alpha), f(1 - self.beta_1), f(1 - self.beta_2), f(self.epsilon), self.amsgrad,
                self._keep(f))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay on by default (Keras default weight_decay=0.004)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


_BY_NAME = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}


def get(identifier):
    """An optimizer from a name ("adam"), a config dict, or an Optimizer (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        cls = _BY_NAME.get(str(identifier.get("class_name", "")).lower())
        if cls is None:
            raise ValueError(f"unknown optimizer config {identifier!r}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown optimizer {identifier!r}; valid names: {sorted(_BY_NAME)} "
                     "or an Optimizer instance such as dlkit.optimizers.SGD(learning_rate=0.01)")


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def optimize_path(optimizer, grad_fn, start, steps):
    """Run ``optimizer`` on a point: the path it takes over a surface with gradient ``grad_fn``.

    grad_fn: (d,) float64 array -> (d,) gradient; start: (d,); returns (steps + 1, d) float64,
    row 0 = start. Uses ``optimizer.apply``, the same code that trains networks. The optimizer
    is reset first, so the path depends only on its hyperparameters. Rows after the point
    leaves the float range (a diverging step size) are NaN.
    """
    optimizer.reset()
    p = np.array(start, dtype=np.float64).reshape(-1)
    path = np.empty((steps + 1, p.size))
    path[0] = p
    for k in range(1, steps + 1):
        g = np.asarray(grad_fn(p), dtype=np.float64).reshape(-1)
        optimizer.apply([g], [p])
        if not np.all(np.isfinite(p)):
            path[k:] = np.nan
            break
        path[k] = p
    return path
