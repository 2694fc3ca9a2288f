"""Corruption layers for denoising autoencoders: GaussianNoise and MaskingNoise.

A denoising autoencoder (Vincent et al. 2008, "Extracting and composing robust features with
denoising autoencoders") is trained to rebuild the clean input x from a corrupted copy x~:

    model = Sequential([GaussianNoise(0.5, input_shape=(784,)),
                        Dense(32, activation="relu"), Dense(784, activation="sigmoid")])
    model.fit(x, x, ...)        # the noise layer corrupts the input; the target stays clean

Both layers corrupt only in training (``forward(x, training=True)``, which is what ``fit``
calls); at inference they pass x through unchanged, as Keras's noise layers do. Each draws
from its own generator (``seed=``), so a seeded run repeats exactly.
"""
import numpy as np

from .base import Layer

__all__ = ["GaussianNoise", "MaskingNoise"]


class GaussianNoise(Layer):
    """Additive Gaussian noise: y = x + stddev * eps, eps ~ N(0, 1), in training only.

    x: any shape -> y: the same shape. dL/dx = dL/dy (the noise does not depend on x).
    Keras name and arguments: ``GaussianNoise(stddev, seed=None)``.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if not isinstance(stddev, (int, float, np.floating, np.integer)) or not stddev >= 0:
            raise ValueError(f"GaussianNoise stddev must be a number >= 0, got {stddev!r}")
        self.stddev = float(stddev)

    def forward(self, x, training=False):
        x = self._check_input(x)
        if not training or self.stddev == 0:
            return x
        noise = self._rng.standard_normal(x.shape, dtype=self.dtype)
        noise *= self.dtype(self.stddev)
        return x + noise

    def backward(self, dy):
        return None if self.skip_input_grad else dy

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}

    def _repr_args(self):
        return f"{self.stddev}"


class MaskingNoise(Layer):
    """Masking noise (Vincent et al. 2008): in training, set each input value to 0 with
    probability ``rate`` and keep the rest unchanged: y = x * m, m_i ~ Bernoulli(1 - rate).

    x: any shape -> y: the same shape; dL/dx = dL/dy * m.
    Keras has no such layer. ``Dropout(rate)`` draws the same mask but scales the kept values
    by 1 / (1 - rate), so the corrupted digit would be brighter than the clean one; masking
    noise keeps the pixel values, which is what "reconstruct the missing pixels" asks for.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if not isinstance(rate, (int, float, np.floating, np.integer)) or not 0 <= rate < 1:
            raise ValueError(f"MaskingNoise rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self._mask = None

    def forward(self, x, training=False):
        x = self._check_input(x)
        if not training or self.rate == 0:
            self._mask = None
            return x
        self._mask = (self._rng.random(x.shape, dtype=self.dtype) >= self.rate).astype(self.dtype)
        return x * self._mask

    def backward(self, dy):
        if self.skip_input_grad:
            return None
        return dy if self._mask is None else dy * self._mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}

    def _repr_args(self):
        return f"{self.rate}"
