"""Static plots for the book (dlkit.viz.training): they draw what they claim, on headless Agg."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlkit import viz  # noqa: E402
from dlkit.viz import training  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _labelled(ax):
    return ax.get_title() and ax.get_xlabel()


def test_decision_boundary_probability_output_colours_by_threshold():
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [-0.5, 0.5], [0.5, -0.5]])
    y = np.array([0, 1, 0, 1])
    f = lambda g: 1 / (1 + np.exp(-10 * g[:, :1]))  # noqa: E731  P(class 1) rises with x1
    ax = viz.plot_decision_boundary(f, X, y, resolution=40, title="t")
    assert _labelled(ax)
    filled = ax.collections[0]
    # contourf levels straddle each class: both classes appear in the filled regions
    assert len(filled.get_paths()) >= 2
    # the 0.5 contour (the boundary) is the line x1 = 0
    line = ax.collections[1].get_paths()[0].vertices
    assert np.allclose(line[:, 0], 0, atol=0.05)
    # one scatter per class, with the class colours
    assert len([c for c in ax.collections if c.get_offsets().shape[0] == 2]) == 2


def test_decision_boundary_accepts_models_and_multiclass_scores():
    class Model:
        def predict(self, g):
            s = np.stack([-g[:, 0], g[:, 0], g[:, 1]], axis=1)
            return np.exp(s) / np.exp(s).sum(1, keepdims=True)

    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.arange(30) % 3
    ax = viz.plot_decision_boundary(Model(), X, y, resolution=30)
    assert _labelled(ax)
    assert len(ax.get_legend().get_texts()) == 3


def test_decision_boundary_rejects_non_2d_inputs():
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        viz.plot_decision_boundary(lambda g: g[:, :1], np.zeros((5, 3)), np.zeros(5, int))


def test_draw_graph_places_every_node_and_arrow():
    nodes = {"x": (0, 0, "x = 2"), "w": (0, 1, "w = 3"), "mul": (1, 0.5, "z = w x\n= 6")}
    edges = [("x", "mul", "∂z/∂x = w"), ("w", "mul")]
    ax = viz.draw_graph(nodes, edges, title="z = w x")
    texts = [t.get_text() for t in ax.texts]
    assert {"x = 2", "w = 3", "z = w x\n= 6", "∂z/∂x = w"} <= set(texts)
    arrows = [c for c in ax.get_children() if isinstance(c, matplotlib.text.Annotation)]
    assert len(arrows) == 2
    assert ax.get_title() == "z = w x"


def test_draw_graph_names_a_missing_node():
    with pytest.raises(ValueError, match="'y'"):
        viz.draw_graph({"x": (0, 0, "x")}, [("x", "y")])


def test_function_and_derivative_plots_the_right_curves():
    ax = viz.plot_function_and_derivative("sigmoid", np.linspace(-3, 3, 61))
    f, d = ax.get_lines()[:2]
    z = f.get_xdata()
    s = 1 / (1 + np.exp(-z))
    assert np.allclose(f.get_ydata(), s)
    assert np.allclose(d.get_ydata(), s * (1 - s))
    assert _labelled(ax)


def test_paths_on_contour_drops_diverged_rows_and_marks_minimum():
    path = np.array([[1.0, 1.0], [0.5, 0.5], [np.nan, np.nan]])
    ax = training.plot_paths_on_contour(lambda a, b: a ** 2 + b ** 2, {"gd": path},
                                        (-2, 2), (-2, 2), minimum=(0, 0))
    lines = ax.get_lines()
    assert lines[0].get_xydata().shape == (2, 2)
    assert lines[-1].get_label() == "minimum"
    assert _labelled(ax)
