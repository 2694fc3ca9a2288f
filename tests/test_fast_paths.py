"""The speed-motivated code paths give the same answers as the plain ones.

* the vectorisable float32 exp/log/tanh/sigmoid (``dlkit.kernels._fastmath``) agree with
  float64 NumPy to about one float32 ulp, pass NaN through, and float64 keeps libm's values;
* ReLU computed in place equals ReLU into a second array;
* an autoencoder fitted with ``y`` the very same array as ``x`` (one gathered batch serves as
  input and target) trains exactly as with a copy of ``x`` as ``y``;
* the finiteness check finds NaN and inf, and does not cry wolf when squares overflow;
* im2col (tap by tap over whole rows, unsigned indices) equals a plain NumPy im2col for
  grey and colour images, strides and paddings, including taps that lie wholly in padding;
* column sums (bias gradients, summed in long flat runs) equal NumPy's, for any row count;
* the accuracy counted inside the fused softmax cross-entropy kernels equals the metric's;
* the optimizers' flush of tiny state to 0 passes NaN and inf through;
* the AVX-512 matrix product (``dlkit.kernels.gemm``) equals float64 NumPy for shapes with and
  without whole blocks, transposed and strided operands, empty sums, and when it adds to its
  output (``mm_add``); Dense layers using it
  give the same outputs and gradients as NumPy's products; its tiled transpose equals ``a.T``
  with and without whole tiles and writes only its output window.
"""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dlkit
from dlkit import Sequential
from dlkit.kernels import _fastmath as fm
from dlkit.kernels._jit import jit
from dlkit import losses, metrics
from dlkit.kernels import gemm, optim
from dlkit.kernels.activations import RELU, bias_activation, column_sums
from dlkit.kernels.conv import im2col
from dlkit.layers import Dense, GaussianNoise
from dlkit.trainer import _all_finite


@jit
def _apply(a, out, which):
    for i in range(a.shape[0]):
        if which == 0:
            out[i] = fm.exp(a[i])
        elif which == 1:
            out[i] = fm.log(a[i])
        elif which == 2:
            out[i] = fm.tanh(a[i])
        else:
            out[i] = fm.sigmoid(a[i])


def _ref(which, a):
    return [np.exp, np.log, np.tanh, lambda v: 1 / (1 + np.exp(-v))][which](a)


CASES = {  # which: (sampler of inputs, allowed relative error)
    0: (lambda r: r.uniform(-87, 88, 50_000), 2e-7),
    1: (lambda r: np.exp(r.uniform(-80, 80, 50_000)), 2e-7),
    2: (lambda r: np.concatenate([r.uniform(-1, 1, 25_000), r.uniform(-12, 12, 25_000),
                                  [0.0, 1e-30, -1e-30, 0.625, -0.625]]), 2e-7),
    3: (lambda r: r.uniform(-30, 30, 50_000), 2e-7),
}


@pytest.mark.parametrize("which", sorted(CASES))
def test_float32_fast_functions_are_accurate(which):
    sample, tol = CASES[which]
    a = sample(np.random.default_rng(which)).astype(np.float32)
    out = np.empty_like(a)
    _apply(a, out, which)
    exact = _ref(which, a.astype(np.float64))
    rel = np.abs(out - exact) / np.maximum(np.abs(exact), np.finfo(np.float32).tiny)
    assert rel.max() < tol, (which, float(rel.max()), a[np.argmax(rel)])


@pytest.mark.parametrize("which", sorted(CASES))
def test_float64_keeps_the_exact_functions(which):
    a = CASES[which][0](np.random.default_rng(10 + which))[:1000]
    out = np.empty_like(a)
    _apply(a, out, which)
    f = [math.exp, math.log, math.tanh, lambda v: 1 / (1 + math.exp(-v))][which]
    np.testing.assert_allclose(out, [f(v) for v in a], rtol=1e-15, atol=0)


@pytest.mark.parametrize("which", sorted(CASES))
def test_nan_passes_through_and_extremes_stay_finite(which):
    a = np.array([np.nan, 3e38, 1e-30 if which == 1 else -3e38], np.float32)
    out = np.empty_like(a)
    _apply(a, out, which)
    assert np.isnan(out[0])
    if which == 1:
        np.testing.assert_allclose(out[1:], np.log(a[1:].astype(np.float64)), rtol=1e-6)
    else:
        assert np.isfinite(out[1:]).all()
    if which == 3:
        assert out[1] == 1 and 0 <= out[2] < 1e-30
    if which == 2:
        assert out[1] == 1 and out[2] == -1


def test_relu_in_place_equals_relu_into_another_array():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((300, 33)).astype(np.float32)
    b = rng.standard_normal(33).astype(np.float32)
    z1, y1 = z.copy(), np.empty_like(z)
    bias_activation(z1, b, RELU, np.float32(0), y1)
    z2 = z.copy()
    bias_activation(z2, b, RELU, np.float32(0), z2)
    np.testing.assert_array_equal(z1, z + b)
    np.testing.assert_array_equal(y1, np.maximum(z + b, 0))
    np.testing.assert_array_equal(z2, y1)


def _autoencoder(noise):
    dlkit.set_seed(3)
    layers = [GaussianNoise(0.3, input_shape=(20,))] if noise else []
    layers += [Dense(6, activation="relu", input_shape=(20,)), Dense(20, activation="sigmoid")]
    model = Sequential(layers)
    model.compile("adam", "binary_crossentropy")
    return model


@pytest.mark.parametrize("noise", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_autoencoder_with_y_is_x_trains_exactly_as_with_a_copy(noise, shuffle):
    x = np.random.default_rng(1).random((203, 20)).astype(np.float32)
    keep = x.copy()
    a, b = _autoencoder(noise), _autoencoder(noise)
    ha = a.fit(x, x, epochs=3, batch_size=16, shuffle=shuffle, verbose=0)
    hb = b.fit(x, x.copy(), epochs=3, batch_size=16, shuffle=shuffle, verbose=0)
    assert ha.history["loss"] == hb.history["loss"]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(x, keep)   # the caller's data is never written


def test_all_finite_finds_nan_and_inf_and_survives_overflowing_squares():
    a = np.random.default_rng(0).random((50, 7)).astype(np.float32)
    assert _all_finite(a)
    for bad in (np.nan, np.inf, -np.inf):
        c = a.copy()
        c[17, 3] = bad
        assert not _all_finite(c)
    c = a.copy()
    c[5, 5] = 3e38            # its square overflows float32, yet every value is finite
    assert _all_finite(c)
    assert _all_finite(np.arange(10.0)[::3])     # non-contiguous input


def _numpy_im2col(x, kh, kw, sh, sw, pt, pl, ho, wo):
    n, h, w, c = x.shape
    xp = np.zeros((n, h + kh + sh * ho, w + kw + sw * wo, c))   # room for any padding
    xp[:, pt:pt + h, pl:pl + w] = x
    rows = [xp[b, i * sh:i * sh + kh, j * sw:j * sw + kw].reshape(-1)
            for b in range(n) for i in range(ho) for j in range(wo)]
    return np.array(rows)


@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("k, s, pad", [((3, 3), (1, 1), (0, 0)), ((3, 3), (1, 1), (1, 1)),
                                       ((3, 2), (2, 1), (1, 0)), ((5, 5), (2, 2), (2, 2)),
                                       ((5, 5), (1, 1), (4, 4))])
def test_im2col_equals_numpy(c, k, s, pad):
    rng = np.random.default_rng(c)
    (kh, kw), (sh, sw), (pt, pl) = k, s, pad
    x = rng.standard_normal((2, 4, 5, c)).astype(np.float32)
    ho = (4 + 2 * pt - kh) // sh + 1
    wo = (5 + 2 * pl - kw) // sw + 1
    cols = np.full((2 * ho * wo, kh * kw * c), np.nan, dtype=np.float32)   # every cell written
    im2col(x, kh, kw, sh, sw, pt, pl, ho, wo, cols)
    np.testing.assert_array_equal(cols, _numpy_im2col(x, kh, kw, sh, sw, pt, pl, ho, wo))


@pytest.mark.parametrize("rows, f", [(10816, 32), (1, 1), (7, 3), (33, 10), (5, 1000), (0, 4)])
def test_column_sums_equal_numpy(rows, f):
    a = np.random.default_rng(rows).standard_normal((rows, f))
    out = np.full(f, np.nan)
    column_sums(a, out)
    np.testing.assert_allclose(out, a.sum(axis=0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_fused_loss_counts_the_same_hits_as_the_accuracy_metric(sparse):
    rng = np.random.default_rng(5)
    z = (rng.standard_normal((64, 7)) * 3).astype(np.float32)
    labels = rng.integers(0, 7, 64)
    if sparse:
        loss, metric, t = losses.SparseCategoricalCrossentropy(), metrics.SparseCategoricalAccuracy(), labels
    else:
        loss, metric, t = losses.CategoricalCrossentropy(), metrics.CategoricalAccuracy(), np.eye(7, dtype=np.float32)[labels]
    total, p, dz, hits = loss.value_and_grad_logits(t, z, with_hits=True)
    assert 0 < hits < 64
    assert (hits, 64) == metric.update(t, p)
    assert total == loss.value_and_grad_logits(t, z)[0]


def test_flush_zeroes_tiny_state_and_passes_nan():
    for dt in (np.float32, np.float64):
        v = np.array([1e-35, -1e-35, 0.5, np.nan, np.inf], dtype=dt)
        out = np.array([optim._flush(e) for e in v])
        assert np.array_equal(out[:3], np.array([0, 0, 0.5], dtype=dt))
        assert np.isnan(out[3]) and out[4] == np.inf


@jit
def _mm_plain(a, b, out):
    gemm.mm(a, b, out)


@jit
def _mm_a_transposed(at, b, out):
    gemm.mm(at.T, b, out)


@jit
def _mm_b_transposed(a, bt, out):
    gemm.mm(a, bt.T, out)


@jit
def _mm_strided(a, b, out):
    gemm.mm(a[:, ::2], b[::2], out)


# (float64 goes to np.dot, which warns that strided operands are slower: expected here)
@pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaPerformanceWarning")
@pytest.mark.parametrize("m, k, n", [(32, 784, 32), (37, 50, 70), (5, 3, 31), (6, 1, 32),
                                     (7, 0, 33), (1, 300, 1), (600, 288, 64), (13, 64, 200)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matrix_product_equals_numpy(m, k, n, dtype):
    rng = np.random.default_rng(m * 1000 + n)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    tol = (1e-5 if dtype == np.float32 else 1e-12) * max(1.0, math.sqrt(k))
    for call, args in [(_mm_plain, (a, b)), (_mm_a_transposed, (np.ascontiguousarray(a.T), b)),
                       (_mm_b_transposed, (a, np.ascontiguousarray(b.T))),
                       (_mm_strided, (np.repeat(a, 2, axis=1), np.repeat(b, 2, axis=0)))]:
        out = np.full((m, n), np.nan, dtype)
        call(*args, out)
        np.testing.assert_allclose(out, ref, rtol=tol, atol=tol, err_msg=call.__name__)


@jit
def _mm_add(a, b, out):
    gemm.mm_add(a, b, out)


@jit
def _mm_add_b_transposed(a, bt, out):
    gemm.mm_add(a, bt.T, out)


@pytest.mark.parametrize("m, k, n", [(32, 128, 512), (37, 50, 70), (5, 3, 31), (7, 0, 33),
                                     (13, 64, 200), (200, 64, 13)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matrix_product_can_add_to_its_output(m, k, n, dtype):
    rng = np.random.default_rng(m + k + n)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    c = rng.standard_normal((m, n)).astype(dtype)
    ref = c.astype(np.float64) + a.astype(np.float64) @ b.astype(np.float64)
    tol = (1e-5 if dtype == np.float32 else 1e-12) * max(1.0, math.sqrt(k))
    # b transposed: for m < n the product is stored transposed through the scratch block
    for call, args in [(_mm_add, (a, b)), (_mm_add_b_transposed, (a, np.ascontiguousarray(b.T)))]:
        out = c.copy()
        call(*args, out)
        np.testing.assert_allclose(out, ref, rtol=tol, atol=tol, err_msg=call.__name__)


@jit
def _product_into(a, b, out, acc):
    if acc:
        gemm.mm_add(a, b, out)
    else:
        gemm.mm(a, b, out)


def check_every_layout():
    """The float32 product on every layout the kernels pass: out a window of a bigger array
    (the rest must stay 7), a or b transposed, a reversed twice, b strided, out transposed."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((40, 70)).astype(np.float32)
    b = rng.standard_normal((70, 100)).astype(np.float32)
    ref = a.astype(np.float64) @ b
    for args in [(a, b), (np.ascontiguousarray(a.T).T, b), (a, np.ascontiguousarray(b.T).T),
                 (a[::-1][::-1], np.repeat(b, 2, axis=1)[:, ::2])]:
        for acc in (0, 1):
            big = np.full((45, 110), 7.0, np.float32)
            _product_into(*args, big[2:42, 5:105], acc)
            np.testing.assert_allclose(big[2:42, 5:105], ref + 7.0 * acc, rtol=1e-5, atol=1e-4)
            big[2:42, 5:105] = 7.0
            assert (big == 7.0).all()
        out = np.full((100, 40), np.nan, np.float32)    # out transposed: a copy, then stored
        _product_into(*args, out.T, 0)
        np.testing.assert_allclose(out.T, ref, rtol=1e-5, atol=1e-4)


def test_product_writes_only_its_output_on_every_layout():
    check_every_layout()


def test_product_on_blas_writes_only_its_output_on_every_layout():
    """The same with DLKIT_GEMM=blas: float32 products by BLAS, called by name."""
    code = ("import sys; sys.path.insert(0, 'tests'); from dlkit.kernels import gemm; "
            "assert not gemm.ENABLED; import test_fast_paths as t; t.check_every_layout()")
    env = dict(os.environ, DLKIT_GEMM="blas")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr[-3000:]


def test_product_rejects_shapes_that_do_not_match():
    with pytest.raises(ValueError, match="shapes do not match"):
        _product_into(np.ones((3, 4), np.float32), np.ones((5, 2), np.float32),
                      np.ones((3, 2), np.float32), 0)


@jit
def _transpose_into(a, out):
    gemm.transpose(a, out)


@pytest.mark.parametrize("m, n", [(128, 512), (512, 128), (16, 16), (37, 53), (1, 40),
                                  (40, 1), (0, 5), (33, 17)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transpose_equals_numpy(m, n, dtype):
    a = np.random.default_rng(m * 100 + n).standard_normal((m, n)).astype(dtype)
    t = gemm.transposed(a)
    assert t.flags.c_contiguous and t.dtype == dtype
    np.testing.assert_array_equal(t, a.T)
    wide = np.repeat(a, 2, axis=1)                 # rows not contiguous: the fallback loop
    np.testing.assert_array_equal(gemm.transposed(wide[:, ::2]), a.T)
    big = np.full((n + 3, m + 20), 7.0, dtype)     # out is a window: the rest must stay 7
    _transpose_into(a, big[1:n + 1, 4:m + 4])
    np.testing.assert_array_equal(big[1:n + 1, 4:m + 4], a.T)
    big[1:n + 1, 4:m + 4] = 7.0
    assert (big == 7.0).all()


@pytest.mark.parametrize("units, act", [(32, "relu"), (70, "tanh"), (10, "softmax")])
def test_dense_layer_products_agree_with_numpy(units, act, monkeypatch):
    from dlkit.kernels import dense as kd

    rng = np.random.default_rng(units)
    x = rng.standard_normal((45, 100)).astype(np.float32)
    dy = rng.standard_normal((45, units)).astype(np.float32)
    results = []
    for blocked in (True, False):
        if not blocked:
            monkeypatch.setattr(kd, "_blocked", lambda *arrays: False)
        dlkit.set_seed(1)
        layer = Dense(units, activation=act, input_shape=(100,))
        layer.build((None, 100))
        y = layer.forward(x, training=True)
        dx = layer.backward(dy)
        results.append((y, dx, layer.grads[0].copy(), layer.grads[1].copy()))
    for fast, plain in zip(*results):
        np.testing.assert_allclose(fast, plain, rtol=1e-4, atol=1e-5)
