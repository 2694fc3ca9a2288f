"""Conv2DTranspose, BatchNormalization, AveragePooling2D, GlobalAveragePooling2D, ZeroPadding2D:
float64 gradient checks over seeded random shapes and the NumPy references (and PyTorch where
installed)."""
import numpy as np
import pytest

import dlkit
from dlkit.errors import ShapeError
from dlkit.gradcheck import check_layer
from dlkit.layers import (AveragePooling2D, BatchNormalization, Conv2D, Conv2DTranspose, Dense,
                          GlobalAveragePooling2D, MaxPooling2D, UpSampling2D, ZeroPadding2D)
from dlkit.reference import conv as ref

TOL = 1e-6


def _shape(rng, lo=2, hi=6):
    return (int(rng.integers(1, 4)), int(rng.integers(lo, hi)), int(rng.integers(lo, hi)),
            int(rng.integers(1, 4)))


@pytest.mark.parametrize("trial", range(8))
def test_conv2d_transpose_gradcheck_and_reference(trial):
    rng = np.random.default_rng(400 + trial)
    shape = _shape(rng)
    k = tuple(int(v) for v in rng.integers(1, 4, size=2))
    strides = tuple(int(v) for v in rng.integers(1, 4, size=2))
    padding = ["valid", "same"][trial % 2]
    act = [None, "sigmoid", "relu", "tanh"][trial % 4]
    layer = Conv2DTranspose(int(rng.integers(1, 4)), k, strides=strides, padding=padding,
                            activation=act, dtype="float64", seed=trial)
    layer.build((None,) + shape[1:])
    layer.bias[:] = rng.uniform(0.1, 0.5, layer.filters)
    x = rng.standard_normal(shape)
    errs = check_layer(layer, x, seed=trial + 1)
    assert errs.max < TOL, f"{shape} k={k} s={strides} {padding}: {errs}"
    z = layer.forward(x)
    expected = ref.conv2d_transpose_forward(x, layer.kernel, layer.bias, z.shape[1:3], strides,
                                            padding)
    np.testing.assert_allclose(layer._z, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("k,s,padding", [((3, 3), (2, 2), "same"), ((2, 2), (2, 2), "valid"),
                                         ((3, 2), (1, 2), "valid"), ((4, 4), (2, 2), "same")])
def test_conv2d_transpose_matches_torch_and_keras_sizes(k, s, padding):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 5, 3))
    layer = Conv2DTranspose(2, k, strides=s, padding=padding, dtype="float64", seed=0)
    y = layer(x)
    # Keras: "same" -> H s; "valid" -> H s + max(k - s, 0)
    hw = [(n * st if padding == "same" else n * st + max(kk - st, 0))
          for n, kk, st in zip((4, 5), k, s)]
    assert y.shape == (2, *hw, 2)
    # torch's full output, cropped as TensorFlow does (the odd padding row at the end)
    full = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x.transpose(0, 3, 1, 2).copy()),
        torch.from_numpy(layer.kernel.transpose(3, 2, 0, 1).copy()), stride=s).numpy()
    pt, pl = layer._geom[2:]
    full = full.transpose(0, 2, 3, 1)[:, pt:pt + hw[0], pl:pl + hw[1], :]
    pad = [(0, 0), (0, max(hw[0] - full.shape[1], 0)), (0, max(hw[1] - full.shape[2], 0)), (0, 0)]
    np.testing.assert_allclose(y, np.pad(full, pad) + layer.bias, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("trial", range(4))
def test_batch_norm_training_gradcheck_and_reference(trial):
    rng = np.random.default_rng(500 + trial)
    shape = _shape(rng) if trial % 2 else (int(rng.integers(3, 7)), int(rng.integers(1, 5)))
    layer = BatchNormalization(dtype="float64", center=trial != 2, scale=trial != 3)
    layer.build((None,) + shape[1:])
    if layer.scale:
        layer.gamma[:] = rng.uniform(0.5, 2, shape[-1])
    x = rng.standard_normal(shape) * 3 + 1
    errs = check_layer(layer, x, training=True, seed=trial + 1)
    assert errs.max < TOL, f"{shape}: {errs}"
    y = layer.forward(x, training=True)
    ry, mean, var = ref.batch_norm_forward(x, layer.gamma, layer.beta)
    np.testing.assert_allclose(y, ry, rtol=1e-10, atol=1e-12)
    dy = rng.standard_normal(shape)
    dx = layer.backward(dy)
    rdx, rdg, rdb = ref.batch_norm_backward(x, layer.gamma, dy)
    np.testing.assert_allclose(dx, rdx, rtol=1e-9, atol=1e-12)
    grads = dict(zip(layer.param_names, layer.grads))
    if layer.scale:
        np.testing.assert_allclose(grads["gamma"], rdg, rtol=1e-10)
    if layer.center:
        np.testing.assert_allclose(grads["beta"], rdb, rtol=1e-10)


def test_batch_norm_inference_uses_moving_statistics():
    rng = np.random.default_rng(6)
    layer = BatchNormalization(momentum=0.5, dtype="float64")
    x = rng.standard_normal((50, 3)) * 2 + 5
    layer.forward(x, training=True)
    # Keras's update: moving = momentum moving + (1 - momentum) batch (biased variance)
    np.testing.assert_allclose(layer.moving_mean, 0.5 * 0 + 0.5 * x.mean(0))
    np.testing.assert_allclose(layer.moving_variance, 0.5 * 1 + 0.5 * x.var(0))
    y = layer.forward(x[:1], training=False)
    expected = (x[:1] - layer.moving_mean) / np.sqrt(layer.moving_variance + 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-12)
    assert check_layer(layer, x[:4], training=False, seed=1).max < TOL
    assert layer.weight_names == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert layer.param_names == ["gamma", "beta"]


@pytest.mark.parametrize("trial", range(4))
def test_average_pooling_gradcheck_and_reference(trial):
    rng = np.random.default_rng(600 + trial)
    pool = tuple(int(v) for v in rng.integers(1, 4, size=2))
    strides = None if trial < 2 else tuple(int(v) for v in rng.integers(1, 3, size=2))
    padding = ["valid", "same"][trial % 2]
    x = rng.standard_normal(_shape(rng, 3, 7))
    layer = AveragePooling2D(pool, strides=strides, padding=padding, dtype="float64")
    assert check_layer(layer, x, seed=trial + 1).max < TOL
    y = layer.forward(x)
    np.testing.assert_allclose(y, ref.avg_pool2d_forward(x, pool, layer.strides, padding),
                               rtol=1e-12)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(layer.backward(dy),
                               ref.avg_pool2d_backward(x, dy, pool, layer.strides, padding),
                               rtol=1e-12)


def test_average_pooling_same_counts_only_inside_positions():
    x = np.ones((1, 3, 3, 1))
    y = AveragePooling2D(2, padding="same", dtype="float64")(x)
    np.testing.assert_array_equal(y, np.ones((1, 2, 2, 1)))   # not 1/4 or 1/2 at the border


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_average_pooling(keepdims):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 4, 5))
    layer = GlobalAveragePooling2D(keepdims=keepdims, dtype="float64")
    y = layer(x)
    np.testing.assert_allclose(y, x.mean(axis=(1, 2), keepdims=keepdims))
    assert layer.output_shape == ((None, 1, 1, 5) if keepdims else (None, 5))
    assert check_layer(layer, x, seed=1).max < TOL


@pytest.mark.parametrize("padding,out", [(1, (5, 6)), ((2, 0), (7, 4)), (((1, 0), (0, 2)), (4, 6))])
def test_zero_padding(padding, out):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 4, 2))
    layer = ZeroPadding2D(padding, dtype="float64")
    y = layer(x)
    assert y.shape == (2, *out, 2)
    assert y.sum() == pytest.approx(x.sum())
    assert check_layer(layer, x, seed=1).max < TOL


def test_convolutional_autoencoder_trains_with_fused_sigmoid_head():
    """Conv2D(1, sigmoid) + binary cross-entropy: the fused head path through a conv layer."""
    rng = np.random.default_rng(9)
    x = (rng.random((64, 8, 8, 1)) > 0.5).astype(np.float32)
    dlkit.set_seed(0)
    model = dlkit.Sequential([
        Conv2D(4, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
        MaxPooling2D(2),
        Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
        BatchNormalization(),
        Conv2D(4, 3, padding="same", activation="relu"),
        UpSampling2D(1),
        Conv2D(1, 3, padding="same", activation="sigmoid"),
    ])
    model.compile("adam", "binary_crossentropy")
    assert model.head.fused
    h = model.fit(x, x, epochs=15, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0] - 0.02, h.history["loss"]


def test_transpose_and_pooling_errors_and_repr():
    with pytest.raises(ShapeError, match="Reshape"):
        Conv2DTranspose(2, 3)(np.zeros((2, 16), np.float32))
    with pytest.raises(ShapeError, match="built for 2 input channel"):
        layer = MaxPooling2D()
        layer(np.zeros((1, 4, 4, 2), np.float32))
        layer(np.zeros((1, 4, 4, 3), np.float32))
    assert repr(Conv2DTranspose(8, 3, strides=2, padding="same")) == \
        "Conv2DTranspose(8, (3, 3), strides=(2, 2), padding='same')"
    assert repr(BatchNormalization()) == "BatchNormalization()"
    assert repr(UpSampling2D()) == "UpSampling2D(size=(2, 2))"
    assert Dense(3).get_config()  # the layers module imports cleanly with all of these


def test_model_save_and_load_roundtrip(tmp_path):
    dlkit.set_seed(1)
    model = dlkit.Sequential([Conv2D(3, 3, padding="same", activation="relu", input_shape=(6, 6, 2)),
                              BatchNormalization(), AveragePooling2D(2), ZeroPadding2D(1),
                              Conv2DTranspose(2, 2, strides=2), GlobalAveragePooling2D(),
                              Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(2).random((8, 6, 6, 2)).astype(np.float32)
    model.fit(x, np.arange(8) % 2, epochs=1, verbose=0)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = dlkit.load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


def test_viz_filters_and_feature_maps():
    from dlkit import viz

    dlkit.set_seed(0)
    model = dlkit.Sequential([Conv2D(6, 3, activation="relu", input_shape=(10, 10, 1)),
                              MaxPooling2D(2), Conv2D(4, 3, activation="relu"),
                              GlobalAveragePooling2D(), Dense(2, activation="softmax")])
    fig = viz.plot_filters(model.layers[0])
    assert len([ax for ax in fig.axes if ax.images]) == 6
    image = np.random.default_rng(0).random((10, 10))
    maps = viz.feature_maps(model, image)
    assert [(l.name, m.shape) for l, m in maps] == [("conv2d", (8, 8, 6)),
                                                   ("max_pooling2d", (4, 4, 6)),
                                                   ("conv2d_1", (2, 2, 4))]
    np.testing.assert_allclose(maps[0][1], model.layers[0](image.reshape(1, 10, 10, 1))[0],
                               rtol=1e-6)
    fig = viz.plot_feature_maps(model, image, max_maps=4)
    assert len(fig.axes) == 3 * 5
    with pytest.raises(ValueError, match=r"\(kh, kw, C, F\)"):
        viz.plot_filters(np.zeros((3, 3)))
