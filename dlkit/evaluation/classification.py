"""Scores beyond accuracy: the confusion matrix, per-class precision, recall and F1, and a
report of them (chapter 7; on imbalanced data, chapter 11).

Labels may be given as integer arrays (N,) or as scores/probabilities/one-hot rows (N, K), in
which case the arg-max of each row is the label.
"""
import numpy as np

__all__ = ["confusion_matrix", "precision_recall_f1", "classification_report"]


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
