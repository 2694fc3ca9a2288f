"""Scaled dot-product attention (Vaswani et al., 2017), the core of a Transformer, in NumPy.

dlkit has no attention layer and no kernel for it: this is the definition chapter 12 of the
book shows as its pointer to Transformers, and the reference its exercise is checked against.

    scores = Q K^T / sqrt(d_k)          (..., T_q, T_k): how well each query matches each key
    A      = softmax(scores)            over the keys: each row of A sums to 1
    out    = A V                        (..., T_q, d_v): a weighted average of the values

Shapes: Q (..., T_q, d_k), K (..., T_k, d_k), V (..., T_k, d_v); leading axes (a batch,
heads) broadcast. ``causal=True`` lets query i see only keys j <= i, as in a decoder that
predicts the next token (GPT): the masked scores are -inf, so their weights are exactly 0.
Dividing by sqrt(d_k) keeps the scores' variance at 1 for unit-variance entries, so the
softmax does not saturate as d_k grows.
"""
import numpy as np

from .activations import softmax

__all__ = ["attention_weights", "scaled_dot_product_attention"]


def attention_weights(Q, K, causal=False):
    """A = softmax(Q K^T / sqrt(d_k)): (..., T_q, T_k); rows sum to 1."""
    Q, K = np.asarray(Q, dtype=np.float64), np.asarray(K, dtype=np.float64)
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(f"queries and keys need the same width d_k: {Q.shape} vs {K.shape}")
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if causal:
        t_q, t_k = scores.shape[-2:]
        if t_q != t_k:
            raise ValueError(f"causal attention needs as many queries as keys: {t_q} vs {t_k}")
        future = np.triu(np.ones((t_q, t_k), dtype=bool), k=1)     # key j > query i
        scores = np.where(future, -np.inf, scores)
    return softmax(scores)


def scaled_dot_product_attention(Q, K, V, causal=False):
    """softmax(Q K^T / sqrt(d_k)) V: (..., T_q, d_v)."""
    V = np.asarray(V, dtype=np.float64)
    A = attention_weights(Q, K, causal)
    if A.shape[-1] != V.shape[-2]:
        raise ValueError(f"one value per key: {A.shape[-1]} keys vs values {V.shape}")
    return A @ V
