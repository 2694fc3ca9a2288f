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

Kernels are compiled per argument *type*: Numba would compile a callee again for every
constant argument at a call site (``Literal[int]``), see ``_Dispatcher``. Helpers that many
kernels call are compiled once and called by name: see ``_shared``. A parallel kernel cuts its
rows into pieces with ``bounds``, the one rule for which rows a piece gets.

``fastmath`` allows reassociation and fused multiply-add (so reductions vectorise)
but keeps NaN/inf semantics, which the NaN-loss guard relies on. ``error_model="numpy"``
lets x / 0 give inf instead of raising: the Python error model's zero check on every
division stops LLVM from vectorising a loop (Adam's update ran several times slower with it:
benchmarks/RESULTS.md).
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


import numba  # noqa: E402
import numba.core.registry  # noqa: E402

numba.config.CACHE_DIR = _versioned_cache_dir(numba.__version__)   # before any kernel is decorated

FASTMATH = {"contract", "reassoc", "arcp", "nsz"}

_OPTIONS = dict(nopython=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
#: the same options for code compiled into a kernel: ``overload`` implementations, inlined code
INNER_OPTIONS = {k: v for k, v in _OPTIONS.items() if k != "nopython"}


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


@jit
def bounds(t, nt, n):
    """The rows ``lo:hi`` of piece t of nt of n rows (a parallel kernel's chunk; nt comes from
    ``dlkit._threads.chunks``)."""
    return t * n // nt, (t + 1) * n // nt


def _log_compiles(path):
    """``DLKIT_LOG_COMPILES=<file>``: append a line per kernel compiled (not loaded from the
    cache) to the file, to see what a warm-up missed."""
    from numba.core import event

    class Log(event.Listener):
        depth = 0

        def on_start(self, ev):
            self.depth += 1

        def on_end(self, ev):
            self.depth -= 1
            fn = getattr((ev.data or {}).get("dispatcher"), "py_func", None)
            if self.depth == 0 and fn is not None:
                with open(path, "a") as f:
                    f.write(f"{fn.__module__}.{fn.__qualname__} {ev.data.get('args')}\n")

    event.register("numba:compile", Log())


if os.environ.get("DLKIT_LOG_COMPILES"):
    _log_compiles(os.environ["DLKIT_LOG_COMPILES"])


def cache_dir():
    """Where compiled kernels are stored (for ``python -m dlkit info``)."""
    return numba.config.CACHE_DIR
