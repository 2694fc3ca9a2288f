"""When would training stop? Early stopping replayed on a recorded training history.

    r = viz.replay_early_stopping(history, monitor="val_loss", patience=5)
    r.stopped_epoch, r.restored_epoch, r.epochs_saved     # 1-based epochs, as fit prints them
    viz.early_stopping_explorer(history)                  # widget: patience, min delta, monitor
    viz.plot_early_stopping(history, patience=5)          # the same picture, static

The decision is never re-implemented here: ``replay_early_stopping`` feeds the recorded
epoch logs, one epoch after the other, to ``dlkit.callbacks.EarlyStopping`` itself (Keras 3's
rule), with a stand-in model whose "weights" are the epoch number, so the weights the callback
would restore name their epoch. Replaying a 40-epoch history takes microseconds; a control
change redraws lines that already exist (no new axes), so the picture follows at once.
"""
import math

import numpy as np

from ..words import say
from .render import WidgetFigure, log_slider, new_figure

__all__ = ["StoppingReplay", "replay_early_stopping", "StoppingFigure", "plot_early_stopping",
           "EarlyStoppingExplorer", "early_stopping_explorer"]

# the logs the picture knows, in the order the monitor dropdown offers them
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")


def _history_dict(history):
    """{name: float64 array (epochs,)} from a History, its ``.history`` dict, or a plain dict."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise TypeError("history must be a History returned by fit, or a dict of per-epoch "
                        f"lists such as {{'loss': [...], 'val_loss': [...]}}; got {history!r}")
    out = {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in logs.items()}
    lengths = {k: len(v) for k, v in out.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"every log needs one value per epoch; got lengths {lengths}")
    if next(iter(lengths.values())) < 2:
        raise ValueError("a history of at least 2 epochs is needed to decide when to stop")
    return out


class StoppingReplay:
    """What ``EarlyStopping`` decides on a recorded history. Epochs count from 1, as fit prints
    them ("Epoch 13/40").

    epochs: the epochs recorded; stopped_epoch: the last epoch training runs before the
    callback stops it (None: it never stops); restored_epoch: the epoch whose weights the
    model ends with under restore_best_weights (None: no epoch improved); best, wait: the
    callback's best value and its patience counter after each epoch it saw (NaN before
    start_from_epoch).
    """

    def __init__(self, epochs, stopped_epoch, restored_epoch, best, wait):
        self.epochs = epochs
        self.stopped_epoch, self.restored_epoch = stopped_epoch, restored_epoch
        self.best, self.wait = best, wait

    @property
    def epochs_run(self):
        return self.stopped_epoch or self.epochs

    @property
    def epochs_saved(self):
        return self.epochs - self.epochs_run

    def __repr__(self):
        return (f"StoppingReplay(epochs={self.epochs}, stopped_epoch={self.stopped_epoch}, "
                f"restored_epoch={self.restored_epoch}, epochs_saved={self.epochs_saved})")


class _EpochAsWeights:
    """A stand-in model for the callback: its "weights" are the number of the current epoch."""

    def __init__(self):
        self.epoch, self.stop_training, self.restored = None, False, None

    def get_weights(self):
        return [self.epoch]

    def set_weights(self, weights):
        self.restored = weights[0]


def replay_early_stopping(history, monitor="val_loss", min_delta=0.0, patience=0, mode="auto",
                          baseline=None, start_from_epoch=0):
    """Feed a recorded history to ``dlkit.callbacks.EarlyStopping`` epoch by epoch, as fit
    would have, and return a StoppingReplay: where it stops and which epoch it restores.

    The arguments are EarlyStopping's (restore_best_weights is always on, to see which epoch
    it would restore). The result is what ``fit(..., callbacks=[EarlyStopping(...)])`` does
    on a run whose epochs produce these logs.
    """
    from ..callbacks import EarlyStopping

    logs = _history_dict(history)
    if monitor not in logs:
        raise KeyError(f"the history has no {monitor!r}; it has {sorted(logs)}")
    callback = EarlyStopping(monitor=monitor, min_delta=min_delta, patience=patience, mode=mode,
                             baseline=baseline, restore_best_weights=True,
                             start_from_epoch=start_from_epoch)
    model = _EpochAsWeights()
    callback.set_model(model)
    callback.on_train_begin()
    n = len(logs[monitor])
    best, wait = np.full(n, np.nan), np.full(n, np.nan)
    for epoch in range(n):                       # the callback counts epochs from 0
        model.epoch = epoch
        callback.on_epoch_end(epoch, {k: float(v[epoch]) for k, v in logs.items()})
        if math.isfinite(callback.best):
            best[epoch], wait[epoch] = callback.best, callback.wait
        if model.stop_training:
            break
    callback.on_train_end()
    stopped = epoch + 1 if model.stop_training else None
    restored = None if model.restored is None else model.restored + 1
    return StoppingReplay(n, stopped, restored, best[:epoch + 1], wait[:epoch + 1])


def _describe(r, monitor, values):
    if r.stopped_epoch is None:
        where = f"never stops: all {r.epochs} epochs run"
    else:
        where = (f"stops after epoch {r.stopped_epoch} of {r.epochs} "
                 f"({r.epochs_saved} epochs saved)")
    if r.restored_epoch is not None:
        where += (f"; restores epoch {r.restored_epoch} "
                  f"({monitor} {values[r.restored_epoch - 1]:.4g})")
    return where


class StoppingFigure:
    """Loss (and accuracy) curves of a history with EarlyStopping's decision drawn on them.

    ``draw(monitor, patience, min_delta, start_from_epoch)`` replays the history and moves the
    existing artists: a dashed line where training stops, a dotted one at the restored epoch,
    a grey band over the epochs saved, the callback's running best on the monitored curve.
    """

    def __init__(self, history, figsize=(9.0, 3.6), dpi=80):
        self.logs = _history_dict(history)
        self.epochs = np.arange(1, len(next(iter(self.logs.values()))) + 1)
        n = len(self.epochs)
        panels = [p for p in (("loss", "val_loss"), ("accuracy", "val_accuracy"))
                  if p[0] in self.logs or p[1] in self.logs]
        if not panels:
            raise ValueError(f"nothing to draw: the history has none of {MONITORS}")
        self.figure = new_figure(figsize, dpi, layout=None)
        axes = self.figure.subplots(1, len(panels), squeeze=False)[0]
        self.figure.subplots_adjust(left=0.07, right=0.985, bottom=0.14, top=0.80, wspace=0.22)
        self.axes, self.best_lines, self.marks = {}, {}, {}
        self._stop_lines, self._restore_lines, self._bands = [], [], []
        from matplotlib.patches import Rectangle

        for ax, keys in zip(axes, panels):
            for key in keys:
                if key in self.logs:
                    val = key.startswith("val_")
                    ax.plot(self.epochs, self.logs[key], color="tab:blue" if val else "0.55",
                            lw=1.6, label="validation" if val else "training")
                    self.axes[key] = ax
                    best, = ax.plot([], [], drawstyle="steps-post", color="tab:orange", lw=1.2)
                    mark, = ax.plot([], [], "o", color="tab:green", ms=7, mec="k", zorder=5)
                    best.set_visible(False)
                    mark.set_visible(False)
                    self.best_lines[key], self.marks[key] = best, mark
            band = Rectangle((n, 0), 0, 1, transform=ax.get_xaxis_transform(), color="0.85",
                             zorder=0, label="epochs saved")
            ax.add_patch(band)
            self._bands.append(band)
            self._stop_lines.append(ax.axvline(n, color="tab:red", ls="--", lw=1.3,
                                               label="training stops"))
            self._restore_lines.append(ax.axvline(1, color="tab:green", ls=":", lw=1.5,
                                                  label="weights restored"))
            ax.set_xlim(0.5, n + 0.5)
            ax.set_xlabel("epoch")
            ax.set_ylabel(keys[0])
            ax.grid(True, alpha=0.3)
        if "val_loss" in self.logs and "loss" in panels[0]:
            # a linear scale up to the validation loss: the training loss of the first epochs
            # may leave the picture, the validation loss's minimum and rise stay readable
            axes[0].set_ylim(0, 1.1 * self.logs["val_loss"].max())
        from matplotlib.lines import Line2D

        proxy = Line2D([], [], drawstyle="steps-post", color="tab:orange", lw=1.2)
        handles, labels = axes[0].get_legend_handles_labels()
        axes[0].legend(handles + [proxy], labels + ["best so far (the callback's)"], fontsize=7,
                       loc="upper right", framealpha=0.85)
        self.title = self.figure.suptitle("", fontsize=9.5)
        self.replay = None

    def draw(self, monitor="val_loss", patience=0, min_delta=0.0, start_from_epoch=0):
        if monitor not in self.axes:
            raise KeyError(f"the history has no {monitor!r}; it has {sorted(self.logs)}")
        r = self.replay = replay_early_stopping(self.logs, monitor, min_delta, patience,
                                                start_from_epoch=start_from_epoch)
        n = len(self.epochs)
        stop = r.epochs_run
        for line in self._stop_lines:
            line.set_xdata([stop, stop])
            line.set_visible(r.stopped_epoch is not None)
        for line in self._restore_lines:
            x = r.restored_epoch or 1
            line.set_xdata([x, x])
            line.set_visible(r.restored_epoch is not None)
        for band in self._bands:
            band.set_x(stop + 0.5)
            band.set_width(n - stop)
        for key, ax in self.axes.items():
            watched = key == monitor
            self.best_lines[key].set_visible(watched)
            self.marks[key].set_visible(watched and r.restored_epoch is not None)
            if watched:
                seen = np.isfinite(r.best)
                self.best_lines[key].set_data(self.epochs[:len(r.best)][seen], r.best[seen])
                if r.restored_epoch is not None:
                    self.marks[key].set_data([r.restored_epoch],
                                             [self.logs[key][r.restored_epoch - 1]])
        for key, ax in self.axes.items():
            ax.set_title(f"{ax.get_ylabel()}: monitor = {monitor}"
                         if self.axes[monitor] is ax else ax.get_ylabel(), fontsize=9)
        self.title.set_text(f"EarlyStopping(monitor={monitor!r}, patience={patience}, "
                            f"min_delta={min_delta:.2g})\n"
                            + _describe(r, monitor, self.logs[monitor]))
        return self.figure


def plot_early_stopping(history, monitor="val_loss", patience=5, min_delta=0.0,
                        start_from_epoch=0):
    """A static Figure: the history's curves and where EarlyStopping would stop on them."""
    plot = StoppingFigure(history)
    return plot.draw(monitor, patience, min_delta, start_from_epoch)


class EarlyStoppingExplorer(WidgetFigure):
    """Widget: move patience and min delta, pick the monitored log; see where training stops.

    ``self.controls``: monitor (Dropdown of the history's val_loss, val_accuracy, loss,
    accuracy), patience (IntSlider), min_delta (log slider, 1e-5 to 0.1). ``self.replay`` is
    the StoppingReplay drawn (from dlkit's EarlyStopping itself).
    """

    def __init__(self, history, monitor="val_loss", patience=5, min_delta=1e-4,
                 start_from_epoch=0):
        import ipywidgets as w

        self.plot = StoppingFigure(history)
        self.figure = self.plot.figure
        options = [k for k in MONITORS if k in self.plot.axes]
        if monitor not in options:
            raise KeyError(f"cannot monitor {monitor!r}: the history offers {options}")
        n = len(self.plot.epochs)
        if not 0 <= patience < n:
            raise ValueError(f"patience must be between 0 and {n - 1} for {n} epochs, "
                             f"got {patience}")
        if not 1e-5 <= min_delta <= 0.1:
            raise ValueError(f"min_delta must be between 1e-5 and 0.1 (a log slider), "
                             f"got {min_delta}")
        self.start_from_epoch = start_from_epoch
        self._init_image()
        style = {"description_width": "initial"}
        self.controls = dict(
            monitor=w.Dropdown(options=options, value=monitor, description=say("monitor")),
            patience=w.IntSlider(value=patience, min=0, max=n - 1, step=1,
                                 description=say("patience"), continuous_update=False, style=style),
            min_delta=log_slider("min delta", min_delta, -5, -1),
        )
        for ctl in self.controls.values():
            ctl.observe(self._changed, names="value")
        self.widget = w.VBox([w.HBox(list(self.controls.values())), self.image])
        self.update()

    @property
    def replay(self):
        return self.plot.replay

    def update(self):
        c = self.controls
        self.plot.draw(c["monitor"].value, c["patience"].value, c["min_delta"].value,
                       self.start_from_epoch)
        self.refresh()

    def __repr__(self):
        c = self.controls
        return (f"EarlyStoppingExplorer(monitor={c['monitor'].value!r}, "
                f"patience={c['patience'].value}, min_delta={c['min_delta'].value:.2g}, "
                f"epochs={len(self.plot.epochs)})")


def early_stopping_explorer(history, monitor="val_loss", patience=5, min_delta=1e-4,
                            start_from_epoch=0):
    """Show an EarlyStoppingExplorer on a recorded history (a History from fit, or a dict of
    per-epoch lists); returns it, so ``w.replay`` and ``w.controls`` stay reachable."""
    return EarlyStoppingExplorer(history, monitor, patience, min_delta, start_from_epoch)
