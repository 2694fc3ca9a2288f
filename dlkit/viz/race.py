"""The optimizer race: several optimizers on one surface from one start, one colour each.

    viz.optimizer_race("quadratic", ["sgd", "momentum", "rmsprop", "adam"], steps=200)
    viz.race_results("beale", ["sgd", "adam"], tol=0.1)     # paths and steps-to-minimum, no plot
    viz.plot_optimizer_race("beale", ["sgd", "adam"])       # a static Figure

The legend says at which step each optimizer first came within ``tol`` (a distance in the
plane) of a global minimum. A Play button and a step scrubber replay the race. The paths come
from ``Surface.path``, i.e. from the optimizers' own ``apply``.
"""
import numpy as np

from .explorer import PathFigure, _as_optimizers, set_start_sliders
from ..words import say
from .render import WidgetFigure, log_slider
from .surfaces import SURFACES, get_surface

__all__ = ["race_results", "plot_optimizer_race", "OptimizerRace", "optimizer_race"]

DEFAULT_RACERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")


def race_results(surface, optimizers=DEFAULT_RACERS, start=None, steps=200, tol=0.1, seed=0):
    """{label: (path, step)}: each optimizer's path (steps + 1, 2) and the first step within
    ``tol`` of a minimum (None if it never gets there)."""
    surface = get_surface(surface)
    out = {}
    for label, opt in _as_optimizers(surface, optimizers):
        path = surface.path(opt, start, steps, seed)
        out[label] = (path, surface.steps_to_reach(path, tol))
    return out


def _legend(label, reached):
    return f"{label}: " + ("not within tol" if reached is None else f"step {reached}")


def plot_optimizer_race(surface, optimizers=DEFAULT_RACERS, start=None, steps=200, tol=0.1,
                        seed=0, upto=None):
    """A static Figure of the race (up to step ``upto``, default: the end)."""
    surface = get_surface(surface)
    results = race_results(surface, optimizers, start, steps, tol, seed)
    plot = PathFigure()
    plot.draw_surface(surface)
    return plot.draw_paths([p for p, _ in results.values()],
                           [_legend(k, r) for k, (_, r) in results.items()], upto=upto, tol=tol)


class OptimizerRace(WidgetFigure):
    """Widget: the race, with controls surface, steps, tol, x0, y0 and the step scrubber
    ``step`` (linked to a Play button in the browser).

    ``self.results`` is ``race_results(...)`` for the current settings. Optimizers given by
    name run at each surface's suggested learning rate; Optimizer instances keep their own.
    """

    def __init__(self, surface="quadratic", optimizers=DEFAULT_RACERS, start=None, steps=200,
                 tol=0.1, seed=0):
        import ipywidgets as w

        s = get_surface(surface)
        self.optimizers, self.seed, self._syncing = optimizers, seed, False
        self._custom_surface = s if s.name not in SURFACES else None
        self._init_image()
        self.plot = PathFigure()
        self.figure = self.plot.figure
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        c = self.controls = dict(
            surface=w.Dropdown(options=sorted(SURFACES) if s.name in SURFACES else [s.name],
                               value=s.name, description=say("surface")),
            steps=w.IntSlider(value=steps, min=1, max=2000, description=say("steps"), **slider),
            tol=log_slider("tolerance", tol, -3, 0),
            x0=w.FloatSlider(description=say("start x"), **slider),
            y0=w.FloatSlider(description=say("start y"), **slider),
            step=w.IntSlider(value=steps, min=0, max=steps, description=say("step"),
                             style={"description_width": "initial"},
                             layout=w.Layout(width="420px")),
        )
        set_start_sliders(c, s, start or s.start)
        self.play = w.Play(value=steps, min=0, max=steps, step=max(1, steps // 100),
                           interval=150, description=say("play the race"))
        self._link = w.jslink((self.play, "value"), (c["step"], "value"))
        self.plot.draw_surface(s)
        c["surface"].observe(self._surface_changed, names="value")
        c["step"].observe(self._scrub, names="value")
        for k in ("steps", "tol", "x0", "y0"):
            c[k].observe(self._changed, names="value")
        self.table = w.HTML()
        self.widget = w.VBox([
            w.HBox([c["surface"], c["steps"], c["tol"]]),
            w.HBox([c["x0"], c["y0"]]),
            w.HBox([self.play, c["step"]]),
            self.image, self.table])
        self.update()

    @property
    def surface(self):
        return self._custom_surface or SURFACES[self.controls["surface"].value]

    @property
    def start(self):
        return (self.controls["x0"].value, self.controls["y0"].value)

    def update(self):
        """Recompute every path (after a change of surface, start, steps or tol), then draw."""
        c = self.controls
        steps = c["steps"].value
        self.results = race_results(self.surface, self.optimizers, self.start, steps,
                                    c["tol"].value, self.seed)
        self._syncing = True   # the scrubber follows the steps and jumps to the new race's end
        try:
            for ctl in (c["step"], self.play):
                ctl.max = max(steps, ctl.min)
                ctl.value = steps
        finally:
            self._syncing = False
        self.play.step = max(1, steps // 100)
        rows = "".join(f"<tr><td>{k}</td><td>{'—' if r is None else r}</td></tr>"
                       for k, (_, r) in self.results.items())
        within = say("first step within {tol} of a minimum", tol=f"{c['tol'].value:.2g}")
        self.table.value = (f"<table><tr><th>{say('optimizer')}</th><th>{within}</th></tr>"
                            f"{rows}</table>")
        self._draw()

    def _scrub(self, change):
        # moving the scrubber only redraws (the paths stay); update() moves it to the end
        if not self._syncing:
            self._draw()

    def _draw(self):
        self.plot.draw_paths([p for p, _ in self.results.values()],
                             [_legend(k, r) for k, (_, r) in self.results.items()],
                             upto=self.controls["step"].value, tol=self.controls["tol"].value)
        self.refresh()

    def _surface_changed(self, change):
        s = self.surface
        with self._hold(redraw=True):
            set_start_sliders(self.controls, s, s.start)
            self.plot.draw_surface(s)

    def __repr__(self):
        names = ", ".join(self.results)
        return (f"OptimizerRace(surface={self.surface.name!r}, optimizers=[{names}], "
                f"steps={self.controls['steps'].value}, tol={self.controls['tol'].value:.3g})")


def optimizer_race(surface="quadratic", optimizers=DEFAULT_RACERS, **kwargs):
    """Show an OptimizerRace (see its docstring) and return it."""
    return OptimizerRace(surface, optimizers, **kwargs)
