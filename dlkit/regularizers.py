"""Weight penalties added to the loss: L1, L2 (Keras names and formulas).

L2(l2)(w) = l2 * sum(w^2), gradient 2 * l2 * w;  L1(l1)(w) = l1 * sum(|w|), gradient l1 * sign(w).
"""
import numpy as np


class L1L2:
    def __init__(self, l1=0.0, l2=0.0):
        if l1 < 0 or l2 < 0:
            raise ValueError(f"regularization factors must be >= 0, got l1={l1}, l2={l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        return self.l1 * float(np.abs(w).sum()) + self.l2 * float(np.square(w, dtype=np.float64).sum())

    def add_gradient(self, w, dw):
        """dw += d(penalty)/dw, in place."""
        if self.l2:
            dw += (2 * self.l2) * w
        if self.l1:
            dw += self.l1 * np.sign(w)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self):
        return f"L1L2(l1={self.l1}, l2={self.l2})"


def L1(l1=0.01):
    return L1L2(l1=l1)


def L2(l2=0.01):
    return L1L2(l2=l2)


def get(identifier):
    """None, an L1L2, a config dict, "l1"/"l2" (factor 0.01 as Keras), or a float (L2 factor)."""
    if identifier is None or isinstance(identifier, L1L2):
        return identifier
    if isinstance(identifier, dict):
        return L1L2(**identifier)
    if identifier == "l2":
        return L2()
    if identifier == "l1":
        return L1()
    if isinstance(identifier, (int, float)):
        return L2(identifier)
    raise ValueError(f"unknown regularizer {identifier!r}; use dlkit.regularizers.L2(0.01), "
                     "L1(0.01), L1L2(l1, l2), 'l1', 'l2' or None")
