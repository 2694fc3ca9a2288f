"""The AVX-512 code of the float32 product (``kernels.gemm``): a micro-kernel and a 16x16
transpose written in LLVM IR, and the loops that run them over whole matrices.

How (the scheme of GotoBLAS/BLIS, Goto & van de Geijn 2008, here without packing): the output
is cut into blocks of ``MR`` rows by ``NR`` columns. For one block the micro-kernel keeps the
MR x NR sums in registers (8 x 2 vectors of 16 floats: 16 of the 32 AVX-512 registers) and
walks the shared dimension: per step it loads one row of ``b`` (2 vectors) and MR numbers of
``a`` (each broadcast to a vector), then does 16 fused multiply-adds. Numba has no vector
types, so the micro-kernel is written in LLVM IR through ``numba.extending.intrinsic``. The
rows and columns past the last full block go through the same micro-kernel from zero-padded
copies, so every output number is summed the same way.

``transpose`` (out = a^T, rows contiguous) moves 16x16 tiles through registers: 16 row loads,
4 rounds of 16 two-vector shuffles (each round swaps one bit of the row index with the same
bit of the lane index), 16 row stores; it is much faster than NumPy's
``ascontiguousarray(w.T)`` (see benchmarks/RESULTS.md).

Everything here works on addresses (int64) and element strides. Used only when the compile
target has AVX-512 (``ENABLED``); nothing here is compiled otherwise.
"""
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._jit import PRODUCT, jit
from ._shared import inlined, keep_alive, load, shared, store

ENABLED = PRODUCT == "avx512"    # decided once in _jit (the CPU, NUMBA_CPU_NAME, DLKIT_GEMM)

MR, NR = 8, 32     # 8 rows: every batch and layer size of the book is a multiple of 8
_LANES = 16        # float32 numbers in one 512-bit register
_NV = NR // _LANES  # vectors per row of a block
_F32_BYTES = 4     # size of a float32: addresses step by this per element
_TILE = _LANES     # the transpose's tiles are 16 x 16
_I = types.int64


# What _micro computes, in NumPy, for the block at rows i0, columns j0 (C's rows ``ldc`` apart,
# A's element strides (rs, ks), B's rows ``ldb`` apart and contiguous):
#
#     acc = C[i0:i0+MR, j0:j0+NR] if acc else np.zeros((MR, NR))  # MR x NV vectors, registers
#     for p in range(k):                                          # the shared dimension, in order
#         b = B[p, j0:j0+NR]                                      # NV vector loads
#         for r in range(MR):
#             acc[r] = fma(A[i0 + r, p], b, acc[r])               # 1 broadcast, NV fused mul-adds
#     C[i0:i0+MR, j0:j0+NR] = acc
#
# that is C[i0:i0+MR, j0:j0+NR] (+)= A[i0:i0+MR, :] @ B[:, j0:j0+NR], each sum in the order
# p = 0 .. k-1 with one rounding per term.
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
                old = builder.load(vptr(c, builder.add(row, const(_LANES * j))),
                                   align=_F32_BYTES)
                start.append(builder.select(acc, old, zero))
        entry = builder.block
        loop = builder.function.append_basic_block("micro_loop")
        done = builder.function.append_basic_block("micro_done")
        builder.cbranch(builder.icmp_signed(">", n, const(0)), loop, done)

        builder.position_at_end(loop)
        p = builder.phi(i64)
        acc_phis = [builder.phi(vec) for _ in range(MR * _NV)]
        brow = builder.mul(p, ldb)
        bv = [builder.load(vptr(b, builder.add(brow, const(_LANES * j))), align=_F32_BYTES)
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
                              align=_F32_BYTES)
        return context.get_dummy_value()

    return sig, codegen


@shared(*(types.int64,) * 9, dtype="float32", enabled=ENABLED)
def _micro_kernel(a_addr, rs, ks, b_addr, ldb, c_addr, ldc, k, acc):
    """The micro-kernel, compiled once: every block of every product calls this one copy."""
    _micro(np.uint64(a_addr), rs, ks, np.uint64(b_addr), ldb, np.uint64(c_addr), ldc, k,
           acc != 0)


@jit
def _block(pa, rs, ks, pb, ldb, k, i0, j0, pc, ldc, tc, ptc, transposed, acc):
    a0, b0 = pa + _F32_BYTES * i0 * rs, pb + _F32_BYTES * j0
    if transposed:
        _micro_kernel(a0, rs, ks, b0, ldb, ptc, NR, k, 0)
        _store_block(tc, pc, ldc, i0, j0, MR, NR, True, acc)
    else:
        _micro_kernel(a0, rs, ks, b0, ldb, pc + _F32_BYTES * (i0 * ldc + j0), ldc, k, acc)


@jit
def _store_block(tc, pc, ldc, i0, j0, rows, cols, transposed, acc):
    """C[i0 + i, j0 + j] = tc[i, j] (or C[j0 + j, i0 + i] when ``transposed``); += when
    ``acc``. C: rows ``ldc`` elements apart from address ``pc``."""
    for i in range(rows):
        for j in range(cols):
            r, c = (j0 + j, i0 + i) if transposed else (i0 + i, j0 + j)
            addr = pc + _F32_BYTES * (r * ldc + c)
            store(addr, (load(addr, tc) if acc else np.float32(0)) + tc[i, j])


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
        keep_alive(tc)
        return
    # the edges: the last rows / columns copied into zero-padded blocks
    tb = np.zeros((max(k, 1), NR), np.float32)
    ptb = np.int64(tb.ctypes.data)
    if nb < n:
        for p in range(k):
            for j in range(n - nb):
                tb[p, j] = load(pb + _F32_BYTES * (p * ldb + nb + j), tb)
        for i0 in range(0, mb, MR):
            _micro_kernel(pa + _F32_BYTES * i0 * rs, rs, ks, ptb, NR, ptc, NR, k, 0)
            _store_block(tc, pc, ldc, i0, nb, MR, n - nb, transposed, acc)
    if mb < m:
        ta = np.zeros((MR, max(k, 1)), np.float32)
        for i in range(m - mb):
            for p in range(k):
                ta[i, p] = load(pa + _F32_BYTES * ((mb + i) * rs + p * ks), ta)
        pta = np.int64(ta.ctypes.data)
        for j0 in range(0, nb, NR):
            _micro_kernel(pta, k, 1, pb + _F32_BYTES * j0, ldb, ptc, NR, k, 0)
            _store_block(tc, pc, ldc, mb, j0, m - mb, NR, transposed, acc)
        if nb < n:
            _micro_kernel(pta, k, 1, ptb, NR, ptc, NR, k, 0)
            _store_block(tc, pc, ldc, mb, nb, m - mb, n - nb, transposed, acc)
        keep_alive(ta)
    keep_alive(tb)
    keep_alive(tc)


_blocks_inline = inlined(_blocks)


@shared(*(_I,) * 12, dtype="float32", enabled=ENABLED)
def _blocks_by_name(pa, rs, ks, pb, ldb, pc, ldc, m, n, k, acc, transposed):
    """_blocks compiled once, on its own (the product's loops around the micro-kernel)."""
    _blocks_inline(pa, rs, ks, pb, ldb, pc, ldc, m, n, k, acc, transposed != 0)


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

        rows = [builder.load(row(s, lds, r), align=_F32_BYTES) for r in range(_TILE)]
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
            builder.store(rows[r], row(d, ldd, r), align=_F32_BYTES)
        return context.get_dummy_value()

    return sig, codegen


@jit
def _transpose_mem(pa, s0, s1, m, n, po, ldo, like):
    """O (n, m) = A (m, n)^T, float32: A at address pa with element strides (s0, s1), O with
    rows ldo elements apart and contiguous; 16x16 register tiles where A's rows are
    contiguous."""
    tiles = s1 == 1
    mb = m - m % _TILE if tiles else 0
    nb = n - n % _TILE if tiles else 0
    if tiles:
        # down a's columns first: the stores then fill out's rows in order (going along a's
        # rows instead was much slower for 512x128, whose 2 KB output rows alias in the cache)
        for j0 in range(0, nb, _TILE):
            for i0 in range(0, mb, _TILE):
                _tile_t(np.uint64(pa + _F32_BYTES * (i0 * s0 + j0)), s0,
                        np.uint64(po + _F32_BYTES * (j0 * ldo + i0)), ldo)
    isz = like.itemsize
    for i in range(m):
        for j in range(nb if i < mb else 0, n):
            store(po + isz * (j * ldo + i), load(pa + isz * (i * s0 + j * s1), like))


@jit
def product(pa, sa0, sa1, b_transposed, ldb, pb, pc, ldc, m, n, k, acc, like):
    """float32 C (m, n) (+)= A B (``acc``: add), C's rows ldc apart and contiguous; A with any
    element strides; B's rows ldb apart and contiguous, or (``b_transposed``) its columns;
    ``like``: a 0-size float32 array.

    The micro-kernel reads A with any strides; B's rows must be contiguous. When B is a
    transpose (w.T), the smaller operand is copied: A^T, and then C^T = B^T A^T is computed
    (B^T's rows are contiguous) and stored transposed; or B itself, so a big weight matrix is
    never copied. (One call of each helper below: each is compiled once, inline.)"""
    flip = b_transposed and m < n
    copy = np.empty((k * m if flip else k * n) if b_transposed else 0, np.float32)
    if b_transposed:
        if flip:
            src, s0, s1, rows, ld = pa, sa0, sa1, m, m
        else:
            src, s0, s1, rows, ld = pb, ldb, np.int64(1), n, n
        _transpose_mem(src, s0, s1, rows, k, np.int64(copy.ctypes.data), ld, like)
    if flip:
        a_p, a_rs, a_ks, b_p, b_ld, rows, cols = (
            pb, ldb, np.int64(1), np.int64(copy.ctypes.data), m, n, m)
    elif b_transposed:
        a_p, a_rs, a_ks, b_p, b_ld, rows, cols = (
            pa, sa0, sa1, np.int64(copy.ctypes.data), n, m, n)
    else:
        a_p, a_rs, a_ks, b_p, b_ld, rows, cols = pa, sa0, sa1, pb, ldb, m, n
    _blocks_by_name(a_p, a_rs, a_ks, b_p, b_ld, pc, ldc, rows, cols, k, acc, flip)
    keep_alive(copy)


@shared(*(_I,) * 8, dtype="float32", enabled=ENABLED)
def transpose(pa, s0, s1, po, so0, so1, m, n):
    """float32 O = A^T on addresses and element strides, by 16x16 tiles where possible."""
    like = np.empty(0, np.float32)
    if so1 == 1 or m == 1:
        _transpose_mem(pa, s0, s1, m, n, po, so0 if n > 1 else m, like)
    else:
        for i in range(m):
            for j in range(n):
                store(po + _F32_BYTES * (j * so0 + i * so1),
                      load(pa + _F32_BYTES * (i * s0 + j * s1), like))
