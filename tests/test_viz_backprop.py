"""Headless tests of the backpropagation widget (chapter 4): every gradient it shows equals a
central difference, controls redraw, bad arguments are refused clearly."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from dlkit import viz  # noqa: E402
from dlkit.viz.backprop import ACTIVATIONS, graph_values  # noqa: E402
from widget_helpers import PNG_MAGIC, live_figures  # noqa: E402


def loss(x, w, b, y, activation):
    z = w * x + b
    p = {"sigmoid": lambda: 1 / (1 + np.exp(-z)), "tanh": lambda: np.tanh(z),
         "relu": lambda: np.maximum(z, 0.0)}[activation]()
    return (p - y) ** 2


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_gradient_equals_a_central_difference(activation):
    rng = np.random.default_rng(0)
    h = 1e-6
    for _ in range(20):
        args = dict(x=rng.uniform(-3, 3), w=rng.uniform(-3, 3), b=rng.uniform(-3, 3),
                    y=rng.uniform(-1, 2))
        if activation == "relu" and abs(args["w"] * args["x"] + args["b"]) < 1e-3:
            continue  # the kink: no derivative there
        v = graph_values(activation=activation, **args)
        assert v["L"] == pytest.approx(loss(activation=activation, **args), rel=1e-12)
        for name in ("x", "w", "b"):
            up, down = dict(args), dict(args)
            up[name] += h
            down[name] -= h
            num = (loss(activation=activation, **up)
                   - loss(activation=activation, **down)) / (2 * h)
            assert v[f"dL_d{name}"] == pytest.approx(num, rel=1e-6, abs=1e-8), (name, args)


def test_chapter_numbers_and_dlkit_dense():
    """The numbers of section 4.1, and a dlkit Dense(1, 'sigmoid') + squared error agree."""
    from dlkit.layers import Dense

    v = graph_values(1.5, 0.8, -0.5, 1.0)
    assert round(v["z"], 4) == 0.7 and round(v["p"], 4) == 0.6682
    assert round(v["dL_dw"], 4) == -0.2207 and round(v["dL_db"], 4) == -0.1471
    layer = Dense(1, activation="sigmoid", dtype="float64")
    layer.build((None, 1))
    layer.set_weights([np.array([[0.8]]), np.array([-0.5])])
    p = layer.forward(np.array([[1.5]]))
    dx = layer.backward(2 * (p - 1.0))
    assert p[0, 0] == pytest.approx(v["p"], rel=1e-12)
    assert layer.grads[0][0, 0] == pytest.approx(v["dL_dw"], rel=1e-12)
    assert layer.grads[1][0] == pytest.approx(v["dL_db"], rel=1e-12)
    assert dx[0, 0] == pytest.approx(v["dL_dx"], rel=1e-12)


def test_explorer_redraws_and_shows_the_numbers():
    g = viz.backprop_explorer()
    assert set(g.controls) == {"x", "w", "b", "y", "activation"}
    assert all(not g.controls[k].continuous_update for k in "xwby")
    assert g.png.startswith(PNG_MAGIC) and g.renders == 1
    assert repr(g) == "BackpropExplorer(x=1.5, w=0.8, b=-0.5, y=1, activation='sigmoid')"
    texts = {k: t.get_text() for k, t in g.plot.node_text.items()}
    assert "∂L/∂w = -0.2207" in texts["w"] and "= 0.6682" in texts["p"]
    before = g.png
    g.controls["w"].value = -1.0
    assert g.renders == 2 and g.png != before
    assert g.values == graph_values(1.5, -1.0, -0.5, 1.0)
    assert f"{g.values['dL_dw']:.4f}" in g.plot.node_text["w"].get_text()
    g.controls["activation"].value = "relu"
    assert g.renders == 3
    # relu with z = -2 < 0: no gradient reaches w, x or b; no "-0.0000" on the picture
    assert g.values["dL_dw"] == 0 and "-0.0000" not in g.plot.node_text["w"].get_text()
    assert "relu" in g.plot.node_text["p"].get_text()
    g.set(x=2.0, b=1.0, y=0.0)
    assert g.renders == 4
    assert g.values == graph_values(2.0, -1.0, 1.0, 0.0, "relu")
    # the tangent on the right has slope dL/dw
    (w0, w1), (l0, l1) = g.plot.tangent.get_data()
    assert (l1 - l0) / (w1 - w0) == pytest.approx(g.values["dL_dw"], rel=1e-9)
    bundle = g._repr_mimebundle_()
    assert bundle["text/plain"] == repr(g) and "image/png" in bundle


@pytest.mark.parametrize("kwargs, match", [
    (dict(x=5.0), r"x must be a number in \[-3.0, 3.0\]"),
    (dict(y="1"), "y must be a number"),
    (dict(activation="softmax"), "unknown activation 'softmax'"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.backprop_explorer(**kwargs)
    with pytest.raises(ValueError, match=match):
        viz.plot_backprop_graph(**kwargs)


def test_static_picture_and_no_figures_leak_after_many_updates():
    from dlkit.viz.render import figure_to_png

    fig = viz.plot_backprop_graph(activation="tanh")
    assert figure_to_png(fig).startswith(PNG_MAGIC)
    del fig
    g = viz.backprop_explorer()
    n = live_figures()
    for i in range(10):
        g.controls["b"].value = -1.0 + 0.2 * i
    g.controls["activation"].value = "tanh"
    assert live_figures() == n
