"""Numerical gradient checks: does ``backward`` compute the derivative of ``forward``?

Central differences in float64 (CS231n's recipe): for each coordinate,
    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h),   error O(h^2),
compared with the analytic gradient a by the norm-wise relative error
    ||a - n|| / (||a|| + ||n||).
A correct float64 implementation gives ~1e-9; a wrong one ~1e-3 to 1. (The entry-wise version,
max_i |a_i - n_i| / (|a_i| + |n_i|), is too strict for entries near zero: finite-difference
noise of ~1e-10 on an entry of 1e-6 already reads as 1e-4.)

For a layer, the scalar checked is L = sum(forward(x) * dy) + added_loss() for a fixed random
dy, so that dL/dy = dy and ``backward(dy)`` must return dL/dx and fill ``grads`` with
dL/dparams, including the gradient of any term the layer adds to the loss (an L2 penalty, a
VAE's KL divergence).
"""
import numpy as np

from .words import say

__all__ = ["numerical_gradient", "rel_error", "compare", "check_layer", "check_loss",
           "GradCheckResult"]


def rel_error(a, b, tiny=1e-300):
    """||a - b|| / (||a|| + ||b||): 0 for equal arrays, 1 for opposite ones."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom > tiny else 0.0


def compare(name, a, b, tol=1e-6, labels=("NumPy", "dlkit"), relative=False):
    """Print and return whether two arrays agree: the book's line for "ours equals theirs".

        compare("conv forward", Z_numpy, layer.forward(x))
        # conv forward: max |NumPy - dlkit| = 2.4e-08 < 1e-06: True

    The largest absolute difference (or, with ``relative=True``, ``rel_error(a, b)``, the
    right measure for an analytic against a numerical gradient) is printed for the reader;
    its digits depend on the order of float sums, so the book's nbval sanitiser replaces the
    number and compares the verdict after it. Raises ValueError if the shapes differ. After
    ``dlkit.config.set_language("zh")`` the line is Chinese:
    ``梯度检查：相对误差(解析, 数值) = 3.3e-10 < 1e-07：True``.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{name}: shapes differ: {labels[0]} {a.shape} vs {labels[1]} {b.shape}")
    if relative:
        diff, what = rel_error(a, b), say("relative error({a}, {b})", a=labels[0], b=labels[1])
    else:
        diff, what = (float(np.max(np.abs(a - b))) if a.size else 0.0), f"max |{labels[0]} - {labels[1]}|"
    ok = bool(np.isfinite(diff) and diff < tol)
    print(say("{name}: {what} = {diff:.1e} < {tol:.0e}: {ok}", name=name, what=what, diff=diff,
              tol=tol, ok=ok))
    return ok


def numerical_gradient(f, x, h=1e-6):
    """d f / d x by central differences; f() -> float reads x, which is perturbed in place."""
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = f()
        flat[i] = old - h
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return grad


class GradCheckResult(dict):
    """{"x": rel. error of dL/dx, "<param name>": rel. error, ...}; ``.max`` is the worst."""

    @property
    def max(self):
        return max(self.values()) if self else 0.0

    def __repr__(self):
        return "GradCheck(" + ", ".join(f"{k}: {v:.2e}" for k, v in self.items()) + ")"


def check_layer(layer, x, training=False, h=1e-6, seed=0, check_input=True):
    """Relative errors of ``layer.backward`` against central differences, per array.

    layer: built with dtype="float64"; x: float64 input (N, ...). Layers that draw random
    numbers in training (Dropout, noise) have their generator state replayed for every
    forward pass, so each pass sees the same mask.
    """
    x = np.array(x, dtype=np.float64)
    rng_state = getattr(getattr(layer, "_rng", None), "bit_generator", None)
    state = rng_state.state if rng_state is not None else None

    def fwd():
        if state is not None:
            layer._rng.bit_generator.state = state
        return layer.forward(x, training=training)

    y = fwd()
    if y.dtype != np.float64:
        raise TypeError(f"gradient checks need float64: build the layer with dtype='float64' "
                        f"(its output is {y.dtype})")
    dy = np.random.default_rng(seed).standard_normal(y.shape)
    def loss():
        return float(np.sum(fwd() * dy) + layer.added_loss())

    fwd()
    dx = layer.backward(dy.copy())
    analytic = {name: g.copy() for name, g in zip(layer.param_names, layer.grads)}
    result = GradCheckResult()
    if check_input:
        result["x"] = rel_error(dx, numerical_gradient(loss, x, h))
    for name, p in zip(layer.param_names, layer.params):
        result[name] = rel_error(analytic[name], numerical_gradient(loss, p, h))
    return result


def check_loss(loss, y_true, y_pred, h=1e-6):
    """Relative error of ``loss.value_and_grad`` (mean loss) against central differences."""
    y_pred = np.array(y_pred, dtype=np.float64)
    k = y_pred.shape[-1]
    t = loss.prepare_targets(y_true, (None,) + y_pred.shape[1:], np.float64)
    t = t.reshape(-1) if loss.sparse else t.reshape(-1, k)
    rows = y_pred.size // k
    f = lambda: loss.value_and_grad(t, y_pred.reshape(-1, k))[0] / rows  # noqa: E731
    _, g = loss.value_and_grad(t, y_pred.reshape(-1, k))
    return rel_error(g.reshape(y_pred.shape), numerical_gradient(f, y_pred, h))
