"""The accuracy counts in plain NumPy: how many predictions are right in a batch (fit divides
the sum over an epoch by the count). p: predictions (N, K); ties go to the first maximum,
as ``argmax`` does."""
import numpy as np


def count_argmax_equal(p, t):
    """Categorical accuracy: rows where argmax p == argmax t (one-hot t: (N, K))."""
    return int((p.argmax(axis=1) == t.argmax(axis=1)).sum())


def count_argmax_label(p, labels):
    """Sparse categorical accuracy: rows where argmax p == label (labels: (N,))."""
    return int((p.argmax(axis=1) == labels).sum())


def count_binary_equal(p, t, threshold=0.5):
    """Binary accuracy counts elements: (p > threshold) == (t > 0.5)."""
    return int(((p > threshold) == (t > 0.5)).sum())
