"""Conv2D, pooling and upsampling: float64 gradient checks over seeded random shapes, the fast
kernels against the NumPy references, clear errors, Keras's summary, and the CNN of the fourth
source document trained on the bundled MNIST split."""
import numpy as np
import pytest

import dlkit
from dlkit.errors import ShapeError
from dlkit.gradcheck import check_layer
from dlkit.layers import Conv2D, Dense, Flatten, MaxPooling2D, Reshape, UpSampling2D
from dlkit import _threads as threads
from dlkit.reference import conv as ref

TOL = 1e-6


def _random_conv_case(rng):
    n, c, f = rng.integers(1, 4), rng.integers(1, 4), rng.integers(1, 5)
    kh, kw = rng.integers(1, 4, size=2)
    sh, sw = rng.integers(1, 3, size=2)
    padding = rng.choice(["valid", "same"])
    h, w = rng.integers(kh, kh + 5), rng.integers(kw, kw + 5)
    act = rng.choice([None, "relu", "tanh", "sigmoid"])
    kwargs = dict(strides=(int(sh), int(sw)), padding=str(padding), activation=act)
    return (int(n), int(h), int(w), int(c)), int(f), (int(kh), int(kw)), kwargs


@pytest.mark.parametrize("trial", range(8))
def test_conv2d_gradcheck(trial):
    rng = np.random.default_rng(100 + trial)
    shape, f, k, kwargs = _random_conv_case(rng)
    layer = Conv2D(f, k, dtype="float64", seed=trial, **kwargs)
    layer.build((None,) + shape[1:])
    # relu's kink: keep inputs away from z = 0 by a random but fixed nonzero bias
    layer.bias[:] = rng.uniform(0.1, 0.5, f)
    errs = check_layer(layer, rng.standard_normal(shape))
    assert errs.max < TOL, f"{shape} {f} {k} {kwargs}: {errs}"


@pytest.mark.parametrize("trial", range(6))
@pytest.mark.parametrize("split", [False, True])
def test_conv2d_kernels_match_reference(trial, split, monkeypatch):
    if split:   # every batch split over the threads, however little work it is
        monkeypatch.setattr(threads, "PARALLEL_MIN_WORK", 0)
    rng = np.random.default_rng(200 + trial)
    (n, h, w, c), f, k, kwargs = _random_conv_case(rng)
    n += 2  # at least 3 samples so both threads get some
    kwargs["activation"] = None
    layer = Conv2D(f, k, dtype="float64", seed=trial, **kwargs)
    layer.build((None, h, w, c))
    layer.bias[:] = rng.standard_normal(f)
    x = rng.standard_normal((n, h, w, c))
    z = layer.forward(x)
    expected = ref.conv2d_forward(x, layer.kernel, layer.bias, layer.strides, layer.padding)
    np.testing.assert_allclose(z, expected, rtol=1e-10, atol=1e-12)
    dz = rng.standard_normal(z.shape)
    dx = layer.backward(dz)
    rdx, rdw, rdb = ref.conv2d_backward(x, layer.kernel, dz, layer.strides, layer.padding)
    np.testing.assert_allclose(dx, rdx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads[0], rdw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.grads[1], rdb, rtol=1e-10, atol=1e-12)


def test_conv2d_float32_matches_reference_and_skips_input_grad():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 10, 9, 4)).astype(np.float32)
    layer = Conv2D(6, 3, padding="same", activation="relu", seed=0)
    y = layer(x)
    assert y.dtype == np.float32 and y.shape == (5, 10, 9, 6)
    expected = np.maximum(ref.conv2d_forward(x.astype(np.float64), layer.kernel, layer.bias,
                                             (1, 1), "same"), 0)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)
    layer.skip_input_grad = True
    assert layer.backward(np.ones_like(y)) is None
    assert np.isfinite(layer.grads[0]).all()


def test_conv2d_float32_backward_matches_reference():
    """float32 runs the fast matrix product (whole 32-column blocks and an edge: 40 filters)."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 11, 10, 5)).astype(np.float32)
    layer = Conv2D(40, 3, strides=(1, 2), padding="same", seed=0)
    y = layer(x)
    dz = rng.standard_normal(y.shape).astype(np.float32)
    dx = layer.backward(dz)
    w64 = layer.kernel.astype(np.float64)
    expected_y = ref.conv2d_forward(x.astype(np.float64), w64, layer.bias.astype(np.float64),
                                    (1, 2), "same")
    rdx, rdw, rdb = ref.conv2d_backward(x.astype(np.float64), w64, dz.astype(np.float64),
                                        (1, 2), "same")
    np.testing.assert_allclose(y, expected_y, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, rdx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grads[0], rdw, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(layer.grads[1], rdb, rtol=1e-4, atol=1e-3)


def test_conv2d_matches_torch_with_keras_layout():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 9, 8, 3))
    layer = Conv2D(5, (3, 2), strides=(2, 1), dtype="float64", seed=1)
    y = layer(x)
    # Keras kernel (kh, kw, C, F) -> torch weight (F, C, kh, kw); NHWC -> NCHW
    wt = torch.from_numpy(layer.kernel.transpose(3, 2, 0, 1).copy())
    yt = torch.nn.functional.conv2d(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()), wt,
                                    torch.from_numpy(layer.bias), stride=(2, 1))
    np.testing.assert_allclose(y, yt.numpy().transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("trial", range(6))
def test_max_pooling_gradcheck_and_reference(trial, monkeypatch):
    monkeypatch.setattr(threads, "PARALLEL_MIN_WORK", 0 if trial % 2 else 10 ** 12)
    rng = np.random.default_rng(300 + trial)
    pool = tuple(int(p) for p in rng.integers(1, 4, size=2))
    strides = None if trial < 2 else tuple(int(s) for s in rng.integers(1, 3, size=2))
    padding = ["valid", "same"][trial % 2]
    shape = (int(rng.integers(1, 4)), int(rng.integers(3, 8)), int(rng.integers(3, 8)),
             int(rng.integers(1, 4)))
    x = rng.standard_normal(shape)  # continuous values: no ties, so the max is differentiable
    layer = MaxPooling2D(pool, strides=strides, padding=padding, dtype="float64")
    assert check_layer(layer, x).max < TOL
    y = layer.forward(x)
    ry, arg = ref.max_pool2d_forward(x, pool, layer.strides, padding)
    np.testing.assert_array_equal(y, ry)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(layer.backward(dy),
                               ref.max_pool2d_backward(x, dy, arg, pool, layer.strides, padding),
                               rtol=1e-12, atol=1e-14)


def test_max_pooling_ties_route_to_the_first_maximum():
    x = np.zeros((1, 2, 2, 1))
    layer = MaxPooling2D(dtype="float64")
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 1, 1, 1)))[0, :, :, 0],
                                  [[1, 0], [0, 0]])


@pytest.mark.parametrize("size", [(2, 2), (3, 1)])
def test_upsampling_gradcheck_and_reference(size):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 2))
    layer = UpSampling2D(size, dtype="float64")
    assert check_layer(layer, x).max < TOL
    y = layer.forward(x)
    np.testing.assert_array_equal(y, ref.upsampling2d_forward(x, size))
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(layer.backward(dy), ref.upsampling2d_backward(dy, size))


# -- errors ------------------------------------------------------------------------------------
def test_rank2_input_suggests_reshape():
    layer = Conv2D(8, 3)
    with pytest.raises(ShapeError, match=r"Reshape\(\(28, 28, 1\)\)"):
        layer(np.zeros((4, 784), np.float32))
    model = dlkit.Sequential([Conv2D(8, 3, input_shape=(28, 28, 1))])
    with pytest.raises(ShapeError, match="28, 28, 1"):
        model.predict(np.zeros((4, 784), np.float32))
    with pytest.raises(ShapeError, match=r"Reshape\(\(28, 28, 1\)\)"):
        dlkit.Sequential([Conv2D(8, 3, input_shape=(784,))])


def test_channel_mismatch_is_named():
    layer = Conv2D(4, 3)
    layer(np.zeros((1, 8, 8, 1), np.float32))
    with pytest.raises(ShapeError, match="built for 1 input channel.*got 3"):
        layer(np.zeros((1, 8, 8, 3), np.float32))


@pytest.mark.parametrize("make", [lambda: Conv2D(4, 5), lambda: MaxPooling2D(5)])
def test_window_that_does_not_fit_is_an_error(make):
    with pytest.raises(ShapeError, match="5x5 window does not fit a 4x4 input.*padding='same'"):
        make()(np.zeros((1, 4, 4, 1), np.float32))


def test_output_size_formula():
    from dlkit.layers.geometry import output_length, pad_amounts

    assert output_length(28, 3, 1, "valid") == 26
    assert output_length(7, 3, 2, "valid") == 3 == (7 - 3) // 2 + 1
    assert output_length(7, 3, 2, "same") == 4
    assert pad_amounts(7, 4, 1, "same") == (1, 2)  # the odd one after, as TensorFlow


# -- the fourth document's CNN -----------------------------------------------------------------
def document_cnn():
    return dlkit.Sequential([
        Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D((2, 2)),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D((2, 2)),
        Flatten(),
        Dense(128, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def test_cnn_summary_matches_keras():
    model = document_cnn()
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    expected = [("conv2d (Conv2D)", "(None, 26, 26, 32)", "320"),
                ("max_pooling2d (MaxPooling2D)", "(None, 13, 13, 32)", "0"),
                ("conv2d_1 (Conv2D)", "(None, 11, 11, 64)", "18,496"),
                ("max_pooling2d_1 (MaxPooling2D)", "(None, 5, 5, 64)", "0"),
                ("flatten (Flatten)", "(None, 1600)", "0"),
                ("dense (Dense)", "(None, 128)", "204,928"),
                ("dense_1 (Dense)", "(None, 10)", "1,290")]
    rows = [line.split() for line in text.splitlines()]
    for name, shape, params in expected:
        row = next((r for r in rows if " ".join(r[:2]) == name), None)
        assert row is not None, f"{name} missing from\n{text}"
        assert " ".join(row[2:-1]) == shape and row[-1] == params, f"got {row}"
    assert "Total params: 225,034" in text
    assert [w.shape for w in model.get_weights()[:2]] == [(3, 3, 1, 32), (32,)]


def test_cnn_reaches_96_percent_in_3_epochs():
    from dlkit.datasets import mnist

    (x, y), (xt, yt) = mnist.load_data()
    x = (x[..., None] / np.float32(255)).astype(np.float32)
    xt = (xt[..., None] / np.float32(255)).astype(np.float32)
    dlkit.set_seed(0)
    model = document_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    loss, acc = model.evaluate(xt, yt)
    assert acc >= 0.96, f"test accuracy {acc:.4f} after 3 epochs (loss {loss:.4f})"


def test_reshape_then_conv_trains_from_flat_rows():
    rng = np.random.default_rng(0)
    x = rng.random((16, 36)).astype(np.float32)
    model = dlkit.Sequential([Reshape((6, 6, 1), input_shape=(36,)), Conv2D(2, 3, activation="relu"),
                              Flatten(), Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    h = model.fit(x, (x.sum(1) > 18).astype(int), epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()


def test_repr_and_config_roundtrip():
    layer = Conv2D(16, 3, strides=2, padding="same", activation="relu")
    assert repr(layer) == "Conv2D(16, (3, 3), strides=(2, 2), padding='same', activation='relu')"
    assert repr(MaxPooling2D(2)) == "MaxPooling2D((2, 2))"
    clone = Conv2D.from_config(layer.get_config())
    assert (clone.filters, clone.kernel_size, clone.strides, clone.padding, clone.activation) == \
        (16, (3, 3), (2, 2), "same", "relu")
