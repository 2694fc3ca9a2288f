"""Knowledge distillation (chapter 11, Hinton, Vinyals and Dean 2015): the teacher's soft
targets for a student model."""
import numpy as np

from .classification import _labels

__all__ = ["soften", "distillation_targets"]


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
