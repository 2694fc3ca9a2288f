"""Launcher of a grading kernel: ``python -m dlkit.classroom._kernel -f CONNECTION_FILE``.

Before ipykernel starts it reads its settings from the DLKIT_GRADER_KERNEL environment
variable (JSON, removed from the environment at once) and

- limits the address space (RLIMIT_AS), CPU seconds (RLIMIT_CPU, a backstop behind the
  grader's wall-clock limits), the size of any file it writes (RLIMIT_FSIZE) and core dumps;
- asks Linux to kill it when the grader's worker process dies (PR_SET_PDEATHSIG);
- installs the file/process guard of ``_guard``.

Memory. Student code may use the limit less a reserve (``memory_reserve``): the soft
RLIMIT_AS is set that much below the hard one. A memory bomb therefore stops with a
MemoryError while the kernel still has room to work; the kernel's MemoryError handler lifts
the soft limit to the hard one, so the traceback is always formatted and sent, and puts the
reserve back if the student's memory was freed. Without the reserve a kernel left a few
bytes below its limit could not answer at all, and what a grader reported (error, crash,
or a timeout) depended on where the limit happened to fall. The grader stops a kernel that
is still ``exhausted`` after a MemoryError (``run.py``).
"""
import ctypes
import json
import os
import resource
import signal
import sys

from . import _guard

__all__ = ["address_space", "exhausted", "memory_reserve"]

_RESERVE = 128 * 2 ** 20


def memory_reserve(limit):
    """Bytes of an address-space ``limit`` kept back from student code (1/8, at most 128 MiB)."""
    return min(_RESERVE, int(limit) // 8)


def address_space(pid="self"):
    """Bytes of address space mapped by process ``pid`` (what RLIMIT_AS counts), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def exhausted(used, limit):
    """True if a kernel using ``used`` bytes cannot get its reserve back under ``limit``."""
    return used is not None and used + 2 * memory_reserve(limit) > limit


def _die_with_parent():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):      # not Linux: the kernel's parent poller still works
        pass


def _limit(which, value):
    """Lower the limit ``which`` to ``value`` (never above the hard limit already set)."""
    soft, hard = resource.getrlimit(which)
    value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
    if which == resource.RLIMIT_AS:                # student code gets the limit less a reserve
        resource.setrlimit(which, (value - memory_reserve(value), value))
    else:
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else hard))


def _on_memory_error(shell, etype, value, tb, tb_offset=None):
    """IPython handler of an uncaught MemoryError: spend the reserve to report it."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)
    if not exhausted(address_space(), hard):       # the student's memory was given back
        resource.setrlimit(resource.RLIMIT_AS, (hard - memory_reserve(hard), hard))
    return None                                    # shown above


def main():
    cfg = json.loads(os.environ.pop("DLKIT_GRADER_KERNEL", "{}"))
    _die_with_parent()
    for which, key in [(resource.RLIMIT_AS, "memory"), (resource.RLIMIT_CPU, "cpu_seconds"),
                       (resource.RLIMIT_FSIZE, "file_size")]:
        if cfg.get(key):
            _limit(which, cfg[key])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cfg.get("guard"):
        _guard.install(**cfg["guard"])
    from ipykernel.kernelapp import IPKernelApp  # lazy: loads under the limits and the guard

    app = IPKernelApp.instance()
    app.initialize()
    if cfg.get("memory"):
        app.shell.set_custom_exc((MemoryError,), _on_memory_error)
    app.start()


if __name__ == "__main__":
    sys.exit(main())
