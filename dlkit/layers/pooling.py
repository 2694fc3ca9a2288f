"""Pooling layers, channels-last: MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D.

A pooling window (ph, pw) slides with strides (default: the pool size, so windows do not
overlap) and summarises each channel separately; no weights. Output sizes from
``dlkit.layers.geometry``: valid H' = (H - ph) // sh + 1, same H' = ceil(H / sh).
"""
import numpy as np

from .. import kernels  # lazy: Numba loads on first use

from .._threads import chunks
from .base import Layer
from .conv import check_image_input, check_image_shape
from .geometry import normalize_padding, normalize_tuple, window_geometry


class _Pooling2D(Layer):
    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, 2, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)

    def build(self, input_shape):
        check_image_shape(self, input_shape)
        super().build(input_shape)
        self._geom = window_geometry(input_shape[1:3], self.pool_size, self.strides,
                                     self.padding, f"{type(self).__name__} layer {self.name!r}")

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        ho, wo, _, _ = window_geometry(input_shape[1:3], self.pool_size, self.strides,
                                       self.padding, f"{type(self).__name__} layer {self.name!r}")
        return (input_shape[0], ho, wo, input_shape[3])

    def _check_input(self, x):
        return np.ascontiguousarray(check_image_input(self, x))

    def _args(self):
        (ph, pw), (sh, sw), (_, _, pt, pl) = self.pool_size, self.strides, self._geom
        return ph, pw, sh, sw, pt, pl

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}

    def _repr_args(self):
        s = f"{self.pool_size}"
        if self.strides != self.pool_size:
            s += f", strides={self.strides}"
        if self.padding != "valid":
            s += f", padding={self.padding!r}"
        return s


class MaxPooling2D(_Pooling2D):
    """y[n, i, j, c] = max of x over window (i, j) of channel c.

    x: (N, H, W, C) -> (N, H', W', C). Backward sends each dy to the position of its window's
    maximum (the first one on ties), so 3 of 4 inputs of a 2x2 window get no gradient.
    """

    def forward(self, x, training=False):
        x = self._check_input(x)
        y = np.empty((x.shape[0],) + self.output_shape[1:], dtype=self.dtype)
        arg = np.empty(y.shape, dtype=np.int32)
        self._nt = chunks(len(x), work=x.size)
        kernels.pool.max_forward(x, *self._args(), self._nt, y, arg)
        self._arg, self._in = arg, x.shape
        return y

    def backward(self, dy):
        dx = np.empty(self._in, dtype=self.dtype)
        dy = np.ascontiguousarray(dy, dtype=self.dtype)
        kernels.pool.max_backward(dy, self._arg, *self._args(), self._nt, dx)
        return dx


class AveragePooling2D(_Pooling2D):
    """y[n, i, j, c] = mean of x over window (i, j) of channel c; with padding="same" only the
    positions inside x are averaged (as Keras/TensorFlow). x: (N, H, W, C) -> (N, H', W', C)."""

    def forward(self, x, training=False):
        x = self._check_input(x)
        y = np.empty((x.shape[0],) + self.output_shape[1:], dtype=self.dtype)
        kernels.pool.avg_forward(x, *self._args(), y)
        self._in = x.shape
        return y

    def backward(self, dy):
        dx = np.empty(self._in, dtype=self.dtype)
        kernels.pool.avg_backward(np.ascontiguousarray(dy, dtype=self.dtype), *self._args(), dx)
        return dx


class GlobalAveragePooling2D(Layer):
    """y[n, c] = mean over all H x W positions of channel c (Lin et al. 2014, "Network in
    Network": replaces Flatten + Dense at the end of a CNN).

    x: (N, H, W, C) -> (N, C), or (N, 1, 1, C) with keepdims=True.
    """

    def __init__(self, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        check_image_shape(self, input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1, 1, input_shape[3]) if self.keepdims else (input_shape[0],
                                                                             input_shape[3])

    def _check_input(self, x):
        return check_image_input(self, x)

    def forward(self, x, training=False):
        x = self._check_input(x)
        self._in = x.shape
        return x.mean(axis=(1, 2), keepdims=self.keepdims)

    def backward(self, dy):
        n, h, w, c = self._in
        dy = np.asarray(dy, dtype=self.dtype).reshape(n, 1, 1, c)
        return np.broadcast_to(dy * self.dtype(1.0 / (h * w)), self._in).copy()

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims}

    def _repr_args(self):
        return "keepdims=True" if self.keepdims else ""
