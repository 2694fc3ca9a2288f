"""A float32 matrix product for the kernels, with an AVX-512 micro-kernel: ``mm(a, b, out)``.

Why: inside Numba kernels ``np.dot`` calls SciPy's OpenBLAS, and where ``OPENBLAS_CORETYPE``
pins OpenBLAS to Haswell (these machines do) its kernels use 256-bit AVX2 even on a CPU with
512-bit units. LLVM, which Numba drives, knows the host CPU, so a product written here runs at
the CPU's own width. Measured on the 2-core Zen 5 VM: the micro-kernel alone ~500 GFLOP/s on
two threads (data in cache), where OpenBLAS under the pin reaches ~247 at best; whole products
at the book's shapes, one thread: 1.7-2.9x OpenBLAS's (conv2 forward 1936x288 @ 288x64:
331 vs 586 us; 32x1600 @ 1600x128: 62 vs 162 us).

How (the scheme of GotoBLAS/BLIS, Goto & van de Geijn 2008, here without packing): the output
is cut into blocks of ``MR`` rows by ``NR`` columns. For one block the micro-kernel keeps the
MR x NR sums in registers (8 x 2 vectors of 16 floats: 16 of the 32 AVX-512 registers) and
walks the shared dimension: per step it loads one row of ``b`` (2 vectors) and MR numbers of
``a`` (each broadcast to a vector), then does 16 fused multiply-adds. Numba has no vector
types, so the micro-kernel is written in LLVM IR through ``numba.extending.intrinsic``.

``a`` may be any 2-D strided view (a transpose costs nothing). ``b``'s rows must be
contiguous: when they are not (``w.T``), the smaller operand is copied, either ``b`` or ``a``
transposed (then out^T = b^T a^T is computed and stored transposed), so a big weight matrix is
never copied. The rows and columns past the last full block go through the same micro-kernel
from zero-padded copies. ``out`` must not overlap ``a`` or ``b``.

``transpose(a, out)`` (out = a^T, rows contiguous) serves the products that need an operand
transposed (U^T for backpropagation through time, x^T for weight gradients): it moves 16x16
tiles through registers, 16 row loads, 4 rounds of 16 two-vector shuffles (each round swaps
one bit of the row index with the same bit of the lane index), 16 row stores. NumPy's
``ascontiguousarray(w.T)`` of the LSTM's 128x512 recurrent kernel took ~73 us, this ~5-8 us.

Used only when the compile target has AVX-512 (``ENABLED``; ``DLKIT_GEMM=blas`` turns it off)
and for float32; otherwise ``mm`` is ``np.dot`` (OpenBLAS is the better choice for AVX2, and
float64 is for gradient checks) and ``transpose`` a plain loop.
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from ._jit import PRODUCT, jit

__all__ = ["ENABLED", "MR", "NR", "mm", "mm_add", "transpose", "transposed"]

MR, NR = 8, 32     # 8 rows: every batch and layer size of the book is a multiple of 8
_LANES = 16
_NV = NR // _LANES


ENABLED = PRODUCT == "avx512"    # decided once in _jit (the CPU, NUMBA_CPU_NAME, DLKIT_GEMM)


@intrinsic
def _micro(typingctx, a_addr, rs, ks, b_addr, ldb, c_addr, ldc, k, acc):
    """c[r, j] (+)= sum_p a[r*rs + p*ks] b[p*ldb + j], r < MR, j < NR (float32, element
    strides); the sums start from c's values when ``acc`` is true, else from 0."""
    sig = types.void(types.uint64, types.int64, types.int64, types.uint64, types.int64,
                     types.uint64, types.int64, types.int64, types.boolean)

    def codegen(context, builder, signature, args):
        a_addr, rs, ks, b_addr, ldb, c_addr, ldc, n, acc = args
        i32, i64, f32 = ir.IntType(32), ir.IntType(64), ir.FloatType()
        vec = ir.VectorType(f32, _LANES)
        a = builder.inttoptr(a_addr, f32.as_pointer())
        b = builder.inttoptr(b_addr, f32.as_pointer())
        c = builder.inttoptr(c_addr, f32.as_pointer())
        fma = builder.module.globals.get("llvm.fma.v16f32") or ir.Function(
            builder.module, ir.FunctionType(vec, [vec, vec, vec]), "llvm.fma.v16f32")
        zero = ir.Constant(vec, [0.0] * _LANES)
        undef = ir.Constant(vec, ir.Undefined)
        splat = ir.Constant(ir.VectorType(i32, _LANES), [0] * _LANES)
        const = lambda v: ir.Constant(i64, v)  # noqa: E731

        def vptr(base, offset):
            return builder.bitcast(builder.gep(base, [offset]), vec.as_pointer())

        # the starting sums: c's block (loaded in any case, c is valid memory) or zeros
        start = []
        for r in range(MR):
            row = builder.mul(const(r), ldc)
            for j in range(_NV):
                old = builder.load(vptr(c, builder.add(row, const(_LANES * j))), align=4)
                start.append(builder.select(acc, old, zero))
        entry = builder.block
        loop = builder.function.append_basic_block("micro_loop")
        done = builder.function.append_basic_block("micro_done")
        builder.cbranch(builder.icmp_signed(">", n, const(0)), loop, done)

        builder.position_at_end(loop)
        p = builder.phi(i64)
        acc_phis = [builder.phi(vec) for _ in range(MR * _NV)]
        brow = builder.mul(p, ldb)
        bv = [builder.load(vptr(b, builder.add(brow, const(_LANES * j))), align=4)
              for j in range(_NV)]
        acol = builder.mul(p, ks)
        new = []
        for r in range(MR):
            s = builder.load(builder.gep(a, [builder.add(acol, builder.mul(const(r), rs))]))
            v = builder.shuffle_vector(builder.insert_element(undef, s, ir.Constant(i32, 0)),
                                       undef, splat)
            new += [builder.call(fma, [v, bv[j], acc_phis[r * _NV + j]]) for j in range(_NV)]
        p1 = builder.add(p, const(1))
        body_end = builder.block
        p.add_incoming(const(0), entry)
        p.add_incoming(p1, body_end)
        for old, nw, s0 in zip(acc_phis, new, start):
            old.add_incoming(s0, entry)
            old.add_incoming(nw, body_end)
        builder.cbranch(builder.icmp_signed("<", p1, n), loop, done)

        builder.position_at_end(done)
        outs = []
        for nw, s0 in zip(new, start):   # (LLVM wants every phi at the top of its block)
            outs.append(builder.phi(vec))
            outs[-1].add_incoming(s0, entry)
            outs[-1].add_incoming(nw, body_end)
        for r in range(MR):
            row = builder.mul(const(r), ldc)
            for j in range(_NV):
                builder.store(outs[r * _NV + j], vptr(c, builder.add(row, const(_LANES * j))),
                              align=4)
        return context.get_dummy_value()

    return sig, codegen


@jit
def _mm_f32(a, b, out, acc):
    """out = a @ b, or out += a @ b when ``acc``."""
    if (out.strides[1] != 4 or out.strides[0] < 0 or a.strides[0] < 0 or a.strides[1] < 0
            or b.strides[0] < 0 or b.strides[1] < 0):
        p = np.dot(np.ascontiguousarray(a), np.ascontiguousarray(b))
        if acc:
            out += p
        else:
            out[...] = p
        return
    if b.strides[1] != 4:   # b's rows are not contiguous: copy the smaller operand
        if a.shape[0] < b.shape[1]:
            # out^T = b^T a^T: b^T's rows are contiguous (b is a transpose), copy a^T
            _blocks(b.T, transposed(a), out, True, acc)
            return
        b = transposed(b.T)
    _blocks(a, b, out, False, acc)


@jit
def _blocks(a, b, out, transposed, acc):
    """p = a @ b block by block; out = p, or out = p^T when ``transposed`` (then every block
    goes through the scratch block tc, stored transposed); out += instead of = when ``acc``."""
    m, k = a.shape
    n = b.shape[1]
    rs, ks = a.strides[0] // 4, a.strides[1] // 4
    ldb, ldc = b.strides[0] // 4, out.strides[0] // 4
    mb, nb = m - m % MR, n - n % NR
    pa, pb, pc = a.ctypes.data, b.ctypes.data, out.ctypes.data
    tc = np.empty((MR, NR), np.float32)
    ptc = np.uint64(tc.ctypes.data)
    if m >= n:   # a's block of rows stays in cache while it meets every column block of b
        for i0 in range(0, mb, MR):
            for j0 in range(0, nb, NR):
                _block(pa, rs, ks, pb, ldb, k, i0, j0, out, pc, ldc, tc, ptc, transposed, acc)
    else:        # b's column block stays in cache while it meets every row block of a
        for j0 in range(0, nb, NR):
            for i0 in range(0, mb, MR):
                _block(pa, rs, ks, pb, ldb, k, i0, j0, out, pc, ldc, tc, ptc, transposed, acc)
    if mb == m and nb == n:
        return
    # the edges: the last rows / columns copied into zero-padded blocks
    if nb < n:
        tb = np.zeros((k, NR), np.float32)
        for p in range(k):
            for j in range(n - nb):
                tb[p, j] = b[p, nb + j]
        ptb = np.uint64(tb.ctypes.data)
        for i0 in range(0, mb, MR):
            _micro(np.uint64(pa + 4 * i0 * rs), rs, ks, ptb, NR, ptc, NR, k, False)
            _store(tc, out, i0, nb, MR, n - nb, transposed, acc)
    if mb < m:
        ta = np.zeros((MR, k), np.float32)
        for i in range(m - mb):
            for p in range(k):
                ta[i, p] = a[mb + i, p]
        pta = np.uint64(ta.ctypes.data)
        for j0 in range(0, nb, NR):
            _micro(pta, k, 1, np.uint64(pb + 4 * j0), ldb, ptc, NR, k, False)
            _store(tc, out, mb, j0, m - mb, NR, transposed, acc)
        if nb < n:
            _micro(pta, k, 1, np.uint64(tb.ctypes.data), NR, ptc, NR, k, False)
            _store(tc, out, mb, nb, m - mb, n - nb, transposed, acc)


@jit
def _block(pa, rs, ks, pb, ldb, k, i0, j0, out, pc, ldc, tc, ptc, transposed, acc):
    a0, b0 = np.uint64(pa + 4 * i0 * rs), np.uint64(pb + 4 * j0)
    if transposed:
        _micro(a0, rs, ks, b0, ldb, ptc, NR, k, False)
        _store(tc, out, i0, j0, MR, NR, True, acc)
    else:
        _micro(a0, rs, ks, b0, ldb, np.uint64(pc + 4 * (i0 * ldc + j0)), ldc, k, acc)


@jit
def _store(tc, out, i0, j0, rows, cols, transposed, acc):
    """out[i0 + i, j0 + j] = tc[i, j] (or out[j0 + j, i0 + i] when ``transposed``); += when
    ``acc``."""
    zero = np.float32(0)
    if transposed:
        for j in range(cols):
            for i in range(rows):
                out[j0 + j, i0 + i] = (out[j0 + j, i0 + i] if acc else zero) + tc[i, j]
    else:
        for i in range(rows):
            for j in range(cols):
                out[i0 + i, j0 + j] = (out[i0 + i, j0 + j] if acc else zero) + tc[i, j]


def _fast(*arrays):
    """The AVX-512 code serves these (Numba) array types: all float32, and the CPU has it."""
    return ENABLED and all(getattr(t, "dtype", None) == types.float32 for t in arrays)


_TILE = 16


@intrinsic
def _tile_t(typingctx, src, lds, dst, ldd):
    """dst[j, i] = src[i, j] for a 16x16 float32 tile (element strides lds, ldd)."""
    sig = types.void(types.uint64, types.int64, types.uint64, types.int64)

    def codegen(context, builder, signature, args):
        src, lds, dst, ldd = args
        i64, f32 = ir.IntType(64), ir.FloatType()
        vec = ir.VectorType(f32, _TILE)
        mask = lambda lanes: ir.Constant(ir.VectorType(ir.IntType(32), _TILE), lanes)  # noqa
        s = builder.inttoptr(src, f32.as_pointer())
        d = builder.inttoptr(dst, f32.as_pointer())

        def row(base, ld, r):
            return builder.bitcast(builder.gep(base, [builder.mul(ir.Constant(i64, r), ld)]),
                                   vec.as_pointer())

        rows = [builder.load(row(s, lds, r), align=4) for r in range(_TILE)]
        for b in (8, 4, 2, 1):
            # rows i and i + b (i without bit b) trade the b x b blocks off the diagonal:
            # lanes are numbered 0-15 in the first source vector and 16-31 in the second
            first = mask([l if l & b == 0 else _TILE + l - b for l in range(_TILE)])
            second = mask([l + b if l & b == 0 else _TILE + l for l in range(_TILE)])
            new = list(rows)
            for i in range(_TILE):
                if i & b == 0:
                    new[i] = builder.shuffle_vector(rows[i], rows[i + b], first)
                    new[i + b] = builder.shuffle_vector(rows[i], rows[i + b], second)
            rows = new
        for r in range(_TILE):
            builder.store(rows[r], row(d, ldd, r), align=4)
        return context.get_dummy_value()

    return sig, codegen


@jit
def _transpose_f32(a, out):
    m, n = a.shape
    if a.strides[1] != 4 or out.strides[1] != 4 or a.strides[0] < 0 or out.strides[0] < 0:
        for i in range(m):
            for j in range(n):
                out[j, i] = a[i, j]
        return
    lda, ldo = a.strides[0] // 4, out.strides[0] // 4
    pa, po = a.ctypes.data, out.ctypes.data
    mb, nb = m - m % _TILE, n - n % _TILE
    # down a's columns first: the stores then fill out's rows in order (going along a's rows
    # instead was 4x slower for 512x128, whose 2 KB output rows alias in the cache)
    for j0 in range(0, nb, _TILE):
        for i0 in range(0, mb, _TILE):
            _tile_t(np.uint64(pa + 4 * (i0 * lda + j0)), lda,
                    np.uint64(po + 4 * (j0 * ldo + i0)), ldo)
    for i in range(mb, m):
        for j in range(n):
            out[j, i] = a[i, j]
    for j in range(nb, n):
        for i in range(mb):
            out[j, i] = a[i, j]


def transpose(a, out):
    """out (N, M) = a (M, N)^T, for Numba kernels (pure-Python fallback: a copy by NumPy)."""
    out[...] = a.T


@overload(transpose)
def _transpose_overload(a, out):
    if _fast(a, out):
        def impl(a, out):
            _transpose_f32(a, out)
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


def mm(a, b, out):
    """out (M, N) = a (M, K) @ b (K, N), for Numba kernels (pure-Python fallback: np.dot)."""
    np.dot(a, b, out)


def mm_add(a, b, out):
    """out (M, N) += a (M, K) @ b (K, N), for Numba kernels (the sums start from out's values
    in the registers: no second pass over out)."""
    out += np.dot(a, b)


@overload(mm, jit_options={"fastmath": True})
def _mm_overload(a, b, out):
    if _fast(a, b, out):
        def impl(a, b, out):
            _mm_f32(a, b, out, False)
    else:
        def impl(a, b, out):
            np.dot(a, b, out)
    return impl


@overload(mm_add, jit_options={"fastmath": True})
def _mm_add_overload(a, b, out):
    if _fast(a, b, out):
        def impl(a, b, out):
            _mm_f32(a, b, out, True)
    else:
        def impl(a, b, out):
            out += np.dot(a, b)
    return impl
