"""Hypothesis property tests of shapes: whatever the sizes, layers and models agree."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dlkit import Sequential
from dlkit.layers import Activation, Dense, Dropout, Flatten, Reshape
from dlkit.utils import to_categorical

dims = st.integers(1, 6)


@settings(max_examples=40, deadline=None)
@given(n=dims, d_in=dims, units=dims, act=st.sampled_from(["relu", "tanh", "softmax", None]))
def test_dense_shapes(n, d_in, units, act):
    layer = Dense(units, activation=act, seed=0)
    y = layer.forward(np.ones((n, d_in), np.float32))
    assert y.shape == (n, units) == (n,) + layer.compute_output_shape((None, d_in))[1:]
    dx = layer.backward(np.ones_like(y))
    assert dx.shape == (n, d_in)
    assert [g.shape for g in layer.grads] == [p.shape for p in layer.params]


@settings(max_examples=40, deadline=None)
@given(n=dims, a=dims, b=dims, c=dims)
def test_flatten_and_reshape_invert_each_other(n, a, b, c):
    x = np.arange(n * a * b * c, dtype=np.float32).reshape(n, a, b, c)
    model = Sequential([Flatten(input_shape=(a, b, c)), Reshape((a, b, c))])
    np.testing.assert_array_equal(model.predict(x), x)
    assert model.output_shape == (None, a, b, c)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 70), batch=st.integers(1, 33), widths=st.lists(dims, min_size=1, max_size=3))
def test_model_output_shape_and_batching(n, batch, widths):
    layers = [Dense(widths[0], activation="relu", input_shape=(5,), seed=1)]
    layers += [Dense(w, activation="tanh", seed=2 + i) for i, w in enumerate(widths[1:])]
    model = Sequential(layers + [Dropout(0.5), Activation("sigmoid")])
    x = np.random.default_rng(n).random((n, 5)).astype(np.float32)
    out = model.predict(x, batch_size=batch)
    assert out.shape == (n, widths[-1]) == (n,) + model.output_shape[1:]
    np.testing.assert_allclose(out, model.predict(x, batch_size=n), rtol=1e-5, atol=1e-7)


@settings(max_examples=30, deadline=None)
@given(labels=st.lists(st.integers(0, 9), min_size=1, max_size=30))
def test_to_categorical_round_trip(labels):
    onehot = to_categorical(labels, 10)
    assert onehot.shape == (len(labels), 10)
    np.testing.assert_array_equal(onehot.argmax(1), labels)
    assert onehot.sum() == len(labels)
