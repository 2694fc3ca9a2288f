"""Wrappers: TimeDistributed (a layer applied to every time step) and Bidirectional (a
recurrent layer run forwards and backwards, outputs merged), Keras's names and semantics.

A wrapper owns its inner layers' weights: ``params``/``grads``/``weights`` are theirs, in
Keras's order (Bidirectional: the forward layer's, then the backward layer's).
"""
import numpy as np

from ..errors import ShapeError
from .base import Layer, get_layer_class, set_sublayer_weights

__all__ = ["TimeDistributed", "Bidirectional"]


class _Wrapper(Layer):
    def _adopt_input_shape(self, layer):
        # LSTM(8, input_shape=(T, D)) wrapped: the wrapper is the layer Sequential sees first
        if self._declared_input_shape is None:
            self._declared_input_shape = layer.declared_input_shape

    def _inner(self):
        raise NotImplementedError

    @property
    def params(self):
        return [p for l in self._inner() for p in l.params]

    @property
    def grads(self):
        return [g for l in self._inner() for g in l.grads]

    @property
    def weights(self):
        return [w for l in self._inner() for w in l.weights]

    @property
    def param_names(self):
        return [f"{l.name or type(l).__name__.lower()}/{n}" for l in self._inner()
                for n in l.param_names]

    @property
    def weight_names(self):
        return [f"{l.name or type(l).__name__.lower()}/{n}" for l in self._inner()
                for n in l.weight_names]

    def set_weights(self, weights):
        set_sublayer_weights(type(self).__name__, self._inner(), weights)

    def added_loss(self):
        return sum(l.added_loss() for l in self._inner())


def _layer_config(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _from_layer_config(cfg):
    return get_layer_class(cfg["class_name"]).from_config(cfg["config"])


class TimeDistributed(_Wrapper):
    """Apply ``layer`` to every time step: (N, T, ...) -> (N, T, ...'), by folding time into
    the batch, (N*T, ...) -> layer -> (N*T, ...') -> (N, T, ...'). One set of weights for
    all steps. ``TimeDistributed(Dense(k, activation="softmax"))`` gives per-step class
    probabilities (and keeps the fused softmax + cross-entropy head)."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed wraps a dlkit layer, got {layer!r}")
        self.layer = layer
        self._adopt_input_shape(layer)

    def _inner(self):
        return [self.layer]

    @property
    def activation(self):
        return getattr(self.layer, "activation", None)

    @property
    def logits(self):
        """The wrapped layer's logits, (N*T, ...): what a fused loss head uses."""
        return self.layer.logits

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ShapeError(f"TimeDistributed expects inputs of shape (batch, time, ...), got "
                             f"input shape {tuple(input_shape)}")
        self.layer.maybe_build((None,) + tuple(input_shape[2:]))
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def forward(self, x, training=False):
        x = np.asarray(x)
        if x.ndim < 3:
            raise ShapeError(f"TimeDistributed expects a 3-D input (batch, time, ...), got "
                             f"shape {x.shape}")
        x = self._check_input(x)
        self._nt = x.shape[:2]
        y = self.layer.forward(x.reshape((-1,) + x.shape[2:]), training=training)
        return y.reshape(self._nt + y.shape[1:])

    def _unfold(self, dx):
        return None if dx is None else dx.reshape(self._nt + dx.shape[1:])

    def backward(self, dy):
        dy = np.asarray(dy)
        return self._unfold(self.layer.backward(dy.reshape((-1,) + dy.shape[2:])))

    def backward_logits(self, dz):
        dz = np.asarray(dz)
        return self._unfold(self.layer.backward_logits(dz.reshape((-1,) + dz.shape[2:])))

    @property
    def skip_input_grad(self):
        return self.layer.skip_input_grad

    @skip_input_grad.setter
    def skip_input_grad(self, value):
        self.layer.skip_input_grad = value

    def get_config(self):
        return {**super().get_config(), "layer": _layer_config(self.layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(_from_layer_config(config.pop("layer")), **config)

    def _repr_args(self):
        return repr(self.layer)


_MERGES = ("concat", "sum", "ave", "mul")


class Bidirectional(_Wrapper):
    """Run a recurrent ``layer`` over the sequence and a copy of it (same config, own weights)
    over the reversed sequence, then merge: y = merge(y_fwd, y_bwd).

    With return_sequences, the backward outputs are flipped back so that step t of both
    halves describes the same input step t. merge_mode: "concat" (default, (..., 2u)), "sum",
    "ave", "mul". merge_mode=None and return_state are not supported (Keras returns lists
    there, which a Sequential cannot pass on).
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not hasattr(layer, "go_backwards"):
            raise TypeError(f"Bidirectional wraps a recurrent layer (SimpleRNN, GRU, LSTM), "
                            f"got {layer!r}")
        if merge_mode not in _MERGES:
            raise ValueError(f"Bidirectional merge_mode must be one of {_MERGES}, got "
                             f"{merge_mode!r}")
        if layer.return_state:
            raise ValueError("Bidirectional with return_state=True is not supported")
        self.merge_mode = merge_mode
        self.forward_layer = layer
        self._adopt_input_shape(layer)
        if backward_layer is None:
            cfg = layer.get_config()
            cfg.update(go_backwards=not layer.go_backwards, input_shape=None,
                       name=f"backward_{layer.name}" if layer.name else None)
            cfg.pop("seed", None)
            backward_layer = type(layer).from_config(cfg)
            # its own weights, drawn from this wrapper's generator (seeded like any layer)
            backward_layer._rng = self._rng
        self.backward_layer = backward_layer
        self.return_sequences = layer.return_sequences

    def _inner(self):
        return [self.forward_layer, self.backward_layer]

    def build(self, input_shape):
        self.forward_layer.maybe_build(input_shape)
        self.backward_layer.maybe_build(input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        out = self.forward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            return tuple(out[:-1]) + (2 * out[-1],)
        return tuple(out)

    def forward(self, x, training=False, mask=None):
        if not self.built:
            declared = self._declared_input_shape
            self.build((None,) + (declared if declared is not None else np.shape(x)[1:]))
        yf = self.forward_layer.forward(x, training=training, mask=mask)
        yb = self.backward_layer.forward(x, training=training, mask=mask)
        if self.return_sequences:
            yb = yb[:, ::-1]           # back to input order
        self._yf, self._yb = yf, yb
        if self.merge_mode == "concat":
            return np.concatenate([yf, yb], axis=-1)
        if self.merge_mode == "sum":
            return yf + yb
        if self.merge_mode == "ave":
            return (yf + yb) * self.dtype(0.5)
        return yf * yb

    def backward(self, dy):
        dy = np.asarray(dy, dtype=self.dtype)
        if self.merge_mode == "concat":
            u = self._yf.shape[-1]
            dyf, dyb = dy[..., :u], dy[..., u:]
        elif self.merge_mode == "sum":
            dyf = dyb = dy
        elif self.merge_mode == "ave":
            dyf = dyb = dy * self.dtype(0.5)
        else:
            dyf, dyb = dy * self._yb, dy * self._yf
        if self.return_sequences:
            dyb = dyb[:, ::-1]
        dxf = self.forward_layer.backward(np.ascontiguousarray(dyf))
        dxb = self.backward_layer.backward(np.ascontiguousarray(dyb))
        return None if dxf is None else dxf + dxb

    @property
    def supports_masking(self):
        return True

    @property
    def skip_input_grad(self):
        return self.forward_layer.skip_input_grad

    @skip_input_grad.setter
    def skip_input_grad(self, value):
        self.forward_layer.skip_input_grad = value
        self.backward_layer.skip_input_grad = value

    def get_config(self):
        return {**super().get_config(), "layer": _layer_config(self.forward_layer),
                "merge_mode": self.merge_mode,
                "backward_layer": _layer_config(self.backward_layer)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        layer = _from_layer_config(config.pop("layer"))
        back = config.pop("backward_layer", None)
        return cls(layer, backward_layer=None if back is None else _from_layer_config(back),
                   **config)

    def _repr_args(self):
        mm = "" if self.merge_mode == "concat" else f", merge_mode={self.merge_mode!r}"
        return f"{self.forward_layer!r}{mm}"
