"""Accuracy kernels: how many predictions of a batch are right.

``dlkit.metrics`` turns the counts into accuracies over an epoch; ties go to the first
maximum, as in ``np.argmax``. (The fused softmax cross-entropy kernels in ``kernels.losses``
count categorical hits themselves, from the logits, in the pass that computes the loss.)
"""
from ._jit import jit
from ._shared import inlined


@inlined   # compiled into each caller: a call per row measured slower than the fused loop
@jit
def _argmax(p, i):
    """The first column of row i of p that holds the row's maximum (as np.argmax)."""
    a = 0
    for j in range(1, p.shape[1]):
        if p[i, j] > p[i, a]:
            a = j
    return a


@jit
def count_argmax_equal(p, t):
    """Number of rows where argmax p == argmax t (categorical accuracy). (N, K) each."""
    hits = 0
    for i in range(p.shape[0]):
        hits += _argmax(p, i) == _argmax(t, i)
    return hits


@jit
def count_argmax_label(p, labels):
    """Number of rows where argmax p == label (sparse categorical accuracy)."""
    hits = 0
    for i in range(p.shape[0]):
        hits += _argmax(p, i) == labels[i]
    return hits


@jit
def count_binary_equal(p, t, threshold):
    """Number of elements where (p > threshold) == t (binary accuracy counts elements)."""
    n, k = p.shape
    hits = 0
    for i in range(n):
        for j in range(k):
            hits += (p[i, j] > threshold) == (t[i, j] > 0.5)
    return hits
