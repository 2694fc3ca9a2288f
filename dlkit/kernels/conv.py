"""Conv2D kernels, channels-last: x (N, H, W, C), kernel w (kh, kw, C, F), z (N, H', W', F).

im2col + GEMM (``dlkit.reference.conv`` is the definition): copy every window into a row of
``cols`` (N H' W', kh kw C), then one matrix product z = cols @ W2 with W2 = w.reshape(kh kw C,
F). Direct loops over each output pixel's window were measured slower at every shape of the
book, even for a first layer on grey images (kh kw C = 9), and are not kept
(benchmarks/RESULTS.md).

The batch is split into ``nt`` chunks run by a ``prange`` (one per core): each chunk does its
own im2col and its own single-threaded matrix product (``gemm.mm``: AVX-512 code of our own
where the CPU has it, else BLAS), and weight gradients are summed per chunk and
then added in a fixed order, so results do not depend on thread timing.
Geometry (``kh, kw, sh, sw, pt, pl``): kernel size, strides, padding before each axis (top, left),
from ``dlkit.layers.geometry``; positions in the padding read as 0.
"""
import numpy as np

from ._jit import bounds, jit, pjit, prange
from ._shared import chunked
from .activations import activation_grad, bias_activation, column_sums, sum_parts
from .gemm import mm, transposed


@jit
def _valid_cols(dj, sw, pl, w, wo):
    """The output columns j whose input column j sw + dj - pl lies inside [0, w)."""
    return max(0, -((dj - pl) // sw)), max(0, min(wo, (w - 1 - dj + pl) // sw + 1))


@jit
def im2col(x, kh, kw, sh, sw, pt, pl, ho, wo, cols):
    """x: (n, H, W, C) -> cols: (n ho wo, kh kw C); row (b, i, j), column (di, dj, c).

    Loops run tap by tap over a whole output row (j innermost but one), so the bounds test is
    done once per tap and row instead of per element; indices are unsigned because Numba tests
    every signed index for a negative (wrap-around) value. For C = 1 (grey images) this is
    several times faster than a loop over the window of each output pixel
    (benchmarks/RESULTS.md).
    """
    n, h, w, c = x.shape
    kc = cols.shape[1]
    xf, cf = x.reshape(-1), cols.reshape(-1)
    uc = np.uint64(c)
    for b in range(n):
        for i in range(ho):
            r0 = (b * ho + i) * wo
            for di in range(kh):
                hi = i * sh + di - pt
                inside = 0 <= hi < h
                for dj in range(kw):
                    col = (di * kw + dj) * c
                    j0, j1 = _valid_cols(dj, sw, pl, w, wo) if inside else (0, 0)
                    j1 = max(j0, j1)
                    for j in range(j0):            # windows reaching into the padding
                        for k in range(c):
                            cols[r0 + j, col + k] = 0.0
                    for j in range(j1, wo):
                        for k in range(c):
                            cols[r0 + j, col + k] = 0.0
                    if j1 == j0:
                        continue
                    src = ((b * h + hi) * w + j0 * sw + dj - pl) * c
                    if c == 1:
                        for jj in range(j1 - j0):
                            cf[np.uint64((r0 + j0 + jj) * kc + col)] = xf[np.uint64(src + jj * sw)]
                    else:
                        for jj in range(j1 - j0):
                            d = np.uint64((r0 + j0 + jj) * kc + col)
                            s = np.uint64(src + jj * sw * c)
                            for k in range(uc):
                                cf[d + k] = xf[s + k]


@jit
def col2im(cols, kh, kw, sh, sw, pt, pl, ho, wo, dx):
    """The adjoint of im2col: dx (n, H, W, C) = sum of every window row of cols put back in place
    (overlapping windows add up; values that fell in the padding are dropped)."""
    n, h, w, c = dx.shape
    dx[...] = 0.0
    r = 0
    for b in range(n):
        for i in range(ho):
            for j in range(wo):
                for di in range(kh):
                    hi = i * sh + di - pt
                    if hi < 0 or hi >= h:
                        continue
                    for dj in range(kw):
                        wj = j * sw + dj - pl
                        if 0 <= wj < w:
                            col = (di * kw + dj) * c
                            for k in range(c):
                                dx[b, hi, wj, k] += cols[r, col + k]
                r += 1


@chunked("F4 F4 F1 int int int int int int int float F2 F4 F4")
@jit
def _forward_chunk(x, w, b, kh, kw, sh, sw, pt, pl, act, alpha, cols, z, y, t, nt):
    """Piece t of nt of forward (see there)."""
    n, ho, wo, f = z.shape
    w2 = w.reshape(-1, f)
    lo, hi = bounds(t, nt, n)
    r0, r1 = lo * ho * wo, hi * ho * wo
    z2 = z[lo:hi].reshape(-1, f)
    im2col(x[lo:hi], kh, kw, sh, sw, pt, pl, ho, wo, cols[r0:r1])
    mm(cols[r0:r1], w2, z2)
    bias_activation(z2, b, act, alpha, y[lo:hi].reshape(-1, f))


@pjit
def forward(x, w, b, kh, kw, sh, sw, pt, pl, act, alpha, nt, cols, z, y):
    """z = conv(x, w) + b, y = f(z). x: (N, H, W, C); w: (kh, kw, C, F); z, y: (N, H', W', F).

    cols: (N H' W', kh kw C), filled with the windows (kept for backward).
    For the linear activation pass the same array as z and y.
    """
    for t in prange(nt):
        _forward_chunk(x, w, b, kh, kw, sh, sw, pt, pl, act, alpha, cols, z, y, t, nt)


@chunked("F4 F4 F4 F4 int int int int int int int float bool F2 F4 F2 F5 F2 F4 F1 F4 F2")
@jit
def _backward_chunk(w, z, y, dy, kh, kw, sh, sw, pt, pl, act, alpha, need_dx, cols, dz,
                    dcols, dw_parts, db_parts, dw, db, dx, w2t, t, nt):
    """Piece t of nt of backward (see there)."""
    n, ho, wo, f = z.shape
    lo, hi = bounds(t, nt, n)
    r0, r1 = lo * ho * wo, hi * ho * wo
    dz2 = dz[lo:hi].reshape(-1, f)
    activation_grad(z[lo:hi].reshape(-1, f), y[lo:hi].reshape(-1, f), dy[lo:hi].reshape(-1, f),
                    act, alpha, dz2)
    mm(cols[r0:r1].T, dz2, dw_parts[t].reshape(-1, f))
    column_sums(dz2, db_parts[t])
    if need_dx:
        mm(dz2, w2t, dcols[r0:r1])
        col2im(dcols[r0:r1], kh, kw, sh, sw, pt, pl, ho, wo, dx[lo:hi])


@pjit
def backward(x, w, z, y, dy, kh, kw, sh, sw, pt, pl, act, alpha, nt, need_dx,
             cols, dz, dcols, dw_parts, db_parts, dw, db, dx):
    """Given dy = dL/dy (N, H', W', F): dz = dy f'(z), dw = sum windows^T dz, db = sum dz,
    dx = col2im(dz W2^T) (only when need_dx).

    cols: the windows forward stored (x itself is not read again); dcols: scratch like cols;
    dw_parts (nt, kh, kw, C, F) and db_parts (nt, F): per-chunk sums. For the linear activation
    pass dy itself as dz.
    """
    n, ho, wo, f = z.shape
    w2t = transposed(w.reshape(-1, f))   # (F, kh kw C), once for every thread
    for t in prange(nt):
        _backward_chunk(w, z, y, dy, kh, kw, sh, sw, pt, pl, act, alpha, need_dx, cols, dz,
                        dcols, dw_parts, db_parts, dw, db, dx, w2t, t, nt)
    sum_parts(dw_parts, dw)
    sum_parts(db_parts, db)


@chunked("F4 F4 int int int int int int F2 F4 F2")
@jit
def _input_grad_chunk(dz, w, kh, kw, sh, sw, pt, pl, dcols, dx, w2t, t, nt):
    """Piece t of nt of input_grad (see there)."""
    n, ho, wo, f = dz.shape
    lo, hi = bounds(t, nt, n)
    r0, r1 = lo * ho * wo, hi * ho * wo
    mm(dz[lo:hi].reshape(-1, f), w2t, dcols[r0:r1])
    col2im(dcols[r0:r1], kh, kw, sh, sw, pt, pl, ho, wo, dx[lo:hi])


@pjit
def input_grad(dz, w, kh, kw, sh, sw, pt, pl, nt, dcols, dx):
    """dx (N, H, W, C) = col2im(dz W2^T) for dz (N, H', W', F): the input gradient alone, which
    is also the forward pass of a transposed convolution."""
    n, ho, wo, f = dz.shape
    w2t = transposed(w.reshape(-1, f))   # (F, kh kw C), once for every thread
    for t in prange(nt):
        _input_grad_chunk(dz, w, kh, kw, sh, sw, pt, pl, dcols, dx, w2t, t, nt)
