"""Embedding kernels: a row lookup and its gradient, a scatter-add.

ids: (M,) int64 in [0, V); table: (V, d); the layer (``dlkit.layers.embedding``) flattens its
(N, T) ids to M = N T rows.
"""
from ._jit import jit


@jit
def forward(ids, table, out):
    """out[i] = table[ids[i]]. ids: (M,) int64, table: (V, d), out: (M, d)."""
    for i in range(ids.shape[0]):
        out[i] = table[ids[i]]


@jit
def backward(ids, dy, dtable):
    """dtable = sum over i of dy[i] scattered to row ids[i] (repeated ids add up)."""
    dtable[:] = 0.0
    d = dy.shape[1]
    for i in range(ids.shape[0]):
        r = ids[i]
        for j in range(d):
            dtable[r, j] += dy[i, j]
