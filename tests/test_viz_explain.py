"""dlkit.viz.explain: saliency and occlusion maps, confusion-matrix and misclassified plots."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dlkit  # noqa: E402
from dlkit import viz  # noqa: E402
from dlkit.layers import Dense  # noqa: E402


def _model(dtype="float64", d=6, k=3, act="softmax", seed=0):
    dlkit.set_seed(seed)
    return dlkit.Sequential([Dense(5, activation="tanh", input_shape=(d,), dtype=dtype),
                             Dense(k, activation=act, dtype=dtype)], dtype=dtype)


@pytest.mark.parametrize("trial", range(3))
def test_saliency_is_the_gradient_of_the_class_logit(trial):
    rng = np.random.default_rng(trial)
    m = _model(seed=trial)
    x = rng.normal(size=(4, 6))
    c = rng.integers(0, 3, 4)
    s = viz.saliency_map(m, x, class_index=c)
    assert s.shape == x.shape and s.dtype == np.float64

    def logit(xx, i):
        m.forward(xx[None], training=False)
        return m.layers[-1].logits[0, c[i]]

    num = np.zeros_like(x)
    for i in range(len(x)):
        for j in range(x.shape[1]):
            e = np.zeros(6)
            e[j] = 1e-6
            num[i, j] = (logit(x[i] + e, i) - logit(x[i] - e, i)) / 2e-6
    err = np.abs(s - np.abs(num)).max() / np.abs(num).max()
    assert err < 1e-6, f"relative error {err:.2e}"
    assert m.skip_input_grad is False


def test_saliency_defaults_to_the_predicted_class_and_batches():
    m = _model()
    x = np.random.default_rng(1).normal(size=(7, 6))
    pred = m.predict(x).argmax(axis=1)
    np.testing.assert_allclose(viz.saliency_map(m, x, batch_size=3),
                               viz.saliency_map(m, x, class_index=pred), rtol=1e-12)
    with pytest.raises(ValueError, match="expects inputs of shape"):
        viz.saliency_map(m, x[:, :5])


def test_saliency_without_softmax_uses_the_output():
    m = _model(act="linear")
    x = np.random.default_rng(2).normal(size=(2, 6))
    s = viz.saliency_map(m, x, class_index=1)
    h = np.tanh(x @ m.layers[0].kernel + m.layers[0].bias)
    g = ((1 - h ** 2) * m.layers[1].kernel[:, 1]) @ m.layers[0].kernel.T
    np.testing.assert_allclose(s, np.abs(g), rtol=1e-10)


def test_occlusion_finds_the_only_pixel_the_model_looks_at():
    # class 1's logit depends on pixel (row 3, col 5) only; hiding it is the only thing that hurts
    m = dlkit.Sequential([Dense(2, activation="softmax", input_shape=(64,))])
    w = np.zeros((64, 2), np.float32)
    w[3 * 8 + 5, 1] = 10.0
    m.set_weights([w, np.zeros(2, np.float32)])
    img = np.zeros(64, np.float32)
    img[3 * 8 + 5] = 1.0
    heat = viz.occlusion_map(m, img, patch=2, stride=1, image_shape=(8, 8))
    assert heat.shape == (8, 8)
    assert heat[3, 5] > 0.4
    covered = np.zeros((8, 8), bool)
    covered[2:5, 4:7] = True            # pixels sharing a 2x2 patch with (3, 5)
    assert np.all(heat[~covered] == 0) and np.all(heat[covered] > 0)
    with pytest.raises(ValueError, match="one sample"):
        viz.occlusion_map(m, img[None])
    with pytest.raises(ValueError, match="patch"):
        viz.occlusion_map(m, img, patch=9, image_shape=(8, 8))


def test_plots_have_titles_and_labels():
    cm = np.array([[5, 1], [2, 7]])
    fig = viz.plot_confusion_matrix(cm, title="CM")
    ax = fig.axes[0]
    assert ax.get_title() == "CM" and ax.get_xlabel() == "predicted class"
    assert ax.get_ylabel() == "true class"
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "5", "7"]
    plt.close(fig)
    fig = viz.plot_confusion_matrix(cm, normalize=True)
    assert "0.83" in [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)

    rng = np.random.default_rng(0)
    x = rng.random((20, 784))
    y = rng.integers(0, 10, 20)
    probs = rng.random((20, 10))
    fig = viz.plot_misclassified(x, y, probs, n=6, cols=3)
    wrong = np.flatnonzero(probs.argmax(1) != y)[:6]
    titles = [a.get_title() for a in fig.axes if a.get_title()]
    assert titles[0].startswith(f"{y[wrong[0]]} → {probs[wrong[0]].argmax()}")
    assert len(titles) == len(wrong)
    assert fig._suptitle.get_text().startswith("Misclassified")
    plt.close(fig)

    fig = viz.plot_explanations(x[:3], rng.random((3, 28, 28, 1)), titles=["a", "b", "c"])
    assert fig._suptitle.get_text() == "Saliency" and len(fig.axes) == 6
    assert fig.axes[0].get_ylabel() == "input" and fig.axes[3].get_ylabel() == "saliency"
    plt.close(fig)
    with pytest.raises(ValueError, match="3 images but 2 maps"):
        viz.plot_explanations(x[:3], x[:2])
