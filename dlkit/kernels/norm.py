"""Batch normalisation kernels on rows: x2 (M, C), one column per channel (every axis but the
last flattened into M rows), as ``dlkit.layers.normalization`` passes them."""
import math

from ._jit import jit


@jit
def forward_train(x2, gamma, beta, eps, mean, var, inv_std, x_hat, y2):
    """mean, var (biased) per column; x_hat = (x - mean) inv_std, inv_std = 1/sqrt(var + eps);
    y = gamma x_hat + beta. Two passes over x2 (a one-pass sum of squares loses precision)."""
    m, c = x2.shape
    for k in range(c):
        mean[k] = 0.0
        var[k] = 0.0
    for r in range(m):
        for k in range(c):
            mean[k] += x2[r, k]
    for k in range(c):
        mean[k] /= m
    for r in range(m):
        for k in range(c):
            d = x2[r, k] - mean[k]
            var[k] += d * d
    for k in range(c):
        var[k] /= m
        inv_std[k] = 1.0 / math.sqrt(var[k] + eps)
    for r in range(m):
        for k in range(c):
            x_hat[r, k] = (x2[r, k] - mean[k]) * inv_std[k]
            y2[r, k] = gamma[k] * x_hat[r, k] + beta[k]


@jit
def backward_train(dy2, x_hat, gamma, inv_std, dgamma, dbeta, dx2, need_dx):
    """dbeta = sum dy, dgamma = sum dy x_hat,
    dx = gamma inv_std (dy - dbeta / M - x_hat dgamma / M)   (Ioffe & Szegedy 2015)."""
    m, c = dy2.shape
    for k in range(c):
        dgamma[k] = 0.0
        dbeta[k] = 0.0
    for r in range(m):
        for k in range(c):
            dbeta[k] += dy2[r, k]
            dgamma[k] += dy2[r, k] * x_hat[r, k]
    if need_dx:
        for r in range(m):
            for k in range(c):
                dx2[r, k] = gamma[k] * inv_std[k] * (dy2[r, k] - (dbeta[k] + x_hat[r, k] * dgamma[k]) / m)


@jit
def scale_shift(x2, scale, shift, y2):
    """y = x scale + shift per column (inference: the moving statistics folded into gamma, beta)."""
    m, c = x2.shape
    for r in range(m):
        for k in range(c):
            y2[r, k] = x2[r, k] * scale[k] + shift[k]
