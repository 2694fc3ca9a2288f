"""Dense, Activation, Dropout, Flatten, Reshape."""
import numpy as np

from .. import kernels  # lazy: Numba loads on first use

from .. import activations, initializers, regularizers
from ..errors import ShapeError
from .base import Layer


class Dense(Layer):
    """Fully connected layer: y = f(x W + b).

    x: (N, d_in) -> y: (N, units). kernel W: (d_in, units), bias b: (units,) (Keras layout).
    Inputs of higher rank (N, ..., d_in) are treated as N*... rows, as in Keras.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.activation = activations.resolve(activation)
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        initializers.get(kernel_initializer), initializers.get(bias_initializer)  # fail early
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self._act, self._alpha = activations.code(self.activation, self.dtype)

    def build(self, input_shape):
        d_in = input_shape[-1]
        if d_in is None:
            raise ShapeError(f"Dense layer {self.name!r} needs a known last input dimension, "
                             f"got input shape {input_shape}")
        self.kernel = self.add_weight("kernel", (d_in, self.units), self.kernel_initializer)
        # A layer without bias still gets a zero bias buffer for the kernel, but no parameter.
        self.bias = (self.add_weight("bias", (self.units,), self.bias_initializer) if self.use_bias
                     else np.zeros(self.units, dtype=self.dtype))
        self._dbias_scratch = np.zeros(self.units, dtype=self.dtype)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False):
        """y = f(z), z = x W + b.  x: (N, d_in) -> y: (N, units); caches x, z and y."""
        x = self._check_input(x)
        flat = x.ndim == 2   # the common case skips the reshapes (this runs once per batch)
        x2 = x if flat else x.reshape(-1, x.shape[-1])               # (N, d_in)
        W, b = self.kernel, self.bias                                 # (d_in, units), (units,)
        z = np.empty((len(x2), self.units), dtype=self.dtype)         # (N, units)
        y = z if self._act == kernels.activations.LINEAR else np.empty_like(z)
        kernels.dense.forward(x2, W, b, self._act, self._alpha, z, y)   # z = x W + b; y = f(z)
        self._x, self._z, self._y = x2, z, y
        return y if flat else y.reshape(x.shape[:-1] + (self.units,))

    @property
    def logits(self):
        """z = x W + b of the last forward pass, (N, units): what a fused loss head uses."""
        return self._z

    def backward(self, dy):
        """dz = dy * f'(z);  dW = x^T dz;  db = sum over rows of dz;  dx = dz W^T.

        dy: (N, units) = dL/dy -> dx: (N, d_in); fills grads [dW (d_in, units), db (units,)],
        adding the penalty's gradient when there is a kernel_regularizer."""
        return self._backward(dy, self._act)

    def backward_logits(self, dz):
        """The same from dz = dL/dz (the fused loss head's gradient): f' is skipped."""
        return self._backward(dz, kernels.activations.LINEAR)

    def _backward(self, dy, act):
        lead = dy.shape[:-1]
        if dy.ndim != 2 or dy.dtype != self.dtype or not dy.flags.c_contiguous:
            dy = np.ascontiguousarray(dy.reshape(-1, self.units), dtype=self.dtype)
        x, W, z, y = self._x, self.kernel, self._z, self._y
        dW, db = self.grads[0], (self.grads[1] if self.use_bias else self._dbias_scratch)
        dz = dy if act == kernels.activations.LINEAR else np.empty_like(dy)   # (N, units)
        need_dx = not self.skip_input_grad     # the model's first layer: nobody needs dL/dx
        dx = np.empty_like(x) if need_dx else x                               # (N, d_in)
        # dz = dy * f'(z);  dW = x^T dz;  db = sum over rows of dz;  dx = dz W^T
        kernels.dense.backward(x, W, z, y, dy, act, self._alpha, dz, dW, db, dx, need_dx)
        if self.kernel_regularizer is not None:
            self.kernel_regularizer.add_gradient(W, dW)       # dW += d(penalty)/dW
        if not need_dx:
            return None
        return dx if len(lead) == 1 else dx.reshape(lead + (x.shape[1],))

    def added_loss(self):
        """The weight penalty (its gradient is added in backward)."""
        return self.kernel_regularizer(self.kernel) if self.kernel_regularizer else 0.0

    def get_config(self):
        cfg = {**super().get_config(), "units": self.units, "activation": self.activation,
               "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
               "bias_initializer": self.bias_initializer}
        if self.kernel_regularizer is not None:
            cfg["kernel_regularizer"] = self.kernel_regularizer.get_config()
        return cfg

    def _repr_args(self):
        act = "" if self.activation == "linear" else f", activation={self.activation!r}"
        return f"{self.units}{act}"


class Activation(Layer):
    """y = f(x) element-wise (softmax over the last axis). Any shape."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.resolve(activation)
        self._act, self._alpha = activations.code(self.activation, self.dtype)

    def forward(self, x, training=False):
        """y = f(x), any shape; caches x and y."""
        x = np.ascontiguousarray(self._check_input(x))
        y = np.empty_like(x)
        kernels.activations.forward(x, self._act, self._alpha, y)
        self._z, self._y = x, y
        return y

    @property
    def logits(self):
        """The input of the last forward pass (what a fused loss head uses)."""
        return self._z

    def backward(self, dy):
        """dx = dy * f'(x) element-wise (softmax: dx = y * (dy - sum(dy * y)) per row)."""
        dy = np.ascontiguousarray(dy, dtype=self.dtype)
        dz = np.empty_like(dy)
        kernels.activations.backward(self._z, self._y, dy, self._act, self._alpha, dz)
        return dz

    def backward_logits(self, dz):
        """From dL/dx given directly by a fused loss head: nothing to do."""
        return dz

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}

    def _repr_args(self):
        return repr(self.activation)


class Dropout(Layer):
    """Inverted dropout (Srivastava et al. 2014): in training, zero each input with
    probability ``rate`` and scale the rest by 1 / (1 - rate), so nothing changes at inference.
    Any shape; noise_shape (with 1s to broadcast, e.g. (None, 1, C)) shares masks, as Keras.
    """

    def __init__(self, rate, noise_shape=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def forward(self, x, training=False):
        x = self._check_input(x)
        if not training or self.rate == 0:
            self._mask = None
            return x
        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if s is None else s for i, s in enumerate(self.noise_shape))
        keep = self._rng.random(shape, dtype=self.dtype) >= self.rate
        self._mask = keep.astype(self.dtype) * self.dtype(1.0 / (1.0 - self.rate))
        return x * self._mask

    def backward(self, dy):
        return dy if self._mask is None else dy * self._mask

    def get_config(self):
        cfg = {**super().get_config(), "rate": self.rate}
        if self.noise_shape is not None:
            cfg["noise_shape"] = list(self.noise_shape)
        return cfg

    def _repr_args(self):
        return f"{self.rate}"


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), C order (as Keras with channels-last)."""

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(s is None for s in rest) else int(np.prod(rest))
        return (input_shape[0], size)

    def forward(self, x, training=False):
        x = self._check_input(x)
        self._in = x.shape
        return np.ascontiguousarray(x).reshape(x.shape[0], -1)

    def backward(self, dy):
        return dy.reshape(self._in)


class Reshape(Layer):
    """(N, ...) -> (N, *target_shape); one entry of target_shape may be -1.

    Typical use: ``Reshape((28, 28, 1))`` turns flat MNIST rows into images for Conv2D.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)
        if sum(s == -1 for s in self.target_shape) > 1:
            raise ValueError(f"Reshape target_shape may contain at most one -1, got {target_shape}")

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape[1:]))
        known = int(np.prod([s for s in self.target_shape if s != -1]))
        if -1 in self.target_shape:
            if size % known:
                raise ShapeError(f"cannot reshape {input_shape[1:]} ({size} values) to "
                                 f"{self.target_shape}")
            shape = tuple(size // known if s == -1 else s for s in self.target_shape)
        else:
            shape = self.target_shape
            if known != size:
                raise ShapeError(f"Reshape {self.name!r}: cannot reshape per-sample shape "
                                 f"{input_shape[1:]} ({size} values) to {shape} ({known} values)")
        return (input_shape[0],) + shape

    def forward(self, x, training=False):
        x = self._check_input(x)
        self._in = x.shape
        return np.ascontiguousarray(x).reshape((x.shape[0],) + self.output_shape[1:])

    def backward(self, dy):
        return dy.reshape(self._in)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}

    def _repr_args(self):
        return repr(self.target_shape)
