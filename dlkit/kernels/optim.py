"""Optimizer update kernels (Keras 3 formulas), one fused loop per parameter array.

All arrays are 1-D views of one parameter: p (the weights), g (its gradient) and the
optimizer's state of the same length. Every kernel first forms the effective gradient
    g' = clip(g * gscale, -clipvalue, clipvalue)
(gscale < 1 implements clipnorm / global_clipnorm; clipvalue = inf means no value clipping),
applies decoupled weight decay p <- p - lr * wd * p (Loshchilov & Hutter 2019, as Keras does),
then the rule itself. Nothing is allocated, and the loop bodies have no branches, so LLVM
vectorises them; scalars arrive in the arrays' dtype so float32 stays float32.
"""
import math

from ._jit import jit


@jit
def sum_squares(g):
    """sum(g**2) in float64, for gradient-norm clipping."""
    s = 0.0
    for i in range(g.shape[0]):
        s += g[i] * g[i]
    return s


@jit
def sgd(p, g, v, lr, momentum, nesterov, wd, gscale, clipvalue):
    """Keras SGD: v <- momentum v - lr g;  p <- p + v  (Nesterov: p <- p + momentum v - lr g).

    With momentum 0 this is p <- p - lr g and v is not touched.
    """
    keep = 1 - lr * wd
    if momentum == 0:
        for i in range(p.shape[0]):
            gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
            p[i] = keep * p[i] - lr * gi
        return
    # plain: p += v;  Nesterov: p += momentum v - lr g  -> p += a v - b lr g
    a = momentum if nesterov else 1
    b = 1 if nesterov else 0
    for i in range(p.shape[0]):
        gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
        vi = momentum * v[i] - lr * gi
        v[i] = vi
        p[i] = keep * p[i] + a * vi - b * lr * gi


@jit
def adagrad(p, g, acc, lr, eps, wd, gscale, clipvalue):
    """AdaGrad (Duchi et al. 2011): acc <- acc + g^2;  p <- p - lr g / sqrt(acc + eps).

    acc is a running *sum*: the step size only ever shrinks.
    """
    keep = 1 - lr * wd
    for i in range(p.shape[0]):
        gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
        acc[i] += gi * gi
        p[i] = keep * p[i] - lr * gi / math.sqrt(acc[i] + eps)


@jit
def rmsprop(p, g, s, mom, mg, lr, rho, momentum, eps, centered, wd, gscale, clipvalue):
    """RMSprop (Hinton 2012): s <- rho s + (1 - rho) g^2, an exponential moving average, not a sum;
    step = lr g / sqrt(s - mg^2 + eps) (mg, the average gradient, only when centered);
    with momentum: mom <- momentum mom + step, p <- p - mom; else p <- p - step.
    """
    keep = 1 - lr * wd
    for i in range(p.shape[0]):
        gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
        s[i] = rho * s[i] + (1 - rho) * gi * gi
        denom = s[i] + eps
        if centered:
            mg[i] = rho * mg[i] + (1 - rho) * gi
            denom -= mg[i] * mg[i]
        step = lr * gi / math.sqrt(denom)
        if momentum > 0:
            mom[i] = momentum * mom[i] + step
            step = mom[i]
        p[i] = keep * p[i] - step


@jit
def adam(p, g, m, v, vmax, lr, alpha, beta1, beta2, eps, amsgrad, wd, gscale, clipvalue):
    """Adam (Kingma & Ba 2015):
    m <- m + (1 - b1)(g - m);  v <- v + (1 - b2)(g^2 - v);
    p <- p - alpha m / (sqrt(v) + eps),  where the caller passes the bias-corrected step
    alpha = lr sqrt(1 - b2^t) / (1 - b1^t) for step t = 1, 2, ...
    With amsgrad, vmax <- max(vmax, v) replaces v in the denominator.
    """
    keep = 1 - lr * wd
    if amsgrad:
        for i in range(p.shape[0]):
            gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
            m[i] += (1 - beta1) * (gi - m[i])
            v[i] += (1 - beta2) * (gi * gi - v[i])
            vmax[i] = max(vmax[i], v[i])
            p[i] = keep * p[i] - alpha * m[i] / (math.sqrt(vmax[i]) + eps)
        return
    for i in range(p.shape[0]):
        gi = min(max(g[i] * gscale, -clipvalue), clipvalue)
        m[i] += (1 - beta1) * (gi - m[i])
        v[i] += (1 - beta2) * (gi * gi - v[i])
        p[i] = keep * p[i] - alpha * m[i] / (math.sqrt(v[i]) + eps)
