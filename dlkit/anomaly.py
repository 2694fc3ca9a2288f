"""Anomaly detection with an autoencoder: score each sample by how badly it is reconstructed.

An autoencoder trained on normal data only (say, handwritten digits) learns to rebuild what
it has seen; an input unlike the training data (a letter, a smudge, an inverted digit) comes
back changed, so its reconstruction error is large:

    scores = reconstruction_error(autoencoder, x)              # (N,), one score per sample
    limit = threshold(reconstruction_error(autoencoder, x_normal_val), quantile=0.99)
    flagged = scores > limit                                    # about 1% false alarms
    roc_auc(scores_normal, scores_anomalous)                    # 1.0 = perfectly separated

``dlkit.viz.plot_anomaly_scores`` draws the two histograms and the threshold.
"""
import numpy as np

__all__ = ["reconstruction_error", "threshold", "roc_auc"]

_EPS = 1e-7  # Keras clips probabilities to [eps, 1 - eps] in binary cross-entropy


def reconstruction_error(model, x, target=None, loss="mse", batch_size=256):
    """Per-sample reconstruction error: (N, ...) -> (N,), float64.

    model: an autoencoder (anything with ``predict``), or the reconstructions themselves as an
        array of x's shape; target: what the reconstruction should equal (default x; a
        denoising autoencoder is scored against the clean images).
    loss: "mse" (mean (x - x_hat)^2), "mae" (mean |x - x_hat|) or "binary_crossentropy"
        (mean -[t log p + (1 - t) log(1 - p)], for sigmoid outputs), each a mean over all
        values of a sample, as the training losses are.
    """
    x = np.asarray(x)
    x_hat = model.predict(x, batch_size=batch_size) if hasattr(model, "predict") else model
    x_hat = np.asarray(x_hat, dtype=np.float64)
    t = np.asarray(x if target is None else target, dtype=np.float64)
    if x_hat.shape != t.shape:
        raise ValueError(f"reconstructions have shape {x_hat.shape} but the targets have shape "
                         f"{t.shape}; an autoencoder's output must have its input's shape")
    n = len(t)
    t, x_hat = t.reshape(n, -1), x_hat.reshape(n, -1)
    if loss in ("mse", "mean_squared_error"):
        return np.mean((t - x_hat) ** 2, axis=1)
    if loss in ("mae", "mean_absolute_error"):
        return np.mean(np.abs(t - x_hat), axis=1)
    if loss in ("bce", "binary_crossentropy"):
        p = np.clip(x_hat, _EPS, 1 - _EPS)
        return -np.mean(t * np.log(p) + (1 - t) * np.log1p(-p), axis=1)
    raise ValueError(f"unknown reconstruction loss {loss!r}; use 'mse', 'mae' or "
                     "'binary_crossentropy'")


def threshold(normal_scores, quantile=0.99):
    """The score above which a sample is called anomalous: the ``quantile`` of the scores of
    normal (held-out) samples, so about (1 - quantile) of normal samples raise a false alarm."""
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
    return float(np.quantile(np.asarray(normal_scores, dtype=np.float64), quantile))


def roc_auc(normal_scores, anomalous_scores):
    """Area under the ROC curve of the scores: the probability that a random anomalous sample
    scores higher than a random normal one (ties count 1/2); 0.5 is chance, 1 is perfect.
    Computed from ranks (the Mann-Whitney U statistic), with no threshold to choose."""
    a = np.asarray(normal_scores, dtype=np.float64).ravel()
    b = np.asarray(anomalous_scores, dtype=np.float64).ravel()
    if not len(a) or not len(b):
        raise ValueError("roc_auc needs at least one normal and one anomalous score")
    both = np.concatenate([a, b])
    order = np.argsort(both, kind="mergesort")
    ranks = np.empty(len(both))
    ranks[order] = np.arange(1, len(both) + 1)
    # tied scores share the mean of their ranks
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]
    u = ranks[len(a):].sum() - len(b) * (len(b) + 1) / 2
    return float(u / (len(a) * len(b)))
