"""Conv2D and Conv2DTranspose, channels-last as in Keras.

Conv2D:           x: (N, H, W, C) -> y: (N, H', W', F),  y = f(conv(x, kernel) + bias)
Conv2DTranspose:  x: (N, H, W, C) -> y: (N, H s, W s, F) ("same"), the adjoint of a convolution
Output sizes come from ``dlkit.layers.geometry``; the kernels are in ``dlkit.kernels.conv`` and
the NumPy definition they are tested against in ``dlkit.reference.conv``.
"""
import math

import numpy as np

from .. import activations, kernels, regularizers
from .._threads import chunks
from ..errors import ShapeError
from .base import Layer
from .geometry import (normalize_padding, normalize_tuple, pad_amounts, transpose_output_length,
                       window_geometry)

def check_image_input(layer, x):
    """Rank and channel checks with messages that say what to do, then the usual checks."""
    who = f"{type(layer).__name__} layer {layer.name!r}" if layer.name else type(layer).__name__
    if x.ndim == 2:
        d = x.shape[1]
        side = math.isqrt(d)
        hint = (f"; add Reshape(({side}, {side}, 1)) before it (or x.reshape(-1, {side}, {side}, 1))"
                if side * side == d else "; reshape it to (N, height, width, channels)")
        raise ShapeError(f"{who} expects images of shape (N, H, W, C), got a rank-2 input of "
                         f"shape {x.shape}{hint}")
    if x.ndim != 4:
        raise ShapeError(f"{who} expects images of shape (N, H, W, C), got shape {x.shape}"
                         + ("; add the channel axis: x[..., None]" if x.ndim == 3 else ""))
    if layer.built and x.shape[-1] != layer.input_shape[-1]:
        raise ShapeError(f"{who} was built for {layer.input_shape[-1]} input channel(s), got "
                         f"{x.shape[-1]} (input shape {x.shape}); inputs are channels-last "
                         f"(N, H, W, C)")
    return Layer._check_input(layer, x)


def check_image_shape(layer, input_shape):
    if len(input_shape) != 4:
        raise ShapeError(f"{type(layer).__name__} expects images (N, H, W, C), got input shape "
                         f"{input_shape}" + ("; add Reshape((28, 28, 1)) before it"
                                             if len(input_shape) == 2 else ""))
    if any(s is None for s in input_shape[1:]):
        raise ShapeError(f"{type(layer).__name__} needs known H, W and C, got {input_shape}")


class _ConvBase(Layer):
    """Arguments, weights and the fused-head protocol shared by Conv2D and Conv2DTranspose."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{type(self).__name__} filters must be a positive integer, "
                             f"got {filters!r}")
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.activation = activations.resolve(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self._act, self._alpha = activations.code(self.activation, self.dtype)
        self._buffers = {}

    def _add_kernel_and_bias(self, kernel_shape):
        self.kernel = self.add_weight("kernel", kernel_shape, self.kernel_initializer)
        self.bias = (self.add_weight("bias", (self.filters,), self.bias_initializer)
                     if self.use_bias else np.zeros(self.filters, dtype=self.dtype))
        self._dbias_scratch = np.zeros(self.filters, dtype=self.dtype)

    def _scratch(self, key, shape):
        """A work array cached on the layer (reallocated when the batch size changes)."""
        a = self._buffers.get(key)
        if a is None or a.shape != shape:
            a = self._buffers[key] = np.empty(shape, dtype=self.dtype)
        return a

    def _check_input(self, x):
        return check_image_input(self, x)

    @property
    def logits(self):
        """z, the pre-activation of the last forward pass (N, H', W', F): what a fused loss
        head uses (for relu and linear layers the activation is applied to it in place)."""
        return self._z

    def backward(self, dy):
        """dy: (N, H', W', F) = dL/dy -> dx (N, H, W, C); fills grads (dL/dkernel, dL/dbias)."""
        return self._backward(dy, self._act)

    def backward_logits(self, dz):
        """Backward from dL/dz (the pre-activation), skipping f': the fused loss head uses it."""
        return self._backward(dz, kernels.activations.LINEAR)

    def added_loss(self):
        """The weight penalty (its gradient is added in backward)."""
        return self.kernel_regularizer(self.kernel) if self.kernel_regularizer else 0.0

    def _db(self):
        return self.grads[1] if self.use_bias else self._dbias_scratch

    def get_config(self):
        cfg = {**super().get_config(), "filters": self.filters,
               "kernel_size": list(self.kernel_size), "strides": list(self.strides),
               "padding": self.padding, "activation": self.activation, "use_bias": self.use_bias,
               "kernel_initializer": self.kernel_initializer,
               "bias_initializer": self.bias_initializer}
        if self.kernel_regularizer is not None:
            cfg["kernel_regularizer"] = self.kernel_regularizer.get_config()
        return cfg

    def _repr_args(self):
        s = f"{self.filters}, {self.kernel_size}"
        if self.strides != (1, 1):
            s += f", strides={self.strides}"
        if self.padding != "valid":
            s += f", padding={self.padding!r}"
        if self.activation != "linear":
            s += f", activation={self.activation!r}"
        return s


class Conv2D(_ConvBase):
    """2-D convolution (cross-correlation, as every framework computes it):

        z[n, i, j, f] = b[f] + sum_{di, dj, c} x_pad[n, i sh + di, j sw + dj, c] w[di, dj, c, f]
        y = activation(z)

    x: (N, H, W, C) -> y: (N, H', W', filters); kernel (kh, kw, C, filters), bias (filters,)
    (Keras's layout, so Keras weights load unchanged). H' = (H - kh) // sh + 1 for
    padding="valid", ceil(H / sh) for "same" (``dlkit.layers.geometry``).
    Not supported (Keras has them): dilation_rate, groups, channels_first.
    """

    def build(self, input_shape):
        check_image_shape(self, input_shape)
        self._add_kernel_and_bias(self.kernel_size + (input_shape[-1], self.filters))
        super().build(input_shape)
        h, w = input_shape[1:3]
        self._geom = window_geometry((h, w), self.kernel_size, self.strides, self.padding,
                                     f"Conv2D layer {self.name!r}")

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        ho, wo, _, _ = window_geometry(input_shape[1:3], self.kernel_size, self.strides,
                                       self.padding, f"Conv2D layer {self.name!r}")
        return (input_shape[0], ho, wo, self.filters)

    def _flops(self, n):
        ho, wo = self._geom[:2]
        kh, kw = self.kernel_size
        return n * ho * wo * kh * kw * self.input_shape[-1] * self.filters

    def forward(self, x, training=False):
        x = np.ascontiguousarray(self._check_input(x))
        n = x.shape[0]
        ho, wo, pt, pl = self._geom
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        rows, window = n * ho * wo, kh * kw * self.input_shape[-1]
        cols = self._scratch("cols", (rows, window))
        z = np.empty((n, ho, wo, self.filters), dtype=self.dtype)
        # ReLU in place: backward's test z > 0 is the same as y > 0, and one pass over a large
        # array is saved (so for relu ``_z`` holds y; the fused heads use sigmoid/softmax).
        y = z if self.activation in ("linear", "relu") else np.empty_like(z)
        nt = chunks(n, work=self._flops(n))
        # cols = im2col(x): (N H' W', kh kw C);  z = cols @ W2 + b, W2 = kernel as (kh kw C, F);
        # y = f(z)
        kernels.conv.forward(x, self.kernel, self.bias, kh, kw, sh, sw, pt, pl, self._act,
                             self._alpha, nt, cols, z, y)
        self._x, self._z, self._y, self._nt = x, z, y, nt
        return y

    def _backward(self, dy, act):
        dy = np.ascontiguousarray(dy, dtype=self.dtype)
        if dy.shape != self._z.shape:
            raise ShapeError(f"Conv2D {self.name!r}: backward got dy of shape {dy.shape}, "
                             f"expected {self._z.shape} (the last forward's output)")
        x, n, nt = self._x, self._x.shape[0], self._nt
        ho, wo, pt, pl = self._geom
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        rows, window = n * ho * wo, kh * kw * self.input_shape[-1]
        need_dx = not self.skip_input_grad
        dz = dy if act == kernels.activations.LINEAR else self._scratch("dz", dy.shape)
        dcols = self._scratch("dcols", (rows, window) if need_dx else (1, 1))
        dw_parts = self._scratch("dw_parts", (nt,) + self.kernel.shape)
        db_parts = self._scratch("db_parts", (nt, self.filters))
        dx = np.empty_like(x) if need_dx else x
        # dz = dy * f'(z);  dW = cols^T dz;  db = sum of dz over N, H', W';
        # dx = col2im(dz @ W^T), the windows' gradients added back where they were read
        kernels.conv.backward(x, self.kernel, self._z, self._y, dy, kh, kw, sh, sw, pt, pl, act,
                              self._alpha, nt, need_dx, self._buffers["cols"], dz, dcols,
                              dw_parts, db_parts, self.grads[0], self._db(), dx)
        if self.kernel_regularizer is not None:
            self.kernel_regularizer.add_gradient(self.kernel, self.grads[0])
        return dx if need_dx else None


class Conv2DTranspose(_ConvBase):
    """Transposed convolution ("deconvolution"): the adjoint of Conv2D, which spreads each input
    pixel over a kh x kw window of the output, s pixels apart (Dumoulin & Visin 2016, "A guide
    to convolution arithmetic"). Decoders use it to upsample with learned weights.

    x: (N, H, W, C) -> y: (N, H', W', filters) with H' = H sh (padding="same") or
    H sh + max(kh - sh, 0) ("valid"); kernel (kh, kw, filters, C) (Keras's layout: the kernel of
    the Conv2D from y's shape to x's shape), bias (filters,).
    forward = Conv2D's input gradient (+ bias, activation); backward uses Conv2D's forward.
    Not supported (Keras has them): output_padding, dilation_rate.
    """

    def build(self, input_shape):
        check_image_shape(self, input_shape)
        self._add_kernel_and_bias(self.kernel_size + (self.filters, input_shape[-1]))
        super().build(input_shape)
        ho, wo = self.output_shape[1:3]
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        self._geom = (ho, wo, pad_amounts(ho, kh, sh, self.padding)[0],
                      pad_amounts(wo, kw, sw, self.padding)[0])

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        return (input_shape[0], transpose_output_length(input_shape[1], kh, sh, self.padding),
                transpose_output_length(input_shape[2], kw, sw, self.padding), self.filters)

    def forward(self, x, training=False):
        x = np.ascontiguousarray(self._check_input(x))
        n, h, w, c = x.shape
        ho, wo, pt, pl = self._geom
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        dcols = self._scratch("dcols", (n * h * w, kh * kw * self.filters))
        z = np.empty((n, ho, wo, self.filters), dtype=self.dtype)
        nt = chunks(n, work=n * h * w * kh * kw * self.filters * c)
        kernels.conv.input_grad(x, self.kernel, kh, kw, sh, sw, pt, pl, nt, dcols, z)
        y = z if self._act == kernels.activations.LINEAR else np.empty_like(z)
        kernels.activations.bias_activation(z.reshape(-1, self.filters), self.bias, self._act,
                                            self._alpha, y.reshape(-1, self.filters))
        self._x, self._z, self._y, self._nt = x, z, y, nt
        return y

    def _backward(self, dy, act):
        dy = np.ascontiguousarray(dy, dtype=self.dtype)
        if dy.shape != self._z.shape:
            raise ShapeError(f"Conv2DTranspose {self.name!r}: backward got dy of shape "
                             f"{dy.shape}, expected {self._z.shape}")
        x, f = self._x, self.filters
        n, h, w, c = x.shape
        ho, wo, pt, pl = self._geom
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        dz = dy if act == kernels.activations.LINEAR else self._scratch("dz", dy.shape)
        kernels.activations.activation_grad(self._z.reshape(-1, f), self._y.reshape(-1, f),
                                            dy.reshape(-1, f), act, self._alpha, dz.reshape(-1, f))
        # dx = Conv2D(dz) with this kernel (no bias); it also leaves dz's windows in cols
        cols = self._scratch("cols", (n * h * w, kh * kw * f))
        dx = np.empty_like(x)
        kernels.conv.forward(dz, self.kernel, np.zeros(c, self.dtype), kh, kw, sh, sw, pt, pl,
                             kernels.activations.LINEAR, self.dtype(0), self._nt, cols, dx, dx)
        np.dot(cols.T, x.reshape(-1, c), out=self.grads[0].reshape(-1, c))
        self._db()[:] = dz.reshape(-1, f).sum(axis=0)
        if self.kernel_regularizer is not None:
            self.kernel_regularizer.add_gradient(self.kernel, self.grads[0])
        return None if self.skip_input_grad else dx
