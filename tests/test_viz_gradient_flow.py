"""Headless tests of dlkit.viz.gradient_flow (chapter 9's widget): the curves it draws are
dL/dh_t of dlkit's own SimpleRNN and LSTM, and the controls redraw them.

The independent computation: for every step t, dlkit's layer is run on the rest of the sequence
x_{t+1..T} from initial_state h_t (and c_t), and backward(v) leaves dL/dh_t in
``layer.initial_state_grads`` -- no BPTT code of the widget involved.
"""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from dlkit import viz  # noqa: E402
from dlkit.layers import LSTM, SimpleRNN  # noqa: E402
from dlkit.viz.gradient_flow import (GradientFlow, lstm_state_gradients,  # noqa: E402
                                     simple_rnn_state_gradients)
from widget_helpers import PNG_MAGIC, live_figures  # noqa: E402


def dlkit_state_gradients(flow, name, recurrent_scale, forget_bias):
    """dL/dh_t, (N, T, u), from dlkit's layers: one backward per step t from initial_state."""
    cls = {"SimpleRNN": SimpleRNN, "LSTM": LSTM}[name]
    weights = flow.weights(recurrent_scale, forget_bias)[name]

    def layer(**kw):
        lay = cls(flow.units, dtype="float64", **kw)
        lay.build((None, None, flow.features))
        lay.set_weights(weights)
        return lay

    states = layer(return_sequences=True, return_state=True)
    out = states(flow.x)
    hs = out[0]                                   # h_1..h_T
    cs = None
    if name == "LSTM":                            # c_t: run each prefix, read the final c
        prefix = layer(return_state=True)
        cs = [prefix(flow.x[:, :t])[2] for t in range(1, flow.timesteps)]
    rest = layer()
    grads = np.empty((flow.samples, flow.timesteps, flow.units))
    grads[:, -1] = flow.v
    for t in range(1, flow.timesteps):            # h_t (1-based), then steps t+1..T
        init = [hs[:, t - 1]] + ([cs[t - 1]] if cs is not None else [])
        rest(flow.x[:, t:], initial_state=init)
        rest.backward(flow.v)
        grads[:, t - 1] = rest.initial_state_grads[0]
    return grads


@pytest.mark.parametrize("scale, forget_bias", [(1.0, 1.0), (0.4, -2.0), (3.0, 6.0)])
def test_state_gradients_equal_dlkits_layers(scale, forget_bias):
    flow = GradientFlow(timesteps=9, units=4, features=3, samples=3, seed=1)
    ours = flow.state_gradients(scale, forget_bias)
    for name in ("SimpleRNN", "LSTM"):
        theirs = dlkit_state_gradients(flow, name, scale, forget_bias)
        np.testing.assert_allclose(ours[name], theirs, rtol=1e-9, atol=1e-13, err_msg=name)


def test_state_gradients_match_central_differences():
    """dL/dh_1 of a short sequence by central differences: perturb h_1, run the remaining steps."""
    rng = np.random.default_rng(3)
    n, t, d, u = 2, 5, 3, 3
    x, v = rng.normal(size=(n, t, d)), rng.normal(size=(n, u))
    W, U, b = rng.normal(size=(d, u)), rng.normal(size=(u, u)) * 0.6, rng.normal(size=u)
    dh = simple_rnn_state_gradients(x, W, U, b, v)
    h1 = np.tanh(x[:, 0] @ W + b)

    def loss_from(h):
        for s in range(1, t):
            h = np.tanh(x[:, s] @ W + h @ U + b)
        return np.sum(v * h)

    eps, num = 1e-6, np.zeros_like(h1)
    for idx in np.ndindex(h1.shape):
        e = np.zeros_like(h1)
        e[idx] = eps
        num[idx] = (loss_from(h1 + e) - loss_from(h1 - e)) / (2 * eps)
    np.testing.assert_allclose(dh[:, 0], num, rtol=1e-6, atol=1e-9)


def test_norms_are_the_mean_norm_and_start_at_one():
    flow = GradientFlow(timesteps=20, units=5, samples=4)
    norms, grads = flow.norms(0.7, 2.0), flow.state_gradients(0.7, 2.0)
    for name in ("SimpleRNN", "LSTM"):
        assert norms[name].shape == (20,)
        np.testing.assert_allclose(norms[name], np.linalg.norm(grads[name], axis=2).mean(axis=0))
        assert norms[name][-1] == pytest.approx(1.0)


def test_what_the_chapter_says():
    """The claims of chapter 9 about the default setup (50 steps, 8 units, 16 sequences)."""
    flow = GradientFlow()
    at = lambda s, f: {k: g[0] for k, g in flow.norms(s, f).items()}  # noqa: E731
    base = at(1.0, 1.0)
    assert 1e-10 < base["SimpleRNN"] < 1e-8 and 1e-7 < base["LSTM"] < 1e-5
    assert 1e-23 < at(0.5, 1.0)["SimpleRNN"] < 1e-21
    assert 0.04 < at(1.0, 5.0)["LSTM"] < 0.08                    # "about 6 %"
    assert at(1.0, -4.0)["LSTM"] < base["SimpleRNN"]              # forgets faster than the RNN
    assert 1e3 < at(5.0, 1.0)["SimpleRNN"] < 1e5                  # explodes
    assert 0.1 < at(2.0, 1.0)["SimpleRNN"] < 1.0


def test_lstm_state_gradients_shapes_and_forget_gate_closed():
    """With the forget gate shut (bias -50) and no recurrent kernel, nothing reaches h_{t-1}
    from later steps except through the gates' dependence on h: with U = 0, nothing at all."""
    rng = np.random.default_rng(0)
    n, t, d, u = 2, 4, 3, 2
    x, v = rng.normal(size=(n, t, d)), rng.normal(size=(n, u))
    b = np.zeros(4 * u)
    b[u:2 * u] = -50.0
    dh = lstm_state_gradients(x, rng.normal(size=(d, 4 * u)), np.zeros((u, 4 * u)), b, v)
    assert dh.shape == (n, t, u)
    np.testing.assert_array_equal(dh[:, :-1], 0.0)
    np.testing.assert_array_equal(dh[:, -1], v)


# -- the widget --------------------------------------------------------------------------
def test_widget_draws_the_norms_and_controls_redraw():
    w = viz.gradient_flow_explorer(timesteps=30, units=4, samples=4)
    assert w.png.startswith(PNG_MAGIC) and w.renders == 1
    first = w.png
    w.controls["recurrent_scale"].value = 0.5
    assert w.renders == 2 and w.png != first
    expected = w.flow.norms(0.5, 1.0)
    for name in ("SimpleRNN", "LSTM"):
        x, y = w._artists[name].get_data()
        np.testing.assert_array_equal(x, np.arange(1, 31))
        np.testing.assert_allclose(y, np.maximum(expected[name], 1e-30))
        np.testing.assert_allclose(w.norms[name], expected[name])
    before = w.png
    w.controls["forget_bias"].value = 5.0
    assert w.renders == 3 and w.png != before
    np.testing.assert_allclose(w.norms["LSTM"], w.flow.norms(0.5, 5.0)["LSTM"])
    np.testing.assert_allclose(w.norms["SimpleRNN"], expected["SimpleRNN"])  # unaffected
    w.set(recurrent_scale=2.0, forget_bias=-1.0)
    assert w.renders == 4
    assert repr(w) == ("GradientFlowExplorer(recurrent_scale=2, forget_bias=-1, timesteps=30, "
                       "units=4)")


def test_widget_repr_is_stable_and_bundle_has_the_picture():
    w = viz.gradient_flow_explorer()
    assert repr(w) == "GradientFlowExplorer(recurrent_scale=1, forget_bias=1, timesteps=50, units=8)"
    bundle = w._repr_mimebundle_()
    assert bundle["text/plain"] == repr(w)
    assert "image/png" in bundle and "application/vnd.jupyter.widget-view+json" in bundle
    ax_left, ax_right = w._artists["axes"]
    assert ax_left.get_xlabel() == ax_right.get_xlabel() == "time step t"
    assert "partial L" in ax_left.get_ylabel() and ax_left.get_yscale() == "log"
    assert ax_left.get_title().startswith("SimpleRNN(8)") and ax_right.get_title().startswith("LSTM(8)")
    assert ax_left.get_legend() is not None and ax_right.get_legend() is not None
    assert "recurrent scale 1" in w._artists["title"].get_text()


def test_static_picture_outside_jupyter():
    fig = viz.plot_gradient_flow(recurrent_scale=0.5, forget_bias=3.0, timesteps=10, units=3)
    assert type(fig).__name__ == "Figure" and len(fig.axes) == 2
    assert fig._repr_png_().startswith(PNG_MAGIC)


def test_no_figures_leak_after_many_updates():
    w = viz.gradient_flow_explorer(timesteps=10, units=3, samples=2)
    w.controls["recurrent_scale"].value = 0.3
    before = live_figures()
    for v in (0.5, 2.0, 8.0, 0.2, 1.0) * 3:
        w.controls["recurrent_scale"].value = v
    w.controls["forget_bias"].value = 4.0
    assert live_figures() <= before
    assert w.renders == 1 + 1 + 15 + 1


def test_underflowing_gradients_are_drawn_at_the_floor():
    w = viz.gradient_flow_explorer(recurrent_scale=0.1, forget_bias=-4.0, timesteps=50)
    y = w._artists["LSTM"].get_data()[1]
    assert np.all(np.isfinite(y)) and np.all(y > 0)
    low, high = w._artists["axes"][0].get_ylim()
    assert 0 < low < y.min() * 1.0001 and high > 1.0


@pytest.mark.parametrize("kwargs, match", [
    (dict(recurrent_scale=0.0), "recurrent_scale must be a positive number"),
    (dict(recurrent_scale=-1.0), "recurrent_scale must be a positive number"),
    (dict(forget_bias=float("nan")), "forget_bias must be a finite number"),
    (dict(timesteps=1), "timesteps must be an integer >= 2"),
    (dict(units=0), "units must be an integer >= 1"),
    (dict(samples=2.5), "samples must be an integer >= 1"),
])
def test_bad_arguments_are_explained(kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.gradient_flow_explorer(**kwargs)
