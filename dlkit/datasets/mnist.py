"""MNIST handwritten digits, with the same call as `keras.datasets.mnist.load_data()`.

    from dlkit.datasets import mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()

By default this needs no network: dlkit ships the official 10,000-image MNIST test set and
splits it deterministically into 8,000 training and 2,000 test images, which is enough for
every chapter of the book. `load_data(source="full")` downloads the 70,000-image set once
(60,000 train + 10,000 test, as Keras splits it), checking each file's md5.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, licensed CC BY-SA 3.0
(see data/README.md).
"""
import os
from importlib import resources

from ._download import fetch, get_data_dir
from .idx import CorruptDataError, read_idx

__all__ = ["load_data", "get_data_dir", "FILES", "DEFAULT_MIRRORS"]

# The four files of the full set and their md5s (as published with MNIST).
FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# Public mirrors of the original IDX files (LeCun's own site refuses most scripted downloads).
DEFAULT_MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
MIRRORS_ENV = "DLKIT_MNIST_MIRRORS"

BUNDLED_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
BUNDLED_TRAIN = 8000  # the bundled 10k set: first 8,000 train, last 2,000 test

_OFFLINE_HINT = (
    f"Other mirrors can be listed in the {MIRRORS_ENV} environment variable (comma-separated "
    "base URLs).\nNo network? The 10,000 images bundled with dlkit need no download: "
    "mnist.load_data() gives 8,000 train + 2,000 test images."
)

_bundled = None  # (images (10000, 28, 28), labels (10000,)), parsed once per process


def load_data(source="bundled", data_dir=None, mirrors=None, progress=True):
    """Load MNIST as ((x_train, y_train), (x_test, y_test)).

    x_*: (N, 28, 28) uint8 pixels, 0 = background, 255 = ink; y_*: (N,) uint8 digits 0..9.

    source: "bundled" (default, offline): the 10,000 images shipped with dlkit, split into
        N = 8,000 train (the first rows) and N = 2,000 test (the last rows).
        "full": the 70,000-image set, N = 60,000 train and 10,000 test, downloaded on first
        use into get_data_dir(data_dir) and md5-checked on every call.
    data_dir: where the full set is kept (default: $DLKIT_DATA, else the user cache).
    mirrors: base URLs to download from, tried in turn (default: $DLKIT_MNIST_MIRRORS,
        comma-separated, else DEFAULT_MIRRORS).
    progress: show a progress bar while downloading.

    The arrays returned are fresh copies: changing them never changes the next call's result.
    Raises DownloadError if no mirror delivers a file, CorruptDataError if a file is damaged.
    """
    if source == "bundled":
        images, labels = _load_bundled()
        n = BUNDLED_TRAIN
        return (images[:n].copy(), labels[:n].copy()), (images[n:].copy(), labels[n:].copy())
    if source == "full":
        # The full set's test files are the bundled ones: copied, not downloaded.
        bundled = resources.files(__package__) / "data"
        paths = fetch(FILES, _mirrors(mirrors), get_data_dir(data_dir), progress=progress,
                      offline_hint=_OFFLINE_HINT,
                      local_copies={name: bundled / name for name in BUNDLED_FILES})
        return (_load_pair(paths, "train"), _load_pair(paths, "t10k"))
    raise ValueError(f"source must be 'bundled' (10,000 images shipped with dlkit, offline) "
                     f"or 'full' (70,000 images, downloaded once); got {source!r}")


def _load_bundled():
    # Parsed once: the book calls load_data() in many cells, and gunzip costs ~50 ms a time.
    # The full set is not kept (55 MB would stay in memory for the whole session).
    global _bundled
    if _bundled is None:
        data = resources.files(__package__) / "data"
        images = read_idx(data / BUNDLED_FILES[0], ndim=3)
        labels = read_idx(data / BUNDLED_FILES[1], ndim=1)
        images.flags.writeable = labels.flags.writeable = False  # callers only get copies
        _bundled = images, labels
    return _bundled


def _load_pair(paths, prefix):
    """Read <prefix>-images / <prefix>-labels: (N, 28, 28) and (N,) with the same N."""
    images = read_idx(paths[f"{prefix}-images-idx3-ubyte.gz"], ndim=3)
    labels = read_idx(paths[f"{prefix}-labels-idx1-ubyte.gz"], ndim=1)
    if len(images) != len(labels):
        raise CorruptDataError(
            f"{prefix}-images has {len(images)} images but {prefix}-labels has {len(labels)} "
            f"labels (in {paths[f'{prefix}-images-idx3-ubyte.gz'].parent}). Delete both files "
            "and call load_data(source='full') again."
        )
    return images, labels


def _mirrors(mirrors):
    """The argument, else $DLKIT_MNIST_MIRRORS, else DEFAULT_MIRRORS, as a list of URLs."""
    if mirrors is None:
        mirrors = os.environ.get(MIRRORS_ENV, "").split(",")
        mirrors = [m.strip() for m in mirrors if m.strip()] or DEFAULT_MIRRORS
    elif isinstance(mirrors, str):
        mirrors = [mirrors]
    mirrors = list(mirrors)
    if not mirrors:
        raise ValueError("mirrors is empty; give at least one base URL, e.g. "
                         f"{DEFAULT_MIRRORS[0]!r}")
    return mirrors
