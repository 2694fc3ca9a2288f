"""Sequential end to end: the source documents' networks, determinism, and helpful errors."""
import warnings

import numpy as np
import pytest

import dlkit
from dlkit import Sequential
from dlkit.callbacks import Callback, EarlyStopping
from dlkit.errors import DivergenceWarning, NotCompiledError, ShapeError
from dlkit.layers import Dense, Dropout, Flatten, Reshape
from dlkit.optimizers import SGD, Adam
from dlkit.utils import to_categorical


def mlp(*sizes, seed=0):
    dlkit.set_seed(seed)
    layers = [Dense(sizes[1], activation="relu", input_shape=(sizes[0],))]
    layers += [Dense(n, activation="relu") for n in sizes[2:-1]]
    return Sequential(layers + [Dense(sizes[-1], activation="softmax")])


# -- the documents' examples, as they write them in Keras, on the bundled split ---------------

def test_document_000_mlp_sgd_momentum(mnist_flat):
    (x, y), (xt, yt) = mnist_flat
    model = mlp(784, 32, 10)
    model.compile(optimizer=SGD(learning_rate=0.01, momentum=0.9),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, to_categorical(y, 10), epochs=10, batch_size=32, verbose=0)
    loss, acc = model.evaluate(xt, to_categorical(yt, 10))
    assert set(hist.history) == {"loss", "accuracy"} and len(hist.history["loss"]) == 10
    assert acc >= 0.91, f"test accuracy {acc:.4f} < 0.91"


def test_document_003_mlp128_adam(mnist_flat):
    (x, y), (xt, yt) = mnist_flat
    model = mlp(784, 128, 10)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(x, to_categorical(y, 10), epochs=5, batch_size=32, verbose=0)
    loss, acc = model.evaluate(xt, to_categorical(yt, 10))
    assert acc >= 0.93, f"test accuracy {acc:.4f} < 0.93"


def test_document_002_three_tens_sparse_with_validation(mnist_flat):
    (x, y), (xt, yt) = mnist_flat
    dlkit.set_seed(0)
    model = Sequential()
    model.add(Dense(10, activation="relu", input_dim=784))   # written as in document 002
    model.add(Dense(10, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=10, batch_size=128, validation_data=(xt, yt), verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    acc = model.evaluate(xt, yt)[1]
    assert acc >= 0.85, f"test accuracy {acc:.4f} < 0.85"
    assert hist.history["val_accuracy"][-1] == pytest.approx(acc)


# -- reproducibility ---------------------------------------------------------------------------

def _train_once(x, y):
    model = mlp(784, 16, 10, seed=7)
    model.add(Dropout(0.0))
    model.compile(optimizer=Adam(), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    return model.get_weights()


def test_same_seed_gives_bit_identical_weights(mnist_flat):
    (x, y), _ = mnist_flat
    a, b = _train_once(x[:2000], y[:2000]), _train_once(x[:2000], y[:2000])
    for wa, wb in zip(a, b):
        assert wa.tobytes() == wb.tobytes()
    dlkit.set_seed(8)
    other = Dense(16, input_shape=(784,))
    other.build((None, 784))
    assert other.kernel.tobytes() != a[0].tobytes()


# -- errors that say what was wrong and what to do ---------------------------------------------

@pytest.fixture
def small():
    rng = np.random.default_rng(0)
    x = rng.random((40, 6)).astype(np.float32)
    y = rng.integers(0, 3, 40)
    model = mlp(6, 5, 3)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y


def test_wrong_input_shape_names_layer_and_shapes(small):
    model, x, y = small
    with pytest.raises(ShapeError, match=r"'dense'.*\(None, 6\).*\(40, 7\)"):
        model.fit(np.zeros((40, 7)), y, verbose=0)
    with pytest.raises(ShapeError, match=r"reshape"):
        model.predict(np.zeros((40, 2, 3)))
    with pytest.raises(ShapeError, match="expects input of shape"):
        model.layers[1].forward(np.zeros((2, 4), np.float32))


def test_labels_out_of_range_and_onehot_sparse_mismatch(small):
    model, x, y = small
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\].*\[1, 5\]"):
        model.fit(x, np.where(y == 0, 5, y), verbose=0)
    with pytest.raises(ShapeError, match="categorical_crossentropy"):
        model.fit(x, to_categorical(y, 3), verbose=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ShapeError, match="to_categorical"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ShapeError, match="x has 40 samples but y has 39"):
        model.fit(x, to_categorical(y, 3)[:39], verbose=0)


def test_unknown_names_list_valid_ones():
    with pytest.raises(ValueError, match="valid names: .*relu"):
        Dense(3, activation="rleu")
    model = mlp(4, 3, 2)
    with pytest.raises(ValueError, match="valid names:.*categorical_crossentropy"):
        model.compile(optimizer="adam", loss="crossentropy")
    with pytest.raises(ValueError, match="valid names:.*adam"):
        model.compile(optimizer="adamw2", loss="mse")
    with pytest.raises(ValueError, match="valid names"):
        Dense(3, kernel_initializer="glorot")


def test_invalid_fit_arguments_and_fit_before_compile(small):
    model, x, y = small
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="validation_split"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)
    fresh = mlp(6, 5, 3)
    with pytest.raises(NotCompiledError, match="compile"):
        fresh.fit(x, y, verbose=0)


def test_nan_inputs_are_refused(small):
    model, x, y = small
    x = x.copy()
    x[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN.*row 3"):
        model.fit(x, y, verbose=0)


def test_nan_loss_stops_with_epoch_and_batch_and_keeps_finite_weights(small):
    model, x, y = small
    model.compile(optimizer=SGD(learning_rate=1e12), loss="sparse_categorical_crossentropy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"):
            hist = model.fit(x * 1e6, y, epochs=5, batch_size=8, verbose=0)
    msgs = [str(w.message) for w in caught if issubclass(w.category, DivergenceWarning)]
    assert msgs and "epoch 1, batch" in msgs[0] and "learning_rate" in msgs[0], msgs
    assert model.stop_training
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert len(hist.history.get("loss", [])) < 5


# -- callbacks, validation split, predict ------------------------------------------------------

def test_early_stopping_restores_best_weights(small):
    model, x, y = small
    seen = []

    class Spy(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(model.get_weights())

    # validation labels that cannot be learned: val_loss stops improving quickly
    es = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    model.compile(optimizer=Adam(0.05), loss="sparse_categorical_crossentropy")
    hist = model.fit(x, y, epochs=50, validation_data=(x, (y + 1) % 3), callbacks=[es, Spy()],
                     verbose=0)
    n = len(hist.history["loss"])
    assert n < 50 and es.stopped_epoch == n - 1
    best = int(np.argmin(hist.history["val_loss"]))
    for a, b in zip(model.get_weights(), seen[best]):
        np.testing.assert_array_equal(a, b)


def test_validation_split_takes_the_last_fraction(small):
    model, x, y = small
    hist = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0)
    assert hist.history["val_loss"][0] == pytest.approx(model.evaluate(x[30:], y[30:])[0], rel=1e-6)
    assert hist.history["val_loss"][0] != pytest.approx(model.evaluate(x[:10], y[:10])[0], rel=1e-3)
    model2 = mlp(6, 5, 3)
    model2.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model2.set_weights(model.get_weights())
    assert model2.evaluate(x[30:], y[30:]) == pytest.approx(model.evaluate(x[30:], y[30:])[0])


def test_predict_in_batches_equals_one_batch(small):
    model, x, _ = small
    np.testing.assert_allclose(model.predict(x, batch_size=7), model.predict(x, batch_size=40),
                               rtol=1e-6)
    assert model.predict(x).shape == (40, 3)


def test_verbose_output(small, capsys):
    model, x, y = small
    model.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("Epoch 1/2 - loss: ") and "accuracy" in out[0] and len(out) == 2
    model.fit(x, y, epochs=1, verbose=1)
    assert "Epoch 1/1" in capsys.readouterr().out


def test_summary_and_repr(small, capsys):
    model, _, _ = small
    model.summary()
    text = capsys.readouterr().out
    assert "dense (Dense)" in text and "(None, 5)" in text and "Total params: 53" in text
    assert repr(model) == ("Sequential([Dense(5, activation='relu', name='dense'), "
                           "Dense(3, activation='softmax', name='dense_1')])")


def test_flatten_reshape_in_a_model():
    dlkit.set_seed(1)
    model = Sequential([Reshape((2, 3), input_shape=(6,)), Flatten(), Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).random((10, 6))
    h = model.fit(x, np.zeros((10, 2)), epochs=3, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert model.output_shape == (None, 2)
