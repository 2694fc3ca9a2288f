"""Convolution, pooling, upsampling and batch normalisation in plain NumPy: slow, short, and
the definition the fast kernels in ``dlkit.kernels`` are tested against.

Channels-last throughout: x (N, H, W, C); a Conv2D kernel w is (kh, kw, C, F) as in Keras.
Output sizes follow ``dlkit.layers.geometry`` (valid: H' = (H - k) // s + 1; same: ceil(H / s)).
A convolution in deep learning is a cross-correlation (the kernel is not flipped):

    z[n, i, j, f] = b[f] + sum_{di, dj, c} x_pad[n, i*sh + di, j*sw + dj, c] * w[di, dj, c, f]
"""
import numpy as np

from ..layers.geometry import pad_amounts, window_geometry


def _pad(x, kernel, strides, padding, value=0.0):
    """x padded so that every window of the output lies inside it, and (H', W')."""
    (h, w), (kh, kw), (sh, sw) = x.shape[1:3], kernel, strides
    ho, wo, pt, pl = window_geometry((h, w), kernel, strides, padding, "reference")
    pb = max((ho - 1) * sh + kh - h - pt, 0)
    pr = max((wo - 1) * sw + kw - w - pl, 0)
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=value), (ho, wo, pt, pl)


def conv2d_forward(x, w, b, strides=(1, 1), padding="valid"):
    """z = x * w + b. x: (N, H, W, C), w: (kh, kw, C, F), b: (F,) -> z: (N, H', W', F)."""
    kh, kw = w.shape[:2]
    xp, (ho, wo, _, _) = _pad(x, (kh, kw), strides, padding)
    sh, sw = strides
    z = np.empty((x.shape[0], ho, wo, w.shape[3]))
    for i in range(ho):
        for j in range(wo):
            window = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]   # (N, kh, kw, C)
            z[:, i, j, :] = np.tensordot(window, w, axes=3) + b
    return z


def conv2d_backward(x, w, dz, strides=(1, 1), padding="valid"):
    """Given dz = dL/dz (N, H', W', F): dx (N, H, W, C), dw (kh, kw, C, F), db (F,).

    Each output position sends dz back along the same window it read in forward:
    dx_window += dz[n, i, j] . w^T and dw += window^T . dz[:, i, j].
    """
    kh, kw = w.shape[:2]
    h, wd = x.shape[1:3]
    xp, (ho, wo, pt, pl) = _pad(x, (kh, kw), strides, padding)
    sh, sw = strides
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(ho):
        for j in range(wo):
            rows, cols = slice(i * sh, i * sh + kh), slice(j * sw, j * sw + kw)
            dxp[:, rows, cols, :] += np.tensordot(dz[:, i, j, :], w, axes=(1, 3))
            dw += np.tensordot(xp[:, rows, cols, :], dz[:, i, j, :], axes=(0, 0))
    return dxp[:, pt:pt + h, pl:pl + wd, :], dw, dz.sum(axis=(0, 1, 2))


def im2col(x, kernel, strides=(1, 1), padding="valid"):
    """Every window of x as a row: (N H' W', kh kw C), rows in (n, i, j) order, columns in
    (di, dj, c) order, so conv2d_forward(x, w, b) = im2col(x) @ w.reshape(-1, F) + b."""
    (kh, kw), (sh, sw) = kernel, strides
    xp, (ho, wo, _, _) = _pad(x, kernel, strides, padding)
    rows = [xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :].reshape(len(x), -1)
            for i in range(ho) for j in range(wo)]
    return np.stack(rows, axis=1).reshape(len(x) * ho * wo, -1)


def col2im(cols, x_shape, kernel, strides=(1, 1), padding="valid"):
    """The adjoint of im2col: each row put back on its window of an array of x_shape,
    overlapping windows adding up, what fell in the padding dropped."""
    (kh, kw), (sh, sw) = kernel, strides
    h, w = x_shape[1:3]
    xp, (ho, wo, pt, pl) = _pad(np.zeros(x_shape), kernel, strides, padding)
    windows = cols.reshape(x_shape[0], ho, wo, kh, kw, x_shape[3])
    for i in range(ho):
        for j in range(wo):
            xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :] += windows[:, i, j]
    return xp[:, pt:pt + h, pl:pl + w, :]


def conv2d_transpose_forward(x, w, b, out_hw, strides=(1, 1), padding="valid"):
    """The transposed convolution: the input gradient of the convolution that maps
    (N, *out_hw, F) to x's shape, plus a bias. x: (N, H, W, C), w: (kh, kw, F, C) (Keras's
    Conv2DTranspose layout) -> (N, H_out, W_out, F)."""
    shape = (x.shape[0],) + tuple(out_hw) + (w.shape[2],)
    dx, _, _ = conv2d_backward(np.zeros(shape), w, x, strides, padding)
    return dx + b


def max_pool2d_forward(x, pool=(2, 2), strides=None, padding="valid"):
    """y[n, i, j, c] = max over the window; padding counts as -inf. Returns y and the flat
    (row-major within the window) index of the first maximum, which backward routes dy to."""
    strides = strides or pool
    xp, (ho, wo, _, _) = _pad(x, pool, strides, padding, value=-np.inf)
    (ph, pw), (sh, sw) = pool, strides
    y = np.empty((x.shape[0], ho, wo, x.shape[3]))
    arg = np.empty(y.shape, dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            window = xp[:, i * sh:i * sh + ph, j * sw:j * sw + pw, :].reshape(len(x), -1, x.shape[3])
            arg[:, i, j, :] = window.argmax(axis=1)
            y[:, i, j, :] = window.max(axis=1)
    return y, arg


def max_pool2d_backward(x, dy, arg, pool=(2, 2), strides=None, padding="valid"):
    """dx: dy goes to the position of each window's maximum, 0 elsewhere."""
    strides = strides or pool
    xp, (ho, wo, pt, pl) = _pad(x, pool, strides, padding)
    (ph, pw), (sh, sw) = pool, strides
    dxp = np.zeros_like(xp)
    n_idx, c_idx = np.meshgrid(np.arange(len(x)), np.arange(x.shape[3]), indexing="ij")
    for i in range(ho):
        for j in range(wo):
            di, dj = np.divmod(arg[:, i, j, :], pw)
            np.add.at(dxp, (n_idx, i * sh + di, j * sw + dj, c_idx), dy[:, i, j, :])
    return dxp[:, pt:pt + x.shape[1], pl:pl + x.shape[2], :]


def avg_pool2d_forward(x, pool=(2, 2), strides=None, padding="valid"):
    """y = mean of each window over the positions inside x (padding is not counted, as Keras)."""
    strides = strides or pool
    xp, (ho, wo, _, _) = _pad(x, pool, strides, padding)
    inside, _ = _pad(np.ones((1,) + x.shape[1:3] + (1,)), pool, strides, padding)
    (ph, pw), (sh, sw) = pool, strides
    y = np.empty((x.shape[0], ho, wo, x.shape[3]))
    for i in range(ho):
        for j in range(wo):
            rows, cols = slice(i * sh, i * sh + ph), slice(j * sw, j * sw + pw)
            y[:, i, j, :] = xp[:, rows, cols, :].sum(axis=(1, 2)) / inside[:, rows, cols, :].sum()
    return y


def avg_pool2d_backward(x, dy, pool=(2, 2), strides=None, padding="valid"):
    """dx: each window's dy / count, spread over the window's positions inside x."""
    strides = strides or pool
    xp, (ho, wo, pt, pl) = _pad(x, pool, strides, padding)
    inside, _ = _pad(np.ones((1,) + x.shape[1:3] + (1,)), pool, strides, padding)
    (ph, pw), (sh, sw) = pool, strides
    dxp = np.zeros_like(xp)
    for i in range(ho):
        for j in range(wo):
            rows, cols = slice(i * sh, i * sh + ph), slice(j * sw, j * sw + pw)
            share = dy[:, i, j, :] / inside[:, rows, cols, :].sum()
            dxp[:, rows, cols, :] += share[:, None, None, :] * inside[:, rows, cols, :]
    return dxp[:, pt:pt + x.shape[1], pl:pl + x.shape[2], :]


def upsampling2d_forward(x, size=(2, 2)):
    """Nearest neighbour: each pixel repeated size[0] x size[1] times."""
    return x.repeat(size[0], axis=1).repeat(size[1], axis=2)


def upsampling2d_backward(dy, size=(2, 2)):
    """dx: the sum of dy over each pixel's copies."""
    n, h, w, c = dy.shape
    return dy.reshape(n, h // size[0], size[0], w // size[1], size[1], c).sum(axis=(2, 4))


def batch_norm_forward(x, gamma, beta, eps=1e-3):
    """Training-mode batch normalisation over every axis but the last (Ioffe & Szegedy 2015):
    x_hat = (x - mean) / sqrt(var + eps), y = gamma x_hat + beta. Returns y, mean, var."""
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta, mean, var


def batch_norm_backward(x, gamma, dy, eps=1e-3):
    """dx, dgamma, dbeta of training-mode batch normalisation (m = values per channel):
    dx = gamma / sqrt(var + eps) * (dy - mean(dy) - x_hat * mean(dy * x_hat))."""
    axes = tuple(range(x.ndim - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    x_hat = (x - mean) / np.sqrt(var + eps)
    dgamma, dbeta = (dy * x_hat).sum(axis=axes), dy.sum(axis=axes)
    dx = gamma / np.sqrt(var + eps) * (dy - dy.mean(axis=axes) - x_hat * (dy * x_hat).mean(axis=axes))
    return dx, dgamma, dbeta


def batch_norm_inference(x, gamma, beta, moving_mean, moving_var, eps=1e-3):
    """Inference mode: the moving statistics in place of the batch's,
    y = gamma (x - moving_mean) / sqrt(moving_var + eps) + beta."""
    return gamma * (x - moving_mean) / np.sqrt(moving_var + eps) + beta
