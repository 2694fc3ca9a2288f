"""Dense layer kernels: y = f(x W + b) and its backward pass, bias and activation fused.

Shapes: x (N, d_in), W (d_in, d_out), b (d_out,), z = x W + b and y = f(z): (N, d_out).
``np.dot`` inside njit calls BLAS (scipy's), so the matrix products run at BLAS speed and the
element-wise work around them happens in the same call, without temporaries.
"""
import numpy as np

from ._jit import jit
from .activations import (LINEAR, SOFTMAX, backward_flat, forward_flat,
                          softmax_backward_rows, softmax_rows)


@jit
def forward(x, w, b, act, alpha, z, y):
    """z = x W + b; y = f(z). x: (N, d_in), w: (d_in, d_out), b: (d_out,); z, y: (N, d_out).

    For the linear activation pass the same array as z and y.
    """
    np.dot(x, w, z)
    n, m = z.shape
    for i in range(n):
        for j in range(m):
            z[i, j] += b[j]
    if act == SOFTMAX:
        softmax_rows(z, y)
    elif act != LINEAR:
        forward_flat(z.reshape(-1), act, alpha, y.reshape(-1))


@jit
def backward(x, w, z, y, dy, act, alpha, dz, dw, db, dx, need_dx):
    """Given dy = dL/dy: dz = dy * f'(z), dW = x^T dz, db = sum_n dz, dx = dz W^T.

    dy, dz: (N, d_out); dw: (d_in, d_out); db: (d_out,); dx: (N, d_in), written only when
    need_dx (the first layer's input gradient is never used). For the linear activation pass
    dy itself as dz (the fused softmax/sigmoid + cross-entropy head passes dL/dz that way).
    """
    if act == SOFTMAX:
        softmax_backward_rows(y, dy, dz)
    elif act != LINEAR:
        backward_flat(z.reshape(-1), y.reshape(-1), dy.reshape(-1), act, alpha, dz.reshape(-1))
    np.dot(x.T, dz, dw)
    n, m = dz.shape
    for j in range(m):
        db[j] = 0
    for i in range(n):
        for j in range(m):
            db[j] += dz[i, j]
    if need_dx:
        np.dot(dz, w.T, dx)
