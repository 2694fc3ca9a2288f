"""Live training curves: ``model.fit(x, y, callbacks=[viz.LiveCurves()])``.

One panel per quantity (loss, then each metric), training in solid lines and validation
(``val_*``) dashed, redrawn in place after every epoch (and, with ``every_n_batches=N``,
every N batches). In a Jupyter kernel the figure is shown once with
``display(..., display_id=True)`` and then replaced with ``handle.update(...)``: the front
end swaps the picture in place, tqdm's bars keep working below it, and a notebook saved
afterwards (by JupyterLab, nbconvert or nbclient) holds one static figure, the final one.
Outside a kernel (a script) nothing is displayed; ``callback.figure`` holds the final
figure (``callback.figure.savefig("curves.png")``).

The picture's text form is fixed for a given set of metrics, ``<LiveCurves: loss,
val_loss>``, so nbval (which compares text, not PNGs) sees the same output on every run.
"""
from ..callbacks import Callback
from .render import PNG, figure_to_png, has_kernel, new_figure

__all__ = ["LiveCurves", "plot_history"]


class LiveCurves(Callback):
    """A callback that plots loss and metrics while ``fit`` runs.

    every_n_batches: also redraw every N batches, adding the running training means of the
    epoch so far (a thin line) between the per-epoch points. live: None shows live updates
    inside a Jupyter kernel only; False draws only once, at the end of training; True always
    tries to display. ``self.history`` holds one value per epoch, as ``History.history``;
    ``self.epoch`` the epoch indices; ``self.updates`` how many pictures were sent.
    """

    def __init__(self, every_n_batches=None, live=None, figsize=(8.0, 3.0), dpi=80):
        super().__init__()
        if every_n_batches is not None and (not isinstance(every_n_batches, int)
                                            or every_n_batches < 1):
            raise ValueError(f"every_n_batches must be a positive integer or None, "
                             f"got {every_n_batches!r}")
        self.every_n_batches, self.live = every_n_batches, live
        self.figsize, self.dpi = figsize, dpi
        self.figure, self.handle = None, None
        self.history, self.epoch, self.batch_points = {}, [], {}
        self.updates = 0

    def wants_batch_logs(self):
        return self.every_n_batches is not None

    # -- the callback protocol -----------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.history, self.epoch, self.batch_points = {}, [], {}
        self.names = list(self.params.get("metrics") or ["loss"])
        self._build_figure()
        self._live = has_kernel() if self.live is None else bool(self.live)
        self.handle = None
        if self._live:
            from IPython.display import display

            self.handle = display(self._picture(), display_id=True)
            self.updates = 1

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % self.every_n_batches:
            return
        pos = len(self.epoch) + (batch + 1) / self.params["steps"]
        for k, v in (logs or {}).items():
            xs, ys = self.batch_points.setdefault(k, ([], []))
            xs.append(pos)
            ys.append(float(v))
        self._send()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))
        self._send()

    def on_train_end(self, logs=None):
        if self.handle is None and _in_ipython():
            from IPython.display import display

            self._draw()
            display(self._picture())
            self.updates += 1

    # -- drawing ---------------------------------------------------------------------------
    def _build_figure(self):
        bases = [n for n in self.names if not n.startswith("val_")]
        if self.figure is None or getattr(self, "_bases", None) != bases:
            # one Figure per callback, reused for every fit: widgets must not pile up figures
            self.figure = new_figure(self.figsize, self.dpi)
            self._bases = bases
            axes = self.figure.subplots(1, len(bases), squeeze=False)[0]
            self._axes = dict(zip(bases, axes))
            self._lines = {}
            for base, ax in self._axes.items():
                for name, style in ((base, "o-"), (f"val_{base}", "s--")):
                    if name in self.names:
                        self._lines[name], = ax.plot([], [], style, ms=3, label=_label(name))
                self._lines[f"batch_{base}"], = ax.plot([], [], "-", lw=0.8, alpha=0.5,
                                                         color=self._lines[base].get_color())
                ax.set_title(base)
                ax.set_xlabel("epoch")
                ax.set_ylabel(base)
                ax.grid(True, alpha=0.3)
                ax.legend(loc="best", fontsize=8)
        self._draw()

    def _draw(self):
        for name, line in self._lines.items():
            if name.startswith("batch_"):
                xs, ys = self.batch_points.get(name[len("batch_"):], ([], []))
                line.set_data(xs, ys)
            else:
                ys = self.history.get(name, [])
                line.set_data([e + 1 for e in self.epoch[:len(ys)]], ys)
        epochs = max(self.params.get("epochs", 1), 1)
        for ax in self._axes.values():
            ax.relim()
            ax.autoscale_view(scalex=False)
            ax.set_xlim(0.5 if not self.batch_points else 0, epochs + 0.5)

    def _picture(self):
        return PNG(figure_to_png(self.figure), f"<LiveCurves: {', '.join(self.names)}>")

    def _send(self):
        self._draw()
        if self.handle is not None:
            self.handle.update(self._picture())
            self.updates += 1

    def __repr__(self):
        n = f", every_n_batches={self.every_n_batches}" if self.every_n_batches else ""
        return f"LiveCurves({len(self.epoch)} epochs{n})"


def _label(name):
    return ("validation " + name[4:]) if name.startswith("val_") else ("training " + name)


def _in_ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def plot_history(history, figsize=(8.0, 3.0), dpi=80):
    """A static Figure of a finished ``History`` (or its ``.history`` dict), drawn exactly as
    LiveCurves draws it."""
    logs = getattr(history, "history", history)
    curves = LiveCurves(live=False, figsize=figsize, dpi=dpi)
    n = max((len(v) for v in logs.values()), default=0)
    curves.set_params({"metrics": list(logs), "epochs": n})
    curves.history, curves.epoch = {k: list(map(float, v)) for k, v in logs.items()}, list(range(n))
    curves.names = list(logs)
    curves._build_figure()
    return curves.figure
