"""Element-wise activations, forward and backward, selected by an integer code.

Codes (not functions) keep the hot loops free of function arguments, which Numba cannot
inline. ``z`` is the pre-activation, ``y = f(z)`` the output; backward gets both so each
derivative uses whichever is cheaper (sigmoid' = y(1-y), relu' = [z > 0]).
Arrays are flattened to 1-D by the caller; softmax works on rows of a 2-D view.
"""
import math

import numpy as np

from numba import types
from numba.extending import overload

from . import _fastmath as fm
from ._jit import INNER_OPTIONS, jit
from ._shared import inlined, shared, view

LINEAR, RELU, LEAKY_RELU, ELU, SIGMOID, TANH, SOFTMAX, GELU, SOFTPLUS, SWISH = range(10)

CODES = {
    "linear": LINEAR, "relu": RELU, "leaky_relu": LEAKY_RELU, "elu": ELU,
    "sigmoid": SIGMOID, "tanh": TANH, "softmax": SOFTMAX, "gelu": GELU,
    "softplus": SOFTPLUS, "swish": SWISH,
}

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
# float32 constants (exact in float64 too): a float64 literal such as 0.0 would make Numba
# compute float32 arrays in float64, converting every element twice.
ZERO, ONE = np.float32(0), np.float32(1)


@jit
def _softplus(v):
    # log(1 + e^v) = max(v, 0) + log1p(e^-|v|), finite for any v.
    return max(v, ZERO) + math.log1p(math.exp(-abs(v)))


@jit
def softmax_rows(z, y):
    """y[i] = exp(z[i] - max z[i]) / sum(...): z, y: (N, C). Subtracting the max keeps exp finite."""
    n, c = z.shape
    for i in range(n):
        m = z[i, 0]
        for j in range(1, c):
            if z[i, j] > m:
                m = z[i, j]
        s = ZERO * m
        for j in range(c):
            e = fm.exp(z[i, j] - m)
            y[i, j] = e
            s += e
        inv = ONE / s
        for j in range(c):
            y[i, j] *= inv


@jit
def _forward_flat(z, act, alpha, y):
    """y = f(z) element-wise; z, y: 1-D of equal length (softmax is handled by softmax_rows)."""
    n = z.shape[0]
    if act == LINEAR:
        for i in range(n):
            y[i] = z[i]
    elif act == RELU:
        for i in range(n):
            y[i] = z[i] if z[i] > 0 else ZERO
    elif act == LEAKY_RELU:
        for i in range(n):
            y[i] = z[i] if z[i] > 0 else alpha * z[i]
    elif act == ELU:
        for i in range(n):
            y[i] = z[i] if z[i] > 0 else alpha * math.expm1(z[i])
    elif act == SIGMOID:
        for i in range(n):
            y[i] = fm.sigmoid(z[i])
    elif act == TANH:
        for i in range(n):
            y[i] = fm.tanh(z[i])
    elif act == GELU:
        for i in range(n):
            y[i] = 0.5 * z[i] * (1.0 + math.erf(z[i] * _INV_SQRT2))
    elif act == SOFTPLUS:
        for i in range(n):
            y[i] = _softplus(z[i])
    elif act == SWISH:
        for i in range(n):
            y[i] = z[i] * fm.sigmoid(z[i])


@jit
def _backward_flat(z, y, dy, act, alpha, dz):
    """dz = dy * f'(z) element-wise; all 1-D of equal length (not softmax)."""
    n = z.shape[0]
    if act == LINEAR:
        for i in range(n):
            dz[i] = dy[i]
    elif act == RELU:
        for i in range(n):
            dz[i] = dy[i] if z[i] > 0 else ZERO
    elif act == LEAKY_RELU:
        for i in range(n):
            dz[i] = dy[i] if z[i] > 0 else alpha * dy[i]
    elif act == ELU:
        for i in range(n):
            dz[i] = dy[i] if z[i] > 0 else dy[i] * (y[i] + alpha)
    elif act == SIGMOID:
        for i in range(n):
            dz[i] = dy[i] * y[i] * (ONE - y[i])
    elif act == TANH:
        for i in range(n):
            dz[i] = dy[i] * (ONE - y[i] * y[i])
    elif act == GELU:
        for i in range(n):
            cdf = 0.5 * (1.0 + math.erf(z[i] * _INV_SQRT2))
            pdf = _INV_SQRT2PI * math.exp(-0.5 * z[i] * z[i])
            dz[i] = dy[i] * (cdf + z[i] * pdf)
    elif act == SOFTPLUS:
        for i in range(n):
            dz[i] = dy[i] * fm.sigmoid(z[i])
    elif act == SWISH:
        for i in range(n):
            s = fm.sigmoid(z[i])
            dz[i] = dy[i] * (s + z[i] * s * (ONE - s))


@jit
def softmax_backward_rows(y, dy, dz):
    """dz = y * (dy - sum(dy * y)) per row: the softmax Jacobian-vector product. (N, C)."""
    n, c = y.shape
    for i in range(n):
        s = ZERO * y[i, 0]
        for j in range(c):
            s += dy[i, j] * y[i, j]
        for j in range(c):
            dz[i, j] = y[i, j] * (dy[i, j] - s)


@jit
def copy_into(dst, src):
    """dst = src for C-contiguous arrays of one size. (``dst[...] = src`` compiles NumPy's
    broadcasting with its error messages, seconds per kernel and shape; this loop does not.)"""
    d, s = dst.reshape(-1), src.reshape(-1)
    for i in range(d.size):
        d[i] = s[i]


@jit
def add_into(dst, src):
    """dst += src for C-contiguous arrays of one size (see copy_into)."""
    d, s = dst.reshape(-1), src.reshape(-1)
    for i in range(d.size):
        d[i] += s[i]


@jit
def sum_parts(parts, out):
    """out = parts[0] + parts[1] + ...: the threads' partial sums of one result, all
    C-contiguous, ``out`` of any shape holding parts.shape[1:]'s elements."""
    p = parts.reshape(parts.shape[0], -1)
    o = out.reshape(-1)
    for i in range(o.size):
        s = p[0, i]
        for t in range(1, p.shape[0]):
            s += p[t, i]
        o[i] = s


@jit
def column_sums(a, out):
    """out (F,) = a.sum(axis=0) for a (rows, F), C-contiguous (a bias gradient).

    Summing row by row runs a loop of F iterations per row (32 for a conv layer), which
    costs more to enter than to run; here blocks of rows are added as long flat runs into a
    ~512-wide accumulator (unsigned indices, so LLVM vectorises), folded to F at the end."""
    rows, f = a.shape
    blk = max(1, 512 // f)
    width = blk * f
    acc = np.zeros(width, dtype=a.dtype)
    af = a.reshape(-1)
    full = rows // blk
    uw = np.uint64(width)
    for r in range(full):
        base = np.uint64(r * width)
        for m in range(uw):
            acc[m] += af[base + m]
    rest = (rows - full * blk) * f
    base = full * width
    for m in range(rest):
        acc[m] += af[base + m]
    for k in range(f):
        out[k] = 0.0
    for q in range(blk):
        for k in range(f):
            out[k] += acc[q * f + k]


@jit
def _bias_activation(z, b, act, alpha, y):
    """z += b (broadcast over rows); y = f(z). z, y: (rows, F); for linear (or an in-place
    relu) pass y = z. Shared by Dense (rows = samples) and Conv2D (rows = output pixels)."""
    n, m = z.shape
    # The common activations in the same pass as the bias (one sweep over z instead of two).
    if act == RELU and z.ctypes.data == y.ctypes.data:
        # ReLU in place (Conv2D keeps only y). Its own loop: with z and y the same array the
        # two-array loop below fails LLVM's runtime alias check and runs scalar, far slower.
        for i in range(n):
            for j in range(m):
                v = z[i, j] + b[j]
                z[i, j] = v if v > 0 else ZERO
        return
    if act == RELU:
        for i in range(n):
            for j in range(m):
                v = z[i, j] + b[j]
                z[i, j] = v
                y[i, j] = v if v > 0 else ZERO
        return
    if act == SIGMOID:
        for i in range(n):
            for j in range(m):
                v = z[i, j] + b[j]
                z[i, j] = v
                y[i, j] = fm.sigmoid(v)
        return
    if act == TANH:
        for i in range(n):
            for j in range(m):
                v = z[i, j] + b[j]
                z[i, j] = v
                y[i, j] = fm.tanh(v)
        return
    for i in range(n):
        for j in range(m):
            z[i, j] += b[j]
    if act == SOFTMAX:
        softmax_rows(z, y)
    elif act != LINEAR:
        forward_flat(z.reshape(-1), act, alpha, y.reshape(-1))


@jit
def _activation_grad(z, y, dy, act, alpha, dz):
    """dz = dy * f'(z) row-wise (softmax over each row). All (rows, F); linear: nothing to do,
    the caller passes dz = dy."""
    if act == SOFTMAX:
        softmax_backward_rows(y, dy, dz)
    elif act != LINEAR:
        _backward_flat(z.reshape(-1), y.reshape(-1), dy.reshape(-1), act, alpha, dz.reshape(-1))


# -- compiled once per dtype, called through a pointer by every kernel (_shared.shared) -------
# Every kernel that ends in an activation used to carry its own copy of all ten of them (and of
# softmax); these four functions are the copies now. Arrays go as addresses and sizes, and
# must be C-contiguous: for other layouts a kernel gets the code inline, as before.
_I = types.int64


_forward_flat_inline = inlined(_forward_flat)
_bias_activation_inline = inlined(_bias_activation)
_activation_grad_inline = inlined(_activation_grad)


def _shared_pair(f32, f64):
    return {types.float32: f32, types.float64: f64}


@shared(_I, _I, _I, _I, types.float32, dtype="float32")
def _forward_flat_f32(pz, py, n, act, alpha):
    like = np.empty(0, np.float32)
    _forward_flat_inline(view(pz, (n,), like), act, alpha, view(py, (n,), like))


@shared(_I, _I, _I, _I, types.float64, dtype="float64")
def _forward_flat_f64(pz, py, n, act, alpha):
    like = np.empty(0, np.float64)
    _forward_flat_inline(view(pz, (n,), like), act, alpha, view(py, (n,), like))


@shared(_I, _I, _I, _I, _I, _I, types.float32, dtype="float32")
def _bias_activation_f32(pz, pb, py, n, m, act, alpha):
    like = np.empty(0, np.float32)
    _bias_activation_inline(view(pz, (n, m), like), view(pb, (m,), like), act, alpha,
                            view(py, (n, m), like))


@shared(_I, _I, _I, _I, _I, _I, types.float64, dtype="float64")
def _bias_activation_f64(pz, pb, py, n, m, act, alpha):
    like = np.empty(0, np.float64)
    _bias_activation_inline(view(pz, (n, m), like), view(pb, (m,), like), act, alpha,
                            view(py, (n, m), like))


@shared(_I, _I, _I, _I, _I, _I, _I, types.float32, dtype="float32")
def _activation_grad_f32(pz, py, pdy, pdz, n, m, act, alpha):
    like = np.empty(0, np.float32)
    _activation_grad_inline(view(pz, (n, m), like), view(py, (n, m), like),
                            view(pdy, (n, m), like), act, alpha, view(pdz, (n, m), like))


@shared(_I, _I, _I, _I, _I, _I, _I, types.float64, dtype="float64")
def _activation_grad_f64(pz, py, pdy, pdz, n, m, act, alpha):
    like = np.empty(0, np.float64)
    _activation_grad_inline(view(pz, (n, m), like), view(py, (n, m), like),
                            view(pdy, (n, m), like), act, alpha, view(pdz, (n, m), like))


def _contiguous(*arrays):
    return all(isinstance(a, types.Array) and a.layout == "C" for a in arrays)


def bias_activation(z, b, act, alpha, y):
    """z += b (broadcast over rows); y = f(z). z, y: (rows, F); for linear (or an in-place
    relu) pass y = z. Shared by Dense (rows = samples) and Conv2D (rows = output pixels)."""
    _bias_activation(z, b, act, alpha, y)


@overload(bias_activation, jit_options=INNER_OPTIONS)
def _bias_activation_overload(z, b, act, alpha, y):
    fn = _shared_pair(_bias_activation_f32, _bias_activation_f64).get(z.dtype)
    if fn is None or not _contiguous(z, b, y) or not z.dtype == b.dtype == y.dtype:
        return lambda z, b, act, alpha, y: _bias_activation(z, b, act, alpha, y)

    def impl(z, b, act, alpha, y):
        fn(z.ctypes.data, b.ctypes.data, y.ctypes.data, z.shape[0], z.shape[1], act, alpha)
    return impl


def activation_grad(z, y, dy, act, alpha, dz):
    """dz = dy * f'(z) row-wise (softmax over each row). All (rows, F); linear: nothing to do,
    the caller passes dz = dy."""
    _activation_grad(z, y, dy, act, alpha, dz)


@overload(activation_grad, jit_options=INNER_OPTIONS)
def _activation_grad_overload(z, y, dy, act, alpha, dz):
    fn = _shared_pair(_activation_grad_f32, _activation_grad_f64).get(z.dtype)
    if fn is None or not _contiguous(z, y, dy, dz) or not z.dtype == y.dtype == dy.dtype == dz.dtype:
        return lambda z, y, dy, act, alpha, dz: _activation_grad(z, y, dy, act, alpha, dz)

    def impl(z, y, dy, act, alpha, dz):
        fn(z.ctypes.data, y.ctypes.data, dy.ctypes.data, dz.ctypes.data, z.shape[0], z.shape[1],
           act, alpha)
    return impl


def forward_flat(z, act, alpha, y):
    """y = f(z) element-wise; z, y: 1-D of equal length (not softmax)."""
    _forward_flat(z, act, alpha, y)


@overload(forward_flat, jit_options=INNER_OPTIONS)
def _forward_flat_overload(z, act, alpha, y):
    fn = _shared_pair(_forward_flat_f32, _forward_flat_f64).get(z.dtype)
    if fn is None or not _contiguous(z, y) or z.dtype != y.dtype:
        return lambda z, act, alpha, y: _forward_flat(z, act, alpha, y)

    def impl(z, act, alpha, y):
        fn(z.ctypes.data, y.ctypes.data, z.shape[0], act, alpha)
    return impl


def backward_flat(z, y, dy, act, alpha, dz):
    """dz = dy * f'(z) element-wise; all 1-D of equal length (not softmax)."""
    _backward_flat(z, y, dy, act, alpha, dz)


@overload(backward_flat, jit_options=INNER_OPTIONS)
def _backward_flat_overload(z, y, dy, act, alpha, dz):
    fn = _shared_pair(_activation_grad_f32, _activation_grad_f64).get(z.dtype)
    if fn is None or not _contiguous(z, y, dy, dz):
        return lambda z, y, dy, act, alpha, dz: _backward_flat(z, y, dy, act, alpha, dz)

    def impl(z, y, dy, act, alpha, dz):
        if act == LINEAR:
            copy_into(dz, dy)
        else:
            fn(z.ctypes.data, y.ctypes.data, dy.ctypes.data, dz.ctypes.data, 1, z.shape[0], act,
               alpha)
    return impl


def forward(z, act, alpha, y):
    """Apply activation ``act`` to any-shaped contiguous ``z`` into ``y`` (softmax on the last axis)."""
    if act == SOFTMAX:
        softmax_rows(z.reshape(-1, z.shape[-1]), y.reshape(-1, y.shape[-1]))
    else:
        _forward_flat(z.reshape(-1), act, alpha, y.reshape(-1))


def backward(z, y, dy, act, alpha, dz):
    """dz = dy * f'(z) for any-shaped contiguous arrays (softmax on the last axis)."""
    if act == SOFTMAX:
        c = y.shape[-1]
        softmax_backward_rows(y.reshape(-1, c), dy.reshape(-1, c), dz.reshape(-1, c))
    else:
        _backward_flat(z.reshape(-1), y.reshape(-1), dy.reshape(-1), act, alpha, dz.reshape(-1))
