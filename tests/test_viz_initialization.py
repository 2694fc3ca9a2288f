"""Headless tests of the initialisation explorer (chapter 3): controls set as a user would,
the numbers drawn checked against an independent NumPy computation."""
import base64

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from dlkit import initializers, viz  # noqa: E402
from dlkit.viz import initialization as init  # noqa: E402
from widget_helpers import PNG_MAGIC, live_figures  # noqa: E402

WIDTH, N = 64, 100     # small networks: fast tests, same code paths


def numpy_stds(scheme, activation, scale, layers, width=WIDTH, n=N, seed=0):
    """The experiment written out independently: std of every layer's activations."""
    f = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0),
         "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[activation]
    k = {"naive": 0, "glorot": 1, "he": 2}[scheme]
    a = np.random.default_rng((seed, 99)).standard_normal((n, width))
    stds = [a.std()]
    for layer in range(1, layers + 1):
        rng = np.random.default_rng((seed, k, layer))
        if scheme == "naive":
            W = rng.normal(0.0, 1.0, (width, width))
        elif scheme == "glorot":
            lim = np.sqrt(6 / (width + width))
            W = rng.uniform(-lim, lim, (width, width))
        else:
            W = initializers.get("he_normal")(rng, (width, width))
        a = f(a @ (scale * W))
        stds.append(a.std())
    return np.array(stds)


def make(**kw):
    return viz.init_explorer(**{"width": WIDTH, "n": N, **kw})


@pytest.mark.parametrize("scheme", ["naive", "glorot", "he"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_stds_shown_equal_an_independent_numpy_computation(scheme, activation):
    w = make(initializer=scheme, activation=activation, layers=6)
    want = numpy_stds(scheme, activation, 1.0, 6)
    np.testing.assert_allclose(w.stds, want, rtol=1e-12)
    np.testing.assert_allclose(w.std_line.get_ydata(), want, rtol=1e-12)
    np.testing.assert_array_equal(w.std_line.get_xdata(), np.arange(7))
    np.testing.assert_allclose(init.activation_stds(scheme, activation, 1.0, 6, WIDTH, N), want,
                               rtol=1e-12)


def test_controls_redraw_and_the_numbers_follow():
    w = make()
    assert sorted(w.controls) == ["activation", "initializer", "layers", "scale"]
    assert not w.controls["scale"].continuous_update and not w.controls["layers"].continuous_update
    assert (w.controls["layers"].min, w.controls["layers"].max) == (1, 20)
    assert w.png.startswith(PNG_MAGIC) and w.renders == 1
    pngs = {w.png}
    for name, value in [("scale", 0.1), ("layers", 15), ("initializer", "he"),
                        ("activation", "relu"), ("initializer", "naive")]:
        before = w.renders
        w.controls[name].value = value
        assert w.renders == before + 1, name
        assert w.png not in pngs, f"the picture did not change after {name}"
        pngs.add(w.png)
    np.testing.assert_allclose(w.stds, numpy_stds("naive", "relu", 0.1, 15), rtol=1e-12)
    assert len(w.stds) == 16 and w.hist_layers == [4, 8, 11, 15]
    # several controls at once: one redraw
    before = w.renders
    w.set(initializer="glorot", activation="tanh", scale=1.0, layers=10)
    assert w.renders == before + 1
    np.testing.assert_allclose(w.stds, numpy_stds("glorot", "tanh", 1.0, 10), rtol=1e-12)
    # the histograms show the layers they name
    a = init.forward_activations("glorot", "tanh", 1.0, 10, WIDTH, N)[w.hist_layers[-1]]
    counts, edges = np.histogram(a, bins=40, range=(-1, 1))
    values = w.bars[len(w.hist_layers) - 1].get_data()
    np.testing.assert_allclose(values.values, counts / a.size)
    np.testing.assert_allclose(values.edges, edges)


def test_what_the_schemes_do_to_a_deep_network():
    """The facts chapter 3 relies on, at the chapter's width."""
    glorot = init.activation_stds("glorot", "tanh", layers=10)
    naive_small = init.activation_stds("naive", "tanh", scale=0.01, layers=10)
    naive_relu = init.activation_stds("naive", "relu", layers=10)
    he = init.activation_stds("he", "relu", layers=10)
    assert 0.15 < glorot[-1] < 0.4                 # shrinks slowly
    assert naive_small[-1] < 1e-6                  # vanishes
    assert naive_relu[-1] > 1e8                    # explodes
    assert 0.5 < he[1:].min() and he[1:].max() < 1.5     # stays put


def test_layers_slider_keeps_the_first_layers():
    w = make(layers=4)
    first = w.stds.copy()
    w.controls["layers"].value = 9
    np.testing.assert_array_equal(w.stds[:5], first)


def test_repr_is_stable_and_the_static_picture_is_there():
    w = make(initializer="he", activation="relu", scale=0.5, layers=8)
    assert repr(w) == ("InitExplorer(initializer='he', activation='relu', scale=0.5, layers=8, "
                       f"width={WIDTH})")
    bundle = w._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == w.png
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == repr(w)
    assert make(initializer="he", activation="relu", scale=0.5, layers=8).png == w.png


def test_static_plot_outside_jupyter():
    from matplotlib.figure import Figure

    fig = viz.plot_activation_stds(["naive", "he"], "relu", layers=5, width=WIDTH, n=N)
    assert isinstance(fig, Figure) and fig._repr_png_().startswith(PNG_MAGIC)
    lines = [l for l in fig.axes[0].lines if len(l.get_xdata()) == 6]
    np.testing.assert_allclose(lines[0].get_ydata(), numpy_stds("naive", "relu", 1.0, 5))
    np.testing.assert_allclose(lines[1].get_ydata(), numpy_stds("he", "relu", 1.0, 5))


def test_no_figures_leak():
    import matplotlib.pyplot as plt

    w = make()
    before = live_figures()
    for i in range(12):
        w.controls["layers"].value = 1 + i
    assert live_figures() == before
    assert plt.get_fignums() == []


def test_bad_arguments_are_rejected_clearly():
    with pytest.raises(ValueError, match="unknown initialiser 'xavier'"):
        make(initializer="xavier")
    with pytest.raises(ValueError, match="unknown activation 'elu'"):
        make(activation="elu")
    with pytest.raises(ValueError, match="scale must be a positive number"):
        init.activation_stds("he", "relu", scale=-1.0)
    with pytest.raises(ValueError, match=r"scale must lie in \[0.001, 10\]"):
        make(scale=100.0)
    with pytest.raises(ValueError, match="layers must be at most 20"):
        make(layers=21)
    with pytest.raises(ValueError, match="layers must be an integer >= 1"):
        init.activation_stds("he", "relu", layers=0)
    with pytest.raises(KeyError, match="no control"):
        make().set(depth=3)


def test_histogram_titles_count_saturated_units_and_zeros():
    w = make(initializer="naive", activation="tanh", layers=4)
    a = init.forward_activations("naive", "tanh", 1.0, 4, WIDTH, N)[4]
    assert w.ax_hist[-1].get_title().endswith(f", {np.mean(np.abs(a) > 0.99):.0%} saturated")
    w.controls["activation"].value = "relu"
    a = init.forward_activations("naive", "relu", 1.0, 4, WIDTH, N)[4]
    assert w.ax_hist[-1].get_title().endswith(f", {np.mean(a == 0):.0%} zero")


def test_one_layer_shows_one_histogram():
    w = make(layers=1)
    assert w.hist_layers == [1]
    assert [ax.get_visible() for ax in w.ax_hist] == [True, False, False, False]
