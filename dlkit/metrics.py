"""Metrics reported by fit/evaluate, accumulated exactly over an epoch as (sum, count).

"accuracy" resolves by the loss, as in Keras: sparse labels -> sparse categorical accuracy,
one-hot targets -> categorical accuracy, a single sigmoid output -> binary accuracy.
"""
import numpy as np

from . import kernels  # lazy: Numba loads on first use


class Metric:
    name = "metric"

    def update(self, y_true, y_pred):
        """(sum, count) for one batch."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class CategoricalAccuracy(Metric):
    name = "accuracy"

    def update(self, y_true, y_pred):
        p = _rows(y_pred)
        return kernels.metrics.count_argmax_equal(p, _rows(y_true)), len(p)


class SparseCategoricalAccuracy(Metric):
    name = "accuracy"

    def update(self, y_true, y_pred):
        return kernels.metrics.count_argmax_label(_rows(y_pred), y_true.reshape(-1)), y_true.size


class BinaryAccuracy(Metric):
    name = "accuracy"

    def __init__(self, threshold=0.5):
        self.threshold = threshold

    def update(self, y_true, y_pred):
        return kernels.metrics.count_binary_equal(_rows(y_pred), _rows(y_true), self.threshold), y_pred.size


class MeanSquaredError(Metric):
    name = "mse"

    def update(self, y_true, y_pred):
        return float(np.square(y_pred - y_true.reshape(y_pred.shape), dtype=np.float64).sum()), y_pred.size


class MeanAbsoluteError(Metric):
    name = "mae"

    def update(self, y_true, y_pred):
        return float(np.abs(y_pred - y_true.reshape(y_pred.shape), dtype=np.float64).sum()), y_pred.size


def _rows(a):
    return a.reshape(-1, a.shape[-1]) if a.ndim != 2 else a


def get(identifier, loss, output_shape):
    """Resolve a metric name the way Keras does, given the compiled loss and output shape."""
    if isinstance(identifier, Metric):
        return identifier
    name = identifier.lower() if isinstance(identifier, str) else identifier
    if name in ("accuracy", "acc"):
        if getattr(loss, "sparse", False):
            return SparseCategoricalAccuracy()
        if output_shape[-1] == 1 or loss.name == "binary_crossentropy":
            return BinaryAccuracy()
        return CategoricalAccuracy()
    table = {"categorical_accuracy": CategoricalAccuracy,
             "sparse_categorical_accuracy": SparseCategoricalAccuracy,
             "binary_accuracy": BinaryAccuracy, "mse": MeanSquaredError,
             "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError,
             "mean_absolute_error": MeanAbsoluteError}
    if name not in table:
        raise ValueError(f"unknown metric {identifier!r}; valid names: accuracy, "
                         f"{', '.join(table)}")
    m = table[name]()
    if name not in ("categorical_accuracy", "sparse_categorical_accuracy", "binary_accuracy"):
        m.name = identifier
    else:
        m.name = name
    return m
