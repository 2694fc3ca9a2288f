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
and for float32; otherwise ``mm`` calls BLAS's sgemm or dgemm (OpenBLAS is the better choice
for AVX2, and float64 is for gradient checks) and ``transpose`` is a plain loop.

How kernels reach it: ``mm(a, b, out)`` inside a kernel passes the three arrays' addresses,
element strides and sizes to ``_sgemm`` or ``_dgemm``, shared functions (``_shared.shared``)
compiled once for all kernels; they handle every layout (a copy where BLAS or the micro-kernel
needs contiguous rows) and call the micro-kernel's block loop (``_blocks_by_name``) or BLAS.
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic, overload

from ._jit import PRODUCT, jit
from ._shared import call_by_name, inlined, shared, symbol

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


@intrinsic
def _ld(typingctx, addr, like):
    """The number at byte address ``addr``, of the dtype of the array ``like``."""
    def codegen(context, builder, signature, args):
        ptr = context.get_value_type(like.dtype).as_pointer()
        return builder.load(builder.inttoptr(args[0], ptr))

    return like.dtype(types.int64, like), codegen


@intrinsic
def _st(typingctx, addr, value):
    """Store the number ``value`` at byte address ``addr``."""
    def codegen(context, builder, signature, args):
        ptr = context.get_value_type(value).as_pointer()
        builder.store(args[1], builder.inttoptr(args[0], ptr))
        return context.get_dummy_value()

    return types.void(types.int64, value), codegen


@intrinsic
def _alive(typingctx, x):
    """Nothing; a use of ``x``, so that Numba keeps the array alive (not freed) up to here
    while its memory is reached through an address."""
    def codegen(context, builder, signature, args):
        return context.get_dummy_value()

    return types.void(x), codegen


@shared(*(types.int64,) * 9, dtype="float32", enabled=ENABLED)
def _micro_kernel(a_addr, rs, ks, b_addr, ldb, c_addr, ldc, k, acc):
    """The micro-kernel, compiled once: every block of every product calls this one copy."""
    _micro(np.uint64(a_addr), rs, ks, np.uint64(b_addr), ldb, np.uint64(c_addr), ldc, k,
           acc != 0)


@jit
def _block(pa, rs, ks, pb, ldb, k, i0, j0, pc, ldc, tc, ptc, transposed, acc):
    a0, b0 = pa + 4 * i0 * rs, pb + 4 * j0
    if transposed:
        _micro_kernel(a0, rs, ks, b0, ldb, ptc, NR, k, 0)
        _store(tc, pc, ldc, i0, j0, MR, NR, True, acc)
    else:
        _micro_kernel(a0, rs, ks, b0, ldb, pc + 4 * (i0 * ldc + j0), ldc, k, acc)


@jit
def _store(tc, pc, ldc, i0, j0, rows, cols, transposed, acc):
    """C[i0 + i, j0 + j] = tc[i, j] (or C[j0 + j, i0 + i] when ``transposed``); += when
    ``acc``. C: rows ``ldc`` elements apart from address ``pc``."""
    for i in range(rows):
        for j in range(cols):
            r, c = (j0 + j, i0 + i) if transposed else (i0 + i, j0 + j)
            addr = pc + 4 * (r * ldc + c)
            _st(addr, (_ld(addr, tc) if acc else np.float32(0)) + tc[i, j])


_I = types.int64
_N, _T = ord("N"), ord("T")


@jit
def _blocks(pa, rs, ks, pb, ldb, pc, ldc, m, n, k, acc, transposed):
    """C (+)= A B block by block, on addresses (int64 here: uint64 + int64 is a float64 in
    Numba) and element strides: A (m, k) with strides
    (rs, ks), B (k, n) with rows ``ldb`` apart and contiguous, C (m, n) with rows ``ldc`` apart;
    ``acc``: add to C; ``transposed``: C is stored transposed (C[j, i], rows ``ldc`` apart;
    every block then goes through the scratch block tc)."""
    mb, nb = m - m % MR, n - n % NR
    tc = np.empty((MR, NR), np.float32)
    ptc = np.int64(tc.ctypes.data)
    if m >= n:   # a's block of rows stays in cache while it meets every column block of b
        for i0 in range(0, mb, MR):
            for j0 in range(0, nb, NR):
                _block(pa, rs, ks, pb, ldb, k, i0, j0, pc, ldc, tc, ptc, transposed, acc)
    else:        # b's column block stays in cache while it meets every row block of a
        for j0 in range(0, nb, NR):
            for i0 in range(0, mb, MR):
                _block(pa, rs, ks, pb, ldb, k, i0, j0, pc, ldc, tc, ptc, transposed, acc)
    if mb == m and nb == n:
        _alive(tc)
        return
    # the edges: the last rows / columns copied into zero-padded blocks
    tb = np.zeros((max(k, 1), NR), np.float32)
    ptb = np.int64(tb.ctypes.data)
    if nb < n:
        for p in range(k):
            for j in range(n - nb):
                tb[p, j] = _ld(pb + 4 * (p * ldb + nb + j), tb)
        for i0 in range(0, mb, MR):
            _micro_kernel(pa + 4 * i0 * rs, rs, ks, ptb, NR, ptc, NR, k, 0)
            _store(tc, pc, ldc, i0, nb, MR, n - nb, transposed, acc)
    if mb < m:
        ta = np.zeros((MR, max(k, 1)), np.float32)
        for i in range(m - mb):
            for p in range(k):
                ta[i, p] = _ld(pa + 4 * ((mb + i) * rs + p * ks), ta)
        pta = np.int64(ta.ctypes.data)
        for j0 in range(0, nb, NR):
            _micro_kernel(pta, k, 1, pb + 4 * j0, ldb, ptc, NR, k, 0)
            _store(tc, pc, ldc, mb, j0, m - mb, NR, transposed, acc)
        if nb < n:
            _micro_kernel(pta, k, 1, ptb, NR, ptc, NR, k, 0)
            _store(tc, pc, ldc, mb, nb, m - mb, n - nb, transposed, acc)
        _alive(ta)
    _alive(tb)
    _alive(tc)


_blocks_inline = inlined(_blocks)


@shared(*(_I,) * 12, dtype="float32", enabled=ENABLED)
def _blocks_by_name(pa, rs, ks, pb, ldb, pc, ldc, m, n, k, acc, transposed):
    """_blocks compiled once, on its own (the product's loops around the micro-kernel)."""
    _blocks_inline(pa, rs, ks, pb, ldb, pc, ldc, m, n, k, acc, transposed != 0)


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
def _transpose_mem(pa, s0, s1, m, n, po, ldo, like):
    """O (n, m) = A (m, n)^T, float32 (with AVX-512): A at address pa with element strides
    (s0, s1), O with rows ldo elements apart and contiguous; 16x16 register tiles where A's
    rows are contiguous."""
    tiles = s1 == 1
    mb = m - m % _TILE if tiles else 0
    nb = n - n % _TILE if tiles else 0
    if tiles:
        # down a's columns first: the stores then fill out's rows in order (going along a's
        # rows instead was 4x slower for 512x128, whose 2 KB output rows alias in the cache)
        for j0 in range(0, nb, _TILE):
            for i0 in range(0, mb, _TILE):
                _tile_t(np.uint64(pa + 4 * (i0 * s0 + j0)), s0,
                        np.uint64(po + 4 * (j0 * ldo + i0)), ldo)
    isz = like.itemsize
    for i in range(m):
        for j in range(nb if i < mb else 0, n):
            _st(po + isz * (j * ldo + i), _ld(pa + isz * (i * s0 + j * s1), like))


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
            keep[i * c + j] = _ld(p + isz * (i * s0 + j * s1), like)
    return _N, max(c, 1), np.int64(keep.ctypes.data), keep


def _run(pa, sa0, sa1, tb, ldb, pb, pc, ldc, m, n, k, acc, like):
    """C (m, n) (+)= A B, C's rows ldc apart and contiguous, B in BLAS's terms (_rows_of)."""


@overload(_run)
def _run_overload(pa, sa0, sa1, tb, ldb, pb, pc, ldc, m, n, k, acc, like):
    if like.dtype == types.float32 and ENABLED:
        def impl(pa, sa0, sa1, tb, ldb, pb, pc, ldc, m, n, k, acc, like):
            # the micro-kernel reads A with any strides; B's rows must be contiguous. When
            # B is a transpose (w.T), the smaller operand is copied: A^T, and then C^T = B^T
            # A^T is computed (B^T's rows are contiguous) and stored transposed; or B itself.
            # (One call of each helper below: each is compiled once, inline.)
            flip = tb != _N and m < n
            copy = np.empty(0 if tb == _N else (k * m if flip else k * n), np.float32)
            if tb != _N:
                if flip:
                    src, s0, s1, rows, ld = pa, sa0, sa1, m, m
                else:
                    src, s0, s1, rows, ld = pb, ldb, np.int64(1), n, n
                _transpose_mem(src, s0, s1, rows, k, np.int64(copy.ctypes.data), ld, like)
            if flip:
                a_p, a_rs, a_ks, b_p, b_ld, rows, cols = (
                    pb, ldb, np.int64(1), np.int64(copy.ctypes.data), m, n, m)
            elif tb != _N:
                a_p, a_rs, a_ks, b_p, b_ld, rows, cols = (
                    pa, sa0, sa1, np.int64(copy.ctypes.data), n, m, n)
            else:
                a_p, a_rs, a_ks, b_p, b_ld, rows, cols = pa, sa0, sa1, pb, ldb, m, n
            _blocks_by_name(a_p, a_rs, a_ks, b_p, b_ld, pc, ldc, rows, cols, k, acc, flip)
            _alive(copy)
        return impl
    fortran = _fortran_sgemm if like.dtype == types.float32 else _fortran_dgemm
    one = np.float32(1) if like.dtype == types.float32 else np.float64(1)

    def impl(pa, sa0, sa1, tb, ldb, pb, pc, ldc, m, n, k, acc, like):
        ta, lda, pa, keep = _rows_of(pa, sa0, sa1, m, k, like)
        # row-major C = A B is column-major C^T = B^T A^T: the operands swap
        fortran(tb, ta, n, m, k, pb, ldb, pa, lda, one if acc else one - one, pc, ldc)
        _alive(keep)
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
                    _st(pc + isz * (i * sc0 + j * sc1), np.zeros(1, like.dtype)[0])
        return
    tb, ldb, pb, keep_b = _rows_of(pb, sb0, sb1, k, n, like)
    if (sc1 == 1 or n == 1) and (m == 1 or sc0 >= n):
        _run(pa, sa0, sa1, tb, ldb, pb, pc, max(sc0 if m > 1 else n, 1), m, n, k, acc, like)
    else:   # C's rows are not contiguous: into a copy and back
        tmp = np.zeros((m, n), like.dtype)
        for i in range(m):
            for j in range(n):
                if acc:
                    tmp[i, j] = _ld(pc + isz * (i * sc0 + j * sc1), like)
        _run(pa, sa0, sa1, tb, ldb, pb, np.int64(tmp.ctypes.data), n, m, n, k, acc, like)
        for i in range(m):
            for j in range(n):
                _st(pc + isz * (i * sc0 + j * sc1), tmp[i, j])
    _alive(keep_b)


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


@shared(*(_I,) * 8, dtype="float32", enabled=ENABLED)
def _stranspose(pa, s0, s1, po, so0, so1, m, n):
    """float32 O = A^T on addresses and element strides, by 16x16 tiles where possible."""
    like = np.empty(0, np.float32)
    if so1 == 1 or m == 1:
        _transpose_mem(pa, s0, s1, m, n, po, so0 if n > 1 else m, like)
    else:
        for i in range(m):
            for j in range(n):
                _st(po + 4 * (j * so0 + i * so1), _ld(pa + 4 * (i * s0 + j * s1), like))


def _strides(x):
    """Element strides of an array, inside a kernel."""


@overload(_strides)
def _strides_overload(x):
    return lambda x: (x.strides[0] // x.itemsize, x.strides[1] // x.itemsize)


def _args(a, b, out):
    """The product's arguments for arrays: addresses, element strides, sizes."""


@overload(_args)
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
                _alive(a)
                _alive(b)
                _alive(out)
            return impl
    return typer


overload(mm)(_product_overload(0))
overload(mm_add)(_product_overload(1))


def transpose(a, out):
    """out (N, M) = a (M, N)^T, for Numba kernels (pure-Python fallback: a copy by NumPy)."""
    out[...] = a.T


@overload(transpose)
def _transpose_overload(a, out):
    if ENABLED and a.dtype == out.dtype == types.float32:
        def impl(a, out):
            (s0, s1), (so0, so1) = _strides(a), _strides(out)
            _stranspose(np.int64(a.ctypes.data), s0, s1, np.int64(out.ctypes.data), so0, so1,
                        a.shape[0], a.shape[1])
            _alive(a)
            _alive(out)
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
