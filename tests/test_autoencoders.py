"""Autoencoders: nested models, the document's dense autoencoder, denoising (GaussianNoise,
MaskingNoise), variational (Sampling + KL), convolutional, anomaly scores and the pictures.

Training tests run on the bundled MNIST split with fixed seeds; gradient checks are float64.
"""
import numpy as np
import pytest

import dlkit
from dlkit import Input, Model, Sequential
from dlkit.anomaly import reconstruction_error, roc_auc, threshold
from dlkit.errors import ShapeError
from dlkit.gradcheck import check_layer, numerical_gradient, rel_error
from dlkit.layers import Dense, GaussianNoise, MaskingNoise, Sampling
from dlkit.layers.vae import sample_prior

TOL = 1e-6


def dense_autoencoder(hidden=32, noise=None, seed=0):
    """784 -> hidden relu -> 784 sigmoid as encoder and decoder models, nested."""
    dlkit.set_seed(seed)
    encoder = Sequential(([noise] if noise is not None else [])
                         + [Dense(hidden, activation="relu", input_shape=(784,))], name="encoder")
    decoder = Sequential([Dense(784, activation="sigmoid", input_shape=(hidden,))],
                         name="decoder")
    autoencoder = Sequential([encoder, decoder], name="autoencoder")
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    return autoencoder, encoder, decoder


@pytest.fixture(scope="module")
def document_ae(mnist_flat):
    """The fourth document's autoencoder, written as there, trained as the issue says:
    Adam, batch 256, 10 epochs on the bundled training split."""
    (x, _), _ = mnist_flat
    dlkit.set_seed(0)
    input_dim, latent_dim = 784, 32
    input_img = Input(shape=(input_dim,))
    encoded = Dense(latent_dim, activation='relu')(input_img)
    decoded = Dense(input_dim, activation='sigmoid')(encoded)
    autoencoder = Model(input_img, decoded)
    autoencoder.compile(optimizer='adam', loss='binary_crossentropy')
    history = autoencoder.fit(x, x, epochs=10, batch_size=256, shuffle=True, verbose=0)
    encoder = Model(input_img, encoded)
    return autoencoder, encoder, history


# -- 1. the document's dense autoencoder ------------------------------------------------------

def test_document_autoencoder_reaches_test_bce_020(document_ae, mnist_flat):
    _, (xt, _) = mnist_flat
    autoencoder, encoder, history = document_ae
    bce = autoencoder.evaluate(xt, xt)
    assert bce <= 0.20, f"test binary cross-entropy {bce:.4f} > 0.20"
    # the value is Keras's: the mean over pixels and samples of -[x log p + (1-x) log(1-p)]
    p = np.clip(autoencoder.predict(xt).astype(np.float64), 1e-7, 1 - 1e-7)
    by_hand = -np.mean(xt * np.log(p) + (1 - xt) * np.log(1 - p))
    assert bce == pytest.approx(by_hand, rel=1e-4)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert encoder.predict(xt[:5]).shape == (5, 32)


# -- nesting: Sequential([encoder, decoder]) shares, trains, checks and saves --------------------

def test_nested_models_share_weights_and_train_through(mnist_flat):
    (x, _), (xt, _) = mnist_flat
    autoencoder, encoder, decoder = dense_autoencoder()
    assert autoencoder.layers == [encoder, decoder]
    assert autoencoder.params[0] is encoder.layers[0].kernel        # shared, not copied
    assert autoencoder.weight_names[:2] == ["encoder/dense/kernel", "encoder/dense/bias"]
    codes_before = encoder.predict(xt[:20])
    autoencoder.fit(x[:1024], x[:1024], epochs=1, batch_size=256, verbose=0)
    codes_after = encoder.predict(xt[:20])
    assert not np.allclose(codes_before, codes_after)
    np.testing.assert_allclose(decoder.predict(codes_after), autoencoder.predict(xt[:20]),
                               rtol=1e-6, atol=1e-7)
    assert autoencoder.head.fused   # the sigmoid + BCE head is found inside the nested decoder


def test_gradients_through_nested_models_float64(rng):
    dlkit.set_seed(5)
    encoder = Sequential([Dense(4, activation="tanh", input_shape=(6,), dtype="float64"),
                          Dense(3, activation="relu", dtype="float64")])
    decoder = Sequential([Dense(6, activation="sigmoid", input_shape=(3,), dtype="float64")])
    errors = check_layer(Sequential([encoder, decoder]), rng.standard_normal((5, 6)))
    assert errors.max < TOL, errors


def test_save_and_load_nested_autoencoder(tmp_path, mnist_flat):
    (x, _), (xt, _) = mnist_flat
    autoencoder, encoder, _ = dense_autoencoder(seed=1)
    autoencoder.fit(x[:512], x[:512], epochs=1, batch_size=256, verbose=0)
    path = tmp_path / "autoencoder.npz"
    autoencoder.save(path)
    loaded = dlkit.load_model(path)
    assert [type(l).__name__ for l in loaded.layers] == ["Sequential", "Sequential"]
    assert [l.name for l in loaded.layers] == ["encoder", "decoder"]
    np.testing.assert_array_equal(loaded.predict(xt[:100]), autoencoder.predict(xt[:100]))
    # the encoder taken out of the loaded file gives the same codes as the original encoder
    np.testing.assert_array_equal(loaded.get_layer("encoder").predict(xt[:100]),
                                  encoder.predict(xt[:100]))
    assert loaded.loss.name == "binary_crossentropy"
    loaded.fit(x[:256], x[:256], epochs=1, batch_size=128, verbose=0)   # still trains
    # weights-only files load into a freshly built nested model
    autoencoder.save_weights(tmp_path / "w.npz")
    fresh, fresh_encoder, _ = dense_autoencoder(seed=9)
    fresh.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(fresh_encoder.predict(xt[:10]), encoder.predict(xt[:10]))


# -- noise layers --------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", [GaussianNoise(0.3, seed=0), MaskingNoise(0.4, seed=0)],
                         ids=["GaussianNoise", "MaskingNoise"])
def test_noise_layers_are_identity_at_inference(layer, rng):
    x = rng.random((6, 10)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    assert not np.array_equal(layer.forward(x, training=True), x)


def test_gaussian_noise_statistics_and_seeding():
    x = np.full((400, 250), 0.5, dtype=np.float32)
    y = GaussianNoise(0.2, seed=3).forward(x, training=True)
    assert y.dtype == np.float32
    assert abs(float(np.mean(y - x))) < 0.002 and abs(float(np.std(y - x)) - 0.2) < 0.002
    np.testing.assert_array_equal(y, GaussianNoise(0.2, seed=3).forward(x, training=True))
    assert not np.array_equal(y, GaussianNoise(0.2, seed=4).forward(x, training=True))


def test_masking_noise_zeros_a_fraction_and_does_not_rescale():
    x = np.random.default_rng(0).uniform(0.1, 1.0, (400, 250)).astype(np.float32)
    y = MaskingNoise(0.3, seed=1).forward(x, training=True)
    zeroed = y == 0
    assert abs(float(zeroed.mean()) - 0.3) < 0.005
    np.testing.assert_array_equal(y[~zeroed], x[~zeroed])   # kept values unchanged (not Dropout)


@pytest.mark.parametrize("make", [lambda: GaussianNoise(0.5, seed=2, dtype="float64"),
                                  lambda: MaskingNoise(0.5, seed=2, dtype="float64")],
                         ids=["GaussianNoise", "MaskingNoise"])
def test_noise_layer_gradients(make):
    for trial in range(3):
        shape = tuple(np.random.default_rng(trial).integers(2, 6, size=trial + 2))
        x = np.random.default_rng(10 + trial).standard_normal(shape)
        errors = check_layer(make(), x, training=True)
        assert errors.max < TOL, (shape, errors)


def test_noise_layer_arguments_and_config():
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="rate"):
        MaskingNoise(1.0)
    for layer in (GaussianNoise(0.25, seed=3), MaskingNoise(0.5)):
        clone = type(layer).from_config(layer.get_config())
        assert repr(clone) == repr(layer)
    assert repr(GaussianNoise(0.25)) == "GaussianNoise(0.25)"


# -- 2a. denoising beats plain on noisy digits ---------------------------------------------------

@pytest.fixture(scope="module")
def plain_256(mnist_flat):
    (x, _), _ = mnist_flat
    autoencoder, _, _ = dense_autoencoder(hidden=256, seed=0)
    autoencoder.fit(x, x, epochs=10, batch_size=256, verbose=0)
    return autoencoder


@pytest.mark.parametrize("kind", ["gaussian", "masking"])
def test_denoising_autoencoder_beats_plain_on_noisy_inputs(kind, plain_256, mnist_flat):
    (x, _), (xt, _) = mnist_flat
    rng = np.random.default_rng(123)
    if kind == "gaussian":
        noise = GaussianNoise(0.5, seed=1, input_shape=(784,))
        noisy = xt + np.float32(0.5) * rng.standard_normal(xt.shape, dtype=np.float32)
    else:
        noise = MaskingNoise(0.5, seed=1, input_shape=(784,))
        noisy = xt * (rng.random(xt.shape) >= 0.5).astype(np.float32)
    denoiser, _, _ = dense_autoencoder(hidden=256, noise=noise, seed=0)
    denoiser.fit(x, x, epochs=10, batch_size=256, verbose=0)   # clean targets, noise inside
    dae = reconstruction_error(denoiser, noisy, target=xt).mean()
    plain = reconstruction_error(plain_256, noisy, target=xt).mean()
    assert dae < plain, f"{kind}: denoising MSE {dae:.5f} vs plain {plain:.5f}"
    assert denoiser.evaluate(noisy, xt) < plain_256.evaluate(noisy, xt)


# -- Sampling (reparameterisation) and the added-loss protocol ----------------------------------

def kl_by_hand(x):
    d = x.shape[-1] // 2
    mu, logvar = x[..., :d], x[..., d:]
    return float(np.mean(-0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar), axis=-1)))


def test_sampling_shapes_inference_and_kl_value(rng):
    layer = Sampling(kl_weight=0.5, seed=0, dtype="float64")
    x = rng.standard_normal((7, 6))
    z = layer.forward(x, training=False)
    np.testing.assert_array_equal(z, x[:, :3])                 # inference: z = mu
    assert layer.added_loss() == pytest.approx(0.5 * kl_by_hand(x), rel=1e-12)
    assert layer.compute_output_shape((None, 6)) == (None, 3)
    # KL of N(mu, sigma^2) from N(0, 1) in closed form: (sigma^2 + mu^2 - 1 - ln sigma^2) / 2
    one = np.array([[1.5, np.log(4.0)]])
    layer = Sampling(seed=0, dtype="float64")
    layer.forward(one)
    assert layer.added_loss() == pytest.approx((4 + 2.25 - 1 - np.log(4)) / 2, rel=1e-12)
    with pytest.raises(ShapeError, match="even"):
        Sampling().forward(np.zeros((2, 5), np.float32))


def test_sampling_draws_reparameterised_seeded_samples():
    n, d = 20000, 2
    x = np.concatenate([np.tile([1.0, -2.0], (n, 1)), np.tile([np.log(4.0), 0.0], (n, 1))], 1)
    z = Sampling(seed=1, dtype="float64").forward(x, training=True)
    np.testing.assert_allclose(z.mean(0), [1.0, -2.0], atol=0.04)
    np.testing.assert_allclose(z.std(0), [2.0, 1.0], atol=0.03)
    np.testing.assert_array_equal(z, Sampling(seed=1, dtype="float64").forward(x, training=True))


def check_with_added_loss(layer, x, training, seed=0):
    """Relative error of dx for the scalar sum(forward(x) * dy) + layer.added_loss(), with the
    layer's generator replayed so every pass draws the same noise."""
    state = layer._rng.bit_generator.state

    def fwd():
        layer._rng.bit_generator.state = state
        return layer.forward(x, training=training)

    dy = np.random.default_rng(seed).standard_normal(fwd().shape)
    fwd()
    dx = layer.backward(dy.copy())
    return rel_error(dx, numerical_gradient(lambda: float(np.sum(fwd() * dy))
                                            + layer.added_loss(), x))


@pytest.mark.parametrize("training", [True, False])
def test_sampling_gradients_with_and_without_kl(training):
    for trial in range(3):
        r = np.random.default_rng(trial)
        n, d = int(r.integers(1, 6)), int(r.integers(1, 5))
        x = r.standard_normal((n, 2 * d))
        assert check_layer(Sampling(kl_weight=0.0, seed=trial, dtype="float64"), x,
                           training=training).max < TOL
        err = check_with_added_loss(Sampling(kl_weight=0.7, seed=trial, dtype="float64"), x,
                                    training)
        assert err < TOL, (trial, err)


def test_vae_model_gradient_includes_the_kl_term(rng):
    """The whole VAE, nested, float64: dL/dparams for L = BCE + KL against central differences."""
    dlkit.set_seed(11)
    f64 = {"dtype": "float64"}
    sampling = Sampling(kl_weight=0.3, seed=4, **f64)
    encoder = Sequential([Dense(5, activation="tanh", input_shape=(6,), **f64), Dense(4, **f64),
                          sampling])
    decoder = Sequential([Dense(6, activation="sigmoid", input_shape=(2,), **f64)])
    vae = Sequential([encoder, decoder])
    vae.compile("adam", "binary_crossentropy")
    x = rng.random((4, 6))
    state = sampling._rng.bit_generator.state

    def forward():
        sampling._rng.bit_generator.state = state   # every pass draws the same eps
        return vae.forward(x, training=True)

    def loss():
        return vae.loss.value_and_grad(x, forward())[0] / len(x) + vae.added_loss()

    _, dy = vae.loss.value_and_grad(x, forward())
    vae.backward(dy)
    analytic = [g.copy() for g in vae.grads]
    for name, p, g in zip(vae.param_names, vae.params, analytic):
        err = rel_error(g, numerical_gradient(loss, p))
        assert err < TOL, (name, err)


def test_fit_and_evaluate_report_reconstruction_plus_kl(mnist_flat):
    (x, _), (xt, _) = mnist_flat
    vae, encoder, decoder = small_vae(seed=0)
    vae.fit(x[:512], x[:512], epochs=1, batch_size=128, verbose=0)
    reported = vae.evaluate(xt[:300], xt[:300], batch_size=100)
    bce = dlkit.losses.get("binary_crossentropy")(xt[:300], vae.predict(xt[:300]))
    mu_logvar = encoder.layers[1].forward(encoder.layers[0].forward(xt[:300]))
    kl = encoder.layers[-1].kl_weight * kl_by_hand(mu_logvar.astype(np.float64))
    assert reported == pytest.approx(bce + kl, rel=1e-4)


# -- 2b. the VAE learns, and its samples from the prior look like digits -------------------------

def small_vae(latent_dim=8, hidden=256, seed=0):
    dlkit.set_seed(seed)
    encoder = Sequential([Dense(hidden, activation="relu", input_shape=(784,)),
                          Dense(2 * latent_dim),                      # [mu | logvar]
                          Sampling(kl_weight=1 / 784, seed=seed + 1)], name="encoder")
    decoder = Sequential([Dense(hidden, activation="relu", input_shape=(latent_dim,)),
                          Dense(784, activation="sigmoid")], name="decoder")
    vae = Sequential([encoder, decoder], name="vae")
    vae.compile(optimizer="adam", loss="binary_crossentropy")
    return vae, encoder, decoder


@pytest.fixture(scope="module")
def digit_classifier(mnist_flat):
    (x, y), (xt, yt) = mnist_flat
    dlkit.set_seed(0)
    clf = Sequential([Dense(128, activation="relu", input_shape=(784,)),
                      Dense(10, activation="softmax")])
    clf.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    clf.fit(x, y, epochs=5, batch_size=64, verbose=0)
    assert clf.evaluate(xt, yt)[1] > 0.93
    return clf


def test_vae_loss_decreases_and_prior_samples_are_digits(mnist_flat, digit_classifier):
    (x, _), _ = mnist_flat
    vae, _, decoder = small_vae()
    untrained = digit_classifier.predict(sample_prior(decoder, 200, seed=2)).max(axis=1).mean()
    history = vae.fit(x, x, epochs=10, batch_size=128, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.75 * losses[0], losses
    samples = sample_prior(decoder, 200, seed=2)
    assert samples.shape == (200, 784)
    np.testing.assert_array_equal(samples, sample_prior(decoder, 200, seed=2))   # seeded
    probs = digit_classifier.predict(samples)
    confidence = probs.max(axis=1).mean()
    assert confidence >= 0.5, f"mean classifier confidence on VAE samples {confidence:.3f}"
    assert confidence > untrained + 0.1, (confidence, untrained)
    assert len(np.unique(probs.argmax(axis=1))) >= 6, "samples should be of many digits"


def test_vae_saves_and_loads_with_its_sampling_layer(tmp_path, mnist_flat):
    _, (xt, _) = mnist_flat
    vae, encoder, _ = small_vae(latent_dim=2, hidden=16, seed=3)
    vae.save(tmp_path / "vae.npz")
    loaded = dlkit.load_model(tmp_path / "vae.npz")
    sampling = loaded.get_layer("encoder").layers[-1]
    assert isinstance(sampling, Sampling) and sampling.kl_weight == pytest.approx(1 / 784)
    np.testing.assert_array_equal(loaded.get_layer("encoder").predict(xt[:20]),
                                  encoder.predict(xt[:20]))
    assert loaded.evaluate(xt[:50], xt[:50]) == pytest.approx(vae.evaluate(xt[:50], xt[:50]))


# -- anomaly scores ------------------------------------------------------------------------------

def test_reconstruction_error_formulas(rng):
    x = rng.random((5, 4, 3))
    x_hat = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0, 1)
    np.testing.assert_allclose(reconstruction_error(x_hat, x), ((x - x_hat) ** 2).mean((1, 2)))
    np.testing.assert_allclose(reconstruction_error(x_hat, x, loss="mae"),
                               np.abs(x - x_hat).mean((1, 2)))
    p = np.clip(x_hat, 1e-7, 1 - 1e-7)
    np.testing.assert_allclose(reconstruction_error(x_hat, x, loss="binary_crossentropy"),
                               -(x * np.log(p) + (1 - x) * np.log(1 - p)).mean((1, 2)))
    with pytest.raises(ValueError, match="unknown reconstruction loss"):
        reconstruction_error(x_hat, x, loss="hinge")


def test_roc_auc_equals_pairwise_count_and_threshold_is_a_quantile(rng):
    a = rng.integers(0, 8, 40).astype(float)      # ties on purpose
    b = rng.integers(3, 12, 30).astype(float)
    pairs = (b[None, :] > a[:, None]).mean() + 0.5 * (b[None, :] == a[:, None]).mean()
    assert roc_auc(a, b) == pytest.approx(pairs, rel=1e-12)
    assert roc_auc(a, a) == pytest.approx(0.5)
    scores = np.arange(1001.0)
    assert threshold(scores, 0.99) == pytest.approx(990.0)


def test_autoencoder_flags_images_unlike_digits(document_ae, mnist_flat):
    _, (xt, _) = mnist_flat
    autoencoder, _, _ = document_ae
    normal = reconstruction_error(autoencoder, xt[1000:])
    limit = threshold(reconstruction_error(autoencoder, xt[:1000]), 0.99)
    odd = {"inverted": 1 - xt[:300],
           "uniform noise": np.random.default_rng(0).random((300, 784), dtype=np.float32)}
    for name, images in odd.items():
        scores = reconstruction_error(autoencoder, images)
        assert roc_auc(normal, scores) > 0.99, name
        assert (scores > limit).mean() > 0.95, name
    assert (normal > limit).mean() < 0.03          # about 1% false alarms on held-out digits


# -- pictures --------------------------------------------------------------------------------------

@pytest.fixture
def plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_tile_images_places_each_image():
    from dlkit.viz import tile_images

    imgs = np.arange(5 * 6, dtype=float).reshape(5, 6) / 30     # five 2x3 images
    canvas = tile_images(imgs, rows=2, cols=3, image_shape=(2, 3), pad=1, fill=-1)
    assert canvas.shape == (2 * 3 - 1, 3 * 4 - 1)
    np.testing.assert_array_equal(canvas[3:5, 4:7], imgs[4].reshape(2, 3))   # row 1, column 1
    assert (canvas[2] == -1).all() and (canvas[3:, 8:] == -1).all()          # gap and empty cell
    with pytest.raises(ValueError, match="do not fit"):
        tile_images(imgs, 1, 2, image_shape=(2, 3))
    with pytest.raises(ValueError, match="image_shape"):
        tile_images(np.zeros((2, 7)), 1, 2)


def test_decode_grid_order_and_interpolation():
    from dlkit.viz import decode_grid, interpolate_codes

    class Echo:               # a "decoder" that returns its codes, to see where each one goes
        input_shape, dtype = (None, 2), np.float64

        def predict(self, z):
            return z

    images, z1, z2 = decode_grid(Echo(), n=4, limits=((0, 3), (10, 13)))
    grid = images.reshape(4, 4, 2)
    np.testing.assert_array_equal(grid[0, :, 0], z1)        # columns: z1 increasing
    np.testing.assert_array_equal(grid[:, 0, 1], z2[::-1])  # rows: top row has the largest z2
    _, q1, _ = decode_grid(Echo(), n=3)
    np.testing.assert_allclose(q1, [-1.6448536, 0.0, 1.6448536], atol=1e-6)
    path = interpolate_codes([0, 0], [1, 2], steps=5)
    np.testing.assert_allclose(path, [[0, 0], [0.25, 0.5], [0.5, 1], [0.75, 1.5], [1, 2]])


def test_plots_draw(plt, document_ae, mnist_flat):
    from dlkit import viz

    _, (xt, yt) = mnist_flat
    autoencoder, encoder, _ = document_ae
    ax = viz.plot_reconstructions(xt, autoencoder.predict(xt[:8]), x_noisy=xt[:8], n=8)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["noisy input", "original",
                                                          "reconstruction"]
    assert ax.images[0].get_array().shape == (3 * 29 - 1, 8 * 29 - 1)
    ax = viz.plot_latent_space(encoder.predict(xt[:300]), yt[:300])
    assert "principal component 1" in ax.get_xlabel() and len(ax.collections) == 10
    ax = viz.plot_anomaly_scores(np.random.rand(50), np.random.rand(50) + 1, threshold=0.9)
    assert ax.get_xlabel() and ax.get_title()


def test_latent_pictures_of_a_2d_vae(plt, mnist_flat):
    from dlkit import viz

    (x, _), (xt, yt) = mnist_flat
    vae, encoder, decoder = small_vae(latent_dim=2, hidden=64, seed=2)
    vae.fit(x[:2000], x[:2000], epochs=2, batch_size=128, verbose=0)
    ax = viz.plot_latent_space(encoder.predict(xt[:200]), yt[:200])
    assert ax.get_xlabel() == "$z_1$"
    ax = viz.plot_latent_grid(decoder, n=6)
    assert ax.images[0].get_array().shape == (6 * 28, 6 * 28)
    ax = viz.plot_interpolation(encoder, decoder, xt[0], xt[1], steps=6)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "$x_a$" and labels[-1] == "$x_b$" and len(labels) == 8
    with pytest.raises(ValueError, match="2-D latent space"):
        viz.decode_grid(small_vae(latent_dim=3, hidden=8)[2])


# -- convolutional autoencoders ------------------------------------------------------------------

def conv_autoencoder(decoder_kind, dtype=None, size=28, filters=(8, 4), seed=0):
    """Conv2D/MaxPooling2D encoder (size x size x 1 -> size/4 x size/4 x f2) and a decoder that
    upsamples with UpSampling2D + Conv2D or with strided Conv2DTranspose."""
    from dlkit.layers import Conv2D, Conv2DTranspose, MaxPooling2D, UpSampling2D

    dlkit.set_seed(seed)
    f1, f2 = filters
    kw = {"padding": "same", "dtype": dtype}
    encoder = Sequential([Conv2D(f1, 3, activation="relu", input_shape=(size, size, 1), **kw),
                          MaxPooling2D(2, dtype=dtype),
                          Conv2D(f2, 3, activation="relu", **kw),
                          MaxPooling2D(2, dtype=dtype)], name="encoder")
    code = (size // 4, size // 4, f2)
    if decoder_kind == "upsampling":
        body = [Conv2D(f2, 3, activation="relu", input_shape=code, **kw),
                UpSampling2D(2, dtype=dtype),
                Conv2D(f1, 3, activation="relu", **kw), UpSampling2D(2, dtype=dtype)]
    else:
        body = [Conv2DTranspose(f1, 3, strides=2, activation="relu", input_shape=code, **kw),
                Conv2DTranspose(f1, 3, strides=2, activation="relu", **kw)]
    decoder = Sequential(body + [Conv2D(1, 3, activation="sigmoid", **kw)], name="decoder")
    return Sequential([encoder, decoder], name="conv_autoencoder"), encoder, decoder


@pytest.mark.parametrize("decoder_kind", ["upsampling", "transpose"])
def test_conv_autoencoder_gradients_float64(decoder_kind, rng):
    model, _, _ = conv_autoencoder(decoder_kind, dtype="float64", size=8, filters=(3, 2), seed=6)
    # random (not zero) biases: with zero biases and all-zero windows after a ReLU, the next
    # pre-activation is exactly 0, on the ReLU's kink, where central differences read 1/2
    model.set_weights([rng.standard_normal(w.shape) * 0.5 for w in model.get_weights()])
    errors = check_layer(model, rng.random((2, 8, 8, 1)))
    assert errors.max < TOL, errors


@pytest.mark.parametrize("decoder_kind", ["upsampling", "transpose"])
def test_conv_autoencoder_learns_digits(decoder_kind, mnist_flat, tmp_path):
    from dlkit.optimizers import Adam

    (x, _), (xt, _) = mnist_flat
    x, xt = x[:2000].reshape(-1, 28, 28, 1), xt[:1000].reshape(-1, 28, 28, 1)
    model, encoder, _ = conv_autoencoder(decoder_kind)
    model.compile(optimizer=Adam(learning_rate=0.005), loss="binary_crossentropy")
    assert model.output_shape == (None, 28, 28, 1) and encoder.output_shape == (None, 7, 7, 4)
    history = model.fit(x, x, epochs=2, batch_size=32, verbose=0)
    bce = model.evaluate(xt, xt)
    # guessing the mean training image for every digit scores 0.274; the dense document model 0.18
    assert bce <= 0.20, f"{decoder_kind}: test BCE {bce:.4f} > 0.20 ({history.history['loss']})"
    model.save(tmp_path / "cae.npz")
    loaded = dlkit.load_model(tmp_path / "cae.npz")
    np.testing.assert_array_equal(loaded.get_layer("encoder").predict(xt[:16]),
                                  encoder.predict(xt[:16]))
