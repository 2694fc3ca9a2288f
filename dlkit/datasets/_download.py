"""Where downloaded data lives, and fetching files from a list of mirrors with md5 checks.

pooch does the transfer: it streams each file into a temporary file in the cache directory,
checks the hash and only then moves it into place, so an interrupted or corrupted download
never leaves a file under the final name. This module adds what a reader needs when that
fails: every mirror tried with its reason, and where to put the files by hand.
"""
import hashlib
import os
from pathlib import Path

from .._files import atomic_write, readable_by_all

__all__ = ["DownloadError", "get_data_dir", "fetch"]

TIMEOUT = 30  # seconds without data before a mirror counts as down (pooch's default)
_CHUNK = 1 << 16  # pooch's default of 1 KiB makes a 10 MB download 10,000 Python iterations


class DownloadError(RuntimeError):
    """No mirror could deliver a file with the expected checksum."""


def get_data_dir(data_dir=None):
    """The directory dlkit downloads data into, as an absolute Path (not created here).

    Resolution order: the `data_dir` argument, else the DLKIT_DATA environment variable,
    else the user cache, `pooch.os_cache("dlkit")` (~/.cache/dlkit on Linux).
    """
    if data_dir is None:
        data_dir = os.environ.get("DLKIT_DATA") or None
    if data_dir is None:
        import pooch  # lazy: `import dlkit.datasets` stays fast

        data_dir = pooch.os_cache("dlkit")
    return Path(data_dir).expanduser().absolute()


def md5sum(path):
    """Hex md5 of a file, read in chunks so a large file is never held in memory."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(files, mirrors, data_dir, progress=True, offline_hint="", local_copies=None):
    """Make sure every file of `files` is in `data_dir` with the right md5; return their paths.

    files: {file name: md5 hex}. A file already present with that md5 is not downloaded again;
        one with another md5 is downloaded afresh (and never used as it is).
    mirrors: base URLs, tried in order for each file; the one that last worked is tried first.
    local_copies: {file name: pathlib.Path or importlib.resources Traversable} of copies shipped
        with dlkit; one whose md5 matches is copied instead of downloaded.
    Returns {file name: Path}. Raises DownloadError when every mirror fails for some file.
    """
    data_dir = Path(data_dir)
    paths = {name: data_dir / name for name in files}
    # Files in the cache with the wrong md5 (an old version, a half-copied file): re-fetched.
    stale = {name: md5sum(path) for name, path in paths.items() if path.is_file()}
    stale = {name: found for name, found in stale.items() if found != files[name]}
    ready = {name for name, path in paths.items() if path.is_file() and name not in stale}
    if len(ready) == len(files):
        return paths

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"cannot create the data directory {data_dir} ({exc}). Pass data_dir= or set the "
            "DLKIT_DATA environment variable to a writable directory."
        ) from None
    for name, local in (local_copies or {}).items():
        if name in files and name not in ready:
            content = local.read_bytes()
            if hashlib.md5(content).hexdigest() == files[name]:
                atomic_write(paths[name], content)
                ready.add(name)
    if len(ready) == len(files):
        return paths

    download = _downloader(progress)
    mirrors = list(mirrors)
    for name in files:
        if name in ready:
            continue
        failures = []
        for mirror in mirrors:
            reason = download(mirror.rstrip("/") + "/" + name, files[name], paths[name])
            if reason is None:
                ready.add(name)
                mirrors.remove(mirror)
                mirrors.insert(0, mirror)  # the next file most likely comes from here too
                break
            failures.append((mirror.rstrip("/") + "/" + name, reason))
        else:
            raise DownloadError(_failure_message(name, failures, files, data_dir, ready,
                                                 stale, offline_hint))
    return paths


def _downloader(progress):
    """A function (url, md5, path) -> None on success, else why the download failed.

    pooch streams into a temporary file beside `path`, checks the md5 and only then renames
    it to `path`; on any failure it deletes the temporary file, so nothing partial is left.
    """
    import pooch  # lazy: `import dlkit.datasets` stays fast
    import requests  # lazy: as above

    http = pooch.HTTPDownloader(progressbar=progress, chunk_size=_CHUNK, timeout=TIMEOUT)
    received = {}

    def record_md5(url, output_file, pooch_instance):
        # pooch's own mismatch message is generic; keep what arrived to report "got X".
        received[url] = None
        http(url, output_file, pooch_instance)
        received[url] = md5sum(output_file)

    def download(url, md5, path):
        try:
            pooch.retrieve(url, known_hash="md5:" + md5, fname=path.name, path=path.parent,
                           downloader=record_md5)
            readable_by_all(path)
        except requests.exceptions.RequestException as exc:
            return f"{type(exc).__name__}: {exc}"
        except ValueError:  # pooch's hash mismatch; it has already deleted the download
            return (f"checksum mismatch for {path.name}: expected md5 {md5}, got "
                    f"{received.get(url)} (download discarded)")
        return None

    return download


def _failure_message(name, failures, files, data_dir, ready, stale, offline_hint):
    lines = [f"Could not download {name}; every mirror failed:"]
    lines += [f"  - {url}\n      {reason}" for url, reason in failures]
    if name in stale:
        lines.append(f"The file already at {data_dir / name} has md5 {stale[name]}, not "
                     f"{files[name]}, so it was not used.")
    lines.append(f"To install the files by hand, download them from any mirror and put them "
                 f"in\n  {data_dir}")
    for other, md5 in files.items():
        lines.append(f"    {other}  md5 {md5}" + ("  (already there)" if other in ready else ""))
    lines.append("(or pass data_dir= / set DLKIT_DATA to a folder holding them, or pass "
                 "mirrors= to try other mirrors).")
    if offline_hint:
        lines.append(offline_hint)
    return "\n".join(lines)
