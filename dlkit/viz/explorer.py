"""The optimizer explorer: one optimizer's path over a loss surface, and its loss per step.

    viz.optimizer_explorer()                       # widget: surface, optimizer, lr, β, ε, steps, start
    viz.plot_optimizer_paths("rosenbrock", ["sgd", "adam"], steps=200)   # a static Figure

Every path comes from ``Surface.path`` -> ``dlkit.optimizers.optimize_path`` -> the optimizer's
``apply``: the very update code that trains the book's networks (one implementation of each
rule). Moving a control recomputes the path (about a millisecond for 200 steps) and redraws
only the path and the loss curve into the same picture; the contours are drawn once per
surface.
"""
import numpy as np

from ..words import say
from .render import WidgetFigure, log_slider, new_figure
from .surfaces import SURFACES, get_surface

__all__ = ["OPTIMIZER_NAMES", "make_optimizer", "short_name", "set_start_sliders", "PathFigure",
           "plot_optimizer_paths", "OptimizerExplorer", "optimizer_explorer"]

OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
_LABELS = dict(sgd="SGD", momentum="SGD + momentum", nesterov="Nesterov", adagrad="AdaGrad",
               rmsprop="RMSprop", adam="Adam")
# which of the shared sliders each rule reads (the others are greyed out)
_USES = dict(sgd=(), momentum=("momentum",), nesterov=("momentum",), adagrad=("epsilon",),
             rmsprop=("beta_2", "epsilon"), adam=("momentum", "beta_2", "epsilon"))
# Keras defaults for the shared sliders, per rule (β₂ / ρ is Adam's β₂ or RMSprop's ρ)
_DEFAULTS = dict(sgd={}, momentum=dict(momentum=0.9), nesterov=dict(momentum=0.9),
                 adagrad=dict(epsilon=1e-7), rmsprop=dict(beta_2=0.9, epsilon=1e-7),
                 adam=dict(momentum=0.9, beta_2=0.999, epsilon=1e-7))


def make_optimizer(name, learning_rate, momentum=0.9, beta_2=None, epsilon=1e-7):
    """A dlkit optimizer from the explorer's names and its shared sliders.

    momentum is SGD's momentum ("momentum", "nesterov") or Adam's β₁; beta_2 is Adam's β₂
    (default 0.999) or RMSprop's ρ (default 0.9); epsilon is AdaGrad's, RMSprop's and Adam's ε.
    """
    from ..optimizers import SGD, Adagrad, Adam, RMSprop

    if name not in OPTIMIZER_NAMES:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZER_NAMES}")
    if name == "sgd":
        return SGD(learning_rate)
    if name in ("momentum", "nesterov"):
        return SGD(learning_rate, momentum=momentum, nesterov=name == "nesterov")
    if name == "adagrad":
        return Adagrad(learning_rate, epsilon=epsilon)
    if name == "rmsprop":
        return RMSprop(learning_rate, rho=0.9 if beta_2 is None else beta_2, epsilon=epsilon)
    return Adam(learning_rate, beta_1=momentum, beta_2=0.999 if beta_2 is None else beta_2,
                epsilon=epsilon)


def short_name(opt):
    """Adam(lr=0.1, β₁=0.9, β₂=0.999, ε=1e-07): an optimizer's rule and the numbers that matter."""
    greek = dict(learning_rate="lr", beta_1="β₁", beta_2="β₂", epsilon="ε", rho="ρ",
                 momentum="momentum", initial_accumulator_value=None, nesterov=None,
                 amsgrad=None, centered=None, name=None)
    cfg = opt.get_config()
    args = ", ".join(f"{greek.get(k, k)}={v:.3g}" for k, v in cfg.items()
                     if greek.get(k, k) and not isinstance(v, (bool, str))
                     and not (k == "momentum" and v == 0))
    rule = "Nesterov" if cfg.get("nesterov") else type(opt).__name__
    return f"{rule}({args})"


def _as_optimizers(surface, optimizers):
    """[(label, Optimizer)] from names, Optimizer instances or a {label: optimizer} dict."""
    from ..optimizers import Optimizer

    items = optimizers.items() if isinstance(optimizers, dict) else [(None, o) for o in optimizers]
    out = []
    for label, opt in items:
        if isinstance(opt, str):
            key = opt.lower()
            opt = make_optimizer(key, surface.learning_rates.get(key, 0.01))
            label = label or short_name(opt)
        elif not isinstance(opt, Optimizer):
            raise TypeError(f"expected an optimizer name or a dlkit Optimizer, got {opt!r}")
        out.append((label or short_name(opt), opt))
    return out


def set_start_sliders(controls, surface, start):
    """Fit the x0 / y0 sliders to the surface's window and put them at ``start``."""
    s = surface
    for key, (lo, hi), v in (("x0", s.xlim, start[0]), ("y0", s.ylim, start[1])):
        ctl = controls[key]
        ctl.min, ctl.max = min(ctl.min, lo), max(ctl.max, hi)  # widen first: min <= max always
        ctl.value = float(np.clip(v, lo, hi))
        ctl.min, ctl.max, ctl.step = lo, hi, (hi - lo) / 400


class PathFigure:
    """A contour map of a surface with optimizer paths on it, and f(θ_k) − f* per step beside it.

    draw_surface(surface) once per surface; draw_paths(paths, labels, upto=k) as often as a
    control moves (it only moves existing lines). Shared by the explorer, the race and the
    static plots.
    """

    def __init__(self, figsize=(9.0, 3.8), dpi=80):
        self.figure = new_figure(figsize, dpi, layout=None)
        self.ax_map, self.ax_loss = self.figure.subplots(1, 2, width_ratios=[1.15, 1])
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.92, wspace=0.22)
        self.surface = None
        self._lines = []

    def draw_surface(self, surface):
        from matplotlib.colors import LogNorm

        s = self.surface = get_surface(surface)
        ax = self.ax_map
        ax.clear()
        X, Y, Z = s.grid()
        levels = s.levels()
        gap = np.maximum(Z - s.min_value, levels[0] - s.min_value)
        ax.contourf(X, Y, gap, levels=levels - s.min_value, norm=LogNorm(), cmap="Blues_r",
                    extend="both")
        ax.contour(X, Y, gap, levels=levels - s.min_value, colors="k", linewidths=0.3,
                   alpha=0.5)
        ax.plot(s.minima[:, 0], s.minima[:, 1], "*", color="gold", ms=12, mec="k", mew=0.6,
                zorder=5)
        ax.set_xlim(s.xlim)
        ax.set_ylim(s.ylim)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(s.formula, fontsize=9)
        self.ax_loss.clear()
        self.ax_loss.set_yscale("log")
        self.ax_loss.set_xlabel("step")
        self.ax_loss.set_ylabel("f(θ) − f*")
        self.ax_loss.grid(True, which="major", alpha=0.3)
        self._lines = []
        self._tol_circles = []

    def draw_paths(self, paths, labels, upto=None, tol=None):
        """Show paths[i][:upto + 1] for each path: (steps + 1, 2) arrays (NaN after divergence)."""
        import matplotlib as mpl

        s, n_steps = self.surface, max(len(p) for p in paths) - 1
        if len(self._lines) != len(paths):
            for artists in self._lines:
                for a in artists:
                    a.remove()
            colors = mpl.colormaps["tab10"].colors
            self._lines = []
            for i in range(len(paths)):
                c = colors[i % len(colors)] if len(paths) > 1 else "tab:red"
                path_line, = self.ax_map.plot([], [], ".-", color=c, ms=3, lw=1.2, zorder=6)
                head, = self.ax_map.plot([], [], "o", color=c, ms=6, mec="k", zorder=7)
                loss_line, = self.ax_loss.plot([], [], "-", color=c, lw=1.4)
                self._lines.append((path_line, head, loss_line))
        k = n_steps if upto is None else int(upto)
        low, high = np.inf, 0.0
        for path, label, (path_line, head, loss_line) in zip(paths, labels, self._lines):
            gap = np.maximum(s.loss(path) - s.min_value, 1e-16)
            path_line.set_data(path[:k + 1, 0], path[:k + 1, 1])
            last = path[:k + 1][np.isfinite(path[:k + 1, 0])][-1:]
            head.set_data(last[:, 0], last[:, 1])
            loss_line.set_data(np.arange(min(k, len(path) - 1) + 1), gap[:k + 1])
            loss_line.set_label(label)
            finite = gap[np.isfinite(gap)]
            if finite.size:
                low, high = min(low, finite.min()), max(high, finite.max())
        for c in self._tol_circles:
            c.remove()
        self._tol_circles = []
        if tol:
            from matplotlib.patches import Circle

            for m in s.minima:
                circle = Circle(m, tol, fill=False, color="gold", lw=1, ls="--", zorder=5)
                self._tol_circles.append(self.ax_map.add_patch(circle))
        self.ax_loss.set_xlim(0, max(n_steps, 1))
        if np.isfinite(low):
            self.ax_loss.set_ylim(max(low / 2, high * 1e-12), high * 2)
        self.ax_loss.legend(loc="upper right", fontsize=7, framealpha=0.8)
        return self.figure


def plot_optimizer_paths(surface, optimizers, start=None, steps=100, seed=0, tol=None):
    """A static Figure: each optimizer's path over ``surface`` from ``start`` for ``steps`` steps.

    optimizers: names from OPTIMIZER_NAMES (each at the surface's suggested learning rate),
    dlkit Optimizer instances, or a {label: optimizer} dict. Returns the Figure (it displays
    as a PNG in a notebook; ``fig.savefig(path)`` writes it to a file).
    """
    surface = get_surface(surface)
    pairs = _as_optimizers(surface, optimizers)
    paths = [surface.path(opt, start, steps, seed) for _, opt in pairs]
    plot = PathFigure()
    plot.draw_surface(surface)
    return plot.draw_paths(paths, [label for label, _ in pairs], tol=tol)


class OptimizerExplorer(WidgetFigure):
    """Widget: the path of one optimizer over a surface, redrawn whenever a control moves.

    ``self.controls``: surface, optimizer, learning_rate, momentum (SGD momentum or Adam β₁),
    beta_2 (Adam β₂ or RMSprop ρ), epsilon, steps, x0, y0. ``self.path`` is the path drawn,
    ``self.optimizer()`` the optimizer the controls describe. Clicking the map moves the start
    point where the ``ipyevents`` package is installed; the x0 / y0 sliders work everywhere.
    """

    def __init__(self, surface="rosenbrock", optimizer="adam", learning_rate=None, momentum=None,
                 beta_2=None, epsilon=None, steps=200, start=None, seed=0):
        import ipywidgets as w

        s = get_surface(surface)
        if optimizer not in OPTIMIZER_NAMES:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {OPTIMIZER_NAMES}")
        d = {**dict(momentum=0.9, beta_2=0.999, epsilon=1e-7), **_DEFAULTS[optimizer]}
        self.seed = seed
        self._init_image()
        self.plot = PathFigure()
        self.figure = self.plot.figure
        style = {"description_width": "initial"}
        slider = dict(continuous_update=False, style=style)
        c = self.controls = dict(
            surface=w.Dropdown(options=sorted(SURFACES) if s.name in SURFACES else [s.name],
                               value=s.name, description=say("surface")),
            optimizer=w.Dropdown(options=[(say(_LABELS[n]), n) for n in OPTIMIZER_NAMES],
                                 value=optimizer, description=say("optimizer")),
            learning_rate=log_slider("learning rate", learning_rate or
                                     s.learning_rates.get(optimizer, 0.01), -5, 1),
            momentum=w.FloatSlider(value=d["momentum"] if momentum is None else momentum,
                                   min=0, max=0.99, step=0.01, description=say("momentum / β₁"),
                                   **slider),
            beta_2=w.FloatSlider(value=d["beta_2"] if beta_2 is None else beta_2, min=0.5,
                                 max=0.9999, step=0.0001, readout_format=".4f",
                                 description="β₂ / ρ", **slider),
            epsilon=log_slider("ε", d["epsilon"] if epsilon is None else epsilon, -8, 0),
            steps=w.IntSlider(value=steps, min=1, max=1000, step=1, description=say("steps"),
                              **slider),
            x0=w.FloatSlider(description=say("start x"), **slider),
            y0=w.FloatSlider(description=say("start y"), **slider),
        )
        self._custom_surface = s if s.name not in SURFACES else None
        set_start_sliders(self.controls, s, start or s.start)
        self.plot.draw_surface(s)
        for name, ctl in c.items():
            handler = dict(surface=self._surface_changed,
                           optimizer=self._optimizer_changed).get(name, self._changed)
            ctl.observe(handler, names="value")
        self._grey_out()
        rows = [("surface", "optimizer", "learning_rate"), ("momentum", "beta_2", "epsilon"),
                ("steps", "x0", "y0")]
        self.widget = w.VBox([w.HBox([c[n] for n in row]) for row in rows] + [self.image])
        self._attach_click()
        self.update()

    @property
    def surface(self):
        return self._custom_surface or SURFACES[self.controls["surface"].value]

    def optimizer(self):
        """The optimizer the controls describe (a fresh dlkit Optimizer)."""
        v = {k: self.controls[k].value for k in ("learning_rate", "momentum", "beta_2", "epsilon")}
        return make_optimizer(self.controls["optimizer"].value, **v)

    @property
    def start(self):
        return (self.controls["x0"].value, self.controls["y0"].value)

    def update(self):
        c = self.controls
        opt = self.optimizer()
        self.path = self.surface.path(opt, self.start, c["steps"].value, self.seed)
        gap = self.surface.loss(self.path[-1:])[0] - self.surface.min_value
        where = np.flatnonzero(~np.isfinite(self.path[:, 0]))
        end = (f"diverged at step {where[0]}" if where.size else f"f − f* = {gap:.3g}")
        self.plot.draw_paths([self.path], [f"{_LABELS[c['optimizer'].value]}: {end}"])
        self.plot.ax_loss.set_title(short_name(opt), fontsize=9)
        self.refresh()

    def _surface_changed(self, change):
        s = self.surface
        with self._hold(redraw=True):
            set_start_sliders(self.controls, s, s.start)
            self.plot.draw_surface(s)
            self.controls["learning_rate"].value = s.learning_rates.get(
                self.controls["optimizer"].value, 0.01)

    def _optimizer_changed(self, change):
        name = change["new"]
        with self._hold(redraw=True):
            for k, v in _DEFAULTS[name].items():
                self.controls[k].value = v
            self.controls["learning_rate"].value = self.surface.learning_rates.get(name, 0.01)
            self._grey_out()

    def _grey_out(self):
        used = _USES[self.controls["optimizer"].value]
        for k in ("momentum", "beta_2", "epsilon"):
            self.controls[k].disabled = k not in used

    def on_click(self, event):
        """Move the start point to a click on the map (an ipyevents click event dict)."""
        point = self._clicked_point(event, self.plot.ax_map)
        if point is not None:
            self.set(x0=point[0], y0=point[1])

    def __repr__(self):
        x0, y0 = self.start
        return (f"OptimizerExplorer(surface={self.surface.name!r}, optimizer={self.optimizer()!r}, "
                f"start=({x0:.3g}, {y0:.3g}), steps={self.controls['steps'].value})")


def optimizer_explorer(surface="rosenbrock", optimizer="adam", **kwargs):
    """Show an OptimizerExplorer (see its docstring); returns it, so ``w = optimizer_explorer()``
    gives access to ``w.controls``, ``w.path`` and ``w.figure``."""
    return OptimizerExplorer(surface, optimizer, **kwargs)
