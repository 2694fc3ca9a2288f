"""``train_step`` is public and is exactly the step ``fit`` runs: N steps on N batches give the
same weights as ``fit(..., shuffle=False)`` over them, for every model kind of the book."""
import numpy as np
import pytest

from dlkit import Sequential, set_seed
from dlkit.errors import NotCompiledError
from dlkit.layers import (LSTM, Conv2D, Dense, Dropout, Flatten, MaxPooling2D, Reshape,
                          Sampling, TimeDistributed)
from dlkit.optimizers import SGD, Adam

BATCH, STEPS = 16, 3


def _mlp():
    model = Sequential([Dense(32, activation="relu", input_shape=(20,)), Dropout(0.3),
                        Dense(5, activation="softmax")], seed=1)
    model.compile(SGD(learning_rate=0.1, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _cnn():
    model = Sequential([Reshape((8, 8, 1), input_shape=(64,)),
                        Conv2D(4, 3, activation="relu"), MaxPooling2D(2), Flatten(),
                        Dense(3, activation="softmax")], seed=2)
    model.compile(Adam(learning_rate=0.01), "categorical_crossentropy", metrics=["accuracy"])
    return model


def _lstm():
    model = Sequential([LSTM(6, input_shape=(5, 3)), Dense(4, activation="softmax")], seed=3)
    model.compile(Adam(learning_rate=0.01), "sparse_categorical_crossentropy")
    return model


def _seq2seq():
    model = Sequential([LSTM(6, return_sequences=True, input_shape=(5, 3)),
                        TimeDistributed(Dense(4, activation="softmax"))], seed=7)
    model.compile(Adam(learning_rate=0.01), "categorical_crossentropy", metrics=["accuracy"])
    return model


def _autoencoder():
    model = Sequential([Dense(8, activation="relu", input_shape=(20,), kernel_regularizer="l2"),
                        Dense(20, activation="sigmoid")], seed=4)
    model.compile("adam", "binary_crossentropy")
    return model


def _vae():
    encoder = Sequential([Dense(8, activation="relu", input_shape=(20,)), Dense(4),
                          Sampling(kl_weight=0.5)], seed=5)
    decoder = Sequential([Dense(20, activation="sigmoid", input_shape=(2,))], seed=6)
    model = Sequential([encoder, decoder])
    model.compile("adam", "binary_crossentropy")
    return model


def _data(kind, rng):
    n = BATCH * STEPS
    if kind == "mlp":
        return rng.standard_normal((n, 20)), rng.integers(0, 5, n)
    if kind == "cnn":
        return rng.random((n, 64)), np.eye(3)[rng.integers(0, 3, n)]
    if kind == "lstm":
        return rng.standard_normal((n, 5, 3)), rng.integers(0, 4, n)
    if kind == "seq2seq":
        return rng.standard_normal((n, 5, 3)), np.eye(4)[rng.integers(0, 4, (n, 5))]
    x = rng.random((n, 20))
    return x, x


MODELS = {"mlp": _mlp, "cnn": _cnn, "lstm": _lstm, "seq2seq": _seq2seq,
          "autoencoder": _autoencoder, "vae": _vae}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_train_step_on_its_own_gives_the_weights_fit_gives(kind):
    x, y = _data(kind, np.random.default_rng(0))
    set_seed(7)
    by_fit = MODELS[kind]()
    set_seed(7)
    by_steps = MODELS[kind]()
    for a, b in zip(by_fit.get_weights(), by_steps.get_weights()):
        np.testing.assert_array_equal(a, b)
    history = by_fit.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    losses = [by_steps.train_step(x[i:i + BATCH], y[i:i + BATCH])
              for i in range(0, len(x), BATCH)]
    for a, b in zip(by_fit.get_weights(), by_steps.get_weights()):
        np.testing.assert_array_equal(a, b)
    mean = sum(s.loss_sum for s in losses) / sum(s.rows for s in losses)
    assert history.history["loss"][0] == pytest.approx(mean, rel=1e-6)
    assert not by_steps.layers[0].skip_input_grad   # the step leaves backward as it found it


def test_a_step_reports_the_batch_loss_and_its_prediction():
    model = _mlp()
    x, y = _data("mlp", np.random.default_rng(1))
    step = model.train_step(x[:BATCH], y[:BATCH])
    assert step.rows == BATCH and step.y_hat.shape == (BATCH, 5)
    assert step.loss == pytest.approx(step.loss_sum / BATCH)
    assert 0 <= step.hits <= BATCH      # counted by the fused softmax + cross-entropy kernel


def test_train_step_needs_a_compiled_model_and_checks_its_inputs():
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    with pytest.raises(NotCompiledError, match="compile"):
        model.train_step(np.zeros((2, 4)), np.array([0, 1]))
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="labels must lie in"):
        model.train_step(np.zeros((2, 4)), np.array([0, 3]))


@pytest.mark.parametrize("kind", ["mlp", "seq2seq"])
def test_the_fused_head_gives_the_gradients_of_the_unfused_loss(kind):
    """Fused (dL/dz from the logits) and unfused (dL/dy_hat back through softmax) agree, also
    when the output has a time axis (TimeDistributed: logits (N*T, K), output (N, T, K))."""
    x, y = _data(kind, np.random.default_rng(2))
    model = MODELS[kind]()
    x, y = model._prepare(x[:BATCH], y[:BATCH], "test")   # as fit hands them to a step
    assert model.head.fused
    y_hat = model.forward(x)            # inference mode: the same dropout mask (none) twice
    _, grad, _ = model.head(y, y_hat)
    model.head.backward(model, grad)
    fused = [g.copy() for g in model.grads]
    k = y_hat.shape[-1]
    t = y if model.loss.sparse else y.reshape(-1, k)
    _, dy = model.loss.value_and_grad(t, y_hat.reshape(-1, k))
    model.forward(x)
    model.backward(dy.reshape(y_hat.shape))
    for a, b in zip(fused, model.grads):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-6)
