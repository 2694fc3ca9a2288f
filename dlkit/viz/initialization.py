"""Weight initialisation: how the spread of the activations changes from layer to layer.

    viz.init_explorer()                                     # widget (chapter 3)
    viz.plot_activation_stds(activation="tanh")             # a static Figure, one line per scheme
    viz.activation_stds("he", "relu", layers=10)            # the numbers: std per layer

The experiment of Glorot & Bengio (2010, their figure 6) and He et al. (2015): ``n`` samples
of standard-normal inputs go through ``layers`` Dense layers of ``width`` units each (biases
0, as Keras initialises them), and we record the standard deviation of every layer's
activations. The weights are drawn by the very functions dlkit's Dense layers use
(``dlkit.initializers``: "glorot_uniform", Keras's default, and "he_normal"), or from N(0, 1)
for the naive scheme, and then multiplied by ``scale``. Each layer's weights come from their
own generator, seeded by (seed, scheme, layer), so the first k layers are the same whatever
the number of layers, and a widget can keep them between changes.

Why the spread changes: for z = x w with n_in independent inputs of variance Var(x) and
zero-mean weights of variance Var(w), Var(z) = n_in Var(w) Var(x). Glorot keeps it near 1
for tanh with Var(w) = 2 / (n_in + n_out); He keeps it for ReLU (which zeroes half of z)
with Var(w) = 2 / n_in.
"""
import numpy as np

from ..words import say
from .render import WidgetFigure, new_figure

__all__ = ["INIT_SCHEMES", "INIT_ACTIVATIONS", "init_weights", "forward_activations",
           "activation_stds", "plot_activation_stds", "InitExplorer", "init_explorer"]

# scheme -> (label, dlkit.initializers name or None for N(0, 1))
INIT_SCHEMES = {"naive": ("naive normal N(0, 1)", None),
                "glorot": ("Glorot uniform", "glorot_uniform"),
                "he": ("He normal", "he_normal")}
INIT_ACTIVATIONS = {"tanh": np.tanh,
                    "relu": lambda z: np.maximum(z, 0.0),
                    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z))}
_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}   # fixed histogram ranges (relu: data)
MAX_LAYERS = 20


def _check(scheme=None, activation=None, scale=1.0, layers=1, width=2, n=2):
    if scheme is not None and scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown initialiser {scheme!r}; choose one of {tuple(INIT_SCHEMES)}")
    if activation is not None and activation not in INIT_ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; "
                         f"choose one of {tuple(INIT_ACTIVATIONS)}")
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    for name, v, lo in (("layers", layers, 1), ("width", width, 1), ("n", n, 2)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")


def init_weights(scheme, layer, width=256, seed=0):
    """The unscaled kernel (width, width) of layer ``layer`` (1, 2, ...) under ``scheme``."""
    from .. import initializers

    _check(scheme, width=width)
    rng = np.random.default_rng((seed, list(INIT_SCHEMES).index(scheme), layer))
    name = INIT_SCHEMES[scheme][1]
    if name is None:
        return rng.standard_normal((width, width))
    return initializers.get(name)(rng, (width, width))


def _inputs(n, width, seed):
    return np.random.default_rng((seed, 99)).standard_normal((n, width))


def forward_activations(scheme, activation, scale=1.0, layers=10, width=256, n=500, seed=0,
                        weights=None):
    """[A_0 = X, A_1, ..., A_layers]: A_l = f(A_{l-1} (scale * W_l)), each (n, width), float64.

    weights: optional list of unscaled kernels to use instead of drawing them (a cache).
    """
    _check(scheme, activation, scale, layers, width, n)
    f = INIT_ACTIVATIONS[activation]
    A = [_inputs(n, width, seed)]
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(1, layers + 1):
            W = weights[layer - 1] if weights is not None else init_weights(scheme, layer, width,
                                                                             seed)
            A.append(f(A[-1] @ (scale * W)))
    return A


def activation_stds(scheme, activation, scale=1.0, layers=10, width=256, n=500, seed=0):
    """The standard deviation of every layer's activations: (layers + 1,), index 0 = the input."""
    return np.array([a.std() for a in forward_activations(scheme, activation, scale, layers,
                                                          width, n, seed)])


def _draw_stds(ax):
    from matplotlib.ticker import FuncFormatter, NullLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("layer (0 = input)")
    ax.set_ylabel("std of the activations")
    ax.grid(True, which="major", alpha=0.3)
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")


def _log_ticks(ax, stds):
    """y limits around the finite, positive ``stds`` (always showing 0.3 to 3), and about six
    labelled ticks: 1 and 3 per decade, or every k-th decade."""
    ok = stds[np.isfinite(stds) & (stds > 0)]
    lo = max(min(ok.min() / 2, 0.3), 1e-30) if ok.size else 0.3
    hi = min(max(ok.max() * 2, 3.0), 1e30) if ok.size else 3.0
    a, b = int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi)))
    if b - a <= 3:
        ticks = [m * 10.0 ** e for e in range(a, b + 1) for m in (1, 3)]
    else:
        stride = -(-(b - a) // 6)
        ticks = [10.0 ** e for e in range(a - a % stride, b + 1, stride)]
    ax.set_yticks([t for t in ticks if lo <= t <= hi])
    ax.set_ylim(lo, hi)


def plot_activation_stds(schemes=("naive", "glorot", "he"), activation="tanh", scale=1.0,
                         layers=10, width=256, n=500, seed=0, ax=None):
    """A static Figure: std of the activations against the layer, one line per scheme."""
    for s in schemes:
        _check(s, activation, scale, layers, width, n)
    if ax is None:
        fig = new_figure((5.0, 3.4))
        ax = fig.add_subplot()
    _draw_stds(ax)
    every = []
    for s in schemes:
        stds = activation_stds(s, activation, scale, layers, width, n, seed)
        ax.plot(np.arange(layers + 1), stds, "o-", ms=3, label=INIT_SCHEMES[s][0])
        every.append(stds)
    _log_ticks(ax, np.concatenate(every))
    ax.set_title(f"{activation}, {width} units per layer")
    ax.legend(fontsize=8)
    return ax.figure


class InitExplorer(WidgetFigure):
    """Widget: activation statistics through a stack of Dense layers, for one initialiser.

    Controls (``self.controls``): initializer ("naive", "glorot", "he"), activation ("tanh",
    "relu", "sigmoid"), scale (a log slider that multiplies the weights, and so their std),
    layers (1 to 20). The left panel shows the std of every layer's activations
    (``self.stds``), the right ones the histograms of four layers (``self.hist_layers``), with
    the share of saturated units (tanh, sigmoid: within 0.01 of an asymptote) or of zeros (relu).
    """

    def __init__(self, initializer="glorot", activation="tanh", scale=1.0, layers=10, width=256,
                 n=500, seed=0):
        import ipywidgets as w

        from .render import log_slider

        _check(initializer, activation, scale, layers, width, n)
        if layers > MAX_LAYERS:
            raise ValueError(f"layers must be at most {MAX_LAYERS}, got {layers}")
        if not 1e-3 <= scale <= 1e1:
            raise ValueError(f"scale must lie in [0.001, 10], got {scale!r}")
        self.width, self.n, self.seed = int(width), int(n), seed
        self._weights = {}                       # scheme -> [W_1, W_2, ...], drawn once
        self._init_image()
        self._build_figure()
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        c = self.controls = dict(
            initializer=w.Dropdown(options=[(say(INIT_SCHEMES[k][0]), k) for k in INIT_SCHEMES],
                                   value=initializer, description=say("initialiser")),
            activation=w.Dropdown(options=list(INIT_ACTIVATIONS), value=activation,
                                  description=say("activation")),
            scale=log_slider("weight scale", scale, -3, 1),
            layers=w.IntSlider(value=layers, min=1, max=MAX_LAYERS, description=say("layers"),
                               **slider),
        )
        for ctl in c.values():
            ctl.observe(self._changed, names="value")
        self.widget = w.VBox([w.HBox([c["initializer"], c["activation"]]),
                              w.HBox([c["scale"], c["layers"]]), self.image])
        self.update()

    def _build_figure(self):
        fig = self.figure = new_figure((9.0, 3.6), layout=None)
        self.ax_std = fig.add_axes([0.09, 0.14, 0.35, 0.74])
        _draw_stds(self.ax_std)
        self.std_line, = self.ax_std.plot([], [], "o-", ms=3, color="tab:blue")
        self.ax_hist, self.bars = [], []
        for i in range(4):
            ax = fig.add_axes([0.53 + 0.245 * (i % 2), 0.58 - 0.46 * (i // 2), 0.2, 0.27])
            ax.tick_params(labelsize=7)
            ax.set_yticks([])
            self.ax_hist.append(ax)
            self.bars.append(ax.stairs(np.zeros(1), [0.0, 1.0], fill=True, color="tab:orange"))
        fig.text(0.74, 0.95, "histograms of the activations", ha="center", fontsize=10)

    def weights(self, scheme, layers):
        """The first ``layers`` unscaled kernels of ``scheme`` (drawn once, then kept)."""
        ws = self._weights.setdefault(scheme, [])
        while len(ws) < layers:
            ws.append(init_weights(scheme, len(ws) + 1, self.width, self.seed))
        return ws[:layers]

    @property
    def params(self):
        return {k: ctl.value for k, ctl in self.controls.items()}

    def update(self):
        p = self.params
        L, act = p["layers"], p["activation"]
        A = forward_activations(p["initializer"], act, p["scale"], L, self.width, self.n,
                                self.seed, weights=self.weights(p["initializer"], L))
        with np.errstate(over="ignore", invalid="ignore"):
            self.stds = np.array([a.std() for a in A])
        shown = np.where(np.isfinite(self.stds), self.stds, np.nan)
        self.std_line.set_data(np.arange(L + 1), shown)
        _log_ticks(self.ax_std, self.stds)
        self.ax_std.set_xlim(-0.3, L + 0.3)
        self.ax_std.set_xticks(range(0, L + 1, 1 if L <= 10 else 2))
        self.ax_std.set_title(f"{INIT_SCHEMES[p['initializer']][0]}, {act}, "
                              f"scale {p['scale']:.2g}: std at layer {L} = {self.stds[-1]:.2g}",
                              fontsize=9)
        self.hist_layers = sorted({max(1, round(L * k / 4)) for k in (1, 2, 3, 4)})
        for i, (ax, bars) in enumerate(zip(self.ax_hist, self.bars)):
            ax.set_visible(i < len(self.hist_layers))
            if i >= len(self.hist_layers):
                continue
            k = self.hist_layers[i]
            a = A[k][np.isfinite(A[k])]
            title = f"layer {k}: std {self.stds[k]:.2g}"
            if act == "relu":        # half the values are exactly 0: histogram the others
                title += f", {np.mean(A[k] == 0):.0%} zero"
                a = a[a > 0]
            else:                    # saturated: within 0.01 of an asymptote, where f' ~ 0
                lo_f, hi_f = _RANGES[act]
                title += f", {np.mean((A[k] < lo_f + 0.01) | (A[k] > hi_f - 0.01)):.0%} saturated"
            lo, hi = _RANGES.get(act) or (0.0, float(np.percentile(a, 99.5)) if a.size else 1.0)
            hi = hi if hi > lo else lo + 1.0
            counts, edges = np.histogram(a, bins=40, range=(lo, hi))
            bars.set_data(counts / max(a.size, 1), edges)
            ax.set_xlim(lo, hi)
            ax.set_ylim(0, max(counts.max() / max(a.size, 1), 1e-3) * 1.05)
            ax.set_title(title, fontsize=8)
        self.refresh()

    def __repr__(self):
        p = self.params
        return (f"InitExplorer(initializer={p['initializer']!r}, activation={p['activation']!r}, "
                f"scale={p['scale']:.3g}, layers={p['layers']}, width={self.width})")


def init_explorer(initializer="glorot", activation="tanh", scale=1.0, layers=10, **kwargs):
    """Show an InitExplorer (see its docstring); returns it (``w.controls``, ``w.stds``)."""
    return InitExplorer(initializer, activation, scale, layers, **kwargs)
