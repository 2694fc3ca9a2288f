"""Launcher of a grading kernel: ``python -m dlkit.classroom._kernel -f CONNECTION_FILE``.

Before ipykernel starts it reads its settings from the DLKIT_GRADER_KERNEL environment
variable (JSON, removed from the environment at once) and

- limits the address space (RLIMIT_AS: a memory bomb gets a MemoryError or the kernel dies,
  the machine does not), CPU seconds (RLIMIT_CPU, a backstop behind the grader's wall-clock
  limits), the size of any file it writes (RLIMIT_FSIZE) and core dumps;
- asks Linux to kill it when the grader's worker process dies (PR_SET_PDEATHSIG);
- installs the file/process guard of ``_guard``.
"""
import json
import os
import resource
import signal
import sys


def _die_with_parent():
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):      # not Linux: the kernel's parent poller still works
        pass


def _limit(which, value):
    if value:
        soft, hard = resource.getrlimit(which)
        value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
        resource.setrlimit(which, (value, value if which != resource.RLIMIT_CPU else hard))


def main():
    cfg = json.loads(os.environ.pop("DLKIT_GRADER_KERNEL", "{}"))
    _die_with_parent()
    _limit(resource.RLIMIT_AS, cfg.get("memory"))
    _limit(resource.RLIMIT_CPU, cfg.get("cpu_seconds"))
    _limit(resource.RLIMIT_FSIZE, cfg.get("file_size"))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if cfg.get("guard"):
        from . import _guard

        _guard.install(**cfg["guard"])
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    sys.exit(main())
