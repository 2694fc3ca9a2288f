"""The Dense layer in plain NumPy (CS231n's affine layer followed by an activation).

Shapes: x (N, d_in), W (d_in, d_out), b (d_out,); z = x W + b and y = f(z): (N, d_out).
The same product with a bias is the input projection of the recurrent layers
(``kernels.projection``: ``dense_forward`` and ``dense_backward`` with the linear
activation).
"""
from . import activations


def dense_forward(x, W, b, activation="linear", alpha=0.0):
    """z = x W + b, y = f(z). Returns (z, y)."""
    z = x @ W + b
    return z, activations.forward(z, activation, alpha)


def dense_backward(x, W, z, dy, activation="linear", alpha=0.0):
    """Given dy = dL/dy (N, d_out): dx (N, d_in), dW (d_in, d_out), db (d_out,)."""
    dz = activations.backward(z, dy, activation, alpha)    # dz = dy * f'(z)
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)
