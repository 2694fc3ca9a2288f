"""Losses: value and gradient, with Keras's names, defaults and reduction.

Reduction (as Keras's "sum_over_batch_size"): the mean over the batch of per-sample losses.
Per-sample: MSE and binary cross-entropy average over the last axis; categorical
cross-entropy sums over classes.

    loss = CategoricalCrossentropy()
    loss(y_true, y_pred)                   # a float
    total, dy = loss.value_and_grad(y_true, y_pred)   # batch *sum*, gradient of the *mean*

A model whose last layer ends in softmax (sigmoid) trained with categorical (binary)
cross-entropy uses the fused head ``value_and_grad_logits``: computed from the logits with
log-sum-exp it stays finite for logits of +-1000, and its gradient is simply (p - y) / N.
``Head`` is where that is decided, once per model: it meets the model's output with the loss
and gives, per batch, ``(loss sum, gradient, hits)``.
"""
import numpy as np

from . import kernels  # lazy: Numba loads on first use

from .errors import ShapeError

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Head", "get"]


class Loss:
    name = "loss"
    #: the output activation this loss can be fused with ("softmax", "sigmoid" or None)
    fused_activation = None
    sparse = False
    #: value_and_grad_logits(..., with_hits=True) also counts the rows classified right
    counts_hits = False

    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    # -- targets ----------------------------------------------------------------------------
    def prepare_targets(self, y, y_pred_shape, dtype):
        """Validate targets against the model's output shape (N, K); return them in the
        dtype the kernel wants. Raises ShapeError/ValueError that say how to fix the data."""
        y = np.asarray(y)
        k = y_pred_shape[-1]
        if y.ndim == 1 and k is not None and k > 1 and np.issubdtype(y.dtype, np.integer):
            raise ShapeError(
                f"{self.name} expects targets of shape (N, {k}) but got integer labels of shape "
                f"{y.shape}; one-hot encode them with dlkit.utils.to_categorical(y, {k}) or use "
                "loss='sparse_categorical_crossentropy'")
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if k is not None and y.shape[1:] != tuple(y_pred_shape[1:]):
            raise ShapeError(f"{self.name}: targets have per-sample shape {y.shape[1:]} but the "
                             f"model outputs {tuple(y_pred_shape[1:])}")
        return np.ascontiguousarray(y, dtype=dtype)

    # -- values -----------------------------------------------------------------------------
    def __call__(self, y_true, y_pred):
        """Mean loss over the batch (a float)."""
        y_pred = np.ascontiguousarray(y_pred)
        if y_pred.dtype not in (np.float32, np.float64):
            y_pred = y_pred.astype(np.float64)
        y_true = self.prepare_targets(y_true, y_pred.shape, y_pred.dtype)
        return self.value_and_grad(y_true, y_pred)[0] / len(y_pred)

    def value_and_grad(self, y_true, y_pred):
        """(sum over the batch of per-sample losses, dL/dy_pred of the *mean* loss)."""
        p2 = _rows(y_pred)
        t2 = y_true if self.sparse else _rows(y_true)
        if self.from_logits:
            total, _, dp = self.value_and_grad_logits(t2, p2)
        else:
            dp = np.empty_like(p2)
            total = self._kernel()(p2, t2, 1.0 / len(p2), dp)
        return total, dp.reshape(y_pred.shape)

    def value_and_grad_logits(self, y_true, z, p=None, with_hits=False):
        """Fused head: (loss sum, probabilities, dL/dz of the mean loss) from logits z: (N, K).

        p: the head's output f(z) when the layer has already computed it (the sigmoid head
        reuses it; softmax heads recompute it from z, which is exact for any logits).
        with_hits (losses with ``counts_hits``): also return the number of rows classified
        right, counted in the same pass, so fit's accuracy costs no call of its own.
        """
        p = np.empty_like(z)
        dz = np.empty_like(z)
        total, hits = self._logits_kernel()(z, y_true, 1.0 / len(z), p, dz)
        return (total, p, dz, hits) if with_hits else (total, p, dz)

    def fuses_with(self, layer):
        """Whether this loss is computed from ``layer``'s logits (its pre-activation): the layer
        ends in this loss's ``fused_activation`` and can run backward from dL/dlogits."""
        return (not self.from_logits and self.fused_activation is not None
                and getattr(layer, "activation", None) == self.fused_activation
                and hasattr(layer, "backward_logits"))

    def _kernel(self):
        raise NotImplementedError

    def _logits_kernel(self):
        raise ValueError(f"{self.name} has no from_logits form")

    def get_config(self):
        return {"from_logits": self.from_logits} if self.from_logits else {}

    def __repr__(self):
        return f"{type(self).__name__}({'from_logits=True' if self.from_logits else ''})"


def _rows(a):
    return a.reshape(-1, a.shape[-1]) if a.ndim != 2 else a


def _target_rows(y, k, sparse):
    """Targets as rows for outputs with k values per row: labels (rows,) or (rows, k)."""
    if sparse:
        return y if y.ndim == 1 else y.reshape(-1)
    return y if y.ndim == 2 and y.shape[1] == k else y.reshape(-1, k)


class Head:
    """Where a model's output meets its loss (one per compiled model).

    It decides once whether the output layer's activation (softmax, sigmoid) fuses with the
    loss. Fused, the loss is computed from the layer's logits z and the gradient it returns is
    dL/dz, which skips the activation's derivative (for softmax + cross-entropy, (P - Y)/N);
    otherwise the gradient is dL/dy_hat. ``backward`` sends it into the model the right way.

        head = Head(loss, model.layers[-1], metrics)
        loss_sum, grad, hits = head(y, model.forward(x, training=True))
        head.backward(model, grad)           # fills every layer's grads

    hits: the number of rows classified right, counted by the fused cross-entropy kernel in
    the same pass, when one of ``metrics`` is the matching accuracy (``hits_metric`` is its
    index; None when nothing is counted).
    """

    def __init__(self, loss, output_layer, metrics=()):
        from . import metrics as metrics_mod

        self.loss = loss
        self.layer = output_layer
        self.fused = loss.fuses_with(output_layer)
        accuracy = (metrics_mod.SparseCategoricalAccuracy if loss.sparse
                    else metrics_mod.CategoricalAccuracy)
        self.hits_metric = next((i for i, m in enumerate(metrics) if type(m) is accuracy),
                                None) if self.fused and loss.counts_hits else None

    def __call__(self, y_true, y_hat):
        """(loss summed over rows, gradient of the mean loss, hits or None).

        y_true: targets as ``loss.prepare_targets`` returns them; y_hat: (..., K), the output of
        the model's last forward pass. The gradient has y_hat's shape: dL/dz of the output
        layer's logits when fused (z has y_hat's shape, or its rows), else dL/dy_hat."""
        k = y_hat.shape[-1]
        t = _target_rows(y_true, k, self.loss.sparse)
        if not self.fused:
            total, dy = self.loss.value_and_grad(t, y_hat.reshape(-1, k))
            return total, dy.reshape(y_hat.shape), None
        z = self.layer.logits
        flat = z.ndim == 2 and y_hat.ndim == 2   # the common case skips the reshapes
        z2 = z if flat else z.reshape(-1, k)
        p2 = y_hat if flat else y_hat.reshape(-1, k)
        hits = None
        if self.hits_metric is not None:
            total, _, dz, hits = self.loss.value_and_grad_logits(t, z2, p2, with_hits=True)
        else:
            total, _, dz = self.loss.value_and_grad_logits(t, z2, p2)
        return total, (dz if flat else dz.reshape(y_hat.shape)), hits

    def backward(self, model, grad):
        """Backpropagate the gradient ``__call__`` returned through ``model``."""
        return model.backward_logits(grad) if self.fused else model.backward(grad)

    def __repr__(self):
        how = "fused with its logits" if self.fused else "on its output"
        return f"Head({self.loss!r} {how} of {self.layer!r})"


class MeanSquaredError(Loss):
    """mean_k (y_pred - y_true)^2 per sample."""
    name = "mean_squared_error"

    def __init__(self):
        super().__init__()

    def _kernel(self):
        return kernels.losses.mse


class MeanAbsoluteError(Loss):
    """mean_k |y_pred - y_true| per sample."""
    name = "mean_absolute_error"

    def __init__(self):
        super().__init__()

    def _kernel(self):
        return kernels.losses.mae


class BinaryCrossentropy(Loss):
    """-mean_k [y log p + (1 - y) log(1 - p)] per sample; targets in [0, 1]."""
    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def prepare_targets(self, y, y_pred_shape, dtype):
        y = super().prepare_targets(y, y_pred_shape, dtype)
        # (NaN passes this test; the model's finiteness check names it)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"binary_crossentropy targets must lie in [0, 1], got values in "
                             f"[{y.min()}, {y.max()}]")
        return y

    def _kernel(self):
        return kernels.losses.binary_crossentropy

    def value_and_grad_logits(self, y_true, z, p=None):
        if p is None:
            p = np.empty_like(z)
            kernels.activations.forward(z, kernels.activations.SIGMOID, z.dtype.type(0), p)
        dz = np.empty_like(z)
        total = kernels.losses.sigmoid_crossentropy_logits(z, p, y_true, z.dtype.type(1 / z.size), dz)
        return total, p, dz


class CategoricalCrossentropy(Loss):
    """-sum_k y_k log p_k per sample; targets one-hot (or probabilities), shape (N, K)."""
    name = "categorical_crossentropy"
    fused_activation = "softmax"
    counts_hits = True

    def prepare_targets(self, y, y_pred_shape, dtype):
        y = super().prepare_targets(y, y_pred_shape, dtype)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(
                f"categorical_crossentropy targets must be one-hot (values in [0, 1]), got values "
                f"in [{y.min()}, {y.max()}]; if these are class labels use "
                "loss='sparse_categorical_crossentropy' or dlkit.utils.to_categorical")
        return y

    def _kernel(self):
        return kernels.losses.categorical_crossentropy

    def _logits_kernel(self):
        return kernels.losses.softmax_crossentropy_logits


class SparseCategoricalCrossentropy(Loss):
    """-log p_label per sample; targets are integer labels of shape (N,) in [0, K)."""
    name = "sparse_categorical_crossentropy"
    fused_activation = "softmax"
    sparse = True
    counts_hits = True

    def prepare_targets(self, y, y_pred_shape, dtype):
        y = np.asarray(y)
        k = y_pred_shape[-1]
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim == 2 and y.shape[1] == k and k > 1:
            raise ShapeError(
                f"sparse_categorical_crossentropy expects integer labels of shape (N,), got "
                f"one-hot targets of shape {y.shape}; use loss='categorical_crossentropy' or pass "
                "y.argmax(axis=1)")
        if y.ndim != 1:
            raise ShapeError(f"sparse_categorical_crossentropy expects labels of shape (N,), "
                             f"got {y.shape}")
        if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
            raise ValueError("sparse_categorical_crossentropy labels must be whole numbers")
        if y.size and (y.min() < 0 or y.max() >= k):
            raise ValueError(
                f"labels must lie in [0, {k - 1}] for a model with {k} outputs, got labels in "
                f"[{int(y.min())}, {int(y.max())}]; check the labels or the size of the last layer")
        return np.ascontiguousarray(y, dtype=np.int64)

    def _kernel(self):
        return kernels.losses.sparse_categorical_crossentropy

    def _logits_kernel(self):
        return kernels.losses.sparse_softmax_crossentropy_logits


_BY_NAME = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_CLASSES = {c.__name__: c for c in _BY_NAME.values()}


def get(identifier):
    """A Loss from a Keras name ("mse", "categorical_crossentropy", ...) or a Loss instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    raise ValueError(f"unknown loss {identifier!r}; valid names: {', '.join(sorted(_BY_NAME))} "
                     "or a dlkit.losses.Loss instance")


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}
