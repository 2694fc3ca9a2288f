"""The activation functions and their derivatives in plain NumPy, by Keras name.

z is the pre-activation (any shape), y = f(z); backward returns dz = dy * f'(z), the
gradient that flows back through f. Softmax works on the last axis, and its backward is the
Jacobian-vector product dz = y (dy - sum(dy y)). ``alpha`` is the slope of leaky_relu for
z < 0 and the scale of elu (Keras's defaults: 0.2 and 1.0).
"""
import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[float])


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    """exp(z) / sum(exp(z)) over the last axis; subtracting the max keeps exp finite."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _gelu_cdf(z):
    return 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))      # Phi(z), the normal distribution


def forward(z, name, alpha=0.0):
    """y = f(z), same shape as z."""
    return {
        "linear": lambda: z,
        "relu": lambda: np.maximum(z, 0.0),
        "leaky_relu": lambda: np.where(z > 0, z, alpha * z),
        "elu": lambda: np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0))),
        "sigmoid": lambda: sigmoid(z),
        "tanh": lambda: np.tanh(z),
        "softmax": lambda: softmax(z),
        "gelu": lambda: z * _gelu_cdf(z),
        "softplus": lambda: np.logaddexp(0.0, z),          # log(1 + e^z), finite for any z
        "swish": lambda: z * sigmoid(z),
    }[name]()


def backward(z, dy, name, alpha=0.0):
    """dz = dy * f'(z) (softmax: y (dy - sum(dy y)) over the last axis)."""
    y = forward(z, name, alpha)
    s = sigmoid(z)
    return {
        "linear": lambda: dy,
        "relu": lambda: dy * (z > 0),
        "leaky_relu": lambda: dy * np.where(z > 0, 1.0, alpha),
        "elu": lambda: dy * np.where(z > 0, 1.0, y + alpha),               # alpha e^z = y + alpha
        "sigmoid": lambda: dy * y * (1 - y),
        "tanh": lambda: dy * (1 - y ** 2),
        "softmax": lambda: y * (dy - (dy * y).sum(axis=-1, keepdims=True)),
        "gelu": lambda: dy * (_gelu_cdf(z) + z * np.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi)),
        "softplus": lambda: dy * s,
        "swish": lambda: dy * (s + z * s * (1 - s)),
    }[name]()
