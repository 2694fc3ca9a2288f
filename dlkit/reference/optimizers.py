"""One step of each optimizer in plain NumPy, Keras 3's formulas (CS231n's optim.py style:
the new parameters and state are returned, nothing is changed in place).

p: parameters, g: their gradient (already clipped: see ``clip``), state arrays of p's shape.
Weight decay is decoupled, as Keras does it: p <- p - lr * weight_decay * p before the rule.
"""
import numpy as np


def sum_squares(g):
    """||g||^2 (in float64): clipnorm scales g by min(1, clipnorm / ||g||), global_clipnorm by
    the same with the norm of all gradients together."""
    return float(np.square(g, dtype=np.float64).sum())


def clip(g, scale=1.0, clipvalue=np.inf):
    """The gradient a rule uses: g * scale (the norm clipping above), each element then
    clipped to [-clipvalue, clipvalue]."""
    return np.clip(g * scale, -clipvalue, clipvalue)


def sgd(p, g, v, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    """v <- momentum v - lr g;  p <- p + v (Nesterov: p <- p + momentum v - lr g).
    Returns (p, v); with momentum 0 this is p - lr g."""
    p = p - lr * weight_decay * p
    v = momentum * v - lr * g
    return p + (momentum * v - lr * g if nesterov else v), v


def adagrad(p, g, acc, lr, epsilon=1e-7, weight_decay=0.0):
    """acc <- acc + g^2 (a sum: the steps only shrink);  p <- p - lr g / sqrt(acc + eps)."""
    p = p - lr * weight_decay * p
    acc = acc + g ** 2
    return p - lr * g / np.sqrt(acc + epsilon), acc


def rmsprop(p, g, s, mom, mg, lr, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
            weight_decay=0.0):
    """s <- rho s + (1 - rho) g^2 (a moving average);  step = lr g / sqrt(s - mg^2 + eps)
    with mg <- rho mg + (1 - rho) g when centered (else mg = 0);  with momentum:
    mom <- momentum mom + step and p <- p - mom, else p <- p - step. Returns (p, s, mom, mg)."""
    p = p - lr * weight_decay * p
    s = rho * s + (1 - rho) * g ** 2
    if centered:
        mg = rho * mg + (1 - rho) * g
    step = lr * g / np.sqrt(s - (mg ** 2 if centered else 0) + epsilon)
    if momentum > 0:
        mom = momentum * mom + step
        step = mom
    return p - step, s, mom, mg


def adam(p, g, m, v, vmax, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
         weight_decay=0.0):
    """Step t = 1, 2, ...:  m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);
    p <- p - alpha m / (sqrt(v) + eps) with the bias correction alpha = lr sqrt(1 - b2^t) /
    (1 - b1^t); amsgrad: vmax <- max(vmax, v) takes v's place. Returns (p, m, v, vmax)."""
    p = p - lr * weight_decay * p
    m = m + (1 - beta_1) * (g - m)
    v = v + (1 - beta_2) * (g ** 2 - v)
    if amsgrad:
        vmax = np.maximum(vmax, v)
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return p - alpha * m / (np.sqrt(vmax if amsgrad else v) + epsilon), m, v, vmax
