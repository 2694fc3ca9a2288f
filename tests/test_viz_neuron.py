"""The neuron schematics of chapter 2 (dlkit.viz.neuron): a static figure, drawn the same way
every time, that names the parts it compares."""
import pytest

pytest.importorskip("matplotlib")

from dlkit.viz.neuron import plot_neuron_analogy  # noqa: E402
from widget_helpers import PNG_MAGIC  # noqa: E402


def test_two_panels_that_name_the_matching_parts():
    from matplotlib.figure import Figure

    fig = plot_neuron_analogy()
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    bio, art = ("\n".join(t.get_text() for t in ax.texts) for ax in fig.axes)
    for part in ("dendrites", "synapses", "soma", "axon"):
        assert part in bio
    for symbol in ("$x_1$", "$w_3$", "$y$", "$y = f(z)$"):
        assert symbol in art
    assert [ax.get_title() for ax in fig.axes] == ["a biological neuron (cartoon)",
                                                   "an artificial neuron (section 2.1)"]


def test_static_png_is_deterministic_and_no_pyplot_figure_is_left():
    import matplotlib.pyplot as plt

    a, b = plot_neuron_analogy(), plot_neuron_analogy()
    assert a._repr_png_().startswith(PNG_MAGIC)
    assert a._repr_png_() == b._repr_png_()
    assert repr(a) == "<Figure size 800x288 with 2 Axes>"
    assert plt.get_fignums() == []
