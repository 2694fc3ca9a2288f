"""The losses in plain NumPy, with Keras's reduction: the mean over the batch of per-sample
losses (MSE, MAE and binary cross-entropy average over the last axis per sample, categorical
cross-entropy sums over the classes).

Each takes predictions and targets of shape (N, K) (sparse ones: integer labels (N,)) and
returns (loss, gradient of the loss with respect to the predictions or logits). Probabilities
are clipped to [EPS, 1 - EPS] before the log, as Keras does; where the clip is active its
gradient is 0.
"""
import numpy as np

from .activations import sigmoid, softmax

EPS = 1e-7          # Keras's backend epsilon


def one_hot(labels, k):
    return np.eye(k)[labels]


def mse(p, t):
    """mean (p - t)^2;  dp = 2 (p - t) / (N K)."""
    return ((p - t) ** 2).mean(), 2 * (p - t) / p.size


def mae(p, t):
    """mean |p - t|;  dp = sign(p - t) / (N K)."""
    return np.abs(p - t).mean(), np.sign(p - t) / p.size


def binary_crossentropy(p, t):
    """mean -(t log p + (1 - t) log(1 - p)), p clipped."""
    q = np.clip(p, EPS, 1 - EPS)
    loss = -(t * np.log(q) + (1 - t) * np.log(1 - q)).mean()
    return loss, (p == q) * (q - t) / (q * (1 - q)) / p.size


def categorical_crossentropy(p, t):
    """Keras first rescales each row of p to sum to 1: q = p / s; then
    mean_n -sum_k t log q (q clipped); dp = (dq - sum_k dq q) / s by the quotient rule."""
    n = len(p)
    s = p.sum(axis=1, keepdims=True)
    q = p / s
    qc = np.clip(q, EPS, 1 - EPS)
    loss = -(t * np.log(qc)).sum(axis=1).mean()
    dq = (q == qc) * -t / qc / n
    return loss, (dq - (dq * q).sum(axis=1, keepdims=True)) / s


def sparse_categorical_crossentropy(p, labels):
    return categorical_crossentropy(p, one_hot(labels, p.shape[1]))


def softmax_crossentropy_logits(z, t):
    """Softmax and categorical cross-entropy from the logits z: loss_n = sum_k t_k (lse(z_n) -
    z_nk) with lse the log-sum-exp; dz = (p sum_k t_k - t) / N, p = softmax(z) (= (p - t) / N
    for one-hot t). Returns (loss, p, dz)."""
    m = z.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    p = softmax(z)
    loss = (t * (lse - z)).sum(axis=1).mean()
    return loss, p, (p * t.sum(axis=1, keepdims=True) - t) / len(z)


def sparse_softmax_crossentropy_logits(z, labels):
    return softmax_crossentropy_logits(z, one_hot(labels, z.shape[1]))


def sigmoid_crossentropy_logits(z, t):
    """Sigmoid and binary cross-entropy from the logits z: mean max(z, 0) - z t + log(1 + e^-|z|);
    dz = (sigmoid(z) - t) / (N K). Returns (loss, dz)."""
    loss = (np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))).mean()
    return loss, (sigmoid(z) - t) / z.size
