"""Symbolic tensors and ``Input``: what layers are called on in the functional API.

    inputs = Input(shape=(784,))                       # a SymbolicTensor of shape (None, 784)
    encoded = Dense(32, activation="relu")(inputs)     # builds the Dense, returns (None, 32)

Calling a layer on a symbolic tensor computes nothing: it builds the layer for that shape and
returns a new symbolic tensor that remembers the layer and its input. ``dlkit.functional.Model``
follows those links back from the output to the input. (This module is apart from
``dlkit.functional`` so that ``dlkit.layers`` can export Input without importing the model.)
"""
import numpy as np

from ..config import standardize_dtype
from ..errors import ShapeError
from .base import _as_shape

__all__ = ["Input", "SymbolicTensor"]


class SymbolicTensor:
    """A placeholder for the batch of arrays a layer will produce: shape (with None batch
    axis), dtype, and where it came from (``layer`` applied to ``parent``; both None for an
    ``Input``). Keras calls these KerasTensors."""

    _dlkit_symbolic = True  # what Layer.__call__ looks for

    def __init__(self, shape, dtype, layer=None, parent=None, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.layer = layer
        self.parent = parent
        self.name = name

    @property
    def ndim(self):
        return len(self.shape)

    def __array__(self, *args, **kwargs):
        raise TypeError("a symbolic tensor holds no numbers; make a model with "
                        "Model(inputs, outputs) and call model.predict(x) on arrays")

    def __repr__(self):
        where = (f"from {self.layer.name or '?'} ({type(self.layer).__name__})"
                 if self.layer is not None else f"input {self.name!r}" if self.name else "input")
        return (f"<SymbolicTensor shape={self.shape}, dtype={np.dtype(self.dtype).name}, "
                f"{where}>")


def Input(shape, batch_size=None, dtype=None, name=None):
    """The symbolic input of a functional model: ``Input(shape=(784,))`` has shape (None, 784).

    shape: per-sample shape, without the batch axis (as Keras).
    batch_size: accepted for Keras compatibility; dlkit models take any batch size.
    """
    if shape is None:
        raise ValueError("Input needs a per-sample shape, e.g. Input(shape=(784,))")
    per_sample = _as_shape(shape)
    if any(s is None or s <= 0 for s in per_sample):
        raise ShapeError(f"Input shape must be positive integers (without the batch axis), "
                         f"got {shape!r}")
    return SymbolicTensor((None,) + per_sample, standardize_dtype(dtype), name=name)


def call_symbolic(layer, x):
    """``layer(x)`` for a symbolic x: build the layer for x's shape, return its symbolic output."""
    if isinstance(x, (list, tuple)):
        raise NotImplementedError(
            f"{type(layer).__name__} was called on a list of {len(x)} tensors; dlkit's functional "
            "Model supports a chain of single-input layers (Input -> layer -> layer ...). "
            "Give the layer one tensor (e.g. Sampling takes [mean | log-variance] in one "
            "Dense(2 * latent_dim) output) or use Sequential")
    if layer.built and tuple(layer.input_shape[1:]) != x.shape[1:]:
        raise ShapeError(
            f"layer {layer.name or type(layer).__name__!r} ({type(layer).__name__}) was built for "
            f"inputs of shape {layer.input_shape} and cannot be called on a tensor of shape "
            f"{x.shape}")
    shape = layer.maybe_build(x.shape)
    return SymbolicTensor(shape, layer.dtype, layer=layer, parent=x)
