"""Chapter 11's mechanisms in dlkit: the distillation loss (Hinton et al. 2015), input gradients
and FGSM (Goodfellow et al. 2015), and LIME maps (Ribeiro et al. 2016)."""
import numpy as np
import pytest

import dlkit
from dlkit import evaluation as ev
from dlkit import viz
from dlkit.gradcheck import numerical_gradient, rel_error
from dlkit.layers import Conv2D, Dense, Flatten


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# -- distillation_loss ------------------------------------------------------------------------
@pytest.mark.parametrize("trial", range(4))
def test_distillation_loss_value_by_its_formula_and_gradient_by_central_differences(trial):
    rng = np.random.default_rng(trial)
    n, k = rng.integers(1, 6), rng.integers(2, 7)
    s, t = rng.normal(0, 2, (n, k)), rng.normal(0, 2, (n, k))
    y = rng.integers(0, k, n)
    T, alpha = rng.uniform(0.5, 5), rng.uniform(0, 1)
    loss, grad = ev.distillation_loss(y, s, t, temperature=T, alpha=alpha)
    p, pT, qT = _softmax(s), _softmax(s / T), _softmax(t / T)
    hard = -np.mean(np.log(p[np.arange(n), y]))
    kl = np.mean(np.sum(qT * np.log(qT / pT), axis=1))
    assert loss == pytest.approx((1 - alpha) * hard + alpha * T**2 * kl, rel=1e-12)
    num = numerical_gradient(lambda: ev.distillation_loss(y, s, t, T, alpha)[0], s)
    assert grad.shape == s.shape and rel_error(grad, num) < 1e-7


def test_distillation_loss_special_cases():
    rng = np.random.default_rng(5)
    s, y = rng.normal(size=(3, 4)), np.array([0, 3, 1])
    # alpha = 0: the ordinary cross-entropy, gradient (p - onehot) / N
    loss, grad = ev.distillation_loss(y, s, rng.normal(size=(3, 4)), alpha=0.0)
    assert loss == pytest.approx(-np.mean(np.log(_softmax(s)[np.arange(3), y])))
    np.testing.assert_allclose(grad, (_softmax(s) - np.eye(4)[y]) / 3, atol=1e-15)
    # alpha = 1 and a student equal to the teacher: KL = 0, gradient 0
    loss, grad = ev.distillation_loss(y, s, s.copy(), temperature=4.0, alpha=1.0)
    assert abs(loss) < 1e-12 and np.abs(grad).max() < 1e-15
    # one-hot labels give the same as integer labels; huge logits do not overflow
    assert ev.distillation_loss(np.eye(4)[y], s, 2 * s)[0] == ev.distillation_loss(y, s, 2 * s)[0]
    assert np.isfinite(ev.distillation_loss(y, 1e4 * s, -1e4 * s)[0])


def test_distillation_loss_rejects_bad_arguments():
    s = np.zeros((2, 3))
    with pytest.raises(ValueError, match="temperature"):
        ev.distillation_loss([0, 1], s, s, temperature=0)
    with pytest.raises(ValueError, match="alpha"):
        ev.distillation_loss([0, 1], s, s, alpha=1.5)
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        ev.distillation_loss([0, 1], s, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="labels in"):
        ev.distillation_loss([0, 3], s, s)


# -- input_gradient and fgsm ------------------------------------------------------------------
def _classifier(seed=0, d=6, k=3):
    dlkit.set_seed(seed)
    return dlkit.Sequential([Dense(5, activation="tanh", input_shape=(d,), dtype="float64"),
                             Dense(k, activation="softmax", dtype="float64")], dtype="float64")


@pytest.mark.parametrize("trial", range(3))
def test_input_gradient_is_each_samples_cross_entropy_gradient(trial):
    rng = np.random.default_rng(trial)
    m = _classifier(trial)
    x, y = rng.normal(size=(4, 6)), rng.integers(0, 3, 4)
    g = ev.input_gradient(m, x, y, batch_size=3)
    for i in range(4):
        xi = x[i:i + 1].copy()
        num = numerical_gradient(lambda: -np.log(m.predict(xi)[0, y[i]]), xi)
        assert rel_error(g[i:i + 1], num) < 1e-7
    assert m.skip_input_grad is False


def test_fgsm_steps_by_epsilon_along_the_sign_and_raises_the_loss():
    rng = np.random.default_rng(3)
    m = _classifier(3)
    x, y = rng.uniform(0.2, 0.8, (5, 6)), rng.integers(0, 3, 5)
    x_adv = ev.fgsm(m, x, y, 0.05)
    np.testing.assert_allclose(x_adv, x + 0.05 * np.sign(ev.input_gradient(m, x, y)))
    ce = lambda xx: -np.log(m.predict(xx)[np.arange(5), y])   # noqa: E731
    assert np.all(ce(x_adv) > ce(x))
    assert np.all((ev.fgsm(m, x, y, 0.5) >= 0) & (ev.fgsm(m, x, y, 0.5) <= 1))
    assert ev.fgsm(m, x, y, 0.5, clip=None).max() > 1
    assert ev.fgsm(m, x.astype(np.float32), y, 0.1).dtype == np.float32


def test_input_gradient_on_a_cnn_has_the_image_shape():
    dlkit.set_seed(0)
    m = dlkit.Sequential([Conv2D(2, (3, 3), activation="relu", input_shape=(6, 6, 1)),
                          Flatten(), Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((2, 6, 6, 1)).astype(np.float32)
    assert ev.input_gradient(m, x, [0, 2]).shape == x.shape


def test_input_gradient_rejects_bad_arguments():
    m = _classifier()
    x = np.zeros((2, 6))
    with pytest.raises(ValueError, match="2 inputs but 3 labels"):
        ev.input_gradient(m, x, [0, 1, 2])
    with pytest.raises(ValueError, match="expects inputs of shape"):
        ev.input_gradient(m, np.zeros((2, 5)), [0, 1])
    with pytest.raises(ValueError, match="labels must lie"):
        ev.input_gradient(m, x, [0, 3])
    with pytest.raises(ValueError, match="epsilon"):
        ev.fgsm(m, x, [0, 1], -0.1)
    dlkit.set_seed(0)
    linear = dlkit.Sequential([Dense(3, input_shape=(6,))])
    with pytest.raises(ValueError, match="softmax"):
        ev.input_gradient(linear, x, [0, 1])


# -- lime_map -------------------------------------------------------------------------------------
def _linear(d=16, k=3, seed=0):
    dlkit.set_seed(seed)
    return dlkit.Sequential([Dense(k, activation="linear", input_shape=(d,), dtype="float64")],
                            dtype="float64")


@pytest.mark.parametrize("patch", [1, 2, 3])
def test_lime_recovers_the_patch_contributions_of_a_linear_model(patch):
    """For f(x) = x . w_c + b and patches hidden with 0, f is exactly linear in z: a weighted
    regression without penalty recovers each patch's sum of x * w_c whatever the kernel."""
    m = _linear()
    x = np.random.default_rng(patch).random(16)
    heat = viz.lime_map(m, x, patch=patch, num_samples=300, ridge=0.0, class_index=2,
                        image_shape=(4, 4), seed=patch)
    contrib = (x * m.get_weights()[0][:, 2]).reshape(4, 4)
    cols = -(-4 // patch)
    segment = (np.arange(4)[:, None] // patch) * cols + np.arange(4)[None, :] // patch
    expected = np.bincount(segment.ravel(), contrib.ravel())[segment]
    assert heat.shape == (4, 4)
    np.testing.assert_allclose(heat, expected, atol=1e-9)


def test_lime_is_reproducible_by_its_seed_and_ridge_shrinks_the_weights():
    m = _classifier(d=16)
    x = np.random.default_rng(0).random(16)
    kw = dict(patch=2, num_samples=100, image_shape=(4, 4))
    a, b = viz.lime_map(m, x, seed=1, **kw), viz.lime_map(m, x, seed=1, **kw)
    assert np.array_equal(a, b) and not np.array_equal(a, viz.lime_map(m, x, seed=2, **kw))
    strong = viz.lime_map(m, x, seed=1, ridge=1e3, **kw)
    assert np.abs(strong).max() < np.abs(a).max()
    # the default class is the predicted one
    c = int(m.predict(x[None])[0].argmax())
    assert np.array_equal(a, viz.lime_map(m, x, seed=1, class_index=c, **kw))


def test_lime_on_image_inputs_and_bad_arguments():
    dlkit.set_seed(0)
    cnn = dlkit.Sequential([Conv2D(2, (3, 3), activation="relu", input_shape=(8, 8, 1)),
                            Flatten(), Dense(3, activation="softmax")])
    img = np.random.default_rng(0).random((8, 8, 1)).astype(np.float32)
    assert viz.lime_map(cnn, img, patch=3, num_samples=50).shape == (8, 8)
    with pytest.raises(ValueError, match="pass x\\[i\\]"):
        viz.lime_map(cnn, img[None])
    with pytest.raises(ValueError, match="patch"):
        viz.lime_map(cnn, img, patch=9)
    with pytest.raises(ValueError, match="num_samples"):
        viz.lime_map(cnn, img, num_samples=1)
    with pytest.raises(ValueError, match="does not divide"):
        viz.lime_map(_linear(), np.zeros(16), image_shape=(3, 3))


def test_plot_explanations_centres_signed_maps_when_asked():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = np.zeros((2, 4, 4))
    maps = np.stack([np.linspace(-1, 3, 16).reshape(4, 4), np.linspace(0, 2, 16).reshape(4, 4)])
    fig = viz.plot_explanations(images, maps, symmetric=True, cmap="RdBu_r")
    lims = [ax.images[0].get_clim() for ax in fig.axes[2:]]
    assert lims == [(-3.0, 3.0), (-2.0, 2.0)]
    fig2 = viz.plot_explanations(images, maps)
    assert [ax.images[0].get_clim() for ax in fig2.axes[2:]] == [(-1.0, 3.0), (0.0, 2.0)]
    plt.close(fig)
    plt.close(fig2)
