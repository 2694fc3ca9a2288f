"""Every kernel in ``dlkit.kernels`` against its plain-NumPy definition in ``dlkit.reference``.

Each kernel runs in float32 and float64 on odd shapes (batch 7, widths 3, 13, 37: not
multiples of the 16-lane vectors or of the product's 8 x 32 blocks, so the tail code runs;
widths >= 32 so that float32 Dense takes its blocked path) and is compared with its reference
computed in float64 from the same inputs, to the precision of the kernel's dtype.

Kernels that exist only inside Numba code (the matrix product ``gemm.mm``, the helpers that
call shared machine code through ``numba.extending.overload``) are called from a small
``numba.njit`` wrapper, which runs the code the other kernels run. ``covers`` records which
kernels a test checks; ``test_every_kernel_has_a_reference_test`` fails, naming it, for any
public function of a kernel module that no test covers.
"""
import importlib
import inspect
import pkgutil

import numba
import numpy as np
import pytest

from dlkit import kernels
from dlkit.kernels import activations as kact
from dlkit.kernels import conv as kconv
from dlkit.kernels import dense as kdense
from dlkit.kernels import embedding as kemb
from dlkit.kernels import gemm
from dlkit.kernels import losses as kloss
from dlkit.kernels import metrics as kmet
from dlkit.kernels import norm as knorm
from dlkit.kernels import optim as kopt
from dlkit.kernels import pool as kpool
from dlkit.kernels import projection as kproj
from dlkit.kernels import recurrent as krec
from dlkit.layers.geometry import window_geometry
from dlkit.reference import activations as ract
from dlkit.reference import arrays as rarr
from dlkit.reference import conv as rconv
from dlkit.reference import dense as rdense
from dlkit.reference import embedding as remb
from dlkit.reference import losses as rloss
from dlkit.reference import metrics as rmet
from dlkit.reference import optimizers as ropt
from dlkit.reference import recurrent as rrec

DTYPES = [np.float32, np.float64]
TOL = {np.float32: 1e-5, np.float64: 1e-12}
NAMES = list(kact.CODES)                     # every activation the kernels know
ALPHA = {"leaky_relu": 0.2, "elu": 0.7}      # not elu's default 1.0, so alpha is checked

TESTED = set()


def covers(*names):
    """Record that the decorated test compares kernels ``names`` ("module.function") with
    their references."""
    def mark(test):
        TESTED.update(names)
        return test
    return mark


def close(got, want, dtype, what=""):
    """got (a kernel's, in ``dtype``) equals want (the float64 reference) to TOL[dtype],
    relative to the largest value of want (at least 1)."""
    got, want = np.asarray(got), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if got.ndim and got.dtype.kind == "f":      # (a kernel's scalar sum may be float64)
        assert got.dtype == dtype, f"{what}: dtype {got.dtype} != {np.dtype(dtype)}"
    r = TOL[dtype]
    np.testing.assert_allclose(got, want, rtol=r, atol=r * max(1.0, np.abs(want).max(initial=0)),
                               err_msg=what)


def close_grads(dx, dparams, want, dtype, need_dx):
    """The parameters' gradients and, when need_dx, dx equal the reference's (want: dx first);
    without need_dx, dx (filled with NaN by the caller) is left alone."""
    for i, (got, w) in enumerate(zip(dparams, want[1:])):
        close(got, w, dtype, what=f"gradient of parameter {i}")
    if need_dx:
        close(dx, want[0], dtype, what="dx")
    else:
        assert np.isnan(dx).all(), "dx written though need_dx is False"


def normal(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def f64(*arrays):
    return [a.astype(np.float64) for a in arrays]


def code(name, dtype):
    return kact.CODES[name], dtype(ALPHA.get(name, 0.0))


def in_numba(kernel):
    """``kernel`` called from Numba-compiled code: the path it takes inside other kernels."""
    return numba.njit(lambda *args: kernel(*args), cache=True)


_forward_flat, _backward_flat = in_numba(kact.forward_flat), in_numba(kact.backward_flat)
_bias_activation = in_numba(kact.bias_activation)
_activation_grad = in_numba(kact.activation_grad)
_copy_into, _add_into = in_numba(kact.copy_into), in_numba(kact.add_into)
_sum_parts, _column_sums = in_numba(kact.sum_parts), in_numba(kact.column_sums)
_mm, _mm_add, _transpose = in_numba(gemm.mm), in_numba(gemm.mm_add), in_numba(gemm.transpose)


# -- activations --------------------------------------------------------------------------------
@covers("activations.forward", "activations.backward", "activations.forward_flat",
        "activations.backward_flat", "activations.softmax_rows",
        "activations.softmax_backward_rows")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_activations(name, dtype):
    rng = np.random.default_rng(1)
    z, dy = normal(rng, (7, 3, 13), dtype, 3.0), normal(rng, (7, 3, 13), dtype)
    act, alpha = code(name, dtype)
    want_y = ract.forward(z.astype(np.float64), name, float(alpha))
    want_dz = ract.backward(z.astype(np.float64), dy.astype(np.float64), name, float(alpha))
    y, dz = np.empty_like(z), np.empty_like(z)
    kact.forward(z, act, alpha, y)
    kact.backward(z, y, dy, act, alpha, dz)
    close(y, want_y, dtype, what="forward")
    close(dz, want_dz, dtype, what="backward")
    if name == "softmax":   # the row kernels, called directly
        y2, dz2 = np.empty((21, 13), dtype), np.empty((21, 13), dtype)
        kact.softmax_rows(z.reshape(21, 13), y2)
        kact.softmax_backward_rows(y2, dy.reshape(21, 13), dz2)
        close(y2, want_y.reshape(21, 13), dtype, what="softmax_rows")
        close(dz2, want_dz.reshape(21, 13), dtype, what="softmax_backward_rows")
        return
    flat = [a.reshape(-1) for a in (z, y, dy)]
    for forward_flat, backward_flat in ((kact.forward_flat, kact.backward_flat),
                                        (_forward_flat, _backward_flat)):
        y1, dz1 = np.empty_like(flat[0]), np.empty_like(flat[0])
        forward_flat(flat[0], act, alpha, y1)
        backward_flat(flat[0], flat[1], flat[2], act, alpha, dz1)
        close(y1, want_y.reshape(-1), dtype, what=f"{forward_flat}")
        close(dz1, want_dz.reshape(-1), dtype, what=f"{backward_flat}")


@covers("activations.bias_activation", "activations.activation_grad",
        "dense.activation_grad_bias")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_bias_activation_and_its_gradient(name, dtype):
    rng = np.random.default_rng(2)
    act, alpha = code(name, dtype)
    for rows, width in ((7, 3), (7, 37), (33, 13)):
        z0, b = normal(rng, (rows, width), dtype, 2.0), normal(rng, width, dtype)
        dy = normal(rng, (rows, width), dtype)
        zb = z0.astype(np.float64) + b
        want_y = ract.forward(zb, name, float(alpha))
        want_dz = ract.backward(zb, dy.astype(np.float64), name, float(alpha))
        for bias_activation, activation_grad in ((kact.bias_activation, kact.activation_grad),
                                                 (_bias_activation, _activation_grad)):
            z = z0.copy()
            y = z if name == "linear" else np.empty_like(z)    # linear: y is z, as documented
            bias_activation(z, b, act, alpha, y)
            close(z, zb, dtype, what="z + b")
            close(y, want_y, dtype, what="f(z + b)")
            if name != "linear":      # linear: the caller passes dz = dy, nothing to compute
                dz = np.empty_like(z)
                activation_grad(z, y, dy, act, alpha, dz)
                close(dz, want_dz, dtype, what="activation_grad")
        if name == "relu":            # relu in place (Conv2D keeps only y)
            zy = z0.copy()
            kact.bias_activation(zy, b, act, alpha, zy)
            close(zy, want_y, dtype, what="relu in place")
        dz = dy if name == "linear" else np.empty_like(z)     # linear: dz is dy
        db = np.empty(width, dtype)
        kdense.activation_grad_bias(z, y, dy, act, alpha, dz, db)
        close(dz, want_dz, dtype, what="activation_grad_bias dz")
        close(db, want_dz.sum(axis=0), dtype, what="activation_grad_bias db")


@covers("activations.copy_into", "activations.add_into", "activations.sum_parts",
        "activations.column_sums")
@pytest.mark.parametrize("dtype", DTYPES)
def test_copies_and_sums(dtype):
    rng = np.random.default_rng(3)
    for shape in ((7, 13), (3, 5, 37)):
        src, dst = normal(rng, shape, dtype), normal(rng, shape, dtype)
        for copy_into, add_into in ((kact.copy_into, kact.add_into), (_copy_into, _add_into)):
            out = dst.copy()
            add_into(out, src)
            close(out, rarr.add(*f64(dst, src)), dtype, what="add_into")
            copy_into(out, src)
            close(out, rarr.copy(src.astype(np.float64)), dtype, what="copy_into")
        parts = normal(rng, (3,) + shape, dtype)
        for sum_parts in (kact.sum_parts, _sum_parts):
            out = np.empty(src.size, dtype)   # any shape holding the elements
            sum_parts(parts, out)
            close(out, rarr.sum_parts(parts.astype(np.float64)).reshape(-1), dtype,
                  what="sum_parts")
    for rows, width in ((7, 3), (7, 37), (401, 3), (1000, 13)):   # >= 512 // width: full blocks
        a = normal(rng, (rows, width), dtype)
        for column_sums in (kact.column_sums, _column_sums):
            out = np.empty(width, dtype)
            column_sums(a, out)
            close(out, rarr.column_sums(a.astype(np.float64)), dtype,
                  what=f"column_sums {rows}x{width}")


# -- the matrix product -------------------------------------------------------------------------
# (m, k, n): rows not a multiple of 8, columns not of 32, and one product of whole blocks
PRODUCTS = [(7, 13, 3), (7, 37, 37), (13, 3, 40), (9, 33, 65), (16, 40, 64)]


@covers("gemm.mm", "gemm.mm_add")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["a b", "a.T b", "a b.T", "a.T b.T"])
def test_matrix_product(layout, dtype):
    rng = np.random.default_rng(4)
    for m, k, n in PRODUCTS:
        a = normal(rng, (k, m) if "a.T" in layout else (m, k), dtype)
        b = normal(rng, (n, k) if "b.T" in layout else (k, n), dtype)
        a, b = (a.T if "a.T" in layout else a), (b.T if "b.T" in layout else b)
        c = normal(rng, (m, n), dtype)
        out = np.full((m, n), np.nan, dtype)
        _mm(a, b, out)
        close(out, rarr.mm(*f64(a, b)), dtype, what=f"mm {m}x{k}x{n}")
        out = c.copy()
        _mm_add(a, b, out)
        close(out, rarr.mm_add(*f64(c, a, b)), dtype, what=f"mm_add {m}x{k}x{n}")


@covers("gemm.transpose", "gemm.transposed")
@pytest.mark.parametrize("dtype", DTYPES)
def test_transpose(dtype):
    rng = np.random.default_rng(5)
    for m, n in ((7, 13), (37, 3), (33, 48), (16, 16)):    # 16 x 16 register tiles and tails
        a = normal(rng, (m, n), dtype)
        out = np.empty((n, m), dtype)
        _transpose(a, out)
        np.testing.assert_array_equal(out, rarr.transpose(a))
        t = gemm.transposed(a)
        assert t.flags.c_contiguous
        np.testing.assert_array_equal(t, rarr.transpose(a))


# -- Dense --------------------------------------------------------------------------------------
@covers("dense.forward", "dense.backward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["linear", "relu", "sigmoid", "tanh", "softmax", "gelu"])
def test_dense(name, dtype):
    rng = np.random.default_rng(6)
    act, alpha = code(name, dtype)
    for n, d_in, d_out in ((7, 13, 3), (7, 37, 37), (9, 40, 64)):    # d_out >= 32: blocked
        x, w = normal(rng, (n, d_in), dtype), normal(rng, (d_in, d_out), dtype, 0.3)
        b = normal(rng, d_out, dtype)
        dy = normal(rng, (n, d_out), dtype)
        z = np.empty((n, d_out), dtype)
        y = z if name == "linear" else np.empty_like(z)
        kdense.forward(x, w, b, act, alpha, z, y)
        want_z, want_y = rdense.dense_forward(*f64(x, w, b), name, float(alpha))
        close(z, want_z, dtype, what="z")
        close(y, want_y, dtype, what="y")
        want = rdense.dense_backward(*f64(x, w, z, dy), name, float(alpha))
        for need_dx in (True, False):
            dz = dy if name == "linear" else np.empty_like(z)     # linear: dz is dy
            dw, db, dx = np.empty_like(w), np.empty_like(b), np.full_like(x, np.nan)
            kdense.backward(x, w, z, y, dy, act, alpha, dz, dw, db, dx, need_dx)
            close_grads(dx, (dw, db), want, dtype, need_dx)


# -- losses and accuracy counts -----------------------------------------------------------------
def _probabilities(rng, n, k, dtype):
    """Rows of softmax probabilities, some below EPS (clipped) and one row of zeros but one."""
    p = ract.softmax(4.0 * rng.standard_normal((n, k)))
    p[0] = 0.0
    p[0, 1] = 1.0
    return p.astype(dtype)


def _one_hot(rng, n, k, dtype):
    return rloss.one_hot(rng.integers(0, k, n), k).astype(dtype)


@covers("losses.mse", "losses.mae", "losses.binary_crossentropy",
        "losses.categorical_crossentropy", "losses.sparse_categorical_crossentropy")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", ["mse", "mae", "binary_crossentropy",
                                  "categorical_crossentropy", "sparse_categorical_crossentropy"])
def test_losses(loss, dtype):
    rng = np.random.default_rng(7)
    n, k = 7, 13
    if loss in ("mse", "mae"):
        p, t = normal(rng, (n, k), dtype), normal(rng, (n, k), dtype)
        t[0, :3] = p[0, :3]                                # d = 0: MAE's subgradient is 0
    elif loss == "binary_crossentropy":
        p, t = rng.uniform(size=(n, k)).astype(dtype), rng.uniform(size=(n, k)).astype(dtype)
        p[0, :2], p[1, :2] = 0.0, 1.0                      # clipped: no gradient
    else:
        p = _probabilities(rng, n, k, dtype)
        t = rng.integers(0, k, n) if loss.startswith("sparse") else _one_hot(rng, n, k, dtype)
    dp = np.empty_like(p)
    total = getattr(kloss, loss)(p, t, 1.0 / n, dp)
    want, want_dp = getattr(rloss, loss)(p.astype(np.float64),
                                         t if t.dtype.kind == "i" else t.astype(np.float64))
    close(total / n, want, dtype, what="loss")
    close(dp, want_dp, dtype, what="gradient")


@covers("losses.softmax_crossentropy_logits", "losses.sparse_softmax_crossentropy_logits",
        "losses.sigmoid_crossentropy_logits")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", ["softmax", "sparse_softmax", "sigmoid"])
def test_fused_heads(loss, dtype):
    rng = np.random.default_rng(8)
    n, k = 7, 13
    z = normal(rng, (n, k), dtype, 5.0)
    dz = np.empty_like(z)
    if loss == "sigmoid":
        t = rng.uniform(size=(n, k)).astype(dtype)
        p = ract.sigmoid(z.astype(np.float64)).astype(dtype)
        total = kloss.sigmoid_crossentropy_logits(z, p, t, dtype(1 / z.size), dz)
        want, want_dz = rloss.sigmoid_crossentropy_logits(*f64(z, t))
        close(total / n, want, dtype, what="loss")
        close(dz, want_dz, dtype, what="dz")
        return
    sparse = loss == "sparse_softmax"
    t = t_ref = rng.integers(0, k, n)
    if not sparse:
        t = _one_hot(rng, n, k, dtype)
        t[1] = rng.uniform(size=k)                         # soft targets, not summing to 1
        t_ref = t.astype(np.float64)
    p = np.empty_like(z)
    name = "sparse_softmax_crossentropy_logits" if sparse else "softmax_crossentropy_logits"
    total, hits = getattr(kloss, name)(z, t, 1.0 / n, p, dz)
    want, want_p, want_dz = getattr(rloss, name)(z.astype(np.float64), t_ref)
    close(total / n, want, dtype, what="loss")
    close(p, want_p, dtype, what="softmax")
    close(dz, want_dz, dtype, what="dz")
    count = rmet.count_argmax_label if sparse else rmet.count_argmax_equal
    assert hits == count(z, t)


@covers("metrics.count_argmax_equal", "metrics.count_argmax_label",
        "metrics.count_binary_equal")
@pytest.mark.parametrize("dtype", DTYPES)
def test_accuracy_counts(dtype):
    rng = np.random.default_rng(9)
    n, k = 37, 3
    p = _probabilities(rng, n, k, dtype)
    p[2] = [0.4, 0.4, 0.2]                                 # a tie: the first maximum counts
    labels = rng.integers(0, k, n)
    labels[2] = 0
    t = rloss.one_hot(labels, k).astype(dtype)
    assert kmet.count_argmax_equal(p, t) == rmet.count_argmax_equal(p, t)
    assert kmet.count_argmax_label(p, labels) == rmet.count_argmax_label(p, labels)
    tb = (rng.uniform(size=(n, k)) > 0.5).astype(dtype)
    for threshold in (0.5, 0.3):
        assert (kmet.count_binary_equal(p, tb, threshold)
                == rmet.count_binary_equal(p, tb, threshold))


# -- optimizers ---------------------------------------------------------------------------------
STEPS = 3
LR, WD = 0.05, 0.01
CLIPS = {"none": (1.0, np.inf), "scaled and clipped": (0.8, 1.5)}   # (gscale, clipvalue)


def _optimizer_run(kernel_step, reference_step, clip, dtype, initial=0.0):
    """STEPS updates of one parameter array (length 37) by the kernel and by the reference,
    from three state arrays filled with ``initial``. Returns the final states (kernel's,
    reference's)."""
    rng = np.random.default_rng(10)
    gscale, clipvalue = CLIPS[clip]
    p = normal(rng, 37, dtype)
    state = [np.full(37, initial, dtype) for _ in range(3)]
    want_p, want_state = p.astype(np.float64), [s.astype(np.float64) for s in state]
    for t in range(1, STEPS + 1):
        g = normal(rng, 37, dtype, 2.0)
        kernel_step(p, g, state, t, dtype(gscale), dtype(clipvalue))
        g_ref = ropt.clip(g.astype(np.float64), gscale, clipvalue)
        want_p, *want_state = reference_step(want_p, g_ref, want_state, t)
        close(p, want_p, dtype, what=f"parameters after step {t}")
    return state, want_state


@covers("optim.sum_squares")
@pytest.mark.parametrize("dtype", DTYPES)
def test_sum_squares(dtype):
    g = normal(np.random.default_rng(11), 37, dtype)
    close(kopt.sum_squares(g), ropt.sum_squares(g), dtype)


@covers("optim.sgd")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("clip", list(CLIPS))
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd(momentum, nesterov, clip, dtype):
    f = dtype

    def kernel_step(p, g, state, t, gscale, clipvalue):
        kopt.sgd(p, g, state[0], f(LR), f(momentum), nesterov, f(1 - LR * WD), gscale, clipvalue)

    def reference_step(p, g, state, t):
        return ropt.sgd(p, g, state[0], LR, momentum, nesterov, weight_decay=WD)

    state, want = _optimizer_run(kernel_step, reference_step, clip, dtype)
    if momentum:            # (with momentum 0 there is no velocity)
        close(state[0], want[0], dtype, what="velocity")


@covers("optim.adagrad")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("clip", list(CLIPS))
def test_adagrad(clip, dtype):
    f, eps = dtype, 1e-7

    def kernel_step(p, g, state, t, gscale, clipvalue):
        kopt.adagrad(p, g, state[0], f(LR), f(eps), f(1 - LR * WD), gscale, clipvalue)

    def reference_step(p, g, state, t):
        return ropt.adagrad(p, g, state[0], LR, eps, weight_decay=WD)

    state, want = _optimizer_run(kernel_step, reference_step, clip, dtype,
                                 initial=0.1)              # Keras's initial accumulator
    close(state[0], want[0], dtype, what="accumulator")


@covers("optim.rmsprop")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("clip", list(CLIPS))
@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.5, True)])
def test_rmsprop(momentum, centered, clip, dtype):
    f, rho, eps = dtype, 0.9, 1e-7

    def kernel_step(p, g, state, t, gscale, clipvalue):
        s, mom, mg = state
        kopt.rmsprop(p, g, s, mom, mg, f(LR), f(rho), f(1 - rho), f(momentum), f(eps), centered,
                     f(1 - LR * WD), gscale, clipvalue)

    def reference_step(p, g, state, t):
        return ropt.rmsprop(p, g, *state, LR, rho, momentum, eps, centered, weight_decay=WD)

    state, want = _optimizer_run(kernel_step, reference_step, clip, dtype)
    for got, w, what, used in zip(state, want, ("s", "momentum", "mean gradient"),
                                  (True, momentum > 0, centered)):
        if used:
            close(got, w, dtype, what=what)


@covers("optim.adam")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("clip", list(CLIPS))
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam(amsgrad, clip, dtype):
    f, b1, b2, eps = dtype, 0.9, 0.999, 1e-7

    def kernel_step(p, g, state, t, gscale, clipvalue):
        m, v, vmax = state
        alpha = LR * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)      # as dlkit.optimizers.Adam
        kopt.adam(p, g, m, v, vmax if amsgrad else vmax[:0], f(alpha), f(1 - b1), f(1 - b2),
                  f(eps), amsgrad, f(1 - LR * WD), gscale, clipvalue)

    def reference_step(p, g, state, t):
        return ropt.adam(p, g, *state, t, LR, b1, b2, eps, amsgrad, weight_decay=WD)

    state, want = _optimizer_run(kernel_step, reference_step, clip, dtype)
    for got, w, what in zip(state, want, ("m", "v", "vmax")):
        if what != "vmax" or amsgrad:
            close(got, w, dtype, what=what)


# -- batch normalisation ------------------------------------------------------------------------
@covers("norm.forward_train", "norm.backward_train", "norm.scale_shift")
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_norm(dtype):
    rng = np.random.default_rng(12)
    c, eps = 13, 1e-3
    x = normal(rng, (7, 3, 5, c), dtype, 2.0) + dtype(1.5)
    gamma, beta, dy = normal(rng, c, dtype), normal(rng, c, dtype), normal(rng, x.shape, dtype)
    x2, dy2 = x.reshape(-1, c), dy.reshape(-1, c)
    mean, var, inv_std = (np.empty(c, dtype) for _ in range(3))
    x_hat, y2 = np.empty_like(x2), np.empty_like(x2)
    knorm.forward_train(x2, gamma, beta, dtype(eps), mean, var, inv_std, x_hat, y2)
    want_y, want_mean, want_var = rconv.batch_norm_forward(*f64(x, gamma, beta), eps)
    close(y2.reshape(x.shape), want_y, dtype, what="y")
    close(mean, want_mean, dtype, what="mean")
    close(var, want_var, dtype, what="var")
    close(inv_std, 1 / np.sqrt(want_var + eps), dtype, what="1 / std")
    want = rconv.batch_norm_backward(*f64(x, gamma, dy), eps)      # dx, dgamma, dbeta
    for need_dx in (True, False):
        dgamma, dbeta, dx = np.empty(c, dtype), np.empty(c, dtype), np.full_like(x, np.nan)
        knorm.backward_train(dy2, x_hat, gamma, inv_std, dgamma, dbeta, dx.reshape(-1, c),
                             need_dx)
        close_grads(dx, (dgamma, dbeta), want, dtype, need_dx)
    moving_mean, moving_var = normal(rng, c, dtype), rng.uniform(0.5, 2.0, c).astype(dtype)
    scale = gamma / np.sqrt(moving_var + dtype(eps))          # as BatchNormalization folds them
    y2 = np.empty_like(x2)
    knorm.scale_shift(x2, scale, beta - moving_mean * scale, y2)
    close(y2.reshape(x.shape),
          rconv.batch_norm_inference(*f64(x, gamma, beta, moving_mean, moving_var), eps),
          dtype, what="inference")


# -- pooling and upsampling ---------------------------------------------------------------------
# (input (N, H, W, C), pool, strides, padding): tiling windows with rows and columns left over,
# overlapping windows with padding on every side, and non-square ones
POOLS = [((7, 9, 11, 3), (2, 2), (2, 2), "valid"),
         ((7, 9, 11, 3), (2, 2), (2, 2), "same"),
         ((3, 9, 8, 13), (3, 3), (2, 2), "same"),
         ((2, 7, 9, 37), (3, 2), (1, 2), "valid")]


def _geometry(shape, window, strides, padding):
    """The kernels' geometry arguments (kh, kw, sh, sw, pt, pl) and the output's H', W'."""
    ho, wo, pt, pl = window_geometry(shape[1:3], window, strides, padding, "test")
    return (*window, *strides, pt, pl), ho, wo


@covers("pool.max_forward", "pool.max_backward", "pool.avg_forward", "pool.avg_backward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", POOLS, ids=str)
def test_pooling(case, dtype):
    shape, pool, strides, padding = case
    rng = np.random.default_rng(13)
    geo, ho, wo = _geometry(shape, pool, strides, padding)
    x, dy = normal(rng, shape, dtype), normal(rng, (shape[0], ho, wo, shape[3]), dtype)
    y, dx = np.empty_like(dy), np.full_like(x, np.nan)
    kpool.avg_forward(x, *geo, y)
    kpool.avg_backward(dy, *geo, dx)
    close(y, rconv.avg_pool2d_forward(x.astype(np.float64), pool, strides, padding), dtype)
    close(dx, rconv.avg_pool2d_backward(*f64(x, dy), pool, strides, padding), dtype)

    want_y, window_arg = rconv.max_pool2d_forward(x.astype(np.float64), pool, strides, padding)
    want_dx = rconv.max_pool2d_backward(*f64(x, dy), window_arg, pool, strides, padding)
    # the reference's arg counts within the window, the kernel's within x's plane
    (ph, pw, sh, sw, pt, pl), w = geo, shape[2]
    i, j = np.arange(ho)[None, :, None, None], np.arange(wo)[None, None, :, None]
    want_arg = (i * sh + window_arg // pw - pt) * w + j * sw + window_arg % pw - pl
    for nt in (1, 3):
        y, arg = np.empty_like(dy), np.empty(dy.shape, np.int32)
        kpool.max_forward(x, *geo, nt, y, arg)
        close(y, want_y, dtype, what="max")
        np.testing.assert_array_equal(arg, want_arg)
        dx = np.full_like(x, np.nan)
        kpool.max_backward(dy, arg, *geo, nt, dx)
        close(dx, want_dx, dtype, what="max: dx")


@covers("pool.upsample_forward", "pool.upsample_backward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [(2, 2), (3, 2)])
def test_upsampling(size, dtype):
    rng = np.random.default_rng(15)
    x = normal(rng, (7, 3, 5, 13), dtype)
    dy = normal(rng, (7, 3 * size[0], 5 * size[1], 13), dtype)
    y, dx = np.empty_like(dy), np.full_like(x, np.nan)
    kpool.upsample_forward(x, *size, y)
    kpool.upsample_backward(dy, *size, dx)
    close(y, rconv.upsampling2d_forward(x.astype(np.float64), size), dtype)
    close(dx, rconv.upsampling2d_backward(dy.astype(np.float64), size), dtype)


# -- convolution --------------------------------------------------------------------------------
# (x (N, H, W, C), kernel, strides, padding, filters): one channel (im2col's own loop), a
# strided "same" window with padding on every side, F >= 32 for the float32 product's blocks
CONVS = [((7, 9, 8, 3), (3, 3), (1, 1), "valid", 5),
         ((3, 7, 9, 1), (3, 2), (2, 1), "same", 37),
         ((2, 6, 5, 13), (2, 2), (2, 2), "same", 13)]


@covers("conv.im2col", "conv.col2im")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONVS, ids=str)
def test_im2col_and_col2im(case, dtype):
    shape, kernel, strides, padding, _ = case
    rng = np.random.default_rng(16)
    x = normal(rng, shape, dtype)
    geo, ho, wo = _geometry(shape, kernel, strides, padding)
    cols = np.full((shape[0] * ho * wo, kernel[0] * kernel[1] * shape[3]), np.nan, dtype)
    kconv.im2col(x, *geo, ho, wo, cols)
    np.testing.assert_array_equal(cols, rconv.im2col(x, kernel, strides, padding))
    dcols = normal(rng, cols.shape, dtype)
    dx = np.full_like(x, np.nan)
    kconv.col2im(dcols, *geo, ho, wo, dx)
    close(dx, rconv.col2im(dcols.astype(np.float64), shape, kernel, strides, padding), dtype)


@covers("conv.forward", "conv.backward", "conv.input_grad")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["linear", "relu", "tanh"])
@pytest.mark.parametrize("case", CONVS, ids=str)
def test_conv2d(case, name, dtype):
    shape, kernel, strides, padding, f = case
    rng = np.random.default_rng(17)
    act, alpha = code(name, dtype)
    x, w, b = (normal(rng, shape, dtype), normal(rng, kernel + (shape[3], f), dtype, 0.5),
               normal(rng, f, dtype))
    geo, ho, wo = _geometry(shape, kernel, strides, padding)
    n, c = shape[0], shape[3]
    dy = normal(rng, (n, ho, wo, f), dtype)
    want_z = rconv.conv2d_forward(*f64(x, w, b), strides, padding)
    want_y = ract.forward(want_z, name, float(alpha))
    want_dz = ract.backward(want_z, dy.astype(np.float64), name, float(alpha))
    want = rconv.conv2d_backward(*f64(x, w), want_dz, strides, padding)     # dx, dw, db
    rows, taps = n * ho * wo, kernel[0] * kernel[1] * c
    for nt in (1, 3):
        cols, z = np.empty((rows, taps), dtype), np.empty((n, ho, wo, f), dtype)
        y = z if name == "linear" else np.empty_like(z)
        kconv.forward(x, w, b, *geo, act, alpha, nt, cols, z, y)
        close(z, want_z, dtype, what="z")
        close(y, want_y, dtype, what="y")
        for need_dx in (True, False):
            dz = dy if name == "linear" else np.empty_like(z)     # linear: dz is dy
            dw, db, dx = np.empty_like(w), np.empty_like(b), np.full_like(x, np.nan)
            kconv.backward(x, w, z, y, dy, *geo, act, alpha, nt, need_dx, cols, dz,
                           np.empty_like(cols), np.empty((nt,) + w.shape, dtype),
                           np.empty((nt, f), dtype), dw, db, dx)
            close_grads(dx, (dw, db), want, dtype, need_dx)
        dx = np.full_like(x, np.nan)
        kconv.input_grad(want_dz.astype(dtype), w, *geo, nt, np.empty_like(cols), dx)
        close(dx, want[0], dtype, what="input_grad")


# -- recurrent layers ---------------------------------------------------------------------------
@covers("recurrent.activate", "recurrent.activate_grad")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "linear"])
def test_gate_activations_on_a_block(name, dtype):
    rng = np.random.default_rng(18)
    act, alpha = code(name, dtype)
    z, g0 = normal(rng, (7, 37), dtype, 2.0), normal(rng, (7, 37), dtype)
    rlo, rhi, lo, hi = 2, 7, 3, 29                  # a block of rows and columns
    block = (slice(rlo, rhi), slice(lo, hi))
    y = np.full_like(z, np.nan)
    krec.activate(z, y, rlo, rhi, lo, hi, act, alpha)
    close(y[block], ract.forward(z[block].astype(np.float64), name, float(alpha)), dtype)
    outside = np.ones(z.shape, bool)
    outside[block] = False
    assert np.isnan(y[outside]).all(), "activate wrote outside its block"
    y = ract.forward(z.astype(np.float64), name, float(alpha)).astype(dtype)
    g = g0.copy()
    krec.activate_grad(z, y, g, rlo, rhi, lo, hi, act, alpha)
    want = g0.astype(np.float64)
    want[block] = ract.backward(z[block].astype(np.float64), want[block], name, float(alpha))
    close(g, want, dtype, what="activate_grad")


@covers("projection.project", "projection.dense_grads")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nblocks", [1, 3])
def test_input_projection_and_its_gradients(nblocks, dtype):
    rng = np.random.default_rng(19)
    for m, d, g in ((7, 3, 13), (35, 13, 52), (2, 3, 13)):     # 2 rows: a block with none
        x, w, b = normal(rng, (m, d), dtype), normal(rng, (d, g), dtype), normal(rng, g, dtype)
        out = np.empty((m, g), dtype)
        kproj.project(x, w, b, out, nblocks)
        close(out, rdense.dense_forward(*f64(x, w, b))[0], dtype, what="x W + b")
        dz = normal(rng, (m, g), dtype)
        want_dx, want_dw, want_db = rdense.dense_backward(*f64(x, w, out, dz))
        for need_db, need_dx in ((True, True), (False, False)):
            dw, db, dx = np.empty_like(w), np.full_like(b, np.nan), np.full_like(x, np.nan)
            kproj.dense_grads(x, dz, w, dw, db, need_db, dx, need_dx, nblocks)
            close(dw, want_dw, dtype, what="dW")
            if need_db:
                close(db, want_db, dtype, what="db")
            if need_dx:
                close(dx, want_dx, dtype, what="dx")
            assert need_db or np.isnan(db).all(), "db written though need_db is False"
            assert need_dx or np.isnan(dx).all(), "dx written though need_dx is False"


GATES = {"simple_rnn": 1, "gru": 3, "lstm": 4}
RNN_CASES = {"last output": (False, False), "last output, masked": (False, True),
             "sequences, masked": (True, True)}         # (return_sequences, masked)


def _run_rnn_kernels(cell, x, W, U, b, h0, c0, mask, dys, dh_last, dc_last, seq, dtype):
    """Forward and BPTT through the kernels as the recurrent layers call them (time-major,
    the input projection and the weight gradients as products around the recurrence).
    Returns hs (N, T, u), dx, dW, dU, db, dh0 (, dc0 for the LSTM)."""
    n, t, d = x.shape
    u, g = U.shape[0], U.shape[1]
    chunks = 3
    tanh, sigmoid, zero = kact.TANH, kact.SIGMOID, dtype(0)
    X = np.ascontiguousarray(x.transpose(1, 0, 2)).reshape(t * n, d)
    Z = np.empty((t, n, g), dtype)
    kproj.project(X, W, b[0] if cell == "gru" else b, Z.reshape(t * n, g), chunks)
    H = np.empty((t + 1, n, u), dtype)
    H[0] = h0
    has_mask = mask is not None
    m = np.ascontiguousarray(mask.T, dtype=np.uint8) if has_mask else np.ones((1, 1), np.uint8)
    dH = np.ascontiguousarray(dys.transpose(1, 0, 2)) if seq else np.zeros((1, 1, 1), dtype)
    dh = dh_last.copy() if seq else dh_last + dys[:, -1]
    dc = dc_last.copy()
    UT = gemm.transposed(U)
    dP = np.empty_like(Z)
    if cell == "simple_rnn":
        krec.simple_rnn_forward(Z, U, m, has_mask, tanh, zero, H, chunks)
        krec.simple_rnn_backward(dH, seq, m, has_mask, Z, H, UT, tanh, zero, dh, dP, chunks)
        dR = dP
    elif cell == "lstm":
        C, A, S = np.empty_like(H), np.empty_like(Z), np.empty((t, n, u), dtype)
        C[0] = c0
        krec.lstm_forward(Z, U, m, has_mask, tanh, zero, sigmoid, zero, A, C, S, H, chunks)
        krec.lstm_backward(dH, seq, m, has_mask, Z, A, C, S, UT, tanh, zero, sigmoid, zero,
                           dh, dc, dP, chunks)
        dR = dP
    else:
        A, RH, dR = np.empty_like(Z), np.empty((t, n, u), dtype), np.empty_like(Z)
        krec.gru_forward(Z, U, b[1], m, has_mask, tanh, zero, sigmoid, zero, A, RH, H, chunks)
        krec.gru_backward(dH, seq, m, has_mask, Z, A, RH, H, UT, tanh, zero, sigmoid, zero,
                          dh, dP, dR, chunks)
    dX, dW, dU, db = np.empty_like(X), np.empty_like(W), np.empty_like(U), np.zeros_like(b)
    db_in, db_rec = (db[0], db[1]) if cell == "gru" else (db, np.empty_like(db))
    kproj.dense_grads(X, dP.reshape(t * n, g), W, dW, db_in, True, dX, True, chunks)
    kproj.dense_grads(H[:t].reshape(t * n, u), dR.reshape(t * n, g), U, dU, db_rec,
                     cell == "gru", dX, False, chunks)
    dx = dX.reshape(t, n, d).transpose(1, 0, 2)
    return H[1:].transpose(1, 0, 2), dx, dW, dU, db, dh, dc


@covers("recurrent.simple_rnn_forward", "recurrent.simple_rnn_backward",
        "recurrent.lstm_forward", "recurrent.lstm_backward",
        "recurrent.gru_forward", "recurrent.gru_backward")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(RNN_CASES))
@pytest.mark.parametrize("cell", list(GATES))
def test_recurrent(cell, case, dtype):
    seq, masked = RNN_CASES[case]
    rng = np.random.default_rng(20)
    n, t, d, u = 7, 5, 3, 13
    g = GATES[cell] * u
    x = normal(rng, (n, t, d), dtype)
    W, U = normal(rng, (d, g), dtype, 0.5), normal(rng, (u, g), dtype, 0.3)
    b = normal(rng, (2, g) if cell == "gru" else g, dtype, 0.3)
    h0, c0 = normal(rng, (n, u), dtype, 0.5), normal(rng, (n, u), dtype, 0.5)
    mask = rng.uniform(size=(n, t)) > 0.3 if masked else None
    if masked:
        mask[0, :2] = False                          # left padding: h0 carried over
        mask[1, -1] = False                          # the last step skipped
    dys = normal(rng, (n, t, u), dtype)
    dh_last, dc_last = normal(rng, (n, u), dtype), normal(rng, (n, u), dtype)
    got = _run_rnn_kernels(cell, x, W, U, b, h0, c0, mask, dys, dh_last, dc_last, seq, dtype)
    xr, Wr, Ur, br, h0r, c0r = f64(x, W, U, b, h0, c0)
    dhs = dys.astype(np.float64) if seq else np.zeros((n, t, u))
    if not seq:
        dhs[:, -1] = dys[:, -1]
    dhs[:, -1] += dh_last                            # dL/dh_T: the output's and the state's
    if cell == "lstm":
        hs, cache = rrec.lstm_forward(xr, Wr, Ur, br, h0r, c0r, mask)
        want = rrec.lstm_backward(dhs, cache, dc_last.astype(np.float64))
    else:
        forward, backward = ((rrec.gru_forward, rrec.gru_backward) if cell == "gru" else
                             (rrec.simple_rnn_forward, rrec.simple_rnn_backward))
        hs, cache = forward(xr, Wr, Ur, br, h0r, mask)
        want = backward(dhs, cache)
    names = ["hidden states", "dx", "dW", "dU", "db", "dh0", "dc0"]
    for a, w, what in zip(got, (hs,) + tuple(want), names):
        close(a, w, dtype, what=f"{cell} {what}")


# -- embedding ----------------------------------------------------------------------------------
@covers("embedding.forward", "embedding.backward")
@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding(dtype):
    rng = np.random.default_rng(21)
    vocab, d = 13, 37
    ids = rng.integers(0, vocab, 35)                # repeated ids, some never used
    ids[:3] = 4
    table, dy = normal(rng, (vocab, d), dtype), normal(rng, (35, d), dtype)
    out, dtable = np.empty((35, d), dtype), np.full((vocab, d), np.nan, dtype)
    kemb.forward(ids, table, out)
    kemb.backward(ids, dy, dtable)
    np.testing.assert_array_equal(out, remb.embedding_forward(ids, table))
    close(dtable, remb.embedding_backward(ids, dy.astype(np.float64), vocab), dtype)


# -- every kernel is covered --------------------------------------------------------------------
# Private modules that hold no kernel of their own, and why they are not enumerated:
INFRASTRUCTURE = {
    "_jit": "the decorators, the cache directory (tests/test_compile_cache.py) and bounds(), "
            "the rows of a parallel kernel's piece, which every chunked kernel above runs",
    "_shared": "shared machine code called through pointer cells: every kernel above runs it",
    "_fastmath": "float32 exp, log, tanh, sigmoid inside the kernels above; their accuracy "
                 "against libm is tested in tests/test_fast_paths.py",
    "_avx512": "the AVX-512 code behind gemm.mm and gemm.transpose, on addresses; it runs in "
               "test_matrix_product and test_transpose (float32, when gemm.ENABLED)",
}


def _kernel_functions():
    """"module.function" for every public function defined (not imported) in a kernel module."""
    for info in pkgutil.iter_modules(kernels.__path__):
        if info.name in INFRASTRUCTURE:
            continue
        module = importlib.import_module(f"{kernels.__name__}.{info.name}")
        for name, obj in vars(module).items():
            func = getattr(obj, "py_func", obj)      # a Numba dispatcher's Python function
            if (not name.startswith("_") and inspect.isfunction(func)
                    and func.__module__ == module.__name__):
                yield f"{info.name}.{name}"


def test_every_kernel_has_a_reference_test():
    found = set(_kernel_functions())
    missing = sorted(found - TESTED)
    assert not missing, (f"kernels with no test against dlkit.reference: {missing}; add the "
                         "NumPy definition to dlkit/reference/ and a test here (@covers)")
    gone = sorted(TESTED - found)
    assert not gone, f"tests cover kernels that do not exist (renamed or moved?): {gone}"
