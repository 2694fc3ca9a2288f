"""Inside a grading kernel: refuse file access to the grader's files and starting processes.

Installed by ``_kernel`` (the grading kernel's launcher) before ipykernel starts, as a
``sys.addaudithook`` hook, which Python code cannot remove. It raises PermissionError for

- opening, listing, renaming, deleting, linking ... any path inside a blocked tree (the
  submissions folder, the grader's private folder except this student's own working
  directory, the solution folder when it holds no library code) or a blocked file (the
  grades files, every .ipynb under the solution folder);
- any path under /proc/<pid> of another process (its memory, its command line);
- starting processes (subprocess, os.system, fork, exec, spawn) and signalling other
  processes.

glob, os.walk and pathlib treat the PermissionError as "nothing there". This is a guard
against the obvious, not a sandbox: code that calls C directly (ctypes) is not seen by audit
hooks. See book/assignments/README.md.
"""
import os
import sys
import threading

__all__ = ["install", "is_blocked"]

_cfg = {"trees": (), "files": frozenset(), "ipynb_trees": (), "allow": ()}
_local = threading.local()

_PATH_EVENTS = {          # event -> indices of the arguments that are paths
    "open": (0,), "os.listdir": (0,), "os.scandir": (0,), "os.rename": (0, 1),
    "os.remove": (0,), "os.rmdir": (0,), "os.truncate": (0,), "os.link": (0, 1),
    "os.symlink": (0, 1), "os.chmod": (0,), "os.chown": (0,), "os.utime": (0,),
    "os.mkdir": (0,), "shutil.rmtree": (0,), "os.chflags": (0,), "os.setxattr": (0,),
    "os.getxattr": (0,), "os.listxattr": (0,), "os.removexattr": (0,), "shutil.copyfile": (0, 1),
    "os.chdir": (0,),
}
_PROCESS_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
                   "os.fork", "os.forkpty", "pty.spawn", "os.startfile"}
_SIGNAL_EVENTS = {"os.kill", "os.killpg", "os.pidfd_open"}


def _under(path, root):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def is_blocked(path):
    """True if the grading kernel may not touch ``path`` (str, bytes or PathLike)."""
    if isinstance(path, int) or path is None:       # a file descriptor already open
        return False
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    if any(_under(real, a) for a in _cfg["allow"]):
        return False
    if real in _cfg["files"] or any(_under(real, t) for t in _cfg["trees"]):
        return True
    if real.endswith(".ipynb") and any(_under(real, t) for t in _cfg["ipynb_trees"]):
        return True
    parts = real.split(os.sep)
    return (len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit()
            and int(parts[2]) != os.getpid())


def _hook(event, args):
    if event in _PATH_EVENTS:
        if getattr(_local, "busy", False):          # realpath inside the hook
            return
        _local.busy = True
        try:
            for i in _PATH_EVENTS[event]:
                if i < len(args) and is_blocked(args[i]):
                    raise PermissionError(f"grader: {args[i]!r} is not accessible while "
                                          "assignments are graded")
        finally:
            _local.busy = False
    elif event in _PROCESS_EVENTS:
        raise PermissionError(f"grader: starting processes ({event}) is not allowed while "
                              "assignments are graded")
    elif event in _SIGNAL_EVENTS and args and args[0] not in (os.getpid(), 0):
        raise PermissionError(f"grader: signalling other processes ({event}) is not allowed "
                              "while assignments are graded")


def install(trees=(), files=(), ipynb_trees=(), allow=()):
    """Block the given paths (see the module docstring) for the rest of this process."""
    real = lambda ps: tuple(os.path.realpath(p) for p in ps)  # noqa: E731
    _cfg.update(trees=real(trees), files=frozenset(real(files)), ipynb_trees=real(ipynb_trees),
                allow=real(allow))
    sys.addaudithook(_hook)
