"""Loss kernels: value (summed over the batch) and gradient in one pass.

Keras's reduction is the mean over the batch of per-sample losses; the per-sample loss of
MSE and binary cross-entropy is itself a mean over the last axis, that of categorical
cross-entropy a sum over classes. Kernels return the *sum* over samples and write the gradient
of the *mean* (scaled by ``inv_n``), so the caller can average over an epoch exactly.

The ``*_logits`` kernels are the fused heads: softmax + categorical cross-entropy and
sigmoid + binary cross-entropy computed from the logits z with log-sum-exp, finite for any z
(logits of +-1000 included), with the famously simple gradient p - y.
"""

from . import _fastmath as fm
from ._jit import jit
from .activations import ONE, ZERO

EPS = 1e-7  # Keras's backend epsilon: probabilities are clipped to [EPS, 1 - EPS]


@jit
def mse(p, t, inv_n, dp):
    """sum_n mean_k (p - t)^2 and dp = 2 (p - t) / (N K). p, t, dp: (N, K)."""
    n, k = p.shape
    total = 0.0
    scale = 2.0 * inv_n / k
    for i in range(n):
        s = 0.0
        for j in range(k):
            d = p[i, j] - t[i, j]
            s += d * d
            dp[i, j] = scale * d
        total += s / k
    return total


@jit
def mae(p, t, inv_n, dp):
    """sum_n mean_k |p - t| and its (sub)gradient sign(p - t) / (N K)."""
    n, k = p.shape
    total = 0.0
    scale = inv_n / k
    for i in range(n):
        s = 0.0
        for j in range(k):
            d = p[i, j] - t[i, j]
            s += abs(d)
            dp[i, j] = scale if d > 0 else (-scale if d < 0 else 0.0)
        total += s / k
    return total


@jit
def categorical_crossentropy(p, t, inv_n, dp):
    """From probabilities: sum_n -sum_k t log clip(p), dp = -t / clip(p) / N (0 where clipped)."""
    n, k = p.shape
    total = 0.0
    for i in range(n):
        # Keras renormalises the probabilities to sum to one before taking the log.
        s = 0.0
        for j in range(k):
            s += p[i, j]
        tin = 0.0  # sum of targets over unclipped entries (clipped ones have no gradient)
        for j in range(k):
            q = p[i, j] / s
            qc = min(max(q, EPS), 1.0 - EPS)
            total -= t[i, j] * fm.log(qc)
            if EPS <= q <= 1.0 - EPS:
                dp[i, j] = -t[i, j] / (qc * s) * inv_n
                tin += t[i, j]
            else:
                dp[i, j] = 0.0
        # the renormalisation q = p / s adds sum_k t_k / s to every dp_j
        for j in range(k):
            dp[i, j] += tin / s * inv_n
    return total


@jit
def sparse_categorical_crossentropy(p, labels, inv_n, dp):
    """As categorical_crossentropy with integer labels (N,) instead of one-hot targets."""
    n, k = p.shape
    total = 0.0
    for i in range(n):
        s = 0.0
        for j in range(k):
            s += p[i, j]
        c = labels[i]
        q = p[i, c] / s
        qc = min(max(q, EPS), 1.0 - EPS)
        total -= fm.log(qc)
        inside = EPS <= q <= 1.0 - EPS
        for j in range(k):
            dp[i, j] = inv_n / s if inside else 0.0
        if inside:
            dp[i, c] -= inv_n / (qc * s)
    return total


@jit
def binary_crossentropy(p, t, inv_n, dp):
    """From probabilities: sum_n mean_k -(t log p + (1-t) log(1-p)), p clipped to [EPS, 1-EPS]."""
    n, k = p.shape
    total = 0.0
    scale = inv_n / k
    for i in range(n):
        s = 0.0
        for j in range(k):
            q = p[i, j]
            qc = min(max(q, EPS), 1.0 - EPS)
            s -= t[i, j] * fm.log(qc) + (1.0 - t[i, j]) * fm.log(1.0 - qc)
            if EPS <= q <= 1.0 - EPS:
                dp[i, j] = scale * (qc - t[i, j]) / (qc * (1.0 - qc))
            else:
                dp[i, j] = 0.0
        total += s / k
    return total


@jit
def softmax_crossentropy_logits(z, t, inv_n, p, dz):
    """Fused softmax + categorical cross-entropy from logits z: (N, K), targets t: (N, K).

    loss_n = sum_k t_k (lse(z_n) - z_nk); dz = (softmax(z) sum_k t_k - t) / N. Also writes
    p = softmax(z) (the layer's output, for metrics). Returns (summed loss, hits), hits being
    the rows where argmax z == argmax t: categorical accuracy, counted in the same pass (argmax
    z is argmax softmax(z)).
    """
    n, k = z.shape
    total = 0.0
    hits = 0
    for i in range(n):
        m = z[i, 0]
        a = 0
        b = 0
        for j in range(1, k):
            if z[i, j] > m:
                m = z[i, j]
                a = j
            if t[i, j] > t[i, b]:
                b = j
        hits += a == b
        s = ZERO * m          # accumulate in the logits' dtype (float32 stays float32)
        for j in range(k):
            e = fm.exp(z[i, j] - m)
            p[i, j] = e
            s += e
        lse = m + fm.log(s)
        inv = ONE / s
        tsum = 0.0
        for j in range(k):
            p[i, j] *= inv
            tsum += t[i, j]
            total += t[i, j] * (lse - z[i, j])
        for j in range(k):
            dz[i, j] = (p[i, j] * tsum - t[i, j]) * inv_n
    return total, hits


@jit
def sparse_softmax_crossentropy_logits(z, labels, inv_n, p, dz):
    """As softmax_crossentropy_logits with integer labels (N,); hits: argmax z == label."""
    n, k = z.shape
    total = 0.0
    hits = 0
    for i in range(n):
        m = z[i, 0]
        a = 0
        for j in range(1, k):
            if z[i, j] > m:
                m = z[i, j]
                a = j
        s = ZERO * m          # accumulate in the logits' dtype (float32 stays float32)
        for j in range(k):
            e = fm.exp(z[i, j] - m)
            p[i, j] = e
            s += e
        c = labels[i]
        hits += a == c
        total += m + fm.log(s) - z[i, c]
        inv = ONE / s
        for j in range(k):
            p[i, j] *= inv
            dz[i, j] = p[i, j] * inv_n
        dz[i, c] -= inv_n
    return total, hits


@jit
def sigmoid_crossentropy_logits(z, p, t, scale, dz):
    """Fused sigmoid + binary cross-entropy from logits z: (N, K), with p = sigmoid(z) given
    (the layer's output, already computed in the forward pass).

    loss = max(z, 0) - z t + log(1 + e^-|z|), finite for any z, where
    log(1 + e^-|z|) = -log(sigmoid(|z|)) = -log(max(p, 1 - p)): one log per element, no exp;
    mean over k. dz = (p - t) * scale with scale = 1 / (N K) in the arrays' dtype.
    """
    n, k = z.shape
    total = 0.0
    for i in range(n):
        s = ZERO * scale      # a row's sum in the arrays' dtype, so the loop vectorises
        for j in range(k):
            v, q = z[i, j], p[i, j]
            s += max(v, ZERO) - v * t[i, j] - fm.log(max(q, ONE - q))
            dz[i, j] = (q - t[i, j]) * scale
        total += s / k
    return total
