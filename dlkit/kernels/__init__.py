"""Numba kernels: plain functions on contiguous float arrays, no classes.

Each kernel has a NumPy reference in ``dlkit.reference`` that the tests compare it with.
Submodules load on first attribute access (``kernels.dense.forward``), so importing dlkit
loads no Numba, and a hot loop pays one attribute lookup instead of an import statement.
"""
import importlib

_MODULES = ("activations", "dense", "losses", "metrics", "optim", "conv", "pool", "norm",
            "recurrent", "projection", "embedding")


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
