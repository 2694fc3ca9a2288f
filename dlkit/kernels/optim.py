"""Optimizer update kernels (Keras 3 formulas), one fused loop per parameter array.

All arrays are 1-D views of one parameter: p (the weights), g (its gradient) and the
optimizer's state of the same length. Every kernel first forms the effective gradient
    g' = clip(g * gscale, -clipvalue, clipvalue)
(gscale < 1 implements clipnorm / global_clipnorm; clipvalue = inf means no value clipping),
applies decoupled weight decay p <- keep * p with keep = 1 - lr * wd (Loshchilov & Hutter
2019, as Keras does), then the rule itself. Nothing is allocated, and the loop bodies have no
branches, so LLVM vectorises them. Every scalar, including derived ones such as 1 - beta,
arrives in the arrays' dtype: Numba types `1 - beta` (int minus float32) as float64, and one
float64 scalar makes every float32 element go through a conversion.

Moving averages of gradients that are always zero (MNIST's blank border pixels) decay
geometrically into subnormal floats, on which the CPU is ~10x slower; ``_flush`` sets state
below 1e-30 to exactly 0. Such state moves no weight measurably (Adam's epsilon is 1e-7).
"""
import math

import numpy as np

from ._jit import jit

TINY = np.float32(1e-30)  # a float32 constant: comparing float32 state needs no conversion


@jit
def _flush(v):
    # v - v, not 0 * v: Numba types int * float32 as float64, and that one conversion per
    # element made SGD's update measurably slower (benchmarks/RESULTS.md). (Here |v| < TINY,
    # so v is finite and v - v is 0.)
    return v if abs(v) >= TINY else v - v


@jit
def sum_squares(g):
    """sum(g**2) in float64, for gradient-norm clipping."""
    s = 0.0
    for i in range(g.shape[0]):
        s += g[i] * g[i]
    return s


@jit
def sgd(p, g, v, lr, momentum, nesterov, keep, gscale, clipvalue):
    """Keras SGD: v <- momentum v - lr g;  p <- p + v  (Nesterov: p <- p + momentum v - lr g).

    With momentum 0 this is p <- p - lr g and v is not touched.
    """
    if momentum == 0:
        for i in range(p.shape[0]):
            gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
            p[i] = keep * p[i] - lr * gi
        return
    if nesterov:
        for i in range(p.shape[0]):
            gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
            vi = _flush(momentum * v[i] - lr * gi)
            v[i] = vi
            p[i] = keep * p[i] + momentum * vi - lr * gi
        return
    for i in range(p.shape[0]):
        gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
        vi = _flush(momentum * v[i] - lr * gi)
        v[i] = vi
        p[i] = keep * p[i] + vi


@jit
def adagrad(p, g, acc, lr, eps, keep, gscale, clipvalue):
    """AdaGrad (Duchi et al. 2011): acc <- acc + g^2;  p <- p - lr g / sqrt(acc + eps).

    acc is a running *sum*: the step size only ever shrinks.
    """
    for i in range(p.shape[0]):
        gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
        acc[i] += gi * gi
        p[i] = keep * p[i] - lr * gi / math.sqrt(acc[i] + eps)


@jit
def rmsprop(p, g, s, mom, mg, lr, rho, one_m_rho, momentum, eps, centered, keep, gscale,
            clipvalue):
    """RMSprop (Hinton 2012): s <- rho s + (1 - rho) g^2, an exponential moving average, not a sum;
    step = lr g / sqrt(s - mg^2 + eps) (mg, the average gradient, only when centered);
    with momentum: mom <- momentum mom + step, p <- p - mom; else p <- p - step.
    one_m_rho = 1 - rho, in the arrays' dtype.
    """
    for i in range(p.shape[0]):
        gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
        s[i] = _flush(rho * s[i] + one_m_rho * gi * gi)
        denom = s[i] + eps
        if centered:
            mg[i] = _flush(rho * mg[i] + one_m_rho * gi)
            denom -= mg[i] * mg[i]
        step = lr * gi / math.sqrt(denom)
        if momentum > 0:
            mom[i] = _flush(momentum * mom[i] + step)
            step = mom[i]
        p[i] = keep * p[i] - step


@jit
def adam(p, g, m, v, vmax, alpha, one_m_b1, one_m_b2, eps, amsgrad, keep, gscale, clipvalue):
    """Adam (Kingma & Ba 2015):
    m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);
    p <- p - alpha m / (sqrt(v) + eps),  where the caller passes the bias-corrected step
    alpha = lr sqrt(1 - b2^t) / (1 - b1^t) for step t = 1, 2, ..., and 1 - b1, 1 - b2.
    With amsgrad, vmax <- max(vmax, v) replaces v in the denominator.
    """
    if amsgrad:
        for i in range(p.shape[0]):
            gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
            m[i] = _flush(m[i] + one_m_b1 * (gi - m[i]))
            v[i] = _flush(v[i] + one_m_b2 * (gi * gi - v[i]))
            vmax[i] = max(vmax[i], v[i])
            p[i] = keep * p[i] - alpha * m[i] / (math.sqrt(vmax[i]) + eps)
        return
    for i in range(p.shape[0]):
        gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
        m[i] = _flush(m[i] + one_m_b1 * (gi - m[i]))
        v[i] = _flush(v[i] + one_m_b2 * (gi * gi - v[i]))
        p[i] = keep * p[i] - alpha * m[i] / (math.sqrt(v[i]) + eps)
