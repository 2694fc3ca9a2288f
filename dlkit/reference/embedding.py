"""The Embedding layer in plain NumPy: a lookup table, and its gradient scattered back.

ids: integer indices (M,) into table (V, d); the output is (M, d).
"""
import numpy as np


def embedding_forward(ids, table):
    """out[i] = table[ids[i]]."""
    return table[ids]


def embedding_backward(ids, dy, vocab_size):
    """dtable (V, d): row v is the sum of dy[i] over every i with ids[i] == v (repeated ids add
    up, which ``np.add.at`` does and ``dtable[ids] += dy`` would not)."""
    dtable = np.zeros((vocab_size, dy.shape[1]))
    np.add.at(dtable, ids, dy)
    return dtable
