"""Imbalanced data (chapter 11): build an imbalanced set, weigh the classes in the loss, or
resample them.

- ``make_imbalanced``: subsample some classes to build an imbalanced training set;
- ``class_weights``: Keras/scikit-learn's "balanced" weights, and
  ``ClassWeightedCrossentropy``, a loss applying them (what Keras's
  ``fit(class_weight=...)`` does);
- ``oversample`` / ``undersample``: random resampling to equal class sizes.
"""
import numpy as np

from ..losses import Loss, SparseCategoricalCrossentropy
from .classification import _labels

__all__ = ["class_weights", "ClassWeightedCrossentropy", "make_imbalanced", "oversample",
           "undersample"]


def class_weights(y, num_classes=None):
    """{class: weight} with weight_k = N / (K * N_k): "balanced" weights (scikit-learn's
    ``compute_class_weight("balanced")``, the Keras imbalanced-data tutorial). Each class then
    contributes the same total weight N / K to the loss. A class absent from y gets weight 0.
    """
    y = _labels(y, "y")
    k = int(num_classes if num_classes is not None else y.max() + 1)
    counts = np.bincount(y, minlength=k).astype(np.float64)
    w = np.divide(len(y), k * counts, out=np.zeros(k), where=counts > 0)
    return {int(c): float(w[c]) for c in range(k)}


class ClassWeightedCrossentropy(Loss):
    """Sparse categorical cross-entropy with a weight per class:

        L = (1/N) sum_i w_{y_i} * (-log p_{i, y_i})

    which is what Keras's ``model.fit(..., class_weight=w)`` computes (the per-sample loss
    times the weight of the sample's class, then the mean over the batch). dlkit's ``fit`` has
    no ``class_weight`` argument, so the weights live in the loss instead:

        model.compile(optimizer="adam", loss=ClassWeightedCrossentropy(class_weights(y)))

    Targets: integer labels (N,). Fused with a softmax output like the sparse loss
    (gradient w.r.t. the logits: w_{y_i} (p_i - onehot(y_i)) / N). Written in NumPy: it is
    used on the book's small examples, where speed does not matter.
    """
    name = "class_weighted_crossentropy"
    fused_activation = "softmax"
    sparse = True

    def __init__(self, class_weight):
        super().__init__()
        if isinstance(class_weight, dict):
            k = max(class_weight) + 1
            w = np.zeros(k)
            for c, v in class_weight.items():
                w[c] = v
        else:
            w = np.asarray(class_weight, dtype=np.float64).reshape(-1)
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError(f"class weights must be finite and >= 0, got {w}")
        self.class_weight = w

    def prepare_targets(self, y, y_pred_shape, dtype):
        y = SparseCategoricalCrossentropy.prepare_targets(self, y, y_pred_shape, dtype)
        if y_pred_shape[-1] is not None and len(self.class_weight) < y_pred_shape[-1]:
            raise ValueError(f"{len(self.class_weight)} class weights for a model with "
                             f"{y_pred_shape[-1]} outputs; give one weight per class")
        return y

    def value_and_grad_logits(self, y_true, z, p=None):
        z64 = z.astype(np.float64)
        z64 = z64 - z64.max(axis=1, keepdims=True)
        logp = z64 - np.log(np.exp(z64).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        rows = np.arange(len(z))
        w = self.class_weight[y_true]
        total = float(-(w * logp[rows, y_true]).sum())
        dz = p.copy()
        dz[rows, y_true] -= 1.0
        dz *= (w / len(z))[:, None]
        return total, p.astype(z.dtype), dz.astype(z.dtype)

    def value_and_grad(self, y_true, y_pred):
        p = np.clip(y_pred.astype(np.float64), 1e-7, 1.0)   # Keras's epsilon
        rows = np.arange(len(p))
        w = self.class_weight[y_true]
        total = float(-(w * np.log(p[rows, y_true])).sum())
        dp = np.zeros_like(p)
        dp[rows, y_true] = -w / (p[rows, y_true] * len(p))
        return total, dp.astype(y_pred.dtype)

    def get_config(self):
        return {"class_weight": self.class_weight.tolist()}

    def __repr__(self):
        return f"ClassWeightedCrossentropy({np.round(self.class_weight, 3).tolist()})"


def make_imbalanced(x, y, keep, seed=None):
    """Subsample classes to make an imbalanced set: keep = {class: fraction kept}; classes not
    named keep all their samples. Returns (x, y) in the original order."""
    rng = np.random.default_rng(seed)
    y_l = _labels(y, "y")
    mask = np.ones(len(y_l), dtype=bool)
    for c, frac in keep.items():
        if not 0 <= frac <= 1:
            raise ValueError(f"fraction kept for class {c} must be in [0, 1], got {frac}")
        idx = np.flatnonzero(y_l == c)
        drop = rng.permutation(idx)[int(round(frac * len(idx))):]
        mask[drop] = False
    return x[mask], y[mask]


def _resample(x, y, seed, target):
    rng = np.random.default_rng(seed)
    y_l = _labels(y, "y")
    classes, counts = np.unique(y_l, return_counts=True)
    n = target(counts)
    picks = []
    for c, m in zip(classes, counts):
        idx = np.flatnonzero(y_l == c)
        # every sample once before any repeats (oversampling), or a random subset
        extra = rng.choice(idx, n - m, replace=True) if n > m else np.empty(0, np.int64)
        picks.append(np.concatenate([idx, extra]) if n >= m else rng.choice(idx, n, replace=False))
    order = rng.permutation(np.concatenate(picks))
    return x[order], y[order]


def oversample(x, y, seed=None):
    """Random oversampling: repeat samples of the smaller classes (drawn with replacement)
    until every class has as many as the largest. Returns shuffled (x, y)."""
    return _resample(x, y, seed, np.max)


def undersample(x, y, seed=None):
    """Random undersampling: keep a random subset of each class the size of the smallest
    class. Returns shuffled (x, y). Throws data away: use it when data is plentiful."""
    return _resample(x, y, seed, np.min)
