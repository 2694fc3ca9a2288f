"""Pooling and upsampling kernels, channels-last: x (N, H, W, C) -> y (N, H', W', C).

Geometry arguments as in ``dlkit.kernels.conv``: window (ph, pw), strides (sh, sw), padding
before each axis (pt, pl). The inner loops run over channels, which are contiguous, so they
vectorise. ``dlkit.reference.conv`` holds the NumPy definitions these are tested against.
"""
from ._jit import bounds, jit, pjit, prange
from ._shared import chunked


@jit
def _max_chunk(x, ph, pw, sh, sw, pt, pl, y, arg):
    n, h, w, c = x.shape
    ho, wo = y.shape[1], y.shape[2]
    for b in range(n):
        for i in range(ho):
            for j in range(wo):
                first = True
                for di in range(ph):
                    hi = i * sh + di - pt
                    if hi < 0 or hi >= h:
                        continue
                    for dj in range(pw):
                        wj = j * sw + dj - pl
                        if wj < 0 or wj >= w:
                            continue
                        p = hi * w + wj
                        if first:
                            for k in range(c):
                                y[b, i, j, k] = x[b, hi, wj, k]
                                arg[b, i, j, k] = p
                            first = False
                        else:
                            for k in range(c):
                                v = x[b, hi, wj, k]
                                # strict > keeps the first maximum, as argmax does
                                if v > y[b, i, j, k]:
                                    y[b, i, j, k] = v
                                    arg[b, i, j, k] = p


@chunked("F4 int int int int int int F4 i4:4")
@jit
def _max_forward_chunk(x, ph, pw, sh, sw, pt, pl, y, arg, t, nt):
    """Piece t of nt of max_forward (see there)."""
    n = x.shape[0]
    lo, hi = bounds(t, nt, n)
    _max_chunk(x[lo:hi], ph, pw, sh, sw, pt, pl, y[lo:hi], arg[lo:hi])


@pjit
def max_forward(x, ph, pw, sh, sw, pt, pl, nt, y, arg):
    """y = the maximum of each window (positions in the padding are skipped);
    arg (N, H', W', C) int32 = where it was, as the flat index h W + w into x's plane."""
    n = x.shape[0]
    for t in prange(nt):
        _max_forward_chunk(x, ph, pw, sh, sw, pt, pl, y, arg, t, nt)


@jit
def _max_backward_tiles(dy, arg, ph, pw, dx):
    """Windows that tile x (strides = pool size, no padding): one pass writes every position
    of dx, dy where the maximum was and 0 elsewhere, with no separate zeroing pass."""
    n, h, w, c = dx.shape
    ho, wo = dy.shape[1], dy.shape[2]
    for b in range(n):
        for i in range(ho):
            for di in range(ph):
                hi = i * ph + di
                for j in range(wo):
                    for dj in range(pw):
                        p = hi * w + j * pw + dj
                        for k in range(c):
                            dx[b, hi, j * pw + dj, k] = dy[b, i, j, k] if arg[b, i, j, k] == p else 0.0
                for wj in range(wo * pw, w):   # columns no window covers
                    for k in range(c):
                        dx[b, hi, wj, k] = 0.0
        for hi in range(ho * ph, h):           # rows no window covers
            for wj in range(w):
                for k in range(c):
                    dx[b, hi, wj, k] = 0.0


@chunked("F4 i4:4 int int int int int int F4")
@jit
def _max_backward_chunk(dy, arg, ph, pw, sh, sw, pt, pl, dx, t, nt):
    """Piece t of nt of max_backward (see there)."""
    n, h, w, c = dx.shape
    ho, wo = dy.shape[1], dy.shape[2]
    tiles = ph == sh and pw == sw and pt == 0 and pl == 0 and ho * ph <= h and wo * pw <= w
    lo, hi = bounds(t, nt, n)
    if tiles:
        _max_backward_tiles(dy[lo:hi], arg[lo:hi], ph, pw, dx[lo:hi])
        return
    dx[lo:hi] = 0.0
    for b in range(lo, hi):
        for i in range(ho):
            for j in range(wo):
                for k in range(c):
                    p = arg[b, i, j, k]
                    dx[b, p // w, p % w, k] += dy[b, i, j, k]


@pjit
def max_backward(dy, arg, ph, pw, sh, sw, pt, pl, nt, dx):
    """dx (N, H, W, C): each dy goes to where its window's maximum was; 0 elsewhere."""
    for t in prange(nt):
        _max_backward_chunk(dy, arg, ph, pw, sh, sw, pt, pl, dx, t, nt)


@jit
def _window_count(i, j, ph, pw, sh, sw, pt, pl, h, w):
    """How many positions of window (i, j) lie inside the H x W input."""
    h0, w0 = max(i * sh - pt, 0), max(j * sw - pl, 0)
    h1, w1 = min(i * sh - pt + ph, h), min(j * sw - pl + pw, w)
    return (h1 - h0) * (w1 - w0)


@jit
def avg_forward(x, ph, pw, sh, sw, pt, pl, y):
    """y = the mean of each window over the positions inside x (padding not counted, as Keras)."""
    n, h, w, c = x.shape
    ho, wo = y.shape[1], y.shape[2]
    for b in range(n):
        for i in range(ho):
            for j in range(wo):
                inv = 1.0 / _window_count(i, j, ph, pw, sh, sw, pt, pl, h, w)
                for k in range(c):
                    y[b, i, j, k] = 0.0
                for hi in range(max(i * sh - pt, 0), min(i * sh - pt + ph, h)):
                    for wj in range(max(j * sw - pl, 0), min(j * sw - pl + pw, w)):
                        for k in range(c):
                            y[b, i, j, k] += x[b, hi, wj, k]
                for k in range(c):
                    y[b, i, j, k] *= inv


@jit
def avg_backward(dy, ph, pw, sh, sw, pt, pl, dx):
    """dx: each window's dy / count added to every position of the window inside x."""
    n, h, w, c = dx.shape
    ho, wo = dy.shape[1], dy.shape[2]
    dx[...] = 0.0
    for b in range(n):
        for i in range(ho):
            for j in range(wo):
                inv = 1.0 / _window_count(i, j, ph, pw, sh, sw, pt, pl, h, w)
                for hi in range(max(i * sh - pt, 0), min(i * sh - pt + ph, h)):
                    for wj in range(max(j * sw - pl, 0), min(j * sw - pl + pw, w)):
                        for k in range(c):
                            dx[b, hi, wj, k] += dy[b, i, j, k] * inv


@jit
def upsample_forward(x, fh, fw, y):
    """Nearest neighbour: y[n, i, j] = x[n, i // fh, j // fw]."""
    n, h, w, c = y.shape
    for b in range(n):
        for i in range(h):
            for j in range(w):
                for k in range(c):
                    y[b, i, j, k] = x[b, i // fh, j // fw, k]


@jit
def upsample_backward(dy, fh, fw, dx):
    """dx[n, i, j] = the sum of dy over pixel (i, j)'s fh x fw copies."""
    n, h, w, c = dy.shape
    dx[...] = 0.0
    for b in range(n):
        for i in range(h):
            for j in range(w):
                for k in range(c):
                    dx[b, i // fh, j // fw, k] += dy[b, i, j, k]
