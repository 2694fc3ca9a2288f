"""Dense layer kernels: y = f(x W + b) and its backward pass.

Shapes: x (N, d_in), W (d_in, d_out), b (d_out,), z = x W + b and y = f(z): (N, d_out).

Two ways, chosen per call:

* float32 on a CPU with AVX-512 (``gemm.ENABLED``): one Numba call does everything, the rows
  (forward, dx) or the weight rows (dW) split over the threads, each block a product of
  ``gemm.mm`` followed by the element-wise pass (each thread's piece is a shared function,
  ``_forward_chunk``/``_backward_chunk``: see ``_shared.chunked``). Measured faster, product
  and activation together, than NumPy's product alone at the book's shapes (see
  benchmarks/RESULTS.md).
* otherwise the products go to NumPy's BLAS and everything element-wise around them (bias,
  activation, its derivative, the bias gradient) runs in one Numba pass each. (Numba's own
  ``np.dot`` calls SciPy's bundled OpenBLAS, which measured slower than NumPy's at these
  shapes: benchmarks/RESULTS.md.)
"""
import numpy as np

from .._threads import chunks
from ._jit import bounds, jit, pjit, prange
from ._shared import chunked
from .activations import activation_grad, bias_activation, column_sums
from .gemm import ENABLED, NR, mm


@jit
def activation_grad_bias(z, y, dy, act, alpha, dz, db):
    """dz = dy * f'(z) (for linear pass dz = dy); db = sum over rows of dz."""
    activation_grad(z, y, dy, act, alpha, dz)
    column_sums(dz, db)


@chunked("F2 F2 F1 int float F2 F2")
@jit
def _forward_chunk(x, w, b, act, alpha, z, y, t, nt):
    """Piece t of nt of forward's z and y (a block of rows)."""
    lo, hi = bounds(t, nt, x.shape[0])
    mm(x[lo:hi], w, z[lo:hi])
    bias_activation(z[lo:hi], b, act, alpha, y[lo:hi])


@pjit
def _forward_blocks(x, w, b, act, alpha, z, y, nt):
    for t in prange(nt):
        _forward_chunk(x, w, b, act, alpha, z, y, t, nt)


@chunked("F2 F2 F2 F2 F2 int float F2 F2 F1 F2 bool")
@jit
def _backward_chunk(x, w, z, y, dy, act, alpha, dz, dw, db, dx, need_dx, t, nt):
    """Piece t of nt of backward's dw (a block of its rows) and of its dx (a block of rows)."""
    n, d = x.shape
    lo, hi = bounds(t, nt, d)
    mm(x[:, lo:hi].T, dz, dw[lo:hi])          # rows lo:hi of dW = x^T dz
    if need_dx:
        lo, hi = bounds(t, nt, n)
        mm(dz[lo:hi], w.T, dx[lo:hi])


@pjit
def _backward_blocks(x, w, z, y, dy, act, alpha, dz, dw, db, dx, need_dx, nt):
    activation_grad_bias(z, y, dy, act, alpha, dz, db)
    for t in prange(nt):
        _backward_chunk(x, w, z, y, dy, act, alpha, dz, dw, db, dx, need_dx, t, nt)


def _blocked(x, w, *more):
    """Our products for float32 with AVX-512, when the output is at least one column block
    wide (a 10-unit layer would waste 22 of 32 columns: NumPy does those)."""
    return (ENABLED and w.shape[1] >= NR and x.dtype == np.float32 and w.dtype == np.float32
            and all(a.dtype == np.float32 for a in more))


def forward(x, w, b, act, alpha, z, y):
    """z = x W + b; y = f(z). x: (N, d_in), w: (d_in, d_out), b: (d_out,); z, y: (N, d_out).

    For the linear activation pass the same array as z and y.
    """
    if _blocked(x, w):
        _forward_blocks(x, w, b, act, alpha, z, y, chunks(len(x)))
        return
    np.matmul(x, w, out=z)
    bias_activation(z, b, act, alpha, y)


def backward(x, w, z, y, dy, act, alpha, dz, dw, db, dx, need_dx):
    """Given dy = dL/dy: dz = dy * f'(z), dW = x^T dz, db = sum_n dz, dx = dz W^T.

    dy, dz: (N, d_out); dw: (d_in, d_out); db: (d_out,); dx: (N, d_in), written only when
    need_dx (the first layer's input gradient is never used). For the linear activation pass
    dy itself as dz (the fused softmax/sigmoid + cross-entropy head passes dL/dz that way).
    """
    if _blocked(x, w, dy):
        _backward_blocks(x, w, z, y, dy, act, alpha, dz, dw, db, dx, need_dx,
                         chunks(min(len(x), x.shape[1])))
        return
    activation_grad_bias(z, y, dy, act, alpha, dz, db)
    np.matmul(x.T, dz, out=dw)
    if need_dx:
        np.matmul(dz, w.T, out=dx)
