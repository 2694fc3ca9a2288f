"""The matrix products around a recurrence: the input projection of every time step at once,
and the weight, bias and input gradients after backpropagation through time.

A recurrent layer needs x_t W + b for all T steps before its recurrence starts, and after BPTT
dW = X^T dZ, dU = H_{t-1}^T dZ, db = sum dZ and dX = dZ W^T: products over all T N rows
together (x: (T N, D)), far larger and faster than T products of N rows each. These are a
Dense layer's linear forward and backward (``dlkit.reference.dense``), with the rows split
over ``nblocks`` threads. Results do not depend on the split except for the order of float
additions in ``dense_grads``' partial sums (deterministic for a given ``nblocks``).
"""
import numpy as np

from ._jit import bounds, jit, pjit, prange
from ._shared import chunked
from .activations import LINEAR, add_into, bias_activation, column_sums, copy_into
from .gemm import mm, transposed


@chunked("F2 F2 F1 F2")
@jit
def _project_chunk(x, w, b, out, k, nblocks):
    """Piece k of nblocks of project (see there)."""
    lo, hi = bounds(k, nblocks, out.shape[0])
    if hi > lo:
        mm(x[lo:hi], w, out[lo:hi])
        bias_activation(out[lo:hi], b, LINEAR, 0.0, out[lo:hi])   # + b


@pjit
def project(x, w, b, out, nblocks):
    """out = x W + b. x: (M, D), w: (D, G), b: (G,), out: (M, G); rows split over threads."""
    for k in prange(nblocks):
        _project_chunk(x, w, b, out, k, nblocks)


@chunked("F2 F2 F2 F2 F1 bool F2 bool F3 F2 F2")
@jit
def _dense_grads_chunk(x, dz, w, dw, db, need_db, dx, need_dx, parts_w, parts_b, wt, k, nblocks):
    """Piece k of nblocks of dense_grads (see there)."""
    lo, hi = bounds(k, nblocks, x.shape[0])
    if hi > lo:
        # x's block transposed into rows first: the product reads plain rows faster than a
        # transposed view (measured on the LSTM's dU: benchmarks/RESULTS.md)
        xt = transposed(x[lo:hi])
        if k == 0:
            mm(xt, dz[lo:hi], dw)
        else:
            mm(xt, dz[lo:hi], parts_w[k - 1])
        if need_db:
            column_sums(dz[lo:hi], parts_b[k])
        if need_dx:
            mm(dz[lo:hi], wt, dx[lo:hi])
    elif k == 0:
        dw[:] = 0.0
    else:
        parts_w[k - 1] = 0.0


@pjit
def dense_grads(x, dz, w, dw, db, need_db, dx, need_dx, nblocks):
    """dW = x^T dz, db = sum_rows dz, dx = dz W^T (if need_dx). x: (M, D), dz: (M, G).

    Each thread takes a block of rows; the first writes its part of dW straight into dw, the
    others into partial sums added to it afterwards.
    """
    m, d = x.shape
    g = dz.shape[1]
    parts_w = np.empty((nblocks - 1, d, g), dz.dtype)
    parts_b = np.zeros((nblocks, g), dz.dtype)
    wt = transposed(w) if need_dx else w   # once, not once per thread
    for k in prange(nblocks):
        _dense_grads_chunk(x, dz, w, dw, db, need_db, dx, need_dx, parts_w, parts_b, wt, k,
                           nblocks)
    for k in range(nblocks - 1):
        add_into(dw, parts_w[k])
    if need_db:
        copy_into(db, parts_b[0])
        for k in range(1, nblocks):
            add_into(db, parts_b[k])
