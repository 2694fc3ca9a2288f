"""The one decorator every kernel uses, and where compiled kernels are cached.

``cache=True`` keeps compiled machine code between sessions. Numba checks a cached kernel
against its own source file only, not against the functions it calls from other files: after a
change to ``_fastmath.py`` or ``gemm.py`` alone (a ``git pull`` of an editable install), the
recurrent and conv kernels would go on running the old exp or matrix product. So the cache lives
in a directory named after a hash of every kernel source (``dlkit-<hash>``); a change to any of
them starts a fresh one and the stale ones are removed. The base directory is the package's
``__pycache__``, or a user cache directory when the package is read-only (a shared JupyterHub
site-packages), or ``NUMBA_CACHE_DIR`` when the user set it.

Which float32 matrix product the kernels use is decided once, here (``PRODUCT``): dlkit's
AVX-512 micro-kernel (``kernels.gemm``) when the compile target has AVX-512, else BLAS. The
environment variable ``DLKIT_GEMM=blas`` forces BLAS on any CPU (the book's tests run once so,
to prove that no printed digit depends on which product summed the numbers). The choice is
compiled into the kernels, so it is part of the cache directory's name, and so is Numba's
version: two environments sharing one checkout never serve each other's machine code.

Compiled once, called by name (``shared``): when a kernel calls another jitted function, Numba
links the callee into the caller and generates machine code for the whole again, so a helper
used by ten kernels is compiled ten times (the AVX-512 matrix product, inlined into every
kernel that multiplies, made a cold start of the document MLP take 46 s, 42 of them in two
kernels). A function decorated with ``shared(signature)`` is compiled on its own, as a C
function (``numba.cfunc``, cached like the kernels), its address is given a name in LLVM's
symbol table, and kernels call it through that name: their machine code holds a call, not a
copy, and a kernel loaded from the cache finds the function by name in the new process. The
price is one call (a few ns) per use, so it is for functions that do a lot per call.

``fastmath`` allows reassociation and fused multiply-add (so reductions vectorise)
but keeps NaN/inf semantics, which the NaN-loss guard relies on. ``error_model="numpy"``
lets x / 0 give inf instead of raising: the Python error model's zero check on every
division stops LLVM from vectorising a loop (Adam's update ran 8x slower with it).
"""
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

_PKG_DIR = Path(__file__).resolve().parent


def _fallback_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dlkit", "numba")


def _sources_hash():
    h = hashlib.sha256()
    for f in sorted(_PKG_DIR.glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


GEMM_ENV = "DLKIT_GEMM"
_GEMM_CHOICES = ("auto", "blas")


def _target_has_avx512():
    """True when the code Numba generates may use AVX-512: the host CPU has it and Numba
    compiles for the host (``NUMBA_CPU_NAME`` unset or "host"), or the named target's feature
    list (``NUMBA_CPU_FEATURES``) includes it. A portable cache (``NUMBA_CPU_NAME=generic``)
    gets BLAS."""
    cpu = os.environ.get("NUMBA_CPU_NAME", "host")
    if cpu != "host":
        return "+avx512f" in os.environ.get("NUMBA_CPU_FEATURES", "").split(",")
    try:
        import llvmlite.binding as llvm

        return bool(llvm.get_host_cpu_features().get("avx512f"))
    except Exception:   # unknown host: stay with BLAS
        return False


def _product_path():
    """("avx512" or "blas", why): the one place that decides the float32 product."""
    choice = os.environ.get(GEMM_ENV, "auto").strip().lower() or "auto"
    if choice not in _GEMM_CHOICES:
        raise ValueError(f"{GEMM_ENV}={os.environ[GEMM_ENV]!r} is not a valid setting: use "
                         f"{' or '.join(_GEMM_CHOICES)} (blas forces BLAS for every product)")
    if choice == "blas":
        return "blas", f"{GEMM_ENV}=blas"
    if _target_has_avx512():
        return "avx512", "the compile target has AVX-512"
    cpu = os.environ.get("NUMBA_CPU_NAME", "host")
    return "blas", ("this CPU has no AVX-512" if cpu == "host"
                    else f"NUMBA_CPU_NAME={cpu} has no AVX-512")


PRODUCT, PRODUCT_REASON = _product_path()    # "avx512" (kernels.gemm's micro-kernel) or "blas"


def _writable(path):
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def _link_tree(src, dst):
    """Link every file of the read-only cache ``src`` into ``dst`` (Numba then loads them from
    there, and writes what it compiles, and its updated index files, beside them: a new index
    replaces the link, never the administrator's file). Returns how many links are new."""
    new = 0
    for root, _, files in os.walk(src):
        out = Path(dst) / Path(root).relative_to(src)
        out.mkdir(parents=True, exist_ok=True)
        for f in files:
            if not (out / f).exists():
                try:
                    (out / f).symlink_to(Path(root) / f)
                    new += 1
                except OSError:
                    pass
    return new


def _versioned_cache_dir(numba_version):
    """The kernel cache for this build (see the module's docstring). A cache that exists but is
    read-only (prepared by an administrator: ``python -m dlkit warmup``) is used as it is,
    through links from a per-user directory where anything missing is compiled to; one that
    cannot be created falls back to the per-user directory. Both say so in one line."""
    variant = f"numba{numba_version}-{PRODUCT}"
    name = f"dlkit-{_sources_hash()}-{variant}"
    configured = os.environ.get("NUMBA_CACHE_DIR")
    base = Path(configured) if configured else _PKG_DIR / "__pycache__"
    target = base / name
    if _writable(target):
        try:   # the same variant built from older kernel sources is stale
            for old in base.glob("dlkit-*"):
                stale = old.name.endswith(f"-{variant}") or old.name.count("-") == 1
                if old.name != name and stale and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass
        return str(target)
    user = Path(_fallback_cache_dir()) / name
    first = not user.exists()
    user.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        if _link_tree(target, user):
            print(f"dlkit: the kernel cache {target} is read-only; using its kernels, and "
                  f"compiling anything it lacks into {user}", file=sys.stderr)
    elif configured or first:
        why = "is not writable" if configured else "(the package's directory) is read-only"
        print(f"dlkit: the kernel cache {target} {why}; compiling kernels into {user}",
              file=sys.stderr)
    return str(user)


import llvmlite.binding as llvm  # noqa: E402
import numba  # noqa: E402
import numba.core.registry  # noqa: E402
import numba.core.sigutils  # noqa: E402
import numba.extending  # noqa: E402
from llvmlite import ir as llvmir  # noqa: E402
from numba.core import cgutils  # noqa: E402

numba.config.CACHE_DIR = _versioned_cache_dir(numba.__version__)   # before any kernel is decorated

FASTMATH = {"contract", "reassoc", "arcp", "nsz"}

_OPTIONS = dict(nopython=True, nogil=True, fastmath=FASTMATH, error_model="numpy")


class _Dispatcher(numba.core.registry.CPUDispatcher):
    """Numba's CPU dispatcher, except for calls from other kernels with a constant argument.

    Numba types a constant at a call site as a literal (``Literal[int](8)``) and compiles the
    callee once per distinct constant: ``_store(.., MR, ..)`` and ``_store(.., NR, ..)`` were two
    compilations, and every ``activate(.., SIGMOID, ..)`` in the LSTM kernels one more. Here a
    kernel is compiled once per argument *type*; the constant is an ordinary argument, and
    LLVM still folds it where it inlines the call.
    """

    def get_call_template(self, args, kws):
        unlit = numba.types.unliteral
        return super().get_call_template(tuple(unlit(a) for a in args),
                                         {k: unlit(v) for k, v in kws.items()})

    def compile(self, sig):
        # the shared functions a kernel's machine code calls must exist before it is loaded
        args, _ = numba.core.sigutils.normalize_signature(sig)
        for t in args:
            if isinstance(t, numba.types.Array) and isinstance(t.dtype, numba.types.Float):
                ensure_shared(str(t.dtype))
        return super().compile(sig)


def _kernel_decorator(**options):
    def decorate(func):
        if numba.config.DISABLE_JIT:
            return func
        dispatcher = _Dispatcher(py_func=func, locals={}, targetoptions=dict(_OPTIONS, **options))
        dispatcher.enable_caching()
        return dispatcher
    return decorate


jit = _kernel_decorator()
pjit = _kernel_decorator(parallel=True)
prange = numba.prange


_PENDING = {}      # dtype name -> [(name, func, sig)] of shared functions not compiled yet
_COMPILED = {}     # name -> numba.cfunc, kept alive: its machine code is what the name calls


def _ensure(name, func, sig):
    """Compile one shared function (or load it from the cache) and register its name."""
    if name in _COMPILED:
        return
    _COMPILED[name] = None    # (a kernel compiled meanwhile that calls it must not recurse)
    compiled = numba.cfunc(sig, cache=True, fastmath=FASTMATH, error_model="numpy")(func)
    _COMPILED[name] = compiled
    llvm.add_symbol(name, compiled.address)


def ensure_shared(dtype):
    """Make every shared function for ``dtype`` ("float32", "float64") callable: before a
    kernel for that dtype is compiled or loaded from the cache, whose machine code calls them
    by name."""
    for name, func, sig in _PENDING.pop(dtype, ()):
        _ensure(name, func, sig)


def shared(*argtypes, dtype, enabled=True):
    """Decorator: compile ``func(*args)`` (scalar arguments of ``argtypes``, no result) once
    as a C function and return what kernels call instead: a Numba intrinsic that emits a call
    of it by name. Arrays are passed as addresses (``a.ctypes.data``) and sizes. It is compiled
    the first time a kernel working on ``dtype`` is, not at import. With ``enabled`` false (a
    path this machine does not take) nothing is compiled."""
    def decorate(func):
        name = f"dlkit_{func.__module__.rsplit('.', 1)[-1]}_{func.__name__.lstrip('_')}"
        sig = numba.types.void(*argtypes)
        if numba.config.DISABLE_JIT or not enabled:   # nothing will call it compiled
            return func
        _PENDING.setdefault(dtype, []).append((name, func, sig))

        def typer(typingctx, *args):
            _ensure(name, func, sig)

            def codegen(context, builder, signature, values):
                call_by_name(builder, name, llvmir.VoidType(),
                             [context.get_value_type(t) for t in argtypes], values)
                return context.get_dummy_value()

            return sig, codegen

        # an intrinsic needs its parameters spelled out (Numba cannot lower *args here)
        params = ", ".join(f"a{i}" for i in range(len(argtypes)))
        scope = {"typer": typer}
        exec(f"def {func.__name__}(typingctx, {params}):\n"
             f"    return typer(typingctx, {params})", scope)
        call = numba.extending.intrinsic(scope[func.__name__])
        call.symbol = name
        call.__doc__ = func.__doc__
        return call

    return decorate


def symbol(name, address):
    """Give a C function outside dlkit (a BLAS routine) a name kernels can call it by."""
    if not numba.config.DISABLE_JIT:
        llvm.add_symbol(name, address)


def call_by_name(builder, name, restype, argtypes, args):
    """Emit a call of the C function ``name`` (see ``shared`` and ``symbol``)."""
    fn = cgutils.get_or_insert_function(builder.module, llvmir.FunctionType(restype, argtypes),
                                        name)
    return builder.call(fn, args)


def cache_dir():
    """Where compiled kernels are stored (for ``python -m dlkit info``)."""
    return numba.config.CACHE_DIR
