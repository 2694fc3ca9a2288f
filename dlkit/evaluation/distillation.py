"""Knowledge distillation (chapter 11, Hinton, Vinyals and Dean 2015): the teacher's soft
targets for a student model, and the paper's loss with its gradient."""
import numpy as np

from .classification import _labels

__all__ = ["soften", "distillation_targets", "distillation_loss"]


def soften(probs, temperature):
    """Soft targets: softmax(log p / T) row by row. T = 1 returns p; T > 1 flattens the
    distribution and shows which wrong classes the teacher finds plausible ("dark knowledge",
    Hinton, Vinyals and Dean 2015). Equals softmax(z / T) when p = softmax(z). probs: (N, K)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    e = np.exp(logp)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def distillation_targets(teacher_probs, y, temperature=3.0, alpha=0.5):
    """Targets for a student trained with categorical cross-entropy:
    (1 - alpha) * onehot(y) + alpha * soften(teacher_probs, T). Shape (N, K).

    Deviation from Hinton et al.: they also raise the student's softmax to temperature T and
    scale that loss term by T^2; training the student at T = 1 on the mixed target keeps the
    ordinary Sequential/fit loop and works comparably on the book's small models.
    """
    p = soften(teacher_probs, temperature)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(p)), _labels(y, "y")] = 1.0
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    return ((1 - alpha) * onehot + alpha * p).astype(np.float32)


def _log_softmax(z):
    """log softmax(z) row by row, shifted by the row maximum so that exp cannot overflow."""
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def distillation_loss(y, student_logits, teacher_logits, temperature=3.0, alpha=0.5):
    """Hinton, Vinyals and Dean's (2015) distillation loss and its gradient, in float64.

    y: labels (N,) or one-hot rows (N, K); student_logits, teacher_logits: (N, K) scores before
    the softmax. With p = softmax(s), p^T = softmax(s / T), q^T = softmax(t / T):

        L = (1 - alpha) * mean_i CE(onehot(y_i), p_i) + alpha * T^2 * mean_i KL(q^T_i || p^T_i)
        dL/ds = [(1 - alpha) (p - onehot(y)) + alpha * T (p^T - q^T)] / N

    T^2 keeps the soft term's gradient, which carries a factor 1/T, on the scale of the hard
    term's as T changes (the paper's argument). KL instead of the cross-entropy to q^T: the
    same gradient, and 0 when the student matches the teacher. Returns (L, dL/ds of shape (N, K)).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    s = np.asarray(student_logits, dtype=np.float64)
    t = np.asarray(teacher_logits, dtype=np.float64)
    if s.ndim != 2 or s.shape != t.shape:
        raise ValueError(f"student and teacher logits must both be (N, K), got {s.shape} and "
                         f"{t.shape}")
    n, k = s.shape
    labels = _labels(y, "y")
    if labels.shape != (n,) or (n and (labels.min() < 0 or labels.max() >= k)):
        raise ValueError(f"y must hold {n} labels in [0, {k - 1}], got shape {np.shape(y)}")
    onehot = np.eye(k)[labels]
    log_p, log_pT, log_qT = (_log_softmax(s), _log_softmax(s / temperature),
                             _log_softmax(t / temperature))
    p, p_T, q_T = np.exp(log_p), np.exp(log_pT), np.exp(log_qT)
    hard = -np.sum(onehot * log_p) / n
    soft = np.sum(q_T * (log_qT - log_pT)) / n
    loss = (1 - alpha) * hard + alpha * temperature ** 2 * soft
    grad = ((1 - alpha) * (p - onehot) + alpha * temperature * (p_T - q_T)) / n
    return float(loss), grad
