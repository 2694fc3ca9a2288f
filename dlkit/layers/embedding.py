"""Embedding: integer token ids -> learned vectors (a lookup table trained by backprop).

ids: (N, T) integers in [0, input_dim) -> (N, T, output_dim). embeddings: (input_dim,
output_dim), Keras's name, layout and default initialiser (uniform in [-0.05, 0.05]).

Masking (Keras's ``mask_zero=True``): id 0 is padding. ``compute_mask(ids)`` gives the (N, T)
mask ``ids != 0``; the layer also keeps the mask of its last input in ``output_mask``, and a
recurrent layer right after it in a Sequential receives it (``Sequential.forward`` passes
``output_mask`` to a next layer whose ``supports_masking`` is True), so padded steps leave
the state unchanged. Used alone: ``lstm.forward(emb(ids), mask=emb.compute_mask(ids))``.
"""
import numpy as np

from .. import kernels  # lazy: Numba loads on first use

from ..errors import ShapeError
from .base import Layer

__all__ = ["Embedding"]


class Embedding(Layer):
    """y[n, t] = E[ids[n, t]].  E: (input_dim, output_dim).

    The gradient w.r.t. E adds dy[n, t] into row ids[n, t] (a scatter-add: rows of ids that
    did not occur get zero); ids get no gradient (backward returns None).
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="random_uniform",
                 mask_zero=False, input_length=None, **kwargs):
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)   # Keras 2 spelling
        super().__init__(**kwargs)
        for name, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"Embedding {name} must be a positive integer, got {v!r}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = embeddings_initializer
        self.mask_zero = bool(mask_zero)
        self.output_mask = None

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def compute_mask(self, ids):
        """(N, T) bool: False where the id is the padding id 0 (None unless mask_zero)."""
        return (np.asarray(ids) != 0) if self.mask_zero else None

    def _ids(self, x):
        x = np.asarray(x)
        if not self.built:
            self.build((None,) + x.shape[1:])
        elif x.shape[1:] != self.input_shape[1:]:
            raise ShapeError(f"Embedding {self.name!r} expects ids of shape "
                             f"{self.input_shape} (batch first), got {x.shape}")
        if not np.issubdtype(x.dtype, np.integer):
            if not np.issubdtype(x.dtype, np.floating) or not np.all(x == np.round(x)):
                raise ValueError(f"Embedding {self.name!r} takes integer token ids, got "
                                 f"{x.dtype} values that are not whole numbers")
        ids = x.astype(np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.input_dim):
            bad = ids[(ids < 0) | (ids >= self.input_dim)]
            raise ValueError(f"Embedding {self.name!r} got token id {bad[0]} (and "
                             f"{len(bad) - 1} more out of range): ids must be in [0, "
                             f"{self.input_dim}) for input_dim={self.input_dim}; enlarge "
                             f"input_dim to the vocabulary size or map unknown tokens to a "
                             f"reserved id")
        return ids

    def forward(self, x, training=False):
        """y[n, t] = embeddings[x[n, t]]: ids (N, T) -> (N, T, output_dim)."""
        ids = self._ids(x)
        out = np.empty((ids.size, self.output_dim), dtype=self.dtype)
        kernels.embedding.forward(ids, self.embeddings, out)
        self._last_ids = ids
        self.output_mask = self.compute_mask(np.asarray(x))
        return out.reshape(np.shape(x) + (self.output_dim,))

    def backward(self, dy):
        """dE[i] = sum of dy over the positions whose id is i (ids get no gradient)."""
        dy = np.ascontiguousarray(dy, dtype=self.dtype).reshape(-1, self.output_dim)
        kernels.embedding.backward(self._last_ids, dy, self.grads[0])
        return None

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": self.embeddings_initializer,
                "mask_zero": self.mask_zero}

    def _repr_args(self):
        mz = ", mask_zero=True" if self.mask_zero else ""
        return f"{self.input_dim}, {self.output_dim}{mz}"
