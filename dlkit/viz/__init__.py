"""Plots and widgets: ``from dlkit import viz``; ``viz.optimizer_explorer()``, ``viz.LiveCurves``...

Names load lazily from the submodules below (matplotlib and ipywidgets are imported only when
a plot is drawn). Each submodule lists its public names in ``__all__``.
"""
import importlib

# (the playground lives in net_playground: a submodule named like its function would shadow
# the function once imported, since Python sets a package attribute for each submodule)
_MODULES = ("render", "surfaces", "explorer", "race", "live", "net_playground", "training",
            "filters", "recurrent", "autoencoders", "explain",
            # one widget per chapter: 3 initialisation, 4 backprop, 5 softmax, 7 stopping,
            # 8 convolution, 9 gradient flow, 10 latent space; the neuron cartoon of chapter 2
            "initialization", "backprop", "softmax", "stopping", "convolution",
            "gradient_flow", "latent", "neuron")


def __getattr__(name):
    for mod in _MODULES:
        try:
            m = importlib.import_module(f"dlkit.viz.{mod}")
        except ModuleNotFoundError as e:
            if e.name == f"dlkit.viz.{mod}":
                continue
            raise
        if name in getattr(m, "__all__", ()):
            return getattr(m, name)
    raise AttributeError(f"dlkit.viz has no attribute {name!r}")


def __dir__():
    names = []
    for mod in _MODULES:
        try:
            names += list(getattr(importlib.import_module(f"dlkit.viz.{mod}"), "__all__", ()))
        except ModuleNotFoundError:
            pass
    return sorted(names)
