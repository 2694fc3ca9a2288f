"""Recurrent layers: kernels against the NumPy references, float64 gradient checks through
time, Keras layouts and semantics, PyTorch parity, errors, and training to accuracy."""
import numpy as np
import pytest

import dlkit
from dlkit import Sequential
from dlkit.errors import ShapeError
from dlkit.gradcheck import check_layer, numerical_gradient, rel_error
from dlkit.layers import (GRU, LSTM, Bidirectional, Dense, Embedding, SimpleRNN,
                          TimeDistributed)
from dlkit.reference import recurrent as ref

TOL = 1e-6
CELLS = [SimpleRNN, GRU, LSTM]


def _shapes(seed, trials=2):
    rng = np.random.default_rng(seed)
    return [(int(rng.integers(1, 6)), int(rng.integers(1, 7)), int(rng.integers(1, 5)),
             int(rng.integers(1, 6))) for _ in range(trials)]   # N, T, D, units


def _assert_grads(result):
    assert result.max < TOL, f"gradient check failed: {result} (tolerance {TOL})"


# -- kernels equal the plain NumPy formulas --------------------------------------------------
def _reference(cls, x, weights, h0):
    W, U, b = weights
    if cls is LSTM:
        return ref.lstm_forward(x, W, U, b, h0, h0)
    if cls is GRU:
        return ref.gru_forward(x, W, U, b, h0)
    return ref.simple_rnn_forward(x, W, U, b, h0)


def _reference_backward(cls, dhs, cache):
    if cls is LSTM:
        return ref.lstm_backward(dhs, cache)[:4]
    if cls is GRU:
        return ref.gru_backward(dhs, cache)[:4]
    return ref.simple_rnn_backward(dhs, cache)[:4]


@pytest.mark.parametrize("cls", CELLS)
@pytest.mark.parametrize("seq", [False, True])
def test_kernels_match_reference(cls, seq):
    for i, (n, t, d, u) in enumerate(_shapes(1 + seq)):
        rng = np.random.default_rng(i)
        layer = cls(u, return_sequences=seq, dtype="float64", seed=i)
        x = rng.standard_normal((n, t, d))
        y = layer.forward(x)
        w = layer.get_weights()
        w[2] = w[2] + 0.1 * rng.standard_normal(w[2].shape)   # a nonzero bias of every kind
        layer.set_weights(w)
        y = layer.forward(x)
        hs, cache = _reference(cls, x, w, np.zeros((n, u)))
        np.testing.assert_allclose(y, hs if seq else hs[:, -1], rtol=1e-10, atol=1e-12)
        dy = rng.standard_normal(y.shape)
        dx = layer.backward(dy)
        dhs = dy if seq else np.concatenate([np.zeros((n, t - 1, u)), dy[:, None]], axis=1)
        expected = _reference_backward(cls, dhs, cache)
        for got, want, name in zip([dx] + layer.grads, expected, ["x"] + layer.param_names):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("cls", CELLS)
def test_float32_close_to_float64(cls):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 12, 5))
    l64 = cls(16, return_sequences=True, dtype="float64", seed=0)
    l32 = cls(16, return_sequences=True, seed=0)
    y64, y32 = l64.forward(x), l32.forward(x)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y64, atol=2e-5)


@pytest.mark.parametrize("cls", CELLS)
def test_float32_backward_close_to_float64(cls):
    """40 units: the float32 products run whole 32-column blocks and an edge."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((16, 9, 6))
    dy = rng.standard_normal((16, 9, 40))
    results = []
    for dtype in ("float64", "float32"):
        layer = cls(40, return_sequences=True, dtype=dtype, seed=0)
        layer.forward(x.astype(dtype))
        dx = layer.backward(dy.astype(dtype))
        results.append([dx] + [g.copy() for g in layer.grads])
    for a64, a32 in zip(*results):
        np.testing.assert_allclose(a32, a64, rtol=1e-3, atol=2e-4)


@pytest.mark.parametrize("cls", CELLS)
def test_thread_blocks_do_not_change_results(cls, monkeypatch):
    from dlkit.layers import rnn_base

    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 7, 3))
    layer = cls(8, return_sequences=True, dtype="float64", seed=0)
    dy = rng.standard_normal((40, 7, 8))
    y2 = layer.forward(x)
    dx2 = layer.backward(dy)
    g2 = [g.copy() for g in layer.grads]
    monkeypatch.setattr(rnn_base, "chunks", lambda n, min_rows=1: 1)
    y1 = layer.forward(x)
    dx1 = layer.backward(dy)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_allclose(dx1, dx2, rtol=1e-12)
    for a, b in zip(layer.grads, g2):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# -- gradient checks through time ----------------------------------------------------------
@pytest.mark.parametrize("cls", CELLS)
@pytest.mark.parametrize("seq", [False, True])
@pytest.mark.parametrize("backwards", [False, True])
def test_gradcheck_cells(cls, seq, backwards):
    for i, (n, t, d, u) in enumerate(_shapes(10 + 2 * seq + backwards)):
        layer = cls(u, return_sequences=seq, go_backwards=backwards, dtype="float64", seed=i)
        x = np.random.default_rng(i).standard_normal((n, t, d))
        _assert_grads(check_layer(layer, x))


@pytest.mark.parametrize("cls,kwargs", [
    (SimpleRNN, {"activation": "relu"}),
    (LSTM, {"activation": "elu", "recurrent_activation": "sigmoid"}),
    (GRU, {"activation": "swish", "recurrent_activation": "tanh"}),
    (LSTM, {"unit_forget_bias": False, "use_bias": False}),
])
def test_gradcheck_other_activations(cls, kwargs):
    layer = cls(4, return_sequences=True, dtype="float64", seed=0, **kwargs)
    x = np.random.default_rng(0).standard_normal((3, 5, 2))
    _assert_grads(check_layer(layer, x))


def test_gradcheck_stacked_model():
    dlkit.set_seed(0)
    model = Sequential([LSTM(5, return_sequences=True, input_shape=(6, 3), dtype="float64"),
                        GRU(4, return_sequences=True, dtype="float64"),
                        SimpleRNN(3, dtype="float64"), Dense(2, dtype="float64")])
    x = np.random.default_rng(1).standard_normal((4, 6, 3))
    _assert_grads(check_layer(model, x))


def _check_outputs(layer, x, call, seed=0):
    """Gradient check of a layer with several outputs: L = sum_k <out_k, w_k>."""
    outs = call()
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal(o.shape) for o in outs]
    loss = lambda: float(sum(np.sum(o * w) for o, w in zip(call(), ws)))  # noqa: E731
    call()
    dx = layer.backward([w.copy() for w in ws])
    analytic = [g.copy() for g in layer.grads]
    errs = {"x": rel_error(dx, numerical_gradient(loss, x))}
    for name, p, g in zip(layer.param_names, layer.params, analytic):
        errs[name] = rel_error(g, numerical_gradient(loss, p))
    return errs, dx


@pytest.mark.parametrize("cls", CELLS)
@pytest.mark.parametrize("seq", [False, True])
def test_gradcheck_return_state(cls, seq):
    layer = cls(4, return_sequences=seq, return_state=True, dtype="float64", seed=0)
    x = np.random.default_rng(2).standard_normal((3, 5, 2))
    outs = layer(x)
    assert len(outs) == (3 if cls is LSTM else 2)
    np.testing.assert_array_equal(outs[1], outs[0][:, -1] if seq else outs[0])
    errs, _ = _check_outputs(layer, x, lambda: layer(x))
    assert max(errs.values()) < TOL, errs


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_gradcheck_initial_state(cls):
    rng = np.random.default_rng(5)
    layer = cls(3, return_sequences=True, dtype="float64", seed=0)
    x = rng.standard_normal((2, 4, 2))
    states = [rng.standard_normal((2, 3)) for _ in range(2 if cls is LSTM else 1)]
    dy = rng.standard_normal((2, 4, 3))
    layer.forward(x, initial_state=states)
    layer.backward(dy)
    for s, g in zip(states, layer.initial_state_grads):
        num = numerical_gradient(lambda: float(np.sum(layer.forward(x, initial_state=states)
                                                      * dy)), s)
        assert rel_error(g, num) < TOL


@pytest.mark.parametrize("cls", CELLS)
def test_mask_skips_steps_and_gradcheck(cls):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 6, 2))
    mask = np.ones((3, 6), bool)
    mask[0, :2] = False        # left padding
    mask[1, 4:] = False        # right padding
    layer = cls(4, return_sequences=True, input_shape=(None, 2), dtype="float64", seed=0)
    y = layer.forward(x, mask=mask)
    # a masked sample equals the unmasked run on its kept steps, the state carried over
    y_short = layer.forward(x[1:2, :4])
    np.testing.assert_allclose(y[1, :4], y_short[0], rtol=1e-12)
    np.testing.assert_allclose(y[1, 5], y[1, 3], rtol=1e-12)
    np.testing.assert_allclose(y[0, 2:], layer.forward(x[0:1, 2:])[0], rtol=1e-12)
    errs, _ = _check_outputs(layer, x, lambda: [layer.forward(x, mask=mask)])
    assert max(errs.values()) < TOL, errs


def test_gradcheck_embedding():
    layer = Embedding(7, 3, dtype="float64", seed=0)
    ids = np.array([[1, 2, 2, 6], [0, 5, 1, 1]])
    res = check_layer(layer, ids, check_input=False)
    _assert_grads(res)
    np.testing.assert_array_equal(layer.forward(ids)[1, 2], layer.embeddings[1])


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("seq", [False, True])
def test_gradcheck_bidirectional(merge_mode, seq):
    layer = Bidirectional(LSTM(3, return_sequences=seq, dtype="float64"), merge_mode=merge_mode,
                          dtype="float64", seed=0)
    x = np.random.default_rng(7).standard_normal((2, 5, 2))
    _assert_grads(check_layer(layer, x))


def test_bidirectional_semantics():
    fw = GRU(3, return_sequences=True, dtype="float64", seed=0)
    bi = Bidirectional(fw, dtype="float64", seed=1)
    x = np.random.default_rng(8).standard_normal((2, 5, 2))
    y = bi.forward(x)
    assert y.shape == (2, 5, 6) and bi.output_shape == (None, 5, 6)
    assert len(bi.get_weights()) == 6
    back = GRU(3, return_sequences=True, dtype="float64")
    back.build((None, 5, 2))
    back.set_weights(bi.backward_layer.get_weights())
    np.testing.assert_allclose(y[:, :, 3:], back.forward(x[:, ::-1])[:, ::-1], rtol=1e-12)
    np.testing.assert_allclose(y[:, :, :3], fw.forward(x), rtol=1e-12)


def test_gradcheck_time_distributed_and_embedding_model():
    dlkit.set_seed(2)
    model = Sequential([Embedding(6, 4, input_shape=(5,), dtype="float64"),
                        SimpleRNN(3, return_sequences=True, dtype="float64"),
                        TimeDistributed(Dense(2, dtype="float64"), dtype="float64")])
    ids = np.array([[1, 2, 3, 4, 5], [5, 4, 0, 1, 1]])
    _assert_grads(check_layer(model, ids, check_input=False))
    assert model.output_shape == (None, 5, 2)


def test_embedding_mask_zero_in_sequential():
    dlkit.set_seed(3)
    emb = Embedding(5, 3, mask_zero=True, input_shape=(4,), dtype="float64")
    lstm = LSTM(2, dtype="float64")
    model = Sequential([emb, lstm])
    ids = np.array([[0, 0, 3, 4], [3, 4, 0, 0]])
    y = model.forward(ids)
    # padding with id 0 (before or after) changes nothing: the state just carries over
    np.testing.assert_allclose(y[0], y[1], rtol=1e-12)
    free = LSTM(2, input_shape=(None, 3), dtype="float64")
    free.build((None, None, 3))
    free.set_weights(lstm.get_weights())
    unpadded = free.forward(emb.embeddings[[3, 4]][None])
    np.testing.assert_allclose(y[0], unpadded[0], rtol=1e-12)


# -- Keras layouts and semantics ---------------------------------------------------------------
def test_keras_weight_layouts():
    lstm, gru, rnn = LSTM(8, seed=0), GRU(8, seed=0), SimpleRNN(8, seed=0)
    for layer in (lstm, gru, rnn):
        layer.build((None, 10, 5))
    assert [w.shape for w in lstm.get_weights()] == [(5, 32), (8, 32), (32,)]
    assert [w.shape for w in gru.get_weights()] == [(5, 24), (8, 24), (2, 24)]
    assert [w.shape for w in rnn.get_weights()] == [(5, 8), (8, 8), (8,)]
    assert lstm.param_names == ["kernel", "recurrent_kernel", "bias"]
    b = lstm.get_weights()[2]
    np.testing.assert_array_equal(b[8:16], 1.0)                  # unit_forget_bias
    np.testing.assert_array_equal(np.delete(b, np.s_[8:16]), 0.0)
    u = rnn.get_weights()[1].astype(np.float64)
    np.testing.assert_allclose(u.T @ u, np.eye(8), atol=1e-6)     # orthogonal
    assert LSTM(8).get_config()["recurrent_activation"] == "sigmoid"
    assert repr(LSTM(128, return_sequences=True)) == "LSTM(128, return_sequences=True)"


def test_torch_parity_lstm_gru():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 6, 4))
    u = 5
    for cls in (LSTM, GRU):
        layer = cls(u, return_sequences=True, dtype="float64", seed=0)
        layer.forward(x)
        W, U, b = layer.get_weights()
        b = b + 0.1 * rng.standard_normal(b.shape)
        layer.set_weights([W, U, b])
        if cls is LSTM:       # same gate order (i, f, g, o); Keras has one bias
            mod = torch.nn.LSTM(4, u, batch_first=True).double()
            perm = np.arange(4 * u)
            biases = (b, np.zeros_like(b))
        else:                 # torch orders GRU gates (r, z, n), Keras (z, r, h)
            mod = torch.nn.GRU(4, u, batch_first=True).double()
            perm = np.r_[u:2 * u, 0:u, 2 * u:3 * u]
            biases = (b[0], b[1])
        with torch.no_grad():
            mod.weight_ih_l0.copy_(torch.from_numpy(W[:, perm].T.copy()))
            mod.weight_hh_l0.copy_(torch.from_numpy(U[:, perm].T.copy()))
            mod.bias_ih_l0.copy_(torch.from_numpy(biases[0][perm].copy()))
            mod.bias_hh_l0.copy_(torch.from_numpy(biases[1][perm].copy()))
        xt = torch.from_numpy(x).requires_grad_()
        yt, _ = mod(xt)
        dy = rng.standard_normal(yt.shape)
        yt.backward(torch.from_numpy(dy))
        y = layer.forward(x)
        dx = layer.backward(dy)
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(layer.grads[0][:, perm], mod.weight_ih_l0.grad.numpy().T,
                                   rtol=1e-9, atol=1e-12)


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CELLS)
def test_rank2_input_error(cls):
    with pytest.raises(ShapeError, match=r"\(batch, time, features\)"):
        cls(4).forward(np.zeros((32, 784)))


def test_rank2_input_error_in_model_build():
    model = Sequential([LSTM(4), Dense(2)])
    with pytest.raises(ShapeError, match=r"\(batch, time, features\)"):
        model.forward(np.zeros((8, 28)))


def test_sequence_length_mismatch_errors():
    layer = LSTM(4)
    layer.forward(np.zeros((2, 10, 3), np.float32))
    with pytest.raises(ShapeError, match="built for sequences of 10 time steps.*got 12"):
        layer.forward(np.zeros((2, 12, 3), np.float32))
    with pytest.raises(ShapeError, match="3 features"):
        layer.forward(np.zeros((2, 10, 4), np.float32))
    with pytest.raises(ShapeError, match=r"mask must have shape \(batch, time\)"):
        layer.forward(np.zeros((2, 10, 3)), mask=np.ones((2, 9), bool))
    free = GRU(3, input_shape=(None, 2))
    free.build((None, None, 2))
    assert free.forward(np.zeros((1, 7, 2))).shape == (1, 3)
    assert free.forward(np.zeros((1, 3, 2))).shape == (1, 3)


def test_embedding_id_errors():
    emb = Embedding(10, 4)
    with pytest.raises(ValueError, match=r"token id 10 .*\[0, 10\)"):
        emb.forward(np.array([[1, 10, 3]]))
    with pytest.raises(ValueError, match=r"token id -1"):
        emb.forward(np.array([[1, -1, 3]]))
    with pytest.raises(ValueError, match="whole numbers"):
        emb.forward(np.array([[1.5, 2, 3]]))


def test_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        LSTM(0)
    with pytest.raises(ValueError, match="reset_after"):
        GRU(4, reset_after=False)
    with pytest.raises(TypeError, match="recurrent layer"):
        Bidirectional(Dense(3))
    with pytest.raises(ValueError, match="initial_state"):
        LSTM(2).forward(np.zeros((1, 3, 2)), initial_state=[np.zeros((1, 2))])


# -- saving, clipping, training -----------------------------------------------------------------
def test_save_load_roundtrip(tmp_path):
    dlkit.set_seed(4)
    model = Sequential([Embedding(12, 4, mask_zero=True, input_shape=(6,)),
                        Bidirectional(LSTM(5, return_sequences=True)),
                        GRU(3, go_backwards=True), Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    ids = np.random.default_rng(0).integers(0, 12, (4, 6))
    y = model.predict(ids)
    model.save(tmp_path / "m.npz")
    loaded = dlkit.load_model(tmp_path / "m.npz")
    np.testing.assert_allclose(loaded.predict(ids), y, rtol=1e-6)


def test_gradient_clipping_applies_to_recurrent_grads():
    from dlkit.optimizers import SGD

    rng = np.random.default_rng(1)
    layer = LSTM(4, dtype="float64", seed=0)
    x = rng.standard_normal((3, 5, 2))
    layer.forward(x)
    layer.backward(100 * rng.standard_normal((3, 4)))
    before = [p.copy() for p in layer.params]
    grads = [g.copy() for g in layer.grads]
    SGD(learning_rate=0.1, clipnorm=0.5).apply(layer.grads, layer.params)
    for p, p0, g in zip(layer.params, before, grads):
        step = p0 - p
        np.testing.assert_allclose(np.linalg.norm(step), 0.1 * 0.5, rtol=1e-9)
        np.testing.assert_allclose(step, 0.1 * 0.5 * g / np.linalg.norm(g), rtol=1e-9)


def test_document_model_on_10x10_inputs():
    """The fourth document's code, as written there, runs on its (10, 10)-shaped inputs."""
    from dlkit.utils import to_categorical

    dlkit.set_seed(0)
    model = Sequential()
    model.add(LSTM(128, input_shape=(10, 10), return_sequences=True))
    model.add(LSTM(128))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.random((64, 10, 10)).astype(np.float32)
    y = to_categorical(rng.integers(0, 10, 64), 10)
    hist = model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert np.all(np.isfinite(hist.history["loss"]))
    assert model.predict(x).shape == (64, 10)


def test_document_model_reads_mnist_rows_to_90_percent():
    from dlkit.datasets import mnist_rows
    from dlkit.optimizers import Adam

    (x, y), (xt, yt) = mnist_rows()
    dlkit.set_seed(0)
    model = Sequential([LSTM(128, return_sequences=True, input_shape=(28, 28)), LSTM(128),
                        Dense(10, activation="softmax")])
    model.compile(optimizer=Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    loss, acc = model.evaluate(xt, yt)
    assert acc >= 0.90, f"test accuracy {acc:.3f} after 3 epochs (need >= 0.90)"


def _adding_mse(cls, x, y, xt, yt):
    from dlkit.optimizers import Adam

    dlkit.set_seed(0)
    model = Sequential([cls(32, input_shape=x.shape[1:]), Dense(1)])
    model.compile(optimizer=Adam(learning_rate=0.01, clipnorm=1.0), loss="mse")
    model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    return model.evaluate(xt, yt)


def test_adding_problem_lstm_beats_simple_rnn():
    from dlkit.datasets import adding_problem

    x, y = adding_problem(2000, timesteps=50, seed=0)
    xt, yt = adding_problem(500, timesteps=50, seed=1)
    lstm = _adding_mse(LSTM, x, y, xt, yt)
    rnn = _adding_mse(SimpleRNN, x, y, xt, yt)
    # guessing 1.0 scores 1/6 = 0.167
    assert lstm < 0.05, f"LSTM test MSE {lstm:.4f}"
    assert rnn > 0.10, f"SimpleRNN test MSE {rnn:.4f}"
    assert lstm < rnn / 3
