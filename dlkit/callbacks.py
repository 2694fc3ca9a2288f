"""Callbacks: code that fit calls at fixed points of training (the Keras protocol).

    on_train_begin(logs)                on_train_end(logs)
    on_epoch_begin(epoch, logs)         on_epoch_end(epoch, logs)   # logs: loss, metrics, val_*
    on_train_batch_end(batch, logs)     # logs: running means over the epoch so far

``self.model`` is the model being trained and ``self.params`` holds epochs, steps and
metric names; setting ``model.stop_training = True`` ends training after the current epoch.
The live-curve widgets in ``dlkit.viz`` are callbacks too.
"""
import math
import sys
import time

import numpy as np


class Callback:
    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def wants_batch_logs(self):
        """True if on_train_batch_end is overridden (fit skips building batch logs otherwise)."""
        return type(self).on_train_batch_end is not Callback.on_train_batch_end


class History(Callback):
    """Records each epoch's logs: ``history.history["loss"]`` is a list, one value per epoch."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"<History: {len(self.epoch)} epochs; {keys}>"


class ProgressBar(Callback):
    """A tqdm bar per epoch (verbose=1) or one line per epoch (verbose=2), as Keras prints.

    verbose=2 prints no timings, so a notebook's saved output is the same on every run.
    """

    def __init__(self, verbose=1, refresh_seconds=0.1):
        super().__init__()
        self.verbose = verbose
        self.refresh_seconds = refresh_seconds
        self._bar = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose == 1:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.params["steps"], unit="batch", leave=True,
                             desc=f"Epoch {epoch + 1}/{self.params['epochs']}", file=sys.stdout,
                             dynamic_ncols=True)
            self._last = 0.0

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is None:
            return
        now = time.monotonic()
        if now - self._last >= self.refresh_seconds:
            self._bar.set_postfix(_fmt(logs), refresh=False)
            self._last = now
        self._bar.update(batch + 1 - self._bar.n)

    def wants_batch_logs(self):
        return self.verbose == 1

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.set_postfix(_fmt(logs), refresh=False)
            self._bar.update(self.params["steps"] - self._bar.n)
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            items = " - ".join(f"{k}: {v:.4f}" for k, v in _fmt(logs).items())
            print(f"Epoch {epoch + 1}/{self.params['epochs']} - {items}", flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _fmt(logs):
    return {k: float(v) for k, v in (logs or {}).items()}


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs (Keras's arguments and defaults). With restore_best_weights the model ends with the
    weights of its best epoch.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.verbose, self.baseline = verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.endswith("auc")) else "min"
        self.mode = mode
        self.stopped_epoch = 0
        self.best_epoch = None

    def _better(self, current, reference):
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None
        self.best_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            raise KeyError(f"EarlyStopping monitors {self.monitor!r}, which is not in the logs "
                           f"{sorted(logs or {})}; pass validation data or monitor 'loss'")
        if epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # the patience clock restarts only when the baseline is beaten too
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping (best {self.monitor} "
                  f"{self.best:.4f} at epoch {self.best_epoch + 1})")


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. LambdaCallback(on_epoch_end=lambda e, logs: ...)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_end=None):
        super().__init__()
        self._f = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                       on_train_begin=on_train_begin, on_train_end=on_train_end,
                       on_train_batch_end=on_train_batch_end)

    def on_epoch_begin(self, epoch, logs=None):
        if self._f["on_epoch_begin"]:
            self._f["on_epoch_begin"](epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._f["on_epoch_end"]:
            self._f["on_epoch_end"](epoch, logs)

    def on_train_begin(self, logs=None):
        if self._f["on_train_begin"]:
            self._f["on_train_begin"](logs)

    def on_train_end(self, logs=None):
        if self._f["on_train_end"]:
            self._f["on_train_end"](logs)

    def on_train_batch_end(self, batch, logs=None):
        if self._f["on_train_batch_end"]:
            self._f["on_train_batch_end"](batch, logs)

    def wants_batch_logs(self):
        return self._f["on_train_batch_end"] is not None
