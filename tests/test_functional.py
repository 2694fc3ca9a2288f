"""The functional API: Input, symbolic tensors, Model(inputs, outputs) over a chain of layers.

The fourth source document writes its autoencoder with Keras's functional API; these tests run
that code as written and check what Keras guarantees: models built on overlapping paths share
layers (weights), a Model trains, evaluates, predicts, summarises and saves like a Sequential,
and graphs dlkit cannot express fail with an error that says why.
"""
import numpy as np
import pytest

import dlkit
from dlkit import Input, Model, Sequential
from dlkit.errors import ShapeError
from dlkit.functional import SymbolicTensor
from dlkit.gradcheck import check_layer
from dlkit.layers import Dense, Dropout


def document_autoencoder(seed=0):
    """The document's code, verbatim apart from the imports."""
    dlkit.set_seed(seed)
    input_dim = 784
    latent_dim = 32

    input_img = Input(shape=(input_dim,))
    encoded = Dense(latent_dim, activation='relu')(input_img)
    decoded = Dense(input_dim, activation='sigmoid')(encoded)

    autoencoder = Model(input_img, decoded)

    autoencoder.compile(optimizer='adam', loss='binary_crossentropy')
    return autoencoder, input_img, encoded, decoded


def test_symbolic_tensors_carry_shape_dtype_and_history():
    inp = Input(shape=(784,))
    dense = Dense(32, activation="relu")
    out = dense(inp)
    assert isinstance(inp, SymbolicTensor) and inp.shape == (None, 784) and inp.ndim == 2
    assert out.shape == (None, 32) and out.dtype == np.float32
    assert out.layer is dense and out.parent is inp and inp.layer is None
    assert dense.built and dense.kernel.shape == (784, 32)   # built by the symbolic call
    assert "shape=(None, 32)" in repr(out) and "Dense" in repr(out)
    assert Input(shape=784).shape == (None, 784)               # an int works, as in Keras
    assert Input(shape=(28, 28, 1), dtype="float64").dtype == np.float64


def test_document_autoencoder_builds_as_written():
    autoencoder, input_img, encoded, decoded = document_autoencoder()
    assert autoencoder.input is input_img and autoencoder.output is decoded
    assert autoencoder.inputs == [input_img] and autoencoder.outputs == [decoded]
    assert autoencoder.input_shape == (None, 784) and autoencoder.output_shape == (None, 784)
    assert [type(l).__name__ for l in autoencoder.layers] == ["Dense", "Dense"]
    assert autoencoder.count_params() == 784 * 32 + 32 + 32 * 784 + 784
    assert autoencoder.loss.name == "binary_crossentropy"
    lines = []
    autoencoder.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "functional"' in text and "(None, 32)" in text and "50,992" in text
    assert repr(autoencoder) == ("Model(Input(shape=(784,)) -> Dense(32, activation='relu', "
                                 "name='dense') -> Dense(784, activation='sigmoid', "
                                 "name='dense_1'))")


def test_encoder_and_decoder_share_the_autoencoders_weights(mnist_flat):
    (x, _), (xt, _) = mnist_flat
    autoencoder, input_img, encoded, _ = document_autoencoder()
    encoder = Model(input_img, encoded)
    encoded_input = Input(shape=(32,))
    decoder = Model(encoded_input, autoencoder.layers[-1](encoded_input))  # Keras blog recipe
    assert encoder.layers[0] is autoencoder.layers[0]
    assert decoder.layers[0] is autoencoder.layers[1]
    assert encoder.params[0] is autoencoder.params[0]          # the same array, not a copy
    before = encoder.predict(xt[:50])
    autoencoder.fit(x[:1024], x[:1024], epochs=1, batch_size=256, verbose=0)
    after = encoder.predict(xt[:50])
    assert not np.allclose(before, after), "training the autoencoder must move the encoder"
    np.testing.assert_allclose(decoder.predict(after), autoencoder.predict(xt[:50]), rtol=1e-6,
                               atol=1e-7)


def test_model_predict_equals_layer_by_layer_forward(rng):
    inp = Input(shape=(6,))
    h = Dense(5, activation="tanh")(inp)
    out = Dense(3, activation="softmax")(Dropout(0.5)(h))
    model = Model(inp, out)
    x = rng.standard_normal((7, 6)).astype(np.float32)
    manual = x
    for layer in model.layers:
        manual = layer.forward(manual)        # inference: Dropout passes through
    np.testing.assert_allclose(model.predict(x), manual, rtol=1e-6)


def test_models_nest_in_models_and_in_sequential(rng):
    dlkit.set_seed(1)
    a = Input(shape=(8,))
    encoder = Model(a, Dense(3, activation="relu")(a), name="encoder")
    b = Input(shape=(3,))
    decoder = Model(b, Dense(8, activation="sigmoid")(b), name="decoder")
    c = Input(shape=(8,))
    ae = Model(c, decoder(encoder(c)))
    seq = Sequential([encoder, decoder])
    x = rng.random((5, 8)).astype(np.float32)
    np.testing.assert_allclose(ae.predict(x), decoder.predict(encoder.predict(x)), rtol=1e-6)
    np.testing.assert_allclose(seq.predict(x), ae.predict(x), rtol=1e-6)
    assert ae.layers == [encoder, decoder] and ae.get_layer("encoder") is encoder


def test_gradients_through_a_functional_model_float64(rng):
    dlkit.set_seed(2)
    inp = Input(shape=(5,), dtype="float64")
    h = Dense(4, activation="tanh", dtype="float64")(inp)
    model = Model(inp, Dense(3, activation="sigmoid", dtype="float64")(h))
    errors = check_layer(model, rng.standard_normal((4, 5)))
    assert errors.max < 1e-6, errors


def test_training_a_functional_model_equals_the_same_sequential(mnist_flat):
    (x, _), _ = mnist_flat
    x = x[:512]
    autoencoder, *_ = document_autoencoder(seed=3)
    dlkit.set_seed(3)
    seq = Sequential([Dense(32, activation="relu", input_shape=(784,)),
                      Dense(784, activation="sigmoid")])
    seq.compile(optimizer="adam", loss="binary_crossentropy")
    seq.set_weights(autoencoder.get_weights())
    seq._rng = np.random.default_rng(7)
    autoencoder._rng = np.random.default_rng(7)   # the same shuffles
    h1 = autoencoder.fit(x, x, epochs=2, batch_size=128, verbose=0)
    h2 = seq.fit(x, x, epochs=2, batch_size=128, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-6)
    for p, q in zip(autoencoder.get_weights(), seq.get_weights()):
        np.testing.assert_array_equal(p, q)


def test_save_and_load_a_functional_model(tmp_path, mnist_flat):
    (x, _), (xt, _) = mnist_flat
    autoencoder, input_img, encoded, _ = document_autoencoder(seed=4)
    autoencoder.fit(x[:512], x[:512], epochs=1, batch_size=256, verbose=0)
    encoder = Model(input_img, encoded)
    path = tmp_path / "ae.npz"
    autoencoder.save(path)
    loaded = dlkit.load_model(path)
    assert type(loaded) is Model and loaded.input.shape == (None, 784)
    assert loaded.loss.name == "binary_crossentropy"
    np.testing.assert_array_equal(loaded.predict(xt[:64]), autoencoder.predict(xt[:64]))
    # the loaded model's first layer, called on the loaded input: the same encoder
    loaded_encoder = Model(loaded.input, loaded.layers[0](loaded.input))
    np.testing.assert_array_equal(loaded_encoder.predict(xt[:64]), encoder.predict(xt[:64]))
    assert loaded_encoder.layers[0] is loaded.layers[0]
    # and it still trains (compile settings restored)
    loaded.fit(x[:256], x[:256], epochs=1, batch_size=128, verbose=0)


def test_float64_input_gives_a_float64_model_that_round_trips(tmp_path, rng):
    inp = Input(shape=(3,), dtype="float64", name="features")
    model = Model(inp, Dense(2, dtype="float64")(inp))
    assert model.dtype == np.float64
    model.save(tmp_path / "m.npz")
    loaded = dlkit.load_model(tmp_path / "m.npz")
    assert loaded.dtype == np.float64 and loaded.input.name == "features"
    x = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


# -- graphs dlkit does not support, and misuse, fail with errors that say what to do -----------

def test_several_inputs_or_outputs_are_refused():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    out = Dense(2)(a)
    with pytest.raises(NotImplementedError, match="one input and one output"):
        Model([a, b], out)
    with pytest.raises(NotImplementedError, match="one input and one output"):
        Model(a, [out, Dense(3)(a)])
    model = Model([a], [out])               # one-element lists are fine, as in Keras
    assert model.output_shape == (None, 2)


def test_a_layer_called_on_a_list_is_refused():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    with pytest.raises(NotImplementedError, match="chain of single-input layers"):
        Dense(2)([a, b])


def test_outputs_from_another_input_are_refused():
    a, b = Input(shape=(4,)), Input(shape=(4,))
    with pytest.raises(ValueError, match="do not depend on the inputs"):
        Model(a, Dense(2)(b))
    with pytest.raises(ValueError, match="call at least one layer"):
        Model(a, a)
    with pytest.raises(TypeError, match="symbolic tensors"):
        Model(a, np.zeros((1, 4)))


def test_shape_mismatch_and_symbolic_values():
    dense = Dense(2)
    dense(Input(shape=(4,)))
    with pytest.raises(ShapeError, match="built for inputs of shape"):
        dense(Input(shape=(5,)))
    with pytest.raises(TypeError, match="holds no numbers"):
        np.asarray(Input(shape=(4,)))
    with pytest.raises(ShapeError, match="positive integers"):
        Input(shape=(None, 3))
