"""Writing a file so that a reader never sees it half-written (standard library only).

``atomic_write`` writes a temporary file in the target's directory, flushes it to disk, then
renames it over the target (``os.replace``, one step on POSIX file systems) and flushes the
directory: the target holds either its old content or the whole new one, also after a crash
or a power cut. Model files (``saving``), data copied into the cache (``datasets``), student
copies of assignments and the grader's grades files (``classroom``) are written this way.
"""
import os
import tempfile

__all__ = ["atomic_write", "readable_by_all"]


def readable_by_all(path):
    """Give a file written through a temp file (mode 0600) the mode of a normally created one
    (0666 less the umask, usually 0644): data an administrator places in a shared DLKIT_DATA
    must be readable by the students using it."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def atomic_write(path, data):
    """Write ``data`` to ``path`` atomically; return ``path``.

    data: bytes, or a function ``write(f)`` that writes to the binary file object ``f``
    (``lambda f: np.savez(f, **arrays)``). If writing fails, ``path`` keeps its old content
    (or stays absent) and the temporary file is removed. The new file gets the mode of a
    normally created one (``readable_by_all``).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            os.fsync(f.fileno())      # the content is on disk before the name points to it
        readable_by_all(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)
    return path


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); where a directory cannot be opened (Windows),
    the rename is left to the file system."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
