"""Machine code compiled once and called by many kernels: ``shared`` functions and ``chunked``
parallel bodies; and how such code reaches memory it is given as an address (``view``,
``load``, ``store``, ``keep_alive``).

Why. When a jitted function calls another, Numba links the callee's code into the caller and
generates machine code for the whole again; a kernel inside a ``parallel=True`` loop is carried
twice, in the threads' function and in the kernel around it. So every helper was compiled once
per kernel that used it, and the float32 matrix product (its AVX-512 micro-kernel inlined at
seven places) once per kernel that multiplies: a cold start of the document MLP spent nearly
all its compile time in its two dense kernels (issue 16; measured with Numba's
"numba:compile" events, per function; figures in benchmarks/RESULTS.md).

``shared(*argtypes)`` compiles a function of scalars (arrays go as addresses and sizes, and
are seen again as arrays with ``view``) as a C function (``numba.cfunc``, cached on disk like
the kernels). Kernels call it through a pointer kept in an 8-byte cell that LLVM knows by name
(``llvmlite.binding.add_symbol``): their machine code holds an indirect call, not a copy, and a
kernel loaded from the cache in a new process finds the cell by name. The cell first points to
a ctypes callback that compiles the function (or loads it from the cache) and then points the
cell at it: nothing is compiled at import, and only what a model calls is compiled at all. A
call costs a few ns, so it is for functions that do a lot per call: the matrix product, the
activations over a block of rows, the body of a parallel kernel.

``chunked(spec)`` makes the body of a parallel kernel, ``chunk(*args, k, nt)`` (the k-th of nt
pieces of the work), a shared function per float dtype; the ``prange`` loop around it is then a
few lines that compile in a fraction of a second. The function ``shared`` compiles has the
chunk's code inlined (``inlined``): a function that calls a jitted one compiles it twice, once
on its own and once linked into itself.

Not everything gains from inlining: LLVM's time grows faster than the size of one function, so
the product's block loop (``_avx512._blocks``) is a shared function of its own rather than
inlined into the product (two shorter compiles instead of one long one: benchmarks/RESULTS.md).
"""
import ctypes
import os
import sys
import warnings

import llvmlite.binding as llvm
import numba
import numba.core.errors
import numba.extending
import numpy as np
from llvmlite import ir as llvmir
from numba.core import cgutils

from ._jit import FASTMATH, INNER_OPTIONS


class _Shared:
    """One shared function: its C code, compiled on the first call.

    Kernels call it through a pointer kept in an 8-byte cell that LLVM knows by the name
    ``<name>_ptr``; the cell first holds a ctypes callback that compiles the function (or
    loads it from the cache), stores the real address in the cell, and forwards the call. So
    nothing is compiled at import, only what a model really calls is compiled at all, and a
    kernel loaded from the cache in a new process finds its callees whatever the order.
    """

    _CTYPES = {"int64": ctypes.c_int64, "uint64": ctypes.c_uint64, "float32": ctypes.c_float,
               "float64": ctypes.c_double}

    def __init__(self, name, func, argtypes):
        self.name, self.func, self.argtypes = name, func, argtypes
        self.compiled = None
        proto = ctypes.CFUNCTYPE(None, *(self._CTYPES[str(t)] for t in argtypes))
        self.first_call = proto(self._first_call)       # kept alive with self
        self.cell = ctypes.c_void_p(ctypes.cast(self.first_call, ctypes.c_void_p).value)
        llvm.add_symbol(f"{name}_ptr", ctypes.addressof(self.cell))

    def compile(self):
        if self.compiled is None:
            with warnings.catch_warnings():
                # Numba's inliner leaves its SSA check "pedantic" warnings about the
                # variables of a branch (numba.core.errors.NumbaIRAssumptionWarning): noise here
                warnings.simplefilter("ignore", numba.core.errors.NumbaIRAssumptionWarning)
                self.compiled = numba.cfunc(numba.types.void(*self.argtypes), cache=True,
                                            fastmath=FASTMATH, error_model="numpy")(self.func)
            self.cell.value = self.compiled.address
        return self.compiled

    def _first_call(self, *args):
        try:
            self.compile().ctypes(*args)
        except BaseException:   # it cannot raise into the kernel that called it
            import traceback

            traceback.print_exc()
            sys.stderr.write(f"dlkit: compiling {self.name} failed; stopping\n")
            sys.stderr.flush()
            os.abort()


_SHARED = {}   # name -> _Shared


def shared(*argtypes, dtype=None, enabled=True):
    """Decorator: compile ``func(*args)`` (scalar arguments of ``argtypes``, no result) once
    as a C function and return what kernels call instead: a Numba intrinsic that emits a call
    through its pointer cell (see ``_Shared``). Arrays are passed as addresses (``a.ctypes.data``) and sizes. It is compiled
    the first time it is called (``dtype`` documents which kernels call it). With ``enabled``
    false (a path this machine does not take) nothing is prepared."""
    def decorate(func):
        name = f"dlkit_{func.__module__.rsplit('.', 1)[-1]}_{func.__name__.lstrip('_')}"
        if numba.config.DISABLE_JIT or not enabled:   # nothing will call it compiled
            return func
        entry = _SHARED[name] = _Shared(name, func, argtypes)
        sig = numba.types.void(*argtypes)

        def typer(typingctx, *args):
            def codegen(context, builder, signature, values):
                fnty = llvmir.FunctionType(llvmir.VoidType(),
                                           [context.get_value_type(t) for t in argtypes])
                cell = builder.module.globals.get(f"{name}_ptr")
                if cell is None:
                    cell = llvmir.GlobalVariable(builder.module, fnty.as_pointer(),
                                                 f"{name}_ptr")
                    cell.linkage = "external"
                builder.call(builder.load(cell), values)
                return context.get_dummy_value()

            return sig, codegen

        # an intrinsic needs its parameters spelled out (Numba cannot lower *args here)
        params = ", ".join(f"a{i}" for i in range(len(argtypes)))
        scope = {"typer": typer}
        exec(f"def {func.__name__}(typingctx, {params}):\n"
             f"    return typer(typingctx, {params})", scope)
        scope[func.__name__].__module__ = func.__module__
        call = numba.extending.intrinsic(scope[func.__name__])
        call.shared = entry
        call.__doc__ = func.__doc__
        return call

    return decorate


@numba.extending.intrinsic
def view(typingctx, addr, shape, like):
    """The C-contiguous array of ``shape`` (a tuple) at address ``addr``, of the dtype of the
    array ``like``: how a shared function sees the arrays it was given as addresses."""
    arr = numba.types.Array(like.dtype, len(shape), "C")

    def codegen(context, builder, signature, args):
        addr, shape_val, _ = args
        dims = cgutils.unpack_tuple(builder, shape_val, len(shape))
        ary = context.make_array(arr)(context, builder)
        size = context.get_abi_sizeof(context.get_data_type(like.dtype))
        strides, stride = [], context.get_constant(numba.types.intp, size)
        for d in reversed(dims):
            strides.insert(0, stride)
            stride = builder.mul(stride, d)
        data = builder.inttoptr(addr, context.get_data_type(like.dtype).as_pointer())
        context.populate_array(ary, data=data, shape=dims, strides=strides,
                               itemsize=context.get_constant(numba.types.intp, size),
                               meminfo=None)
        return ary._getvalue()

    return arr(numba.types.int64, shape, like), codegen


@numba.extending.intrinsic
def load(typingctx, addr, like):
    """The number at byte address ``addr``, of the dtype of the array ``like``."""
    def codegen(context, builder, signature, args):
        ptr = context.get_value_type(like.dtype).as_pointer()
        return builder.load(builder.inttoptr(args[0], ptr))

    return like.dtype(numba.types.int64, like), codegen


@numba.extending.intrinsic
def store(typingctx, addr, value):
    """Store the number ``value`` at byte address ``addr``."""
    def codegen(context, builder, signature, args):
        ptr = context.get_value_type(value).as_pointer()
        builder.store(args[1], builder.inttoptr(args[0], ptr))
        return context.get_dummy_value()

    return numba.types.void(numba.types.int64, value), codegen


@numba.extending.intrinsic
def keep_alive(typingctx, x):
    """Nothing; a use of ``x``, so that Numba keeps the array alive (not freed) up to here
    while its memory is reached through an address."""
    def codegen(context, builder, signature, args):
        return context.get_dummy_value()

    return numba.types.void(x), codegen


_KINDS = {"u1": "uint8", "i4": "int32", "i8": "int64"}   # element types of non-float arrays


def chunked(spec):
    """Decorator for the body of a parallel kernel, ``chunk(*args, k, nt)`` (the k-th of nt
    pieces of the work), making it a shared function: compiled once per float dtype and called
    by name from the kernel's ``prange`` loop, which stays a few lines. (A ``parallel=True``
    kernel otherwise carries its body's machine code twice, in the threads' function and in
    the kernel around it, and that was most of its compile time.)

    ``spec`` names the arguments' kinds, in order: "F3" a C-contiguous 3-D array of the
    kernel's float dtype, "u1:2" a 2-D uint8 array (also i4, i8), "float" a number of the
    kernel's dtype, "int", "bool". Returns the function kernels call, ``call(*args, k, nt)``;
    arrays of another layout or dtype make it run ``chunk`` inline instead.
    """
    kinds = spec.split()

    def decorate(chunk):
        if numba.config.DISABLE_JIT:
            return chunk
        stem = chunk.py_func.__name__.lstrip("_")
        callers = {dt: _chunk_function(chunk, kinds, dt, f"{stem}_{dt}")
                   for dt in ("float32", "float64")}

        def call(*args):
            chunk(*args)

        def typer(*args):
            arrays = [(a, kd) for a, kd in zip(args, kinds) if _ndim(kd)]
            dtype = str(next(a for a, kd in arrays if kd[0] == "F").dtype)
            ok = dtype in callers and all(
                isinstance(a, numba.types.Array) and a.layout == "C" and a.ndim == _ndim(kd)
                and (kd[0] != "F" or str(a.dtype) == dtype) for a, kd in arrays)
            if not ok:
                return lambda *args: chunk(*args)
            return _flattening_caller(callers[dtype], kinds, chunk.py_func.__module__)

        numba.extending.overload(call, jit_options=INNER_OPTIONS)(typer)
        call.__name__ = call.__qualname__ = stem
        call.__doc__ = chunk.py_func.__doc__
        return call

    return decorate


def inlined(kernel):
    """``kernel``'s code for inlining into the functions that call it (a shared function, or
    a loop that calls a small helper per row), so that it is compiled there only (a called
    kernel is compiled on its own and then again, linked into its caller)."""
    if numba.config.DISABLE_JIT:   # kernel is the plain Python function
        return kernel
    return numba.njit(inline="always", **INNER_OPTIONS)(kernel.py_func)


def _ndim(kind):
    """Dimensions of an array kind ("F3", "u1:2"), 0 for a number."""
    if kind[0] == "F":
        return int(kind[1:])
    return int(kind.split(":")[1]) if ":" in kind else 0


def _flat_params(kinds):
    """For each argument kind, its flattened parameters (names) and their Numba types."""
    names, types_ = [], []
    for i, kd in enumerate(kinds):
        if _ndim(kd):
            nd = _ndim(kd)
            names.append([f"p{i}"] + [f"s{i}_{d}" for d in range(nd)])
            types_ += [numba.types.int64] * (nd + 1)
        else:
            names.append([f"v{i}"])
            types_.append(None if kd == "float" else numba.types.int64)
    return names, types_


def _chunk_function(chunk, kinds, dtype, stem):
    """The shared C function for one dtype: arrays come as address and shape, and are seen
    again as arrays (``view``) before ``chunk`` runs on them."""
    names, argtypes = _flat_params(kinds)
    ftype = getattr(numba.types, dtype)
    argtypes = [ftype if t is None else t for t in argtypes] + [numba.types.int64] * 2
    params = [n for group in names for n in group] + ["k", "nt"]
    body, args = [], []
    for i, (kd, group) in enumerate(zip(kinds, names)):
        if _ndim(kd):
            el = dtype if kd[0] == "F" else _KINDS[kd.split(":")[0]]
            shape = "(" + "".join(f"{n}, " for n in group[1:]) + ")"
            body.append(f"    a{i} = view({group[0]}, {shape}, np.empty(0, np.{el}))")
            args.append(f"a{i}")
        else:
            args.append(f"{group[0]} != 0" if kd == "bool" else group[0])
    src = (f"def {stem}({', '.join(params)}):\n" + "\n".join(body)
           + f"\n    chunk({', '.join(args)}, k, nt)\n")
    scope = {"view": view, "np": np, "chunk": inlined(chunk)}
    # compiled under the kernel's file name: Numba's cache finds a function by its source file
    exec(compile(src, chunk.py_func.__code__.co_filename, "exec"), scope)
    fn = scope[stem]
    fn.__module__ = chunk.py_func.__module__
    return shared(*argtypes, dtype=dtype)(fn)


def _flattening_caller(target, kinds, module):
    """The kernel-side call: each array as its address and shape, then k and nt."""
    flat = []
    for i, kd in enumerate(kinds):
        flat.append(f"args[{i}].ctypes.data" if _ndim(kd) else f"args[{i}]")
        flat += [f"args[{i}].shape[{d}]" for d in range(_ndim(kd))]
    n = len(kinds)
    scope = {"target": target}
    exec(f"def impl(*args):\n    target({', '.join(flat)}, args[{n}], args[{n + 1}])\n", scope)
    scope["impl"].__module__ = module
    return scope["impl"]


def symbol(name, address):
    """Give a C function outside dlkit (a BLAS routine) a name kernels can call it by."""
    if not numba.config.DISABLE_JIT:
        llvm.add_symbol(name, address)


def call_by_name(builder, name, restype, argtypes, args):
    """Emit a call of the C function ``name`` (see ``shared`` and ``symbol``)."""
    fn = cgutils.get_or_insert_function(builder.module, llvmir.FunctionType(restype, argtypes),
                                        name)
    return builder.call(fn, args)
