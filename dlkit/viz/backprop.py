"""The computational graph of chapter 4 with live numbers: forward values and gradients.

    viz.backprop_explorer()                 # widget: sliders x, w, b, y and the activation
    viz.plot_backprop_graph(x=1.5, w=0.8)   # the same picture, static

The graph is the one of section 4.1, one neuron and the squared error,

    z = w x + b,    p = f(z),    L = (p - y)^2,

with f = sigmoid by default (tanh and relu to compare). ``graph_values`` runs the forward pass
left to right and the backward pass right to left, each gradient being the gradient from the
right times the node's local derivative (the chain rule):

    dL/dp = 2 (p - y),  dL/dz = dL/dp * f'(z),
    dL/dw = dL/dz * x,  dL/db = dL/dz,  dL/dx = dL/dz * w.

f and f' come from ``dlkit.activations`` (``apply`` and ``derivative``). The widget draws the
graph with ``dlkit.viz.draw_graph`` once and afterwards only rewrites the boxes' texts; beside
it, L as a function of w with the tangent of slope dL/dw at the current w, which shows what
the number in w's box means.
"""
import numpy as np

from ..words import say
from .render import WidgetFigure, new_figure

__all__ = ["ACTIVATIONS", "graph_values", "BackpropFigure", "plot_backprop_graph",
           "BackpropExplorer", "backprop_explorer"]

ACTIVATIONS = ("sigmoid", "tanh", "relu")
_SYMBOL = dict(sigmoid="σ", tanh="tanh", relu="relu")
_SLOPE = dict(sigmoid="p(1−p)", tanh="1−p²", relu="1[z>0]")
_RANGES = dict(x=(-3.0, 3.0), w=(-3.0, 3.0), b=(-3.0, 3.0), y=(-1.0, 2.0))
_W_GRID = np.linspace(*_RANGES["w"], 121)


def graph_values(x, w, b, y, activation="sigmoid"):
    """Forward values and gradients of L = (f(w x + b) - y)^2, as a dict of floats.

    Keys: x, w, b, y, z, p, L (forward) and dL_dp, dp_dz, dL_dz, dL_dw, dL_db, dL_dx
    (backward; dp_dz is the local derivative f'(z)). Works elementwise on arrays too.
    """
    from .. import activations

    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")
    # forward, left to right
    z = w * x + b
    p = activations.apply(activation, z)
    L = (p - y) ** 2
    # backward, right to left: (gradient from the right) x (local derivative)
    dL_dp = 2 * (p - y)
    dp_dz = activations.derivative(activation, z)
    dL_dz = dL_dp * dp_dz
    out = dict(x=x, w=w, b=b, y=y, z=z, p=p, L=L, dL_dp=dL_dp, dp_dz=dp_dz, dL_dz=dL_dz,
               dL_dw=dL_dz * x, dL_db=dL_dz * 1.0, dL_dx=dL_dz * w)
    return {k: (float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64))
            for k, v in out.items()}


# where the boxes sit (draw_graph's coordinates) and the arrows between them
_POSITIONS = dict(x=(0, 1.05), w=(0, -0.05), b=(1.3, -1.0), z=(2.8, 0.5), p=(5.3, 0.5),
                  L=(7.8, 0.5), y=(5.3, -1.0))
_EDGES = [("x", "z"), ("w", "z"), ("b", "z"), ("z", "p"), ("p", "L"), ("y", "L")]


def _f(a, digits=4):
    """a to ``digits`` decimals, without the "-0.0000" of a tiny negative number."""
    a = 0.0 if abs(a) < 0.5 * 10.0 ** -digits else a
    return f"{a:.{digits}f}"


def _node_texts(v, activation):
    f = _SYMBOL[activation]
    return dict(
        x=f"x = {_f(v['x'], 2)}\n∂L/∂x = {_f(v['dL_dx'])}",
        w=f"w = {_f(v['w'], 2)}\n∂L/∂w = {_f(v['dL_dw'])}",
        b=f"b = {_f(v['b'], 2)}\n∂L/∂b = {_f(v['dL_db'])}",
        z=f"z = w x + b\n= {_f(v['z'])}\n∂L/∂z = {_f(v['dL_dz'])}",
        p=f"p = {f}(z)\n= {_f(v['p'])}\n∂L/∂p = {_f(v['dL_dp'])}",
        L=f"L = (p − y)²\n= {_f(v['L'])}\n∂L/∂L = 1",
        y=f"target y = {_f(v['y'], 2)}",
    )


def _edge_texts(v, activation):
    return ["∂z/∂x = w", f"∂z/∂w = x = {_f(v['x'], 2)}", "∂z/∂b = 1",
            f"∂p/∂z = {_SLOPE[activation]}\n= {_f(v['dp_dz'])}", "∂L/∂p = 2(p − y)", ""]


class BackpropFigure:
    """The graph (left) and L(w) with its tangent at the current w (right); ``draw(values,
    activation)`` rewrites the texts and moves the lines, nothing is re-created."""

    def __init__(self, figsize=(11.0, 3.9), dpi=80):
        from matplotlib.text import Annotation

        from .training import draw_graph

        self.figure = fig = new_figure(figsize, dpi, layout=None)
        self.ax_graph = fig.add_axes([0.01, 0.1, 0.66, 0.78])
        self.ax_w = fig.add_axes([0.74, 0.16, 0.24, 0.7])
        v = graph_values(1.0, 1.0, 0.0, 1.0)
        texts = _node_texts(v, "sigmoid")
        nodes = {k: (*_POSITIONS[k], texts[k]) for k in _POSITIONS}
        edges = [(a, c, t) for (a, c), t in zip(_EDGES, _edge_texts(v, "sigmoid"))]
        draw_graph(nodes, edges, ax=self.ax_graph, title="")
        # draw_graph adds one text per node (in the order of ``nodes``), then per edge an arrow
        # (an Annotation, also a Text) and, if the edge is labelled, the label
        texts = self.ax_graph.texts
        self.node_text = dict(zip(_POSITIONS, texts[:len(_POSITIONS)]))
        self.edge_text = [t for t in texts[len(_POSITIONS):] if not isinstance(t, Annotation)]
        for name in ("w", "x", "b"):
            self.node_text[name].get_bbox_patch().set_facecolor("#fdf1dc")
        self.ax_graph.set_ylim(-1.55, 1.65)

        ax = self.ax_w
        self.curve, = ax.plot([], [], color="tab:blue", lw=1.6, label="L as a function of w")
        self.tangent, = ax.plot([], [], color="tab:red", lw=1.2, ls="--",
                                label="tangent, slope ∂L/∂w")
        self.point, = ax.plot([], [], "o", color="tab:red", ms=5)
        ax.set(xlim=_RANGES["w"], xlabel="weight w (x, b, y fixed)", ylabel="loss L")
        ax.legend(fontsize=7, loc="upper left", framealpha=0.8)

    def draw(self, values, activation):
        v = values
        for name, text in _node_texts(v, activation).items():
            self.node_text[name].set_text(text)
        for artist, text in zip(self.edge_text, [t for t in _edge_texts(v, activation) if t]):
            artist.set_text(text)
        self.ax_graph.set_title(
            f"chain rule: ∂L/∂w = ∂L/∂p · ∂p/∂z · ∂z/∂w = {_f(v['dL_dp'])} × {_f(v['dp_dz'])}"
            f" × {_f(v['x'], 2)} = {_f(v['dL_dw'])}", fontsize=10)
        L_w = graph_values(v["x"], _W_GRID, v["b"], v["y"], activation)["L"]
        self.curve.set_data(_W_GRID, L_w)
        half = 0.6
        ws = np.array([v["w"] - half, v["w"] + half])
        self.tangent.set_data(ws, v["L"] + v["dL_dw"] * (ws - v["w"]))
        self.point.set_data([v["w"]], [v["L"]])
        top = float(L_w.max())
        self.ax_w.set_ylim(-0.05 * top - 0.01, 1.1 * top + 0.01)
        self.ax_w.set_title(f"L(w) = {_f(v['L'])} at w = {_f(v['w'], 2)}", fontsize=9)
        return self.figure


def _check_args(x, w, b, y, activation):
    for name, value in dict(x=x, w=w, b=b, y=y).items():
        lo, hi = _RANGES[name]
        if not isinstance(value, (int, float, np.integer, np.floating)) or not lo <= value <= hi:
            raise ValueError(f"{name} must be a number in [{lo}, {hi}] (its slider's range), "
                             f"got {value!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")


def plot_backprop_graph(x=1.5, w=0.8, b=-0.5, y=1.0, activation="sigmoid"):
    """A static Figure: the graph of section 4.1 with every forward value and gradient."""
    _check_args(x, w, b, y, activation)
    return BackpropFigure().draw(graph_values(x, w, b, y, activation), activation)


class BackpropExplorer(WidgetFigure):
    """Widget: move x, w, b, the target y or the activation; every node of the graph shows its
    forward value and its gradient ∂L/∂(node), recomputed by the chain rule.

    ``self.controls``: x, w, b, y, activation. ``self.values`` is ``graph_values(...)`` of the
    numbers drawn.
    """

    def __init__(self, x=1.5, w=0.8, b=-0.5, y=1.0, activation="sigmoid"):
        import ipywidgets as wd

        _check_args(x, w, b, y, activation)
        self._init_image()
        self.plot = BackpropFigure()
        self.figure = self.plot.figure
        style = {"description_width": "initial"}
        labels = dict(x="input x", w="weight w", b="bias b", y="target y")
        c = self.controls = {
            name: wd.FloatSlider(value=float(value), min=_RANGES[name][0], max=_RANGES[name][1],
                                 step=0.05, description=say(labels[name]), continuous_update=False,
                                 style=style)
            for name, value in dict(x=x, w=w, b=b, y=y).items()}
        c["activation"] = wd.Dropdown(options=list(ACTIVATIONS), value=activation,
                                      description=say("activation f"), style=style)
        for ctl in c.values():
            ctl.observe(self._changed, names="value")
        self.widget = wd.VBox([wd.HBox([c["x"], c["w"], c["b"]]),
                               wd.HBox([c["y"], c["activation"]]), self.image])
        self.update()

    def update(self):
        c = self.controls
        act = c["activation"].value
        self.values = graph_values(c["x"].value, c["w"].value, c["b"].value, c["y"].value, act)
        self.plot.draw(self.values, act)
        self.refresh()

    def __repr__(self):
        c = self.controls
        return (f"BackpropExplorer(x={c['x'].value:g}, w={c['w'].value:g}, b={c['b'].value:g}, "
                f"y={c['y'].value:g}, activation={c['activation'].value!r})")


def backprop_explorer(x=1.5, w=0.8, b=-0.5, y=1.0, activation="sigmoid"):
    """Show a BackpropExplorer (see its docstring); returns it, so ``g = backprop_explorer()``
    gives ``g.controls``, ``g.values`` and ``g.figure``."""
    return BackpropExplorer(x, w, b, y, activation)
