"""Sequence datasets (adding problem, sine waves, MNIST rows, bundled text, sampling) and the
recurrent pictures in dlkit.viz."""
import numpy as np
import pytest

import dlkit
from dlkit import Sequential, viz
from dlkit.datasets import (CharVocab, adding_problem, char_sequences, generate, load_text,
                            mnist_rows, sample_with_temperature, sine_waves)
from dlkit.layers import LSTM, Dense, Embedding, SimpleRNN
from dlkit.optimizers import Adam


def test_adding_problem():
    x, y = adding_problem(300, timesteps=20, seed=0)
    assert x.shape == (300, 20, 2) and y.shape == (300, 1) and x.dtype == np.float32
    marks = x[..., 1]
    np.testing.assert_array_equal(marks.sum(1), 2)
    np.testing.assert_array_equal(marks[:, :10].sum(1), 1)          # one mark in each half
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * marks).sum(1), rtol=1e-6)
    x2, _ = adding_problem(300, timesteps=20, seed=0)
    np.testing.assert_array_equal(x, x2)
    # guessing the mean scores about 1/6
    assert abs(float(np.mean((y - 1.0) ** 2)) - 1 / 6) < 0.03


def test_sine_waves():
    x, y = sine_waves(200, timesteps=30, horizon=3, noise=0.1, seed=1)
    assert x.shape == (200, 30, 1) and y.shape == (200, 3)
    assert np.abs(y).max() <= 1.0
    x0, _ = sine_waves(5, timesteps=30, noise=0.0, seed=2)
    assert np.all(np.abs(x0) <= 1.0)


def test_mnist_rows():
    (x, y), (xt, yt) = mnist_rows()
    assert x.shape == (8000, 28, 28) and xt.shape == (2000, 28, 28)
    assert x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert set(np.unique(y)) == set(range(10))


def test_text_and_vocab():
    text = load_text()
    assert 5000 < len(text) < 8000 and text.startswith("XVIII")
    assert "Shall I compare thee to a summer's day?" in text
    x, y, vocab = char_sequences(seq_len=20, step=5)
    assert x.shape == (len(y), 20) and x.max() < len(vocab)
    assert vocab.decode(x[0]) == text[:20] and vocab.decode([y[0]]) == text[20]
    xo, _, _ = char_sequences(seq_len=20, step=5, one_hot=True)
    np.testing.assert_array_equal(xo.argmax(-1), x)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        CharVocab("abc").encode("abz")


def test_sample_with_temperature():
    p = np.array([0.1, 0.6, 0.3])
    rng = np.random.default_rng(0)
    cold = [sample_with_temperature(p, 0.01, rng) for _ in range(200)]
    assert set(cold) == {1}
    warm = np.bincount([sample_with_temperature(p, 1.0, rng) for _ in range(4000)], minlength=3)
    np.testing.assert_allclose(warm / 4000, p, atol=0.03)
    with pytest.raises(ValueError, match="temperature"):
        sample_with_temperature(p, 0)


def test_char_model_trains_and_generates():
    x, y, vocab = char_sequences(seq_len=20, step=2)
    dlkit.set_seed(0)
    model = Sequential([Embedding(len(vocab), 16, input_shape=(20,)), LSTM(64),
                        Dense(len(vocab), activation="softmax")])
    model.compile(Adam(learning_rate=0.01), "sparse_categorical_crossentropy")
    hist = model.fit(x, y, epochs=4, batch_size=64, verbose=0)
    # below the entropy of the character frequencies (3.11 nats): it uses the context
    p = np.bincount(y) / len(y)
    unigram = -np.sum(p[p > 0] * np.log(p[p > 0]))
    assert hist.history["loss"][-1] < unigram - 0.5, hist.history["loss"]
    out = generate(model, vocab, "Shall I", length=40, temperature=0.5, seed=0)
    assert out.startswith("Shall I") and len(out) == 47
    assert generate(model, vocab, "Shall I", 40, 0.5, seed=0) == out       # seeded


def test_time_step_gradients_and_pictures():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 15, 2)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    models = {}
    for cls in (SimpleRNN, LSTM):
        dlkit.set_seed(1)
        m = Sequential([cls(8, input_shape=(15, 2)), Dense(1)])
        m.compile("adam", "mse")
        models[cls.__name__] = m
    g = viz.time_step_gradients(models["LSTM"], x, y)
    assert g.shape == (15,) and np.all(g > 0) and np.all(np.isfinite(g))
    # the gradient w.r.t. x_t is what backward gives
    m = models["SimpleRNN"]
    out = m.forward(x)
    dx = m.backward(np.full_like(out, 1.0 / len(out)))
    np.testing.assert_allclose(viz.time_step_gradients(m, x),
                               np.linalg.norm(dx, axis=2).mean(0), rtol=1e-5)
    fig = viz.plot_time_gradients(models, x, y)
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].lines) == 2
    fig = viz.hidden_state_heatmap(models["LSTM"], x[:1])
    assert fig.axes[0].images[0].get_array().shape == (8, 15)
