"""Gradient flow through time: how much of dL/dh_T reaches each earlier hidden state h_t, in a
SimpleRNN and in an LSTM holding the same kind of random weights (chapter 9).

    viz.gradient_flow_explorer()                              # widget: recurrent scale, forget bias
    viz.plot_gradient_flow(recurrent_scale=0.5)               # the same picture, static
    GradientFlow().norms(recurrent_scale=2.0, forget_bias=5)  # the numbers drawn

The loss is L = sum_n v_n . h_{T,n} for fixed random unit vectors v_n, so ||dL/dh_T|| = 1 and
||dL/dh_t|| says what fraction of the last step's gradient is left t steps earlier. The two
cells are a few lines of NumPy each (forward keeping every state, then backpropagation through
time, Werbos 1990), with Keras's initialisers (Glorot-uniform kernels, orthogonal recurrent
kernels) and weight layouts, so that tests can load the same weights into dlkit's layers and
compare. "recurrent scale" multiplies both recurrent kernels; "forget bias" is the LSTM's
forget-gate bias (Keras starts it at 1, ``unit_forget_bias=True``).

A control change recomputes both cells (about a millisecond for 16 sequences of 50 steps) and
replaces the line data of a figure whose axes are placed once.
"""
import numpy as np

from ..words import say
from .render import WidgetFigure, log_slider, new_figure

__all__ = ["simple_rnn_state_gradients", "lstm_state_gradients", "GradientFlow",
           "draw_gradient_flow", "plot_gradient_flow", "GradientFlowExplorer",
           "gradient_flow_explorer"]


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def simple_rnn_state_gradients(x, W, U, b, v):
    """dL/dh_t for t = 1..T of h_t = tanh(x_t W + h_{t-1} U + b), h_0 = 0, L = sum(v * h_T).

    x: (N, T, D), W: (D, u), U: (u, u), b: (u,), v: (N, u) -> (N, T, u).
    Backward, one step at a time: dh_{t-1} = (dh_t * (1 - h_t^2)) U^T.
    """
    n, steps, _ = x.shape
    h = np.zeros((n, steps + 1, U.shape[0]))
    for t in range(1, steps + 1):
        h[:, t] = np.tanh(x[:, t - 1] @ W + h[:, t - 1] @ U + b)
    dh = np.empty((n, steps, U.shape[0]))
    dh[:, -1] = v
    for t in range(steps - 1, 0, -1):
        dh[:, t - 1] = (dh[:, t] * (1 - h[:, t + 1] ** 2)) @ U.T
    return dh


def lstm_state_gradients(x, W, U, b, v):
    """dL/dh_t for t = 1..T of Keras's LSTM (gates i, f, c, o; W: (D, 4u), U: (u, 4u),
    b: (4u,)), h_0 = c_0 = 0, L = sum(v * h_T): x (N, T, D), v (N, u) -> (N, T, u).

    dL/dh_t is the partial derivative with the cell state c_t held fixed (what flows back along
    h); the gradient dL/dc_t travels separately, multiplied by f_{t+1} at each step back.
    """
    n, steps, _ = x.shape
    u = U.shape[0]
    h, c = np.zeros((n, u)), np.zeros((n, u))
    gates, cells = [], [c]
    for t in range(steps):
        a_i, a_f, a_c, a_o = np.split(x[:, t] @ W + h @ U + b, 4, axis=1)
        i, f, g, o = _sigmoid(a_i), _sigmoid(a_f), np.tanh(a_c), _sigmoid(a_o)
        c = f * c + i * g
        h = o * np.tanh(c)
        gates.append((i, f, g, o))
        cells.append(c)
    dh = np.empty((n, steps, u))
    dh[:, -1] = v
    dc = np.zeros((n, u))                        # dL/dc_T: L reads h_T only
    for t in range(steps - 1, 0, -1):            # step t + 1 (0-based index t) sends back to h_t
        i, f, g, o = gates[t]
        tc = np.tanh(cells[t + 1])
        dc = dc + dh[:, t] * o * (1 - tc ** 2)
        da = np.concatenate([dc * g * i * (1 - i), dc * cells[t] * f * (1 - f),
                             dc * i * (1 - g ** 2), dh[:, t] * tc * o * (1 - o)], axis=1)
        dh[:, t - 1] = da @ U.T
        dc = dc * f                              # the cell's additive path
    return dh


class GradientFlow:
    """A fixed random input sequence and fixed random weights for a SimpleRNN(u) and an LSTM(u).

    x: (samples, timesteps, features) standard normal; kernels Glorot-uniform, recurrent
    kernels orthogonal (Keras's defaults), biases zero except the LSTM's forget gate.
    ``weights(scale, forget_bias)`` gives both cells' Keras-layout weights, ``norms(...)`` the
    mean over samples of ||dL/dh_t|| for t = 1..T of each.
    """

    def __init__(self, timesteps=50, units=8, features=4, samples=16, seed=0):
        from ..initializers import get

        for name, value, low in (("timesteps", timesteps, 2), ("units", units, 1),
                                 ("features", features, 1), ("samples", samples, 1)):
            if not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        self.timesteps, self.units, self.features, self.samples = (
            int(timesteps), int(units), int(features), int(samples))
        self.seed = seed
        rng = np.random.default_rng(seed)
        u, d = self.units, self.features
        self.x = rng.standard_normal((samples, timesteps, d))
        glorot, orthogonal = get("glorot_uniform"), get("orthogonal")
        self._rnn = (glorot(rng, (d, u)), orthogonal(rng, (u, u)))
        self._lstm = (glorot(rng, (d, 4 * u)), orthogonal(rng, (u, 4 * u)))
        v = rng.standard_normal((samples, u))
        self.v = v / np.linalg.norm(v, axis=1, keepdims=True)     # ||dL/dh_T|| = 1 per sample

    def weights(self, recurrent_scale=1.0, forget_bias=1.0):
        """{"SimpleRNN": [W, U, b], "LSTM": [W, U, b]}, Keras's order and shapes."""
        if not np.isfinite(recurrent_scale) or recurrent_scale <= 0:
            raise ValueError(f"recurrent_scale must be a positive number, got {recurrent_scale!r}")
        if not np.isfinite(forget_bias):
            raise ValueError(f"forget_bias must be a finite number, got {forget_bias!r}")
        u = self.units
        b_lstm = np.zeros(4 * u)
        b_lstm[u:2 * u] = forget_bias                            # gate order i, f, c, o
        return {"SimpleRNN": [self._rnn[0], recurrent_scale * self._rnn[1], np.zeros(u)],
                "LSTM": [self._lstm[0], recurrent_scale * self._lstm[1], b_lstm]}

    def state_gradients(self, recurrent_scale=1.0, forget_bias=1.0):
        """{"SimpleRNN": (N, T, u), "LSTM": (N, T, u)}: dL/dh_t for every sample and step."""
        w = self.weights(recurrent_scale, forget_bias)
        return {"SimpleRNN": simple_rnn_state_gradients(self.x, *w["SimpleRNN"], self.v),
                "LSTM": lstm_state_gradients(self.x, *w["LSTM"], self.v)}

    def norms(self, recurrent_scale=1.0, forget_bias=1.0):
        """{"SimpleRNN": (T,), "LSTM": (T,)}: ||dL/dh_t||, averaged over the samples."""
        return {k: np.linalg.norm(g, axis=2).mean(axis=0)
                for k, g in self.state_gradients(recurrent_scale, forget_bias).items()}


_COLORS = {"SimpleRNN": "tab:red", "LSTM": "tab:blue"}
_TINY = 1e-30   # a gradient that underflows to 0 is drawn at the floor of the log axis


def draw_gradient_flow(flow, recurrent_scale=1.0, forget_bias=1.0, fig=None, artists=None):
    """Draw (or, given ``artists`` from the previous call, update) the two panels.

    Returns (fig, artists, norms). The first call places the axes and draws the reference
    curves (recurrent scale 1, forget bias 1); later calls only set line data and limits.
    """
    norms = flow.norms(recurrent_scale, forget_bias)
    t = np.arange(1, flow.timesteps + 1)
    if artists is None:
        fig = fig or new_figure((9.0, 3.4), 80, layout=None)
        fig.clear()
        axes = fig.subplots(1, 2, sharey=True)
        fig.subplots_adjust(left=0.08, right=0.99, bottom=0.15, top=0.8, wspace=0.06)
        reference = flow.norms(1.0, 1.0)
        artists = {"axes": axes, "reference": reference}
        for ax, name in zip(axes, ("SimpleRNN", "LSTM")):
            ax.plot(t, np.maximum(reference[name], _TINY), "--", color="0.6", lw=1,
                    label="recurrent scale 1, forget bias 1")
            artists[name], = ax.plot(t, norms[name], ".-", color=_COLORS[name], ms=3, lw=1.2)
            ax.set_yscale("log")
            ax.set_xlim(0, flow.timesteps + 1)
            ax.set_xlabel("time step t")
            ax.grid(True, which="major", alpha=0.3)
        axes[0].set_ylabel(r"$\|\partial L / \partial h_t\|$ (mean of %d)" % flow.samples)
        axes[0].set_title(f"SimpleRNN({flow.units}): " + r"$h_t = \tanh(x_t W + h_{t-1} U + b)$",
                          fontsize=9)
        axes[1].set_title(f"LSTM({flow.units}): " + r"$c_t = f_t \odot c_{t-1} + i_t \odot \tilde c_t$",
                          fontsize=9)
        artists["title"] = fig.suptitle("", fontsize=10)
    for name in ("SimpleRNN", "LSTM"):
        g = norms[name]
        ratio = g[0] / g[-1]
        artists[name].set_data(t, np.maximum(g, _TINY))
        artists[name].set_label(f"now: step 1 gets {ratio:.1e} of step {flow.timesteps}'s")
    shown = list(norms.values()) + list(artists["reference"].values())
    low = max(min(float(np.min(g)) for g in shown), _TINY)
    high = max(float(np.max(g)) for g in shown)
    artists["axes"][0].set_ylim(min(low, 1e-6) / 3, max(high, 10.0) * 3)
    for ax in artists["axes"]:
        ax.legend(loc="lower right", fontsize=7, framealpha=0.85)
    artists["title"].set_text(
        r"Gradient flowing back from $h_T$ ($\|\partial L/\partial h_T\| = 1$): "
        f"recurrent scale {recurrent_scale:.3g}, forget bias {forget_bias:g}")
    return fig, artists, norms


def plot_gradient_flow(recurrent_scale=1.0, forget_bias=1.0, **setup):
    """A static Figure: ||dL/dh_t|| against t for the SimpleRNN and the LSTM of
    ``GradientFlow(**setup)`` at these settings."""
    return draw_gradient_flow(GradientFlow(**setup), recurrent_scale, forget_bias)[0]


class GradientFlowExplorer(WidgetFigure):
    """Widget: ||dL/dh_t|| against t for a SimpleRNN and an LSTM, side by side (log axis).

    ``self.controls``: recurrent_scale (a log slider, 0.1 to 10, multiplies both recurrent
    kernels) and forget_bias (the LSTM's forget-gate bias). ``self.norms`` holds the curves
    drawn ({"SimpleRNN": (T,), "LSTM": (T,)}), ``self.flow`` the data and weights.
    """

    def __init__(self, recurrent_scale=1.0, forget_bias=1.0, timesteps=50, units=8, features=4,
                 samples=16, seed=0):
        import ipywidgets as w

        self.flow = GradientFlow(timesteps, units, features, samples, seed)
        self.flow.weights(recurrent_scale, forget_bias)             # checks the two numbers
        self._init_image()
        self.figure = new_figure((9.0, 3.4), 80, layout=None)
        self._artists = None
        self.controls = dict(
            recurrent_scale=log_slider("recurrent scale", recurrent_scale, -1, 1),
            forget_bias=w.FloatSlider(value=forget_bias, min=-4.0, max=8.0, step=0.5,
                                      description=say("forget bias (LSTM)"), continuous_update=False,
                                      style={"description_width": "initial"}),
        )
        for ctl in self.controls.values():
            ctl.observe(self._changed, names="value")
        self.widget = w.VBox([w.HBox(list(self.controls.values())), self.image])
        self.update()

    def update(self):
        c = self.controls
        self.figure, self._artists, self.norms = draw_gradient_flow(
            self.flow, c["recurrent_scale"].value, c["forget_bias"].value, self.figure,
            self._artists)
        self.refresh()

    def __repr__(self):
        c, f = self.controls, self.flow
        return (f"GradientFlowExplorer(recurrent_scale={c['recurrent_scale'].value:.3g}, "
                f"forget_bias={c['forget_bias'].value:g}, timesteps={f.timesteps}, "
                f"units={f.units})")


def gradient_flow_explorer(recurrent_scale=1.0, forget_bias=1.0, **kwargs):
    """Show a GradientFlowExplorer (see its docstring) and return it."""
    return GradientFlowExplorer(recurrent_scale, forget_bias, **kwargs)
