"""exp, log, tanh and sigmoid that LLVM can vectorise, for float32 kernels.

Numba compiles ``math.exp(x)`` to a call of the C library's ``expf`` once per element: LLVM
cannot turn a library call into SIMD code unless a vector math library is present (Intel's
SVML, which Numba no longer uses). A scalar ``expf`` or ``log1p`` per element is several
times slower than NumPy's own SIMD loops (benchmarks/RESULTS.md): the dense autoencoder's
sigmoid output and cross-entropy (200,704 elements per batch of 256) and the LSTM's gates
spent most of their time there.

The float32 versions below are plain arithmetic, so a loop calling them vectorises:

* ``exp``: Cody-Waite range reduction x = n ln2 + r, |r| <= ln2 / 2, a degree-6 polynomial
  for e^r and the scale 2^n built directly from the exponent bits. The polynomial and the
  split of ln2 into a short high part and a correction are Cephes's ``expf`` (S. L. Moshier,
  Cephes Math Library, 1984-1992); relative error < 1.2e-7 (about 1 ulp) over the clamped
  range. Inputs are clamped to [-87, 88] (the finite range of float32's e^x); NaN stays NaN.
* ``log``: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) = log1p(m - 1) by Cephes's
  ``logf`` polynomial; for positive normal x (what the callers pass: a softmax denominator
  >= 1, a probability clipped away from 0, max(p, 1 - p) >= 1/2); NaN and inf pass through,
  zero, negative and subnormal x give garbage rather than -inf/NaN.
* ``tanh``: Cephes's odd polynomial for |x| < 0.625 (where 1 - 2/(e^2x + 1) would lose
  relative precision), 1 - 2/(e^2|x| + 1) beyond; both are computed and one selected, which
  keeps the loop branch-free.
* ``sigmoid``: 1 / (1 + e^-x); with the clamped exp this needs no branch.

float64 arguments (gradient checks, the NumPy references) get the exact ``math`` functions,
so the float64 gradient checks measure the calculus, not these approximations. The choice is
made when Numba compiles a kernel for a dtype (``numba.extending.overload``), at no cost per
element.
"""
import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload, register_jitable

from ._jit import INNER_OPTIONS

_F32 = np.float32
_ONE, _HALF, _TWO = _F32(1), _F32(0.5), _F32(2)
_LOG2E = _F32(1.4426950408889634)
_LN2_HI, _LN2_LO = _F32(0.693359375), _F32(-2.12194440e-4)   # ln 2 = HI + LO, HI exact
_EXP_HI, _EXP_LO = _F32(88.0), _F32(-87.0)
_E0, _E1, _E2, _E3, _E4, _E5 = (_F32(c) for c in (
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
    1.6666665459e-1, 5.0000001201e-1))
_SQRT_HALF = _F32(0.707106781186547524)
_L = tuple(_F32(c) for c in (
    7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
    1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
    3.3333331174e-1))
_L0, _L1, _L2, _L3, _L4, _L5, _L6, _L7, _L8 = _L
_T0, _T1, _T2, _T3, _T4 = (_F32(c) for c in (
    -5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1,
    -3.33332819422e-1))
_TANH_SMALL = _F32(0.625)
_F32_MAX = _F32(np.finfo(np.float32).max)
_MANT_MASK, _HALF_BITS = np.int32(0x007FFFFF), np.int32(0x3F000000)


@intrinsic
def _bits_to_float32(typingctx, i):
    """Reinterpret the low 32 bits of an integer as a float32 (a register move, vectorisable).
    Numba widens int32 arithmetic to int64, hence any integer type in."""
    if not isinstance(i, types.Integer):
        return None

    def codegen(context, builder, sig, args):
        v = context.cast(builder, args[0], sig.args[0], types.int32)
        return builder.bitcast(v, ir.FloatType())

    return types.float32(i), codegen


@intrinsic
def _float32_to_bits(typingctx, f):
    """Reinterpret a float32's bits as an int32."""
    if f != types.float32:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@intrinsic
def _fma32(typingctx, a, b, c):
    """a * b + c in one rounding (llvm.fma). Unlike ``a * b + c`` under fastmath, LLVM does not
    reassociate it with neighbouring terms: _exp32's two-part n ln 2 stays two parts."""
    if not (a == b == c == types.float32):
        return None

    def codegen(context, builder, sig, args):
        f32 = ir.FloatType()
        fma = builder.module.globals.get("llvm.fma.f32") or ir.Function(
            builder.module, ir.FunctionType(f32, [f32, f32, f32]), "llvm.fma.f32")
        return builder.call(fma, args)

    return types.float32(types.float32, types.float32, types.float32), codegen


@register_jitable(**INNER_OPTIONS)
def _exp32(x):
    x = _EXP_HI if x > _EXP_HI else x    # comparisons with NaN are false: NaN passes through
    x = _EXP_LO if x < _EXP_LO else x
    # float32 throughout: math.floor would give an int64, and n * ln2 would then be float64
    # (half the vector width, and conversions both ways: the LSTM's gates ran measurably
    # slower, benchmarks/RESULTS.md)
    n = np.floor(x * _LOG2E + _HALF)
    r = _fma32(n, -_LN2_LO, _fma32(n, -_LN2_HI, x))     # x - n ln 2, ln 2 in two parts
    p = ((((_E0 * r + _E1) * r + _E2) * r + _E3) * r + _E4) * r + _E5
    p = p * (r * r) + r + _ONE
    return p * _bits_to_float32((np.int64(n) + 127) << 23)


@register_jitable(**INNER_OPTIONS)
def _log32(x):
    bits = _float32_to_bits(x)
    e = ((bits >> np.int32(23)) & np.int32(0xFF)) - np.int32(126)
    m = _bits_to_float32((bits & _MANT_MASK) | _HALF_BITS)      # x = m 2^e, m in [1/2, 1)
    small = m < _SQRT_HALF
    m = (m + m - _ONE) if small else (m - _ONE)                # now log x = log1p(m) + e ln2
    ef = _F32(e - 1) if small else _F32(e)
    z = m * m
    y = (((((((_L0 * m + _L1) * m + _L2) * m + _L3) * m + _L4) * m + _L5) * m + _L6) * m
         + _L7) * m + _L8
    y = y * m * z + ef * _LN2_LO - _HALF * z
    y = m + y + ef * _LN2_HI
    return y if x <= _F32_MAX else x        # NaN -> NaN, inf -> inf


@register_jitable(**INNER_OPTIONS)
def _tanh32(x):
    a = abs(x)
    z = x * x
    small = ((((_T0 * z + _T1) * z + _T2) * z + _T3) * z + _T4) * z * x + x
    big = _ONE - _TWO / (_exp32(a + a) + _ONE)
    big = big if x >= 0 else -big
    return small if a < _TANH_SMALL else big


@register_jitable(**INNER_OPTIONS)
def _sigmoid32(x):
    return _ONE / (_ONE + _exp32(-x))


def exp(x):
    """e^x (Python fallback; in a kernel, the float32 version above for float32 x)."""
    return math.exp(x)


def log(x):
    """Natural log (Python fallback; in a kernel, the float32 version for float32 x)."""
    return math.log(x)


def tanh(x):
    """tanh(x) (Python fallback; in a kernel, the float32 version for float32 x)."""
    return math.tanh(x)


def sigmoid(x):
    """1 / (1 + e^-x), finite for any x (Python fallback)."""
    return _sigmoid64(x)


@register_jitable(**INNER_OPTIONS)
def _sigmoid64(x):
    # two branches so exp never overflows: for x << 0, exp(-x) would be inf
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)




def _register(generic, fast32, exact):
    def typer(x):
        if x == types.float32:
            return fast32
        if isinstance(x, types.Float):
            return exact
        return None

    overload(generic, jit_options=INNER_OPTIONS, inline="always")(typer)


_register(exp, _exp32, lambda x: math.exp(x))
_register(log, _log32, lambda x: math.log(x))
_register(tanh, _tanh32, lambda x: math.tanh(x))
_register(sigmoid, _sigmoid32, _sigmoid64)
