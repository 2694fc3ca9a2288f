"""BatchNormalization (Ioffe & Szegedy 2015), over the last axis as Keras's default axis=-1.

Training:  x_hat = (x - mean_B) / sqrt(var_B + eps),  y = gamma x_hat + beta, with the batch's
           mean and (biased) variance per channel over every other axis (N, H, W for images);
           moving = momentum moving + (1 - momentum) batch statistic.
Inference: the same with the moving mean and variance, so one sample's output does not depend
           on the rest of its batch.
Weights in Keras's order: gamma, beta (trainable), moving_mean, moving_variance (not trainable).
"""
import numpy as np

from .. import kernels  # lazy: Numba loads on first use

from .base import Layer


class BatchNormalization(Layer):
    """x: (N, ..., C) -> y: same shape; statistics per channel (the last axis).

    Not supported (Keras has them): axis other than -1, renorm, synchronized.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError(f"BatchNormalization normalises the last (channel) axis only, "
                             f"axis=-1; got axis={axis!r}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.axis, self.momentum, self.epsilon = -1, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.initializers = (gamma_initializer, beta_initializer, moving_mean_initializer,
                             moving_variance_initializer)

    def build(self, input_shape):
        c = input_shape[-1]
        g_init, b_init, mm_init, mv_init = self.initializers
        # Without scale/center gamma = 1 / beta = 0 stay fixed and are not weights (as Keras).
        self.gamma = (self.add_weight("gamma", (c,), g_init) if self.scale
                      else np.ones(c, dtype=self.dtype))
        self.beta = (self.add_weight("beta", (c,), b_init) if self.center
                     else np.zeros(c, dtype=self.dtype))
        self.moving_mean = self.add_weight("moving_mean", (c,), mm_init, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (c,), mv_init, trainable=False)
        self._stats = np.zeros((3, c), dtype=self.dtype)   # batch mean, var, 1/std
        self._scratch_grads = np.zeros((2, c), dtype=self.dtype)
        super().build(input_shape)

    def forward(self, x, training=False):
        x = np.ascontiguousarray(self._check_input(x))
        c = x.shape[-1]
        x2 = x.reshape(-1, c)
        y = np.empty_like(x)
        eps = self.dtype(self.epsilon)
        self._training = training
        if training:
            mean, var, inv_std = self._stats
            self._x_hat = np.empty_like(x2)
            kernels.norm.forward_train(x2, self.gamma, self.beta, eps, mean, var, inv_std,
                                       self._x_hat, y.reshape(-1, c))
            m = self.dtype(self.momentum)
            self.moving_mean *= m
            self.moving_mean += (1 - m) * mean
            self.moving_variance *= m
            self.moving_variance += (1 - m) * var
        else:
            inv = self.dtype(1) / np.sqrt(self.moving_variance + eps)
            self._scale = self.gamma * inv
            kernels.norm.scale_shift(x2, self._scale, self.beta - self.moving_mean * self._scale,
                                     y.reshape(-1, c))
            self._x2 = x2
        return y

    def backward(self, dy):
        """dy -> dx; fills dL/dgamma, dL/dbeta (batch statistics in training, the moving ones
        in inference, where the layer is a fixed per-channel affine map)."""
        c = dy.shape[-1]
        dy2 = np.ascontiguousarray(dy, dtype=self.dtype).reshape(-1, c)
        grads = iter(self.grads)
        dgamma = next(grads) if self.scale else self._scratch_grads[0]
        dbeta = next(grads) if self.center else self._scratch_grads[1]
        need_dx = not self.skip_input_grad
        dx2 = np.empty_like(dy2)
        if self._training:
            kernels.norm.backward_train(dy2, self._x_hat, self.gamma, self._stats[2], dgamma,
                                        dbeta, dx2, need_dx)
        else:  # a fixed affine map: y = x scale + shift (saliency maps differentiate this)
            x_hat = (self._x2 - self.moving_mean) * (self._scale / self.gamma if self.scale else
                                                     self._scale)
            dgamma[:] = (dy2 * x_hat).sum(axis=0)
            dbeta[:] = dy2.sum(axis=0)
            np.multiply(dy2, self._scale, out=dx2)
        return dx2.reshape(dy.shape) if need_dx else None

    def get_config(self):
        g, b, mm, mv = self.initializers
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "gamma_initializer": g, "beta_initializer": b, "moving_mean_initializer": mm,
                "moving_variance_initializer": mv}

    def _repr_args(self):
        return "" if self.momentum == 0.99 else f"momentum={self.momentum}"
