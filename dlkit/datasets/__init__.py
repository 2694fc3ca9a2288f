"""Datasets for the book: MNIST (bundled 10k offline, or the full 70k downloaded and
md5-checked), small synthetic 2-D classification sets, and the IDX file reader.

    from dlkit.datasets import mnist, spirals
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    X, y = spirals(200, noise=0.1, seed=0)
"""
from . import mnist
from ._download import DownloadError, get_data_dir
from .idx import CorruptDataError, read_idx
from .synthetic import blobs, circles, moons, spirals, xor

__all__ = [
    "mnist", "read_idx", "get_data_dir", "CorruptDataError", "DownloadError",
    "spirals", "moons", "circles", "xor", "blobs",
]
