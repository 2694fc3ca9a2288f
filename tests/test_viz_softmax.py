"""Headless tests of the softmax-with-temperature widget (chapter 5): the numbers it shows are
dlkit's softmax and cross-entropy, controls redraw, bad arguments are refused clearly."""

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from dlkit import activations, losses, viz  # noqa: E402
from dlkit.gradcheck import numerical_gradient  # noqa: E402
from dlkit.viz.softmax import (cross_entropy_with_temperature,  # noqa: E402
                               softmax_with_temperature)
from widget_helpers import PNG_MAGIC, live_figures  # noqa: E402


def numpy_softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


def test_values_are_dlkits_softmax_and_cross_entropy():
    rng = np.random.default_rng(0)
    for k in (2, 3, 4, 7):
        z = rng.normal(size=k) * 2
        c = int(rng.integers(k))
        for T in (0.01, 0.3, 1.0, 4.0, 100.0):
            p = softmax_with_temperature(z, T)
            np.testing.assert_allclose(p, activations.softmax(z / T), rtol=1e-12, atol=1e-300)
            np.testing.assert_allclose(p, numpy_softmax(z / T), rtol=1e-10, atol=1e-300)
            ce = cross_entropy_with_temperature(z, c, T)
            want = losses.SparseCategoricalCrossentropy(from_logits=True)([c], (z / T)[None])
            assert ce == pytest.approx(want, rel=1e-12)
            # -log p_c by log-sum-exp in NumPy
            zt = z / T
            lse = zt.max() + np.log(np.exp(zt - zt.max()).sum())
            assert ce == pytest.approx(lse - zt[c], rel=1e-10, abs=1e-12)


def test_curves_over_temperatures_match_one_temperature_at_a_time():
    z, c = np.array([1.5, -0.5, 0.3]), 1
    Ts = np.array([0.02, 0.5, 2.0, 50.0])
    P = softmax_with_temperature(z, Ts)
    CE = cross_entropy_with_temperature(z, c, Ts)
    assert P.shape == (4, 3) and CE.shape == (4,)
    for i, T in enumerate(Ts):
        np.testing.assert_allclose(P[i], softmax_with_temperature(z, T), rtol=1e-12)
        assert CE[i] == pytest.approx(cross_entropy_with_temperature(z, c, T), rel=1e-12)


def test_limits_argmax_and_uniform():
    z = np.array([2.0, 1.0, 0.1, -1.0])
    np.testing.assert_allclose(softmax_with_temperature(z, 0.01), [1, 0, 0, 0], atol=1e-40)
    np.testing.assert_allclose(softmax_with_temperature(z, 1e6), np.full(4, 0.25), atol=1e-6)
    assert cross_entropy_with_temperature(z, 0, 1e6) == pytest.approx(np.log(4), abs=1e-5)
    # a wrong class at small T: a large but finite loss, (z_max - z_c) / T
    assert cross_entropy_with_temperature(z, 3, 0.01) == pytest.approx(300.0, rel=1e-9)


def test_gradient_of_the_tempered_loss_is_p_minus_y_over_T():
    """The chapter's derivation exercise: d/dz (-log softmax(z / T)_c) = (p - onehot(c)) / T."""
    rng = np.random.default_rng(1)
    for _ in range(5):
        z, c, T = rng.normal(size=4), int(rng.integers(4)), float(rng.uniform(0.3, 3))
        zz = z.copy()
        num = numerical_gradient(lambda: cross_entropy_with_temperature(zz, c, T), zz)
        ana = (softmax_with_temperature(z, T) - np.eye(4)[c]) / T
        np.testing.assert_allclose(num, ana, rtol=1e-6, atol=1e-8)


def test_explorer_controls_redraw_and_show_dlkits_numbers():
    w = viz.softmax_explorer()
    assert set(w.controls) == {"z1", "z2", "z3", "temperature", "true_class"}
    assert all(not ctl.continuous_update for name, ctl in w.controls.items()
               if name != "true_class")
    assert "temperature" in w.controls["temperature"].description
    assert w.controls["true_class"].description == "true class"
    assert w.png.startswith(PNG_MAGIC) and w.renders == 1
    before = w.png
    w.controls["temperature"].value = 5.0
    assert w.renders == 2 and w.png != before
    np.testing.assert_allclose(w.p, activations.softmax(np.array([2.0, 1.0, 0.1]) / 5.0))
    w.controls["z2"].value = 3.0
    w.controls["true_class"].value = 2
    assert w.renders == 4
    z = np.array([2.0, 3.0, 0.1])
    T = w.controls["temperature"].value
    np.testing.assert_allclose(w.p, activations.softmax(z / T), rtol=1e-12)
    assert w.cross_entropy == pytest.approx(
        losses.SparseCategoricalCrossentropy(from_logits=True)([2], (z / T)[None]), rel=1e-12)
    title = w.plot.ax_bar.get_title()
    assert f"{w.cross_entropy:.4f}" in title
    # the highlighted bar is the true class
    colors = [b.get_facecolor() for b in w.plot.bars]
    assert colors[2] != colors[0] and colors[0] == colors[1]
    # several controls at once: one redraw
    w.set(z1=-1.0, temperature=0.5)
    assert w.renders == 5
    assert repr(w) == "SoftmaxExplorer(logits=(-1, 3, 0.1), temperature=0.5, true_class=2)"


def test_explorer_with_four_logits_and_repr_is_stable():
    w = viz.softmax_explorer([1.0, 0.0, -1.0, 2.5], true_class=3, temperature=2.0)
    assert {"z1", "z2", "z3", "z4"} <= set(w.controls)
    assert repr(w) == "SoftmaxExplorer(logits=(1, 0, -1, 2.5), temperature=2, true_class=3)"
    bundle = w._repr_mimebundle_()
    assert bundle["text/plain"] == repr(w) and "image/png" in bundle


@pytest.mark.parametrize("kwargs, match", [
    (dict(logits=[1.0]), "2 to 10 numbers"),
    (dict(logits=[1.0, np.nan]), "finite"),
    (dict(logits=[1.0, 9.0]), "sliders run from"),
    (dict(true_class=3), r"true_class must be an integer in \[0, 2\]"),
    (dict(true_class=1.0), "true_class must be an integer"),
    (dict(temperature=0.0), "positive"),
    (dict(temperature=1e3), "temperature slider runs from"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, match):
    with pytest.raises(ValueError, match=match):
        viz.softmax_explorer(**kwargs)


def test_static_picture_and_no_figures_leak_after_many_updates():
    fig = viz.plot_softmax_temperature([2.0, 1.0, 0.1], 1, 0.5)
    from dlkit.viz.render import figure_to_png
    assert figure_to_png(fig).startswith(PNG_MAGIC)
    assert all(ax.get_xlabel() for ax in fig.axes)
    del fig
    w = viz.softmax_explorer()
    n = live_figures()
    for i in range(10):
        w.controls["temperature"].value = 0.2 + 0.3 * i
    w.controls["true_class"].value = 1
    assert live_figures() == n
