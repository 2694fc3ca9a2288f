"""Recurrent kernels: SimpleRNN, GRU and LSTM over a whole sequence, forward and
backpropagation through time (BPTT), each in one call.

Layout: arrays are *time-major* inside the kernels, ``Z[t]`` is the (N, G) block of step t,
so every per-step slice ``H[t, lo:hi]`` is contiguous and goes straight to the matrix product.
``H`` has T + 1 steps: ``H[0]`` is the initial state h_0 and ``H[t + 1]`` the output of step t.

How the work is split (why it is fast):
  * the input projection x_t W + b of *all* steps is one product, (T*N, D) @ (D, G), before
    the recurrence; BPTT likewise leaves dW = X^T dZ, dU = H_{t-1}^T dZ and dX = dZ W^T to
    products after it (both in ``kernels.projection``);
  * what must be sequential, h_{t-1} U and the gate nonlinearities, runs per step, fused;
  * samples are independent, so the batch is cut into ``nchunks`` blocks that run the whole
    recurrence on separate threads (``prange``), each calling a single-threaded matrix
    product (``gemm.mm``); results do not depend on the chunking.

Masks (from ``Embedding(mask_zero=True)``): ``mask[t, n] == 0`` skips step t of sample n, which
carries its state over (h_t = h_{t-1}, c_t = c_{t-1}), as Keras does; BPTT passes the state
gradient straight through that step.

Activations are integer codes (``dlkit.kernels.activations``); sigmoid and tanh, the gates'
functions, use the vectorisable float32 exp of ``_fastmath`` (libm's tanh is a scalar call).
The element-wise work of a step runs as a few passes over the step's block of rows (one
gate function over all rows, then the next), see the helpers below.
"""

import numpy as np

from ._jit import bounds, jit, pjit, prange
from ._shared import chunked
from . import _fastmath as fm
from .gemm import mm, mm_add
from .activations import LINEAR, ONE, SIGMOID, TANH, backward_flat, forward_flat


# -- element-wise helpers on rows rlo:rhi, columns lo:hi of 2-D arrays -----------------------
# One call per time step and block of rows, not per row: a call (saving registers, loading
# constants, alias checks) costs as much as a 128-wide loop's arithmetic.
# Indices rather than slices in the gate loops: a slice is a new array view whose reference
# count is updated atomically, which in the per-row loops of two threads costs more than the
# arithmetic. Unsigned indices: for a signed one Numba adds a negative-index fix-up to every
# access, and LLVM then leaves the loop scalar; the LSTM's gate loops ran measurably faster
# unsigned (benchmarks/RESULTS.md). (Mixing np.uint64 with int64 gives float64 in Numba, so
# whole index expressions are cast.) A loop that writes one array at two column offsets
# (gz[n, j] and gz[n, u + j]) stays scalar: LLVM checks for overlap once for all rows, where
# the two ranges do overlap; such loops are written as one loop per output range.
@jit
def activate(z, y, rlo, rhi, lo, hi, act, alpha):
    """y[rlo:rhi, lo:hi] = f(z[rlo:rhi, lo:hi]), with fast paths for the two gate functions."""
    if act == SIGMOID:
        for row in range(rlo, rhi):
            r = np.uint64(row)
            for j in range(np.uint64(lo), np.uint64(hi)):
                y[r, j] = fm.sigmoid(z[r, j])
    elif act == TANH:
        for row in range(rlo, rhi):
            r = np.uint64(row)
            for j in range(np.uint64(lo), np.uint64(hi)):
                y[r, j] = fm.tanh(z[r, j])
    else:
        for row in range(rlo, rhi):
            forward_flat(z[row, lo:hi], act, alpha, y[row, lo:hi])


@jit
def activate_grad(z, y, g, rlo, rhi, lo, hi, act, alpha):
    """g[rlo:rhi, lo:hi] *= f'(z[rlo:rhi, lo:hi]), given y = f(z)."""
    if act == SIGMOID:
        for row in range(rlo, rhi):
            r = np.uint64(row)
            for j in range(np.uint64(lo), np.uint64(hi)):
                g[r, j] *= y[r, j] * (ONE - y[r, j])
    elif act == TANH:
        for row in range(rlo, rhi):
            r = np.uint64(row)
            for j in range(np.uint64(lo), np.uint64(hi)):
                g[r, j] *= ONE - y[r, j] * y[r, j]
    elif act != LINEAR:
        for row in range(rlo, rhi):
            gs = g[row, lo:hi]
            backward_flat(z[row, lo:hi], y[row, lo:hi], gs, act, alpha, gs)


# -- SimpleRNN: h_t = f(x_t W + h_{t-1} U + b) --------------------------------------------------
@jit
def _carry_masked(mask, t, lo, hi, src, dst):
    """dst[n] = src[n] for the rows n in lo:hi that step t skips (mask[t, n] == 0)."""
    u = np.uint64(dst.shape[1])
    for row in range(lo, hi):
        if mask[t, row] == 0:
            n = np.uint64(row)
            for j in range(u):
                dst[n, j] = src[n, j]


@jit
def _zero_masked(mask, t, lo, hi, g):
    """g[n] = 0 for the rows n in lo:hi that step t skips."""
    for row in range(lo, hi):
        if mask[t, row] == 0:
            g[row, :] = 0.0


@jit
def _add_rows(x, y, lo, hi):
    """x[lo:hi] += y[lo:hi] (same shape)."""
    m = np.uint64(x.shape[1])
    for row in range(lo, hi):
        n = np.uint64(row)
        for j in range(m):
            x[n, j] += y[n, j]


@chunked("F3 F2 u1:2 bool int float F3")
@jit
def _simple_rnn_forward_chunk(Z, U, mask, has_mask, act, alpha, H, k, nchunks):
    """Piece k of nchunks of simple_rnn_forward (see there)."""
    T, N, u = Z.shape
    lo, hi = bounds(k, nchunks, N)
    for t in range(T):
        mm_add(H[t, lo:hi], U, Z[t, lo:hi])                  # z += h_{t-1} U
        activate(Z[t], H[t + 1], lo, hi, 0, u, act, alpha)
        if has_mask:
            _carry_masked(mask, t, lo, hi, H[t], H[t + 1])


@pjit
def simple_rnn_forward(Z, U, mask, has_mask, act, alpha, H, nchunks):
    """Z: (T, N, u) holds x_t W + b on entry and the pre-activations on exit;
    U: (u, u); mask: (T, N) or unused; H: (T+1, N, u) with H[0] = h_0 set by the caller."""
    for k in prange(nchunks):
        _simple_rnn_forward_chunk(Z, U, mask, has_mask, act, alpha, H, k, nchunks)


@chunked("F3 bool u1:2 bool F3 F3 F2 int float F2 F3 F2")
@jit
def _simple_rnn_backward_chunk(dH, seq, mask, has_mask, Z, H, UT, act, alpha, dh, dZ, carry, k,
                               nchunks):
    """Piece k of nchunks of simple_rnn_backward (see there)."""
    T, N, u = Z.shape
    uu = np.uint64(u)
    lo, hi = bounds(k, nchunks, N)
    for t in range(T - 1, -1, -1):
        g = dZ[t]
        if seq:
            _add_rows(dh, dH[t], lo, hi)                     # dL/dh_t
        for row in range(lo, hi):
            n = np.uint64(row)
            for j in range(uu):
                g[n, j] = dh[n, j]
        activate_grad(Z[t], H[t + 1], g, lo, hi, 0, u, act, alpha)
        if has_mask:   # a skipped step passes the gradient straight through to h_{t-1}
            _carry_masked(mask, t, lo, hi, dh, carry)
            _zero_masked(mask, t, lo, hi, g)
        mm(g[lo:hi], UT, dh[lo:hi])
        if has_mask:
            _carry_masked(mask, t, lo, hi, carry, dh)


@pjit
def simple_rnn_backward(dH, seq, mask, has_mask, Z, H, UT, act, alpha, dh, dZ, nchunks):
    """BPTT. dH: (T, N, u) gradients w.r.t. each step's output (used if seq); dh: (N, u) is
    dL/dh_T on entry (last output + state gradient) and dL/dh_0 on exit; dZ: (T, N, u) out;
    UT = U^T contiguous."""
    T, N, u = Z.shape
    carry = np.empty((N, u), Z.dtype)
    for k in prange(nchunks):
        _simple_rnn_backward_chunk(dH, seq, mask, has_mask, Z, H, UT, act, alpha, dh, dZ, carry, k,
                                   nchunks)


# -- LSTM (Hochreiter & Schmidhuber 1997; Keras gate order i, f, c, o) ------------------------
@chunked("F3 F2 u1:2 bool int float int float F3 F3 F3 F3")
@jit
def _lstm_forward_chunk(Z, U, mask, has_mask, act, alpha, ract, ralpha, A, C, S, H, k, nchunks):
    """Piece k of nchunks of lstm_forward (see there)."""
    T, N, G = Z.shape
    u = G // 4
    uu, u2, u3 = np.uint64(u), np.uint64(2 * u), np.uint64(3 * u)
    lo, hi = bounds(k, nchunks, N)
    for t in range(T):
        mm_add(H[t, lo:hi], U, Z[t, lo:hi])                  # z += h_{t-1} U
        z, a, cp, c, s, h = Z[t], A[t], C[t], C[t + 1], S[t], H[t + 1]
        activate(z, a, lo, hi, 0, 2 * u, ract, ralpha)       # i, f
        activate(z, a, lo, hi, 2 * u, 3 * u, act, alpha)     # g
        activate(z, a, lo, hi, 3 * u, G, ract, ralpha)       # o
        for row in range(lo, hi):
            n = np.uint64(row)
            for j in range(uu):
                c[n, j] = a[n, uu + j] * cp[n, j] + a[n, j] * a[n, u2 + j]
        activate(c, s, lo, hi, 0, u, act, alpha)
        for row in range(lo, hi):
            n = np.uint64(row)
            for j in range(uu):
                h[n, j] = a[n, u3 + j] * s[n, j]
        if has_mask:
            _carry_masked(mask, t, lo, hi, cp, c)
            _carry_masked(mask, t, lo, hi, H[t], h)


@pjit
def lstm_forward(Z, U, mask, has_mask, act, alpha, ract, ralpha, A, C, S, H, nchunks):
    """z = x_t W + b + h_{t-1} U: (N, 4u) split into [i, f, c, o];
    i, f, o = ract(.), g = act(z_c); c_t = f c_{t-1} + i g; h_t = o act(c_t).

    Z: (T, N, 4u) projections in, pre-activations out; A: (T, N, 4u) gate values;
    C, H: (T+1, N, u) cell and hidden states (index 0 = initial, set by the caller);
    S: (T, N, u) = act(c_t). Skipped steps (mask 0) carry c and h over; their A and S rows
    hold values nothing reads."""
    for k in prange(nchunks):
        _lstm_forward_chunk(Z, U, mask, has_mask, act, alpha, ract, ralpha, A, C, S, H, k, nchunks)


@chunked("F3 bool u1:2 bool F3 F3 F3 F3 F2 int float int float F2 F2 F3 F2 F2")
@jit
def _lstm_backward_chunk(dH, seq, mask, has_mask, Z, A, C, S, UT, act, alpha, ract, ralpha, dh, dc,
                         dZ, ds, carry, k, nchunks):
    """Piece k of nchunks of lstm_backward (see there)."""
    T, N, G = Z.shape
    u = G // 4
    uu, u2, u3 = np.uint64(u), np.uint64(2 * u), np.uint64(3 * u)
    lo, hi = bounds(k, nchunks, N)
    for t in range(T - 1, -1, -1):
        gz, z, a, c, cp, s = dZ[t], Z[t], A[t], C[t + 1], C[t], S[t]
        if seq:
            _add_rows(dh, dH[t], lo, hi)                     # dL/dh_t
        for row in range(lo, hi):
            n = np.uint64(row)
            for j in range(uu):
                gz[n, u3 + j] = dh[n, j] * s[n, j]           # dL/do
            for j in range(uu):
                ds[n, j] = dh[n, j] * a[n, u3 + j]           # dL/d act(c_t)
        activate_grad(c, s, ds, lo, hi, 0, u, act, alpha)
        for row in range(lo, hi):
            n = np.uint64(row)
            if has_mask and mask[t, n] == 0:
                continue                                     # dc passes through
            for j in range(uu):
                dc[n, j] += ds[n, j]                         # dL/dc_t
            for j in range(uu):
                gz[n, j] = dc[n, j] * a[n, u2 + j]           # dL/di
            for j in range(uu):
                gz[n, uu + j] = dc[n, j] * cp[n, j]          # dL/df
            for j in range(uu):
                gz[n, u2 + j] = dc[n, j] * a[n, j]           # dL/dg
            for j in range(uu):
                dc[n, j] *= a[n, uu + j]                     # dL/dc_{t-1}
        activate_grad(z, a, gz, lo, hi, 0, 2 * u, ract, ralpha)
        activate_grad(z, a, gz, lo, hi, 2 * u, 3 * u, act, alpha)
        activate_grad(z, a, gz, lo, hi, 3 * u, G, ract, ralpha)
        if has_mask:   # a skipped step: no gate gradients, dh passes straight through
            _carry_masked(mask, t, lo, hi, dh, carry)
            _zero_masked(mask, t, lo, hi, gz)
        mm(gz[lo:hi], UT, dh[lo:hi])
        if has_mask:
            _carry_masked(mask, t, lo, hi, carry, dh)


@pjit
def lstm_backward(dH, seq, mask, has_mask, Z, A, C, S, UT, act, alpha, ract, ralpha,
                  dh, dc, dZ, nchunks):
    """BPTT for lstm_forward. dh, dc: (N, u) are dL/dh_T, dL/dc_T on entry and dL/dh_0,
    dL/dc_0 on exit; dZ: (T, N, 4u) out (gradients w.r.t. the pre-activations)."""
    T, N, G = Z.shape
    u = G // 4
    ds = np.empty((N, u), Z.dtype)
    carry = np.empty((N, u), Z.dtype)
    for k in prange(nchunks):
        _lstm_backward_chunk(dH, seq, mask, has_mask, Z, A, C, S, UT, act, alpha, ract, ralpha, dh,
                             dc, dZ, ds, carry, k, nchunks)


# -- GRU (Cho et al. 2014), Keras's reset_after=True variant, gate order z, r, h --------------
@chunked("F3 F2 F1 u1:2 bool int float int float F3 F3 F3 F2")
@jit
def _gru_forward_chunk(Z, U, brec, mask, has_mask, act, alpha, ract, ralpha, A, RH, H, rec, k,
                       nchunks):
    """Piece k of nchunks of gru_forward (see there)."""
    T, N, G = Z.shape
    u = G // 3
    uu, u2 = np.uint64(u), np.uint64(2 * u)
    lo, hi = bounds(k, nchunks, N)
    for t in range(T):
        mm(H[t, lo:hi], U, rec[lo:hi])
        z, a, rh, hp, h = Z[t], A[t], RH[t], H[t], H[t + 1]
        for row in range(lo, hi):
            n = np.uint64(row)
            for j in range(u2):
                z[n, j] += rec[n, j] + brec[j]
        activate(z, a, lo, hi, 0, 2 * u, ract, ralpha)       # z, r
        for row in range(lo, hi):
            n = np.uint64(row)
            for j in range(uu):
                rh[n, j] = rec[n, u2 + j] + brec[u2 + j]
            for j in range(uu):
                z[n, u2 + j] += a[n, uu + j] * rh[n, j]
        activate(z, a, lo, hi, 2 * u, G, act, alpha)         # hh
        for row in range(lo, hi):
            n = np.uint64(row)
            for j in range(uu):
                h[n, j] = a[n, j] * hp[n, j] + (ONE - a[n, j]) * a[n, u2 + j]
        if has_mask:
            _carry_masked(mask, t, lo, hi, hp, h)


@pjit
def gru_forward(Z, U, brec, mask, has_mask, act, alpha, ract, ralpha, A, RH, H, nchunks):
    """r_t = h_{t-1} U + b_rec: (N, 3u) split [r_z, r_r, r_h];
    z = ract(xz + r_z), r = ract(xr + r_r), hh = act(xh + r * r_h), h_t = z h_{t-1} + (1-z) hh.

    Z: (T, N, 3u) input projections x_t W + b_in in, pre-activations out; A: (T, N, 3u) holds
    [z, r, hh]; RH: (T, N, u) keeps r_h for backward; H: (T+1, N, u), H[0] set by the caller."""
    T, N, G = Z.shape
    rec = np.empty((N, G), Z.dtype)
    for k in prange(nchunks):
        _gru_forward_chunk(Z, U, brec, mask, has_mask, act, alpha, ract, ralpha, A, RH, H, rec, k,
                           nchunks)


@chunked("F3 bool u1:2 bool F3 F3 F3 F3 F2 int float int float F2 F3 F3 F2")
@jit
def _gru_backward_chunk(dH, seq, mask, has_mask, Z, A, RH, H, UT, act, alpha, ract, ralpha, dh, dP,
                        dR, carry, k, nchunks):
    """Piece k of nchunks of gru_backward (see there)."""
    T, N, G = Z.shape
    u = G // 3
    uu, u2 = np.uint64(u), np.uint64(2 * u)
    lo, hi = bounds(k, nchunks, N)
    for t in range(T - 1, -1, -1):
        gp, gr, z, a, rh, hp = dP[t], dR[t], Z[t], A[t], RH[t], H[t]
        if seq:
            _add_rows(dh, dH[t], lo, hi)                     # dL/dh_t
        for row in range(lo, hi):
            n = np.uint64(row)
            for j in range(uu):
                gp[n, j] = dh[n, j] * (hp[n, j] - a[n, u2 + j])    # dL/dz
            for j in range(uu):
                gp[n, u2 + j] = dh[n, j] * (ONE - a[n, j])         # dL/dhh
            for j in range(uu):
                carry[n, j] = dh[n, j] * a[n, j]            # direct path to h_{t-1}
        activate_grad(z, a, gp, lo, hi, 0, u, ract, ralpha)
        activate_grad(z, a, gp, lo, hi, 2 * u, G, act, alpha)
        for row in range(lo, hi):
            n = np.uint64(row)
            # dL/dr = dL/dhh' r_h, staged in gr (free until below): one loop reading and
            # writing gp at two offsets would stay scalar (see the helpers)
            for j in range(uu):
                gr[n, u2 + j] = gp[n, u2 + j] * rh[n, j]
            for j in range(uu):
                gp[n, uu + j] = gr[n, u2 + j]
        activate_grad(z, a, gp, lo, hi, u, 2 * u, ract, ralpha)
        for row in range(lo, hi):
            n = np.uint64(row)
            for j in range(u2):
                gr[n, j] = gp[n, j]
            for j in range(uu):
                gr[n, u2 + j] = gp[n, u2 + j] * a[n, uu + j]
        if has_mask:   # a skipped step: no gradients to its gates, dh passes through
            _carry_masked(mask, t, lo, hi, dh, carry)
            _zero_masked(mask, t, lo, hi, gp)
            _zero_masked(mask, t, lo, hi, gr)
        mm(gr[lo:hi], UT, dh[lo:hi])
        _add_rows(dh, carry, lo, hi)


@pjit
def gru_backward(dH, seq, mask, has_mask, Z, A, RH, H, UT, act, alpha, ract, ralpha,
                 dh, dP, dR, nchunks):
    """BPTT for gru_forward. dh: (N, u) dL/dh_T in, dL/dh_0 out. dP: (T, N, 3u) gradients
    w.r.t. the input projections (-> dW, b_in, dX); dR: (T, N, 3u) w.r.t. h_{t-1} U + b_rec
    (-> dU, b_rec); they differ only in the h part: dR_h = dP_h * r."""
    T, N, G = Z.shape
    u = G // 3
    carry = np.empty((N, u), Z.dtype)
    for k in prange(nchunks):
        _gru_backward_chunk(dH, seq, mask, has_mask, Z, A, RH, H, UT, act, alpha, ract, ralpha, dh,
                            dP, dR, carry, k, nchunks)

