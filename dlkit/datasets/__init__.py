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
from .sequences import (CharVocab, adding_problem, char_sequences, generate, load_text,
                        mnist_rows, sample_with_temperature, sine_waves)

__all__ = [
    "mnist", "read_idx", "get_data_dir", "CorruptDataError", "DownloadError",
    "spirals", "moons", "circles", "xor", "blobs",
]
__all__ += ["mnist_rows", "sine_waves", "adding_problem", "load_text", "CharVocab",
            "char_sequences", "sample_with_temperature", "generate"]
