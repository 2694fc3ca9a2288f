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

``fastmath`` allows reassociation and fused multiply-add (so reductions vectorise)
but keeps NaN/inf semantics, which the NaN-loss guard relies on. ``error_model="numpy"``
lets x / 0 give inf instead of raising: the Python error model's zero check on every
division stops LLVM from vectorising a loop (Adam's update ran 8x slower with it).
"""
import hashlib
import os
import shutil
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


def _versioned_cache_dir(numba_version):
    if os.environ.get("NUMBA_CACHE_DIR"):
        base = Path(os.environ["NUMBA_CACHE_DIR"])
    elif os.access(_PKG_DIR, os.W_OK):
        base = _PKG_DIR / "__pycache__"
    else:
        base = Path(_fallback_cache_dir())
    variant = f"numba{numba_version}-{PRODUCT}"
    name = f"dlkit-{_sources_hash()}-{variant}"
    try:   # the same variant built from older kernel sources is stale
        for old in base.glob("dlkit-*"):
            stale = old.name.endswith(f"-{variant}") or old.name.count("-") == 1
            if old.name != name and stale and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass
    return str(base / name)


import numba  # noqa: E402

numba.config.CACHE_DIR = _versioned_cache_dir(numba.__version__)   # before any kernel is decorated

FASTMATH = {"contract", "reassoc", "arcp", "nsz"}

_OPTIONS = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
jit = numba.njit(**_OPTIONS)
pjit = numba.njit(parallel=True, **_OPTIONS)
prange = numba.prange


def cache_dir():
    """Where compiled kernels are stored (for ``python -m dlkit info``)."""
    return numba.config.CACHE_DIR
