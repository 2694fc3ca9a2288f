"""Softmax with a temperature, and the cross-entropy of one example (chapter 5).

    viz.softmax_explorer()                          # widget: logits z1..zK, T, true class
    viz.plot_softmax_temperature([2, 1, 0.1], 0)    # the same picture, static

The probabilities are ``p = softmax(z / T)`` (``dlkit.activations.softmax``) and the loss is the
cross-entropy of the true class c, ``-log p_c = LSE(z / T) - z_c / T``, computed by
``dlkit.losses.SparseCategoricalCrossentropy(from_logits=True)``: the very code that trains
the book's classifiers. Dividing the logits by T > 0 does not change their order, only how
sharp the distribution is: T -> 0 puts all the probability on the largest logit (the argmax),
T -> infinity spreads it evenly (1/K each, loss log K). Knowledge distillation (Hinton et al.,
2015; chapter 11) softens a teacher's outputs with T > 1; sampling text (chapter 9) uses T to
trade variety against likelihood.

The left panel shows the bars of p at the current T (the true class in red), the middle one
every p_k as a function of T, the right one the cross-entropy as a function of T; a vertical
line marks the current T. Moving T only moves those lines; moving a logit recomputes the
curves (a few hundred softmaxes, well under a millisecond).
"""
import numpy as np

from ..words import say
from .render import WidgetFigure, log_slider, new_figure

__all__ = ["softmax_with_temperature", "cross_entropy_with_temperature", "SoftmaxFigure",
           "plot_softmax_temperature", "SoftmaxExplorer", "softmax_explorer"]

T_RANGE = (-2.0, 2.0)           # log10 of the temperatures shown: 0.01 .. 100
_T_GRID = np.logspace(*T_RANGE, 161)
_T_TICKS = np.logspace(*T_RANGE, 5)
_LOGIT_RANGE = (-5.0, 5.0)


def _logits(z):
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 1 or not 2 <= z.size <= 10:
        raise ValueError(f"logits must be a 1-D list of 2 to 10 numbers, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"logits must be finite, got {z}")
    return z


def _temperatures(T):
    T = np.asarray(T, dtype=np.float64)
    if not np.all(T > 0) or not np.all(np.isfinite(T)):
        raise ValueError(f"the temperature must be a positive number, got {T}")
    return T


def _true_class(c, k):
    if isinstance(c, (bool, np.bool_)) or not isinstance(c, (int, np.integer)) or not 0 <= c < k:
        raise ValueError(f"true_class must be an integer in [0, {k - 1}], got {c!r}")
    return int(c)


def softmax_with_temperature(z, T=1.0):
    """p = softmax(z / T) by ``dlkit.activations.softmax``.

    z: (K,) logits; T: a positive number -> (K,), or an array of temperatures (M,) -> (M, K),
    one distribution per temperature.
    """
    from ..activations import softmax

    z, T = _logits(z), _temperatures(T)
    if T.ndim == 0:
        return softmax(z / T)
    return softmax(z[None, :] / T.reshape(-1, 1))


def cross_entropy_with_temperature(z, true_class, T=1.0):
    """-log softmax(z / T)[true_class], by ``dlkit.losses.SparseCategoricalCrossentropy(
    from_logits=True)`` (log-sum-exp: finite however small T is).

    z: (K,) logits; T: a number -> float, or temperatures (M,) -> (M,).
    """
    from ..losses import SparseCategoricalCrossentropy

    z, T = _logits(z), _temperatures(T)
    c = _true_class(true_class, z.size)
    loss = SparseCategoricalCrossentropy(from_logits=True)
    labels = np.array([c], dtype=np.int64)
    values = [loss.value_and_grad_logits(labels, (z / t)[None, :])[0] for t in T.reshape(-1)]
    return float(values[0]) if T.ndim == 0 else np.array(values)


class SoftmaxFigure:
    """The three panels (bars of p at T; p_k against T; cross-entropy against T), drawn once and
    then moved: ``draw_curves(z, c)`` when a logit or the class changes, ``draw_T(T)`` when
    only the temperature does."""

    def __init__(self, k, figsize=(10.5, 3.4), dpi=80):
        import matplotlib as mpl
        from matplotlib.ticker import NullLocator

        self.k = k
        self.figure = fig = new_figure(figsize, dpi, layout=None)
        self.ax_bar = fig.add_axes([0.055, 0.2, 0.25, 0.64])
        self.ax_p = fig.add_axes([0.385, 0.2, 0.25, 0.64])
        self.ax_ce = fig.add_axes([0.72, 0.2, 0.25, 0.64])
        colors = mpl.colormaps["tab10"].colors
        self.colors = [colors[i % 10] for i in range(k)]
        names = [f"class {i}" for i in range(k)]

        ax = self.ax_bar
        self.bars = ax.bar(range(k), np.zeros(k), color="0.7", edgecolor="k", lw=0.6)
        self.bar_text = [ax.text(i, 0, "", ha="center", va="bottom", fontsize=8) for i in range(k)]
        ax.axhline(1 / k, color="0.4", lw=0.8, ls=":")
        ax.set(xticks=range(k), xticklabels=names, ylim=(0, 1.12), ylabel="probability p_k",
               xlabel="class")

        ax = self.ax_p
        self.p_lines = [ax.plot([], [], color=self.colors[i], lw=1.4, label=names[i])[0]
                        for i in range(k)]
        self.p_marks = [ax.plot([], [], "o", color=self.colors[i], ms=4)[0] for i in range(k)]
        ax.axhline(1 / k, color="0.4", lw=0.8, ls=":", label="1/K (uniform)")
        self.T_line_p = ax.axvline(1.0, color="k", lw=1, ls="--")
        ax.set(xscale="log", xlim=(_T_GRID[0], _T_GRID[-1]), ylim=(-0.03, 1.03),
               xlabel="temperature T (log scale)", ylabel="p_k = softmax(z / T)_k",
               title="Each probability as T varies")
        ax.legend(fontsize=7, loc="upper right", framealpha=0.8)

        ax = self.ax_ce
        self.ce_line, = ax.plot([], [], color="tab:red", lw=1.6, label="−log p_c(T)")
        self.ce_mark, = ax.plot([], [], "o", color="tab:red", ms=5)
        self.logk_line = ax.axhline(np.log(k), color="0.4", lw=0.8, ls=":",
                                    label=f"log K = {np.log(k):.3f} (T → ∞)")
        self.T_line_ce = ax.axvline(1.0, color="k", lw=1, ls="--", label="current T")
        ax.set(xscale="log", xlim=(_T_GRID[0], _T_GRID[-1]), xlabel="temperature T (log scale)",
               ylabel="cross-entropy (nats)", title="Cross-entropy of the true class")
        ax.legend(fontsize=7, loc="upper right", framealpha=0.8)
        for ax in (self.ax_p, self.ax_ce):
            # five labelled decades and no minor ticks: a log axis's many tick labels were
            # most of each redraw's time
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticks(_T_TICKS, labels=[f"{t:g}" for t in _T_TICKS])
        self.z = self.c = None

    def draw_curves(self, z, c):
        self.z, self.c = _logits(z), int(c)
        self.P = softmax_with_temperature(self.z, _T_GRID)               # (M, K)
        self.CE = cross_entropy_with_temperature(self.z, self.c, _T_GRID)  # (M,)
        for i, line in enumerate(self.p_lines):
            line.set_data(_T_GRID, self.P[:, i])
            line.set_lw(2.6 if i == c else 1.2)
        self.ce_line.set_data(_T_GRID, self.CE)
        top = max(np.log(self.k) * 1.6, min(float(self.CE.max()), 12.0) * 1.05)
        self.ax_ce.set_ylim(0, top)
        for i, bar in enumerate(self.bars):
            bar.set_facecolor("tab:red" if i == c else "0.75")
        # the true class is named under its bar too: a red bar of height 0.002 is not seen
        self.ax_bar.set_xticks(range(self.k), labels=[f"class {i}" + ("\n(true)" if i == c else "")
                                                      for i in range(self.k)])

    def draw_T(self, T):
        z, c = self.z, self.c
        p = softmax_with_temperature(z, T)
        ce = cross_entropy_with_temperature(z, c, T)
        for i, (bar, text) in enumerate(zip(self.bars, self.bar_text)):
            bar.set_height(p[i])
            text.set_position((i, p[i] + 0.01))
            text.set_text(f"{p[i]:.3f}")
        for i, mark in enumerate(self.p_marks):
            mark.set_data([T], [p[i]])
        self.T_line_p.set_xdata([T, T])
        self.T_line_ce.set_xdata([T, T])
        top = self.ax_ce.get_ylim()[1]
        self.ce_mark.set_data([T], [min(ce, top * 0.98)])
        zs = ", ".join(f"{v:g}" for v in z)
        self.ax_bar.set_title(f"softmax(z / T), z = ({zs}), T = {T:.3g}\n"
                              f"cross-entropy −log p_{c} = {ce:.4f}", fontsize=9)
        self.p, self.ce = p, ce
        return self.figure


def plot_softmax_temperature(logits=(2.0, 1.0, 0.1), true_class=0, temperature=1.0):
    """A static Figure: softmax(z / T) as bars, every p_k and the cross-entropy -log p_c against
    T, for logits ``z``, the true class c and the temperature T."""
    z = _logits(logits)
    c = _true_class(true_class, z.size)
    T = float(_temperatures(temperature))
    plot = SoftmaxFigure(z.size)
    plot.draw_curves(z, c)
    return plot.draw_T(T)


class SoftmaxExplorer(WidgetFigure):
    """Widget: move the logits, the temperature and the true class; see softmax(z / T) and
    the cross-entropy -log p_c.

    ``self.controls``: z1 .. zK (logits), temperature (log slider, 0.01 to 100), true_class.
    ``self.p`` and ``self.cross_entropy`` are the values drawn, computed by
    ``dlkit.activations.softmax`` and ``dlkit.losses``.
    """

    def __init__(self, logits=(2.0, 1.0, 0.1), true_class=0, temperature=1.0):
        import ipywidgets as w

        z = _logits(logits)
        if np.any(z < _LOGIT_RANGE[0]) or np.any(z > _LOGIT_RANGE[1]):
            raise ValueError(f"the logits' sliders run from {_LOGIT_RANGE[0]} to "
                             f"{_LOGIT_RANGE[1]}, got {z}")
        k = z.size
        c = _true_class(true_class, k)
        T = float(_temperatures(temperature))
        if not 10 ** T_RANGE[0] <= T <= 10 ** T_RANGE[1]:
            raise ValueError(f"the temperature slider runs from {10 ** T_RANGE[0]:g} to "
                             f"{10 ** T_RANGE[1]:g}, got {T}")
        self._init_image()
        self.plot = SoftmaxFigure(k)
        self.figure = self.plot.figure
        style = {"description_width": "initial"}
        c_ = self.controls = {
            f"z{i + 1}": w.FloatSlider(value=float(z[i]), min=_LOGIT_RANGE[0],
                                       max=_LOGIT_RANGE[1], step=0.1,
                                       description=say("logit z{i} (class {c})", i=i + 1, c=i),
                                       continuous_update=False, style=style)
            for i in range(k)}
        c_["temperature"] = log_slider("temperature T", T, *T_RANGE)
        c_["true_class"] = w.Dropdown(options=[(say("class {i}", i=i), i) for i in range(k)], value=c,
                                      description=say("true class"), style=style)
        for name, ctl in c_.items():
            ctl.observe(self._T_changed if name == "temperature" else self._changed,
                        names="value")
        logit_rows = [w.HBox([c_[f"z{i + 1}"] for i in range(j, min(j + 3, k))])
                      for j in range(0, k, 3)]
        self.widget = w.VBox(logit_rows + [w.HBox([c_["temperature"], c_["true_class"]]),
                                           self.image])
        self.update()

    @property
    def logits(self):
        return np.array([self.controls[f"z{i + 1}"].value for i in range(self.plot.k)])

    @property
    def temperature(self):
        return float(self.controls["temperature"].value)

    @property
    def true_class(self):
        return int(self.controls["true_class"].value)

    def update(self):
        """Recompute the curves (logits or class changed), then the current-T marks."""
        self.plot.draw_curves(self.logits, self.true_class)
        self._draw_T()

    def _T_changed(self, change=None):
        """Only the temperature moved: the curves stay, the marks and bars move."""
        self._changed(change, redraw=self._draw_T)

    def _draw_T(self):
        self.plot.draw_T(self.temperature)
        self.p, self.cross_entropy = self.plot.p, self.plot.ce
        self.refresh()

    def __repr__(self):
        zs = ", ".join(f"{v:g}" for v in self.logits)
        return (f"SoftmaxExplorer(logits=({zs}), temperature={self.temperature:.3g}, "
                f"true_class={self.true_class})")


def softmax_explorer(logits=(2.0, 1.0, 0.1), true_class=0, temperature=1.0):
    """Show a SoftmaxExplorer (see its docstring): sliders for 2 to 10 logits (three by
    default), a temperature slider and the true class. Returns it, so ``w = softmax_explorer()``
    gives ``w.controls``, ``w.p``, ``w.cross_entropy`` and ``w.figure``."""
    return SoftmaxExplorer(logits, true_class, temperature)
