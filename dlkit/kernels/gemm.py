"""The matrix product of the kernels: ``mm(a, b, out)``, ``mm_add(a, b, out)``, ``transpose``.

Why a product of our own: inside Numba kernels ``np.dot`` calls SciPy's OpenBLAS, and where
``OPENBLAS_CORETYPE`` pins OpenBLAS to Haswell (these machines do) its kernels use 256-bit AVX2
even on a CPU with 512-bit units. LLVM, which Numba drives, knows the host CPU, so a product
written for it runs at the CPU's own width: the AVX-512 micro-kernel of ``_avx512`` is measured
well ahead of OpenBLAS under the pin, alone and in whole products at the book's shapes on one
thread (figures in benchmarks/RESULTS.md).

Which product runs: float32 on a compile target with AVX-512 (``ENABLED``; ``DLKIT_GEMM=blas``
turns it off) goes to the micro-kernel; otherwise ``mm`` calls BLAS's sgemm or dgemm (OpenBLAS
is the better choice for AVX2, and float64 is for gradient checks) and ``transpose`` is a
plain loop.

``a`` may be any 2-D strided view (a transpose costs nothing). Where BLAS or the micro-kernel
needs contiguous rows, an operand is copied: for the micro-kernel ``b``'s rows must be
contiguous, and when they are not (``w.T``) the smaller operand is copied (see
``_avx512.product``), so a big weight matrix is never copied. ``out`` must not overlap ``a``
or ``b``. ``transpose(a, out)`` (out = a^T, rows contiguous) serves the products that need an
operand transposed (U^T for backpropagation through time, x^T for weight gradients).

How kernels reach it: ``mm(a, b, out)`` inside a kernel passes the three arrays' addresses,
element strides and sizes to ``_sgemm`` or ``_dgemm``, shared functions (``_shared.shared``)
compiled once for all kernels; they handle every layout and call the micro-kernel's block loop
or BLAS.
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic, overload

from . import _avx512
from ._avx512 import ENABLED, MR, NR
from ._jit import INNER_OPTIONS, jit
from ._shared import call_by_name, inlined, keep_alive, load, shared, store, symbol

__all__ = ["ENABLED", "MR", "NR", "mm", "mm_add", "transpose", "transposed"]

_I = types.int64
_N, _T = ord("N"), ord("T")


# BLAS (Fortran, column-major): SciPy's table of BLAS functions gives the address of the
# OpenBLAS routine that NumPy's np.dot calls inside Numba; here it is called directly.
def _fortran_gemm(dtype):
    """An intrinsic calling BLAS's ?gemm(ta, tb, m, n, k, 1, A, lda, B, ldb, beta, C, ldc)."""
    routine = "sgemm" if dtype == np.float32 else "dgemm"
    name = f"dlkit_blas_{routine}"
    symbol(name, get_cython_function_address("scipy.linalg.cython_blas", routine))
    ftype = types.float32 if dtype == np.float32 else types.float64

    @intrinsic
    def fortran(typingctx, ta, tb, m, n, k, pa, lda, pb, ldb, beta, pc, ldc):
        sig = types.void(_I, _I, _I, _I, _I, _I, _I, _I, _I, ftype, _I, _I)

        def codegen(context, builder, signature, args):
            ta, tb, m, n, k, pa, lda, pb, ldb, beta, pc, ldc = args
            i8, i32, fl = ir.IntType(8), ir.IntType(32), context.get_value_type(ftype)
            slot = lambda v: cgutils.alloca_once_value(builder, v)  # noqa: E731
            int32 = lambda v: slot(builder.trunc(v, i32))           # noqa: E731
            ptr = lambda v: builder.inttoptr(v, fl.as_pointer())    # noqa: E731
            p8, p32, pf = i8.as_pointer(), i32.as_pointer(), fl.as_pointer()
            call_by_name(builder, name, ir.VoidType(),
                         [p8, p8, p32, p32, p32, pf, pf, p32, pf, p32, pf, pf, p32],
                         [slot(builder.trunc(ta, i8)), slot(builder.trunc(tb, i8)), int32(m),
                          int32(n), int32(k), slot(ir.Constant(fl, 1.0)), ptr(pa), int32(lda),
                          ptr(pb), int32(ldb), slot(beta), ptr(pc), int32(ldc)])
            return context.get_dummy_value()

        return sig, codegen

    return fortran


_fortran_sgemm, _fortran_dgemm = _fortran_gemm(np.float32), _fortran_gemm(np.float64)


@jit
def _rows_of(p, s0, s1, r, c, like):
    """How the r x c matrix at address p with element strides (s0, s1) goes to a product, in
    BLAS's terms for row-major data: (N, ld, p, keep) rows ld elements apart and contiguous;
    (T, ld, p, keep) its transpose stored so (columns contiguous); otherwise it is copied into
    a contiguous array ``keep``: (N, c, keep's address, keep). A dimension of length 1 may have
    any stride."""
    keep = np.empty(0, like.dtype)
    if (c == 1 or s1 == 1) and (r == 1 or s0 >= c):
        return _N, max(s0 if r > 1 else c, 1), p, keep
    if (r == 1 or s0 == 1) and (c == 1 or s1 >= r):
        return _T, max(s1 if c > 1 else r, 1), p, keep
    keep = np.empty(r * c, like.dtype)
    isz = like.itemsize
    for i in range(r):
        for j in range(c):
            keep[i * c + j] = load(p + isz * (i * s0 + j * s1), like)
    return _N, max(c, 1), np.int64(keep.ctypes.data), keep


def _run(pa, sa0, sa1, tb, ldb, pb, pc, ldc, m, n, k, acc, like):
    """C (m, n) (+)= A B, C's rows ldc apart and contiguous, B in BLAS's terms (_rows_of)."""


@overload(_run, jit_options=INNER_OPTIONS)
def _run_overload(pa, sa0, sa1, tb, ldb, pb, pc, ldc, m, n, k, acc, like):
    if like.dtype == types.float32 and ENABLED:
        def impl(pa, sa0, sa1, tb, ldb, pb, pc, ldc, m, n, k, acc, like):
            # the micro-kernel; B's rows or columns contiguous (see _avx512.product)
            _avx512.product(pa, sa0, sa1, tb != _N, ldb, pb, pc, ldc, m, n, k, acc, like)
        return impl
    fortran = _fortran_sgemm if like.dtype == types.float32 else _fortran_dgemm
    one = np.float32(1) if like.dtype == types.float32 else np.float64(1)

    def impl(pa, sa0, sa1, tb, ldb, pb, pc, ldc, m, n, k, acc, like):
        ta, lda, pa, keep = _rows_of(pa, sa0, sa1, m, k, like)
        # row-major C = A B is column-major C^T = B^T A^T: the operands swap
        fortran(tb, ta, n, m, k, pb, ldb, pa, lda, one if acc else one - one, pc, ldc)
        keep_alive(keep)
    return impl


@jit
def _gemm(pa, sa0, sa1, pb, sb0, sb1, pc, sc0, sc1, m, n, k, acc, like):
    """C (m, n) (+)= A (m, k) B (k, n) (``acc``: add), all three at addresses with any element
    strides, of the dtype of ``like`` (a 0-size array)."""
    if m == 0 or n == 0:
        return
    isz = like.itemsize
    if k == 0:
        if not acc:
            for i in range(m):
                for j in range(n):
                    store(pc + isz * (i * sc0 + j * sc1), np.zeros(1, like.dtype)[0])
        return
    tb, ldb, pb, keep_b = _rows_of(pb, sb0, sb1, k, n, like)
    if (sc1 == 1 or n == 1) and (m == 1 or sc0 >= n):
        _run(pa, sa0, sa1, tb, ldb, pb, pc, max(sc0 if m > 1 else n, 1), m, n, k, acc, like)
    else:   # C's rows are not contiguous: into a copy and back
        tmp = np.zeros((m, n), like.dtype)
        for i in range(m):
            for j in range(n):
                if acc:
                    tmp[i, j] = load(pc + isz * (i * sc0 + j * sc1), like)
        _run(pa, sa0, sa1, tb, ldb, pb, np.int64(tmp.ctypes.data), n, m, n, k, acc, like)
        for i in range(m):
            for j in range(n):
                store(pc + isz * (i * sc0 + j * sc1), tmp[i, j])
    keep_alive(keep_b)


_GEMM_ARGS = (_I,) * 13
_gemm_inline = inlined(_gemm)


@shared(*_GEMM_ARGS, dtype="float32")
def _sgemm(pa, sa0, sa1, pb, sb0, sb1, pc, sc0, sc1, m, n, k, acc):
    """float32 C (+)= A B on addresses and element strides (AVX-512 or BLAS, see above)."""
    _gemm_inline(pa, sa0, sa1, pb, sb0, sb1, pc, sc0, sc1, m, n, k, acc, np.empty(0, np.float32))


@shared(*_GEMM_ARGS, dtype="float64")
def _dgemm(pa, sa0, sa1, pb, sb0, sb1, pc, sc0, sc1, m, n, k, acc):
    """float64 C (+)= A B on addresses and element strides (BLAS)."""
    _gemm_inline(pa, sa0, sa1, pb, sb0, sb1, pc, sc0, sc1, m, n, k, acc, np.empty(0, np.float64))


def _strides(x):
    """Element strides of an array, inside a kernel."""


@overload(_strides, jit_options=INNER_OPTIONS)
def _strides_overload(x):
    return lambda x: (x.strides[0] // x.itemsize, x.strides[1] // x.itemsize)


def _args(a, b, out):
    """The product's arguments for arrays: addresses, element strides, sizes."""


@overload(_args, jit_options=INNER_OPTIONS)
def _args_overload(a, b, out):
    def impl(a, b, out):
        m, k = a.shape
        n = b.shape[1]
        if b.shape[0] != k or out.shape[0] != m or out.shape[1] != n:
            raise ValueError("matrix product: shapes do not match")
        (sa0, sa1), (sb0, sb1), (sc0, sc1) = _strides(a), _strides(b), _strides(out)
        return (np.int64(a.ctypes.data), sa0, sa1, np.int64(b.ctypes.data), sb0, sb1,
                np.int64(out.ctypes.data), sc0, sc1, m, n, k)
    return impl


def _product_for(a, b, out):
    """The shared product for these (Numba) array types, or None."""
    if not (isinstance(a, types.Array) and a.ndim == b.ndim == out.ndim == 2
            and a.dtype == b.dtype == out.dtype):
        return None
    return {types.float32: _sgemm, types.float64: _dgemm}.get(a.dtype)


def mm(a, b, out):
    """out (M, N) = a (M, K) @ b (K, N), for Numba kernels (pure-Python fallback: np.dot)."""
    np.dot(a, b, out)


def mm_add(a, b, out):
    """out (M, N) += a (M, K) @ b (K, N), for Numba kernels (the sums start from out's values
    in the registers: no second pass over out)."""
    out += np.dot(a, b)


def _product_overload(acc):
    def typer(a, b, out):
        product = _product_for(a, b, out)
        if product is not None:
            def impl(a, b, out):
                pa, sa0, sa1, pb, sb0, sb1, pc, sc0, sc1, m, n, k = _args(a, b, out)
                product(pa, sa0, sa1, pb, sb0, sb1, pc, sc0, sc1, m, n, k, acc)
                keep_alive(a)
                keep_alive(b)
                keep_alive(out)
            return impl
    return typer


overload(mm, jit_options=INNER_OPTIONS)(_product_overload(0))
overload(mm_add, jit_options=INNER_OPTIONS)(_product_overload(1))


def transpose(a, out):
    """out (N, M) = a (M, N)^T, for Numba kernels (pure-Python fallback: a copy by NumPy)."""
    out[...] = a.T


@overload(transpose, jit_options=INNER_OPTIONS)
def _transpose_overload(a, out):
    if ENABLED and a.dtype == out.dtype == types.float32:
        def impl(a, out):
            (s0, s1), (so0, so1) = _strides(a), _strides(out)
            _avx512.transpose(np.int64(a.ctypes.data), s0, s1, np.int64(out.ctypes.data),
                              so0, so1, a.shape[0], a.shape[1])
            keep_alive(a)
            keep_alive(out)
    else:
        def impl(a, out):
            for i in range(a.shape[0]):
                for j in range(a.shape[1]):
                    out[j, i] = a[i, j]
    return impl


@jit
def transposed(a):
    """A new C-contiguous array holding a^T (a: 2-D). Callable from Python and kernels."""
    out = np.empty((a.shape[1], a.shape[0]), a.dtype)
    transpose(a, out)
    return out
