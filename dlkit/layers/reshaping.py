"""Image resizing layers without weights: UpSampling2D and ZeroPadding2D (Keras's names).

UpSampling2D:  x: (N, H, W, C) -> (N, H fh, W fw, C), each pixel repeated (nearest neighbour)
ZeroPadding2D: x: (N, H, W, C) -> (N, top + H + bottom, left + W + right, C), zeros around
"""
import numpy as np

from .. import kernels  # lazy: Numba loads on first use

from .base import Layer
from .conv import check_image_input, check_image_shape
from .geometry import normalize_tuple


class UpSampling2D(Layer):
    """y[n, i, j, c] = x[n, i // fh, j // fw, c]; backward sums dy over each pixel's copies.

    The decoder half of a convolutional autoencoder uses it to undo MaxPooling2D's shrinking.
    Only interpolation="nearest" (Keras's default) is implemented.
    """

    def __init__(self, size=(2, 2), interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 2, "size")
        if interpolation != "nearest":
            raise ValueError(f"UpSampling2D supports interpolation='nearest' only, "
                             f"got {interpolation!r}")
        self.interpolation = interpolation

    def build(self, input_shape):
        check_image_shape(self, input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, h * self.size[0], w * self.size[1], c)

    def forward(self, x, training=False):
        x = np.ascontiguousarray(check_image_input(self, x))
        y = np.empty((x.shape[0],) + self.output_shape[1:], dtype=self.dtype)
        kernels.pool.upsample_forward(x, self.size[0], self.size[1], y)
        self._in = x.shape
        return y

    def backward(self, dy):
        dx = np.empty(self._in, dtype=self.dtype)
        kernels.pool.upsample_backward(np.ascontiguousarray(dy, dtype=self.dtype), *self.size, dx)
        return dx

    def get_config(self):
        return {**super().get_config(), "size": list(self.size),
                "interpolation": self.interpolation}

    def _repr_args(self):
        return f"size={self.size}"


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around each image.

    padding: int p (p on every side), (ph, pw) (symmetric), or ((top, bottom), (left, right)).
    """

    def __init__(self, padding=(1, 1), **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        elif all(isinstance(p, int) for p in padding):
            padding = tuple((p, p) for p in padding)
        self.padding = tuple(tuple(int(v) for v in p) for p in padding)
        if len(self.padding) != 2 or any(len(p) != 2 or min(p) < 0 for p in self.padding):
            raise ValueError(f"ZeroPadding2D padding must be an int, (ph, pw) or "
                             f"((top, bottom), (left, right)) of non-negative ints, got {padding!r}")

    def build(self, input_shape):
        check_image_shape(self, input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        (t, b), (l, r) = self.padding
        return (n, h + t + b, w + l + r, c)

    def forward(self, x, training=False):
        x = check_image_input(self, x)
        (t, b), (l, r) = self.padding
        self._in = x.shape
        y = np.zeros((x.shape[0],) + self.output_shape[1:], dtype=self.dtype)
        y[:, t:t + x.shape[1], l:l + x.shape[2], :] = x
        return y

    def backward(self, dy):
        (t, _), (l, _) = self.padding
        return np.ascontiguousarray(dy[:, t:t + self._in[1], l:l + self._in[2], :])

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}

    def _repr_args(self):
        return f"padding={self.padding}"
