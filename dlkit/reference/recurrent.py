"""Plain NumPy SimpleRNN, LSTM and GRU: forward and backpropagation through time, one step at a
time, batch-first, exactly as the formulas read. The Numba kernels in
``dlkit.kernels.recurrent`` are tested against these; the book shows them side by side.

Shapes: x (N, T, D); kernel W (D, G*u), recurrent kernel U (u, G*u) with G gates (Keras layout);
h0 (N, u). Each forward returns (hs, cache) with hs: (N, T, u) the hidden state of every step.
Each backward takes dhs: (N, T, u) = dL/dh_t for every step and returns
(dx, dW, dU, db, dh0).

mask (N, T), optional (``Embedding(mask_zero=True)``): where it is 0 the step is skipped, the
state carried over unchanged (h_t = h_{t-1}, c_t = c_{t-1}), as Keras does; backward then
passes the state's gradient straight through that step.
"""
import numpy as np

from .activations import sigmoid


def _keep(mask, x):
    """(N, T, 1): 1 where a step runs, 0 where it is skipped."""
    return np.ones(x.shape[:2] + (1,)) if mask is None else mask[:, :, None].astype(float)


# -- SimpleRNN: h_t = tanh(x_t W + h_{t-1} U + b) -----------------------------------------------
def simple_rnn_forward(x, W, U, b, h0, mask=None):
    N, T, _ = x.shape
    keep = _keep(mask, x)
    h, hs = h0, []
    for t in range(T):
        k = keep[:, t]
        h = k * np.tanh(x[:, t] @ W + h @ U + b) + (1 - k) * h
        hs.append(h)
    hs = np.stack(hs, axis=1)
    return hs, (x, W, U, h0, hs, keep)


def simple_rnn_backward(dhs, cache):
    x, W, U, h0, hs, keep = cache
    T = x.shape[1]
    dx, dW, dU, db = np.zeros_like(x), np.zeros_like(W), np.zeros_like(U), np.zeros(W.shape[1])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = hs[:, t - 1] if t > 0 else h0
        k = keep[:, t]
        dh = dhs[:, t] + dh_next
        dz = k * dh * (1 - hs[:, t] ** 2)                     # tanh' = 1 - h^2
        dx[:, t] = dz @ W.T
        dW += x[:, t].T @ dz
        dU += h_prev.T @ dz
        db += dz.sum(0)
        dh_next = dz @ U.T + (1 - k) * dh
    return dx, dW, dU, db, dh_next


# -- LSTM, Keras gate order [i, f, c, o] ---------------------------------------------------------
def lstm_forward(x, W, U, b, h0, c0, mask=None):
    N, T, _ = x.shape
    u = U.shape[0]
    keep = _keep(mask, x)
    h, c, hs, steps = h0, c0, [], []
    for t in range(T):
        z = x[:, t] @ W + h @ U + b
        i, f, o = sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u]), sigmoid(z[:, 3 * u:])
        g = np.tanh(z[:, 2 * u:3 * u])
        c_prev, h_prev, k = c, h, keep[:, t]
        c_new = f * c_prev + i * g
        c = k * c_new + (1 - k) * c_prev
        h = k * o * np.tanh(c_new) + (1 - k) * h_prev
        hs.append(h)
        steps.append((x[:, t], h_prev, c_prev, i, f, g, o, c_new, k))
    return np.stack(hs, axis=1), (W, U, steps)


def lstm_backward(dhs, cache, dc_last=None):
    """Also returns dc0 (dL/dc_0) after dh0; dc_last is dL/dc_T (default zero)."""
    W, U, steps = cache
    u = U.shape[0]
    dx = np.zeros((dhs.shape[0], dhs.shape[1], W.shape[0]))
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros(W.shape[1])
    dh_next = np.zeros_like(dhs[:, 0])
    dc_next = np.zeros_like(dh_next) if dc_last is None else dc_last
    for t in reversed(range(len(steps))):
        x_t, h_prev, c_prev, i, f, g, o, c, k = steps[t]
        dh = dhs[:, t] + dh_next
        tc = np.tanh(c)
        do = k * dh * tc
        dc = k * (dc_next + dh * o * (1 - tc ** 2))
        di, df, dg = dc * g, dc * c_prev, dc * i
        dz = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2),
                             do * o * (1 - o)], axis=1)
        dx[:, t] = dz @ W.T
        dW += x_t.T @ dz
        dU += h_prev.T @ dz
        db += dz.sum(0)
        dh_next, dc_next = dz @ U.T + (1 - k) * dh, dc * f + (1 - k) * dc_next
    return dx, dW, dU, db, dh_next, dc_next


# -- GRU, Keras's default reset_after=True, gate order [z, r, h], bias (2, 3u) ------------------
def gru_forward(x, W, U, b, h0, mask=None):
    N, T, _ = x.shape
    u = U.shape[0]
    keep = _keep(mask, x)
    h, hs, steps = h0, [], []
    for t in range(T):
        xp = x[:, t] @ W + b[0]            # input projection
        rp = h @ U + b[1]                  # recurrent projection (reset applied after it)
        z = sigmoid(xp[:, :u] + rp[:, :u])
        r = sigmoid(xp[:, u:2 * u] + rp[:, u:2 * u])
        hh = np.tanh(xp[:, 2 * u:] + r * rp[:, 2 * u:])
        h_prev, k = h, keep[:, t]
        h = k * (z * h_prev + (1 - z) * hh) + (1 - k) * h_prev
        hs.append(h)
        steps.append((x[:, t], h_prev, z, r, hh, rp[:, 2 * u:], k))
    return np.stack(hs, axis=1), (W, U, steps)


def gru_backward(dhs, cache):
    W, U, steps = cache
    dx = np.zeros((dhs.shape[0], dhs.shape[1], W.shape[0]))
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros((2, W.shape[1]))
    dh_next = np.zeros_like(dhs[:, 0])
    for t in reversed(range(len(steps))):
        x_t, h_prev, z, r, hh, rp_h, k = steps[t]
        dh = dhs[:, t] + dh_next
        dz = k * dh * (h_prev - hh) * z * (1 - z)
        dhh = k * dh * (1 - z) * (1 - hh ** 2)
        dr = dhh * rp_h * r * (1 - r)
        dxp = np.concatenate([dz, dr, dhh], axis=1)          # w.r.t. x_t W + b_in
        drp = np.concatenate([dz, dr, dhh * r], axis=1)      # w.r.t. h_{t-1} U + b_rec
        dx[:, t] = dxp @ W.T
        dW += x_t.T @ dxp
        dU += h_prev.T @ drp
        db[0] += dxp.sum(0)
        db[1] += drp.sum(0)
        dh_next = k * dh * z + (1 - k) * dh + drp @ U.T
    return dx, dW, dU, db, dh_next
