"""Models under the module name Keras uses: ``from dlkit.models import Sequential, Model``.

The same objects as ``dlkit.Sequential`` (dlkit/model.py), ``dlkit.Model`` (the functional
API, dlkit/functional.py) and ``dlkit.load_model`` (dlkit/saving.py), so code written for
``keras.models`` (or ``tensorflow.keras.models``) runs once its import line names dlkit.
"""
from .functional import Model
from .model import Sequential
from .saving import load_model, save_model

__all__ = ["Sequential", "Model", "load_model", "save_model"]
