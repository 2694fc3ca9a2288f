"""Float64 gradient checks of every core layer, activation and loss (relative error < 1e-6)."""
import numpy as np
import pytest

from dlkit import activations, losses
from dlkit.gradcheck import check_layer, check_loss, numerical_gradient, rel_error
from dlkit.layers import Activation, Dense, Dropout, Flatten, Reshape

TOL = 1e-6
ACTS = [a for a in activations.NAMES]


def _away_from_kinks(x, act):
    # relu-like activations have a kink at 0 where central differences are not the derivative
    if act in ("relu", "leaky_relu", "elu"):
        x = np.where(np.abs(x) < 1e-3, 0.1, x)
    return x


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("trial", range(3))
def test_dense_gradients(act, trial):
    rng = np.random.default_rng(100 + trial)
    n, d_in, d_out = rng.integers(1, 6), rng.integers(1, 7), rng.integers(1, 6)
    layer = Dense(int(d_out), activation=act, dtype="float64", seed=trial,
                  bias_initializer="random_normal")
    x = rng.standard_normal((n, d_in))
    layer.forward(x)
    # push pre-activations away from kinks by checking with these weights and this input
    x = _away_from_kinks(x, act)
    errs = check_layer(layer, x)
    assert errs.max < TOL, f"{act}: {errs}"


def test_dense_without_bias_and_rank3_input(rng):
    layer = Dense(4, activation="tanh", use_bias=False, dtype="float64", seed=1)
    errs = check_layer(layer, rng.standard_normal((2, 3, 5)))
    assert set(errs) == {"x", "kernel"} and errs.max < TOL, errs


def test_dense_l2_regularizer_gradient(rng):
    layer = Dense(3, kernel_regularizer=0.1, dtype="float64", seed=2)
    x = rng.standard_normal((4, 5))
    errs = check_layer(layer, x)   # the checked scalar includes layer.added_loss()
    assert errs.max < TOL, errs
    layer.forward(x)
    dy = rng.standard_normal((4, 3))
    layer.backward(dy)
    f = lambda: float(np.sum(layer.forward(x) * dy))  # noqa: E731  (without the penalty)
    assert rel_error(layer.grads[0], numerical_gradient(f, layer.kernel)) > 1e-3


@pytest.mark.parametrize("act", ACTS)
def test_activation_layer_gradients(act, rng):
    x = _away_from_kinks(rng.standard_normal((3, 4, 5)), act)
    errs = check_layer(Activation(act, dtype="float64"), x)
    assert errs.max < TOL, f"{act}: {errs}"


def test_dropout_gradient_in_training_mode(rng):
    layer = Dropout(0.4, dtype="float64", seed=3)
    errs = check_layer(layer, rng.standard_normal((5, 6)), training=True)
    assert errs.max < TOL


@pytest.mark.parametrize("layer", [Flatten(dtype="float64"), Reshape((6, 2), dtype="float64"),
                                   Reshape((-1, 3), dtype="float64")])
def test_shape_layers_gradients(layer, rng):
    assert check_layer(layer, rng.standard_normal((2, 3, 4))).max < TOL


def _probs(rng, n, k):
    z = rng.standard_normal((n, k))
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("trial", range(3))
def test_loss_gradients(trial):
    rng = np.random.default_rng(trial)
    n, k = int(rng.integers(1, 7)), int(rng.integers(2, 6))
    labels = rng.integers(0, k, n)
    onehot = np.eye(k)[labels]
    p = _probs(rng, n, k)
    binary_t = rng.random((n, k))
    sig = 1 / (1 + np.exp(-rng.standard_normal((n, k))))
    cases = [
        (losses.MeanSquaredError(), rng.standard_normal((n, k)), rng.standard_normal((n, k))),
        (losses.MeanAbsoluteError(), rng.standard_normal((n, k)), rng.standard_normal((n, k))),
        (losses.CategoricalCrossentropy(), onehot, p),
        (losses.CategoricalCrossentropy(), _probs(rng, n, k), p),   # soft targets
        (losses.SparseCategoricalCrossentropy(), labels, p),
        (losses.BinaryCrossentropy(), binary_t, sig),
        (losses.CategoricalCrossentropy(from_logits=True), onehot, rng.standard_normal((n, k)) * 3),
        (losses.SparseCategoricalCrossentropy(from_logits=True), labels, rng.standard_normal((n, k))),
        (losses.BinaryCrossentropy(from_logits=True), binary_t, rng.standard_normal((n, k)) * 3),
    ]
    for loss, t, y in cases:
        err = check_loss(loss, t, y)
        assert err < TOL, f"{loss!r}: relative error {err:.2e}"


def test_fused_heads_match_unfused_and_stay_finite_for_huge_logits():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4, 5))
    labels = rng.integers(0, 5, 4)
    t = np.eye(5)[labels]
    fused = losses.CategoricalCrossentropy(from_logits=True)
    plain = losses.CategoricalCrossentropy()
    p = activations.apply("softmax", z)
    assert np.isclose(fused(t, z), plain(t, p), rtol=1e-6)
    huge = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 500.0]])
    for loss, targets in [(fused, np.eye(3)[[1, 0]]),
                          (losses.SparseCategoricalCrossentropy(from_logits=True), np.array([1, 0])),
                          (losses.BinaryCrossentropy(from_logits=True), np.array([[1.0, 0, 1], [0, 1, 0]]))]:
        k = huge.shape[1]
        tt = loss.prepare_targets(targets, (None, k), np.float64)
        total, dz = loss.value_and_grad(tt, huge)
        assert np.isfinite(total) and np.all(np.isfinite(dz)), loss
        assert total > 100  # confidently wrong costs a lot, exactly, not a clipped constant


def test_softmax_crossentropy_gradient_is_p_minus_y():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((3, 4))
    t = np.eye(4)[[0, 3, 1]]
    _, dz = losses.CategoricalCrossentropy(from_logits=True).value_and_grad(t, z)
    np.testing.assert_allclose(dz, (activations.apply("softmax", z) - t) / 3, rtol=1e-12)


def test_gradcheck_catches_a_wrong_backward(rng):
    class WrongDense(Dense):
        def backward(self, dy):
            dx = super().backward(dy)
            self.grads[0] *= 1.01  # a 1% bug
            return dx

    errs = check_layer(WrongDense(3, dtype="float64", seed=0), rng.standard_normal((2, 4)))
    assert errs["kernel"] > 1e-3 and errs["x"] < TOL


def test_activation_helpers_keep_the_shape_of_a_number():
    # the book writes activations.derivative("sigmoid", 0.0) and expects the number 0.25
    assert activations.derivative("sigmoid", 0.0).shape == ()
    assert float(activations.derivative("sigmoid", 0.0)) == 0.25
    assert activations.apply("relu", -1.0).shape == ()
    assert activations.apply("tanh", np.zeros((2, 3))).shape == (2, 3)
