"""Activation functions by name, for layers and for plotting.

The arithmetic lives in ``dlkit.kernels.activations``; this module resolves Keras names
("relu", "softmax", None, ...) and offers ``apply``/``derivative`` on plain arrays for the book.
"""
import numpy as np

from . import kernels  # lazy: Numba loads on first use

NAMES = ("linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "gelu",
         "softplus", "swish")
_ALIASES = {None: "linear", "silu": "swish"}
# Keras defaults for the parameterised ones: leaky_relu(negative_slope=0.2), elu(alpha=1.0)
DEFAULT_ALPHA = {"leaky_relu": 0.2, "elu": 1.0}


def resolve(name):
    """Canonical name of an activation, or a ValueError that lists the valid names."""
    name = _ALIASES.get(name, name)
    if callable(name) and getattr(name, "__name__", None) in NAMES:
        name = name.__name__
    if name not in NAMES:
        raise ValueError(f"unknown activation {name!r}; valid names: {', '.join(NAMES)} (or None)")
    return name


def code(name, dtype=np.float64):
    """(integer kernel code, alpha) of an activation name; alpha in ``dtype`` (a float64
    scalar would make the float32 kernels convert every element)."""
    name = resolve(name)
    return kernels.activations.CODES[name], dtype(DEFAULT_ALPHA.get(name, 0.0))


def _float64(z):
    """z as a C-contiguous float64 array of its own shape (``np.ascontiguousarray`` would
    turn a number into shape (1,))."""
    return np.require(np.asarray(z, dtype=np.float64), requirements="C")


def apply(name, z):
    """f(z) for an array or number z, same shape (softmax over the last axis). Returns float64."""
    z = _float64(z)
    y = np.empty_like(z)
    c, alpha = code(name)
    as_1d = (lambda a: a if a.ndim else a.reshape(1))   # the kernel wants arrays, not scalars
    kernels.activations.forward(as_1d(z), c, alpha, as_1d(y))
    return y


def derivative(name, z):
    """f'(z) element-wise (for softmax: the diagonal of its Jacobian, y(1 - y))."""
    z = _float64(z)
    y = apply(name, z)
    c, alpha = code(name)
    if c == kernels.activations.SOFTMAX:
        return y * (1 - y)
    dz = np.empty_like(z)
    flat = (lambda a: a.reshape(-1))
    kernels.activations.backward_flat(flat(z), flat(y), np.ones(z.size), c, alpha, flat(dz))
    return dz


def relu(x):
    return apply("relu", x)


def sigmoid(x):
    return apply("sigmoid", x)


def tanh(x):
    return apply("tanh", x)


def softmax(x):
    return apply("softmax", x)
