"""dlkit: a compact NumPy + Numba deep-learning library, written to be read.

    from dlkit import Sequential
    from dlkit.layers import Dense
    from dlkit.optimizers import SGD

Importing dlkit is cheap: Numba and the kernels load only when a layer first runs.
"""
import importlib

__version__ = "0.1.0"

from ._random import set_seed  # noqa: E402

_LAZY = {
    "Sequential": ("dlkit.model", "Sequential"),
    "Model": ("dlkit.functional", "Model"),
    "Input": ("dlkit.functional", "Input"),
    "load_model": ("dlkit.saving", "load_model"),
    "to_categorical": ("dlkit.utils", "to_categorical"),
}
_SUBMODULES = {"layers", "models", "optimizers", "losses", "metrics", "callbacks", "datasets",
               "viz", "gradcheck", "utils", "activations", "initializers", "regularizers",
               "config", "kernels", "classroom", "saving", "evaluation", "reference"}

__all__ = ["set_seed", "__version__", *_LAZY, *sorted(_SUBMODULES)]


def __getattr__(name):
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in _SUBMODULES:
        return importlib.import_module(f"dlkit.{name}")
    raise AttributeError(f"module 'dlkit' has no attribute {name!r}")
