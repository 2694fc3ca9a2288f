"""Imports every module that defines layers, so that all layer classes are registered
(for loading saved models). Add one line here when you add a layer module."""
from . import core  # noqa: F401
from . import embedding, recurrent, wrappers  # noqa: F401
from . import conv, pooling, reshaping, normalization  # noqa: F401
from . import input, noise, vae  # noqa: F401
from .. import model, functional  # noqa: F401  (Sequential and Model are layers too)
