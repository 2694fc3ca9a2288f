"""Dense layer kernels: y = f(x W + b) and its backward pass.

Shapes: x (N, d_in), W (d_in, d_out), b (d_out,), z = x W + b and y = f(z): (N, d_out).

The matrix products go to NumPy's BLAS and everything element-wise around them (bias,
activation, its derivative, the bias gradient) runs in one Numba pass each. Numba's own
``np.dot`` calls SciPy's bundled OpenBLAS, which measured 37% slower than NumPy's at these
shapes (82 vs 60 us for 32x784 @ 784x128, one thread), so the products are not done inside
the Numba kernels.
"""
import numpy as np

from ._jit import jit
from .activations import activation_grad, bias_activation, column_sums


@jit
def activation_grad_bias(z, y, dy, act, alpha, dz, db):
    """dz = dy * f'(z) (for linear pass dz = dy); db = sum over rows of dz."""
    activation_grad(z, y, dy, act, alpha, dz)
    column_sums(dz, db)


def forward(x, w, b, act, alpha, z, y):
    """z = x W + b; y = f(z). x: (N, d_in), w: (d_in, d_out), b: (d_out,); z, y: (N, d_out).

    For the linear activation pass the same array as z and y.
    """
    np.matmul(x, w, out=z)
    bias_activation(z, b, act, alpha, y)


def backward(x, w, z, y, dy, act, alpha, dz, dw, db, dx, need_dx):
    """Given dy = dL/dy: dz = dy * f'(z), dW = x^T dz, db = sum_n dz, dx = dz W^T.

    dy, dz: (N, d_out); dw: (d_in, d_out); db: (d_out,); dx: (N, d_in), written only when
    need_dx (the first layer's input gradient is never used). For the linear activation pass
    dy itself as dz (the fused softmax/sigmoid + cross-entropy head passes dL/dz that way).
    """
    activation_grad_bias(z, y, dy, act, alpha, dz, db)
    np.matmul(x.T, dz, out=dw)
    if need_dx:
        np.matmul(dz, w.T, out=dx)
