"""Evaluating classifiers and the practical fixes of the book's chapters 7 and 11.

    from dlkit import evaluation as ev
    cm = ev.confusion_matrix(y_test, model.predict(x_test))      # (K, K), rows = true class
    print(ev.classification_report(y_test, model.predict(x_test)))

What is here, one small function each:

- metrics beyond accuracy: ``confusion_matrix``, ``precision_recall_f1``,
  ``classification_report`` (per-class precision, recall, F1 and the macro averages);
- data imbalance (chapter 11): ``make_imbalanced`` (subsample some classes to build an
  imbalanced training set), ``class_weights`` (Keras/scikit-learn's "balanced" weights),
  ``ClassWeightedCrossentropy`` (a loss applying them, what Keras's ``fit(class_weight=...)``
  does), ``oversample`` / ``undersample`` (random resampling);
- compression (chapter 11): ``quantize`` / ``quantize_int8`` / ``dequantize`` (symmetric
  post-training quantisation of a weight array to 8 or fewer bits), ``quantize_model`` (a
  copy of a model whose kernels went through those integers), ``model_nbytes``; ``soften`` / ``distillation_targets`` (the teacher's soft
  targets of knowledge distillation, Hinton et al. 2015).

Labels may be given as integer arrays (N,) or as scores/probabilities/one-hot rows (N, K), in
which case the arg-max of each row is the label.
"""
import numpy as np

from .losses import Loss

__all__ = ["confusion_matrix", "precision_recall_f1", "classification_report", "class_weights",
           "ClassWeightedCrossentropy", "make_imbalanced", "oversample", "undersample",
           "quantize", "quantize_int8", "dequantize", "quantize_model", "model_nbytes", "soften",
           "distillation_targets"]


def _labels(y, what):
    """Integer labels (N,) from labels (N,) or rows of scores (N, K) (arg-max per row)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    y = y.reshape(-1)
    if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
        raise ValueError(f"{what} must be integer class labels (N,) or score rows (N, K), got "
                         f"non-integer values of shape {y.shape}")
    return y.astype(np.int64)


def _pair(y_true, y_pred, num_classes):
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}")
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
        if np.ndim(y_pred) == 2:
            num_classes = max(num_classes, np.shape(y_pred)[1])
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes - 1}]")
    return t, p, int(num_classes)


def confusion_matrix(y_true, y_pred, num_classes=None):
    """C: (K, K) int64 with C[i, j] = number of samples of true class i predicted as j.

    The diagonal holds the correct predictions; row i sums to the number of samples of class i
    (scikit-learn's convention).
    """
    t, p, k = _pair(y_true, y_pred, num_classes)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def precision_recall_f1(y_true, y_pred, num_classes=None):
    """Per-class scores as a dict of (K,) arrays: precision, recall, f1, support.

    precision_k = TP_k / (TP_k + FP_k)  (of the samples predicted k, the fraction that are k)
    recall_k    = TP_k / (TP_k + FN_k)  (of the samples that are k, the fraction found)
    f1_k        = 2 P R / (P + R);  a 0/0 is reported as 0, as scikit-learn does.
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(np.float64)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual}


def classification_report(y_true, y_pred, num_classes=None, digits=3):
    """A text table: one row per class (precision, recall, F1, support), then accuracy, the
    macro average (every class counts the same: the honest summary on imbalanced data) and
    the support-weighted average."""
    s = precision_recall_f1(y_true, y_pred, num_classes)
    n = int(s["support"].sum())
    w = s["support"] / max(n, 1)
    acc = float(np.trace(confusion_matrix(y_true, y_pred, len(s["f1"])))) / max(n, 1)
    f = f"{{:>{digits + 6}.{digits}f}}"
    lines = [f"{'class':>12} {'precision':>{digits + 6}} {'recall':>{digits + 6}} "
             f"{'f1':>{digits + 6}} {'support':>8}"]
    for k in range(len(s["f1"])):
        lines.append(f"{k:>12} " + " ".join(f.format(s[m][k]) for m in ("precision", "recall", "f1"))
                     + f" {int(s['support'][k]):>8}")
    lines.append(f"{'accuracy':>12} {'':>{2 * (digits + 6) + 1}} {f.format(acc)} {n:>8}")
    for name, avg in (("macro avg", lambda a: a.mean()), ("weighted avg", lambda a: (a * w).sum())):
        lines.append(f"{name:>12} " + " ".join(f.format(avg(s[m])) for m in ("precision", "recall", "f1"))
                     + f" {n:>8}")
    return "\n".join(lines)


# -- data imbalance ---------------------------------------------------------------------------
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
        from .losses import SparseCategoricalCrossentropy

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


# -- compression ------------------------------------------------------------------------------
def quantize(w, bits=8, axis=None):
    """Symmetric linear quantisation to signed ``bits``-bit integers: w ~ scale * q with
    q in [-(2^(bits-1) - 1), 2^(bits-1) - 1] (for 8 bits: [-127, 127]).

    scale = max|w| / qmax over the whole array (axis=None, "per tensor") or over every slice
    along ``axis`` (e.g. axis=-1: one scale per output unit, "per channel"). The rounding error
    is at most scale / 2 per weight. Returns (q as int8 of w's shape, scale float32
    broadcastable to w); for bits < 8 the int8 array holds the smaller range (a real
    implementation would pack two 4-bit values per byte).
    """
    if not isinstance(bits, (int, np.integer)) or not 2 <= bits <= 8:
        raise ValueError(f"bits must be an integer from 2 to 8, got {bits!r}")
    qmax = 2 ** (bits - 1) - 1
    w = np.asarray(w, dtype=np.float32)
    if axis is None:
        m = np.abs(w).max(initial=0.0)
    else:
        axes = tuple(a for a in range(w.ndim) if a != axis % w.ndim)
        m = np.abs(w).max(axis=axes, keepdims=True, initial=0.0)
    scale = np.where(m > 0, m / qmax, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int8)
    return q, scale


def quantize_int8(w, axis=None):
    """``quantize(w, bits=8, axis)``: q in [-127, 127], the common post-training int8 scheme."""
    return quantize(w, 8, axis)


def dequantize(q, scale):
    """float32 weights back from int8: scale * q."""
    return (q.astype(np.float32) * scale).astype(np.float32)


def _clone(model):
    from .model import Sequential

    clone = Sequential.from_config(model.get_config())
    if not clone.built:
        clone.build(model.input_shape)
    clone.set_weights(model.get_weights())
    return clone


def quantize_model(model, axis=None, bits=8):
    """A copy of ``model`` whose kernels (every weight of 2 or more dimensions) went through
    ``bits``-bit integers and back (weight-only post-training quantisation; biases, which are
    few, stay float32, as in common int8 schemes where they are kept at higher precision).

    Returns (quantized copy, {"float32_bytes": ..., "quantized_bytes": ..., "int8_bytes": ...}):
    sizes counting a kernel at bits/8 bytes per weight (packed) plus its float32 scales
    ("int8_bytes" is the same number, kept for the 8-bit case). The copy computes in float32
    with the rounded weights, so its accuracy is exactly that of the quantised-weight model.
    """
    clone = _clone(model)
    weights = clone.get_weights()
    int8_bytes = 0
    for i, w in enumerate(weights):
        if w.ndim >= 2:
            q, scale = quantize(w, bits, axis)
            weights[i] = dequantize(q, scale)
            int8_bytes += -(-q.size * bits // 8) + scale.nbytes
        else:
            int8_bytes += w.astype(np.float32).nbytes
    clone.set_weights(weights)
    if getattr(model, "loss", None) is not None:
        clone.compile(optimizer="sgd", loss=model.loss, metrics=list(model._metric_ids))
    return clone, {"float32_bytes": model_nbytes(model), "quantized_bytes": int(int8_bytes),
                   "int8_bytes": int(int8_bytes)}


def model_nbytes(model):
    """Bytes of all weights stored as float32 (4 bytes per number)."""
    return int(sum(w.size for w in model.get_weights()) * 4)


def soften(probs, temperature):
    """Soft targets: softmax(log p / T) row by row. T = 1 returns p; T > 1 flattens the
    distribution and shows which wrong classes the teacher finds plausible ("dark knowledge",
    Hinton, Vinyals and Dean 2015). Equals softmax(z / T) when p = softmax(z). probs: (N, K)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    e = np.exp(logp)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def distillation_targets(teacher_probs, y, temperature=3.0, alpha=0.5):
    """Targets for a student trained with categorical cross-entropy:
    (1 - alpha) * onehot(y) + alpha * soften(teacher_probs, T). Shape (N, K).

    Deviation from Hinton et al.: they also raise the student's softmax to temperature T and
    scale that loss term by T^2; training the student at T = 1 on the mixed target keeps the
    ordinary Sequential/fit loop and works comparably on the book's small models.
    """
    p = soften(teacher_probs, temperature)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(p)), _labels(y, "y")] = 1.0
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    return ((1 - alpha) * onehot + alpha * p).astype(np.float32)
