"""Training and inference for models: compile, train_step, fit, evaluate, predict.

``Trainer`` is the half of ``Sequential`` that learns (Keras 3 splits its Model the same way,
into a layer and a Trainer); ``dlkit.model`` holds the other half, the stack of layers. One
training step, ``train_step`` below, is the whole algorithm:

    y_hat = model.forward(x, training=True)     every layer caches what its backward needs
    loss, grad, hits = head(y, y_hat)            the loss side (losses.Head): grad is dL/dy_hat,
                                                 or dL/dz of the last layer's logits when its
                                                 softmax/sigmoid fuses with the cross-entropy
    head.backward(model, grad)                   each layer, last to first, fills its grads
    optimizer.apply(grads, params)
    loss += the terms layers add (weight penalties, a VAE's KL); their gradients are already
            in the layers' backward

``fit`` cuts the data into batches (in a new random order each epoch), runs ``train_step`` on
each, and adds the results up in a ``Tally``, the same one ``evaluate`` uses.
"""
import math
import warnings
from typing import NamedTuple, Optional

import numpy as np

from . import losses as losses_mod
from . import metrics as metrics_mod
from . import optimizers as optimizers_mod
from ._compiling import compile_notice
from ._threads import blas_policy
from .callbacks import Callback, History, ProgressBar
from .errors import DivergenceWarning, NotCompiledError, ShapeError

__all__ = ["Trainer", "Step", "Tally"]


class Step(NamedTuple):
    """What ``train_step`` returns for one batch."""
    loss_sum: float        # the loss summed over the batch's rows, added terms included
    rows: int              # rows of the output (samples, or samples x time steps)
    y_hat: np.ndarray      # the model's output for the batch (before this step's update)
    hits: Optional[int]    # rows classified right, when the fused loss counted them

    @property
    def loss(self):
        """The batch's mean loss (what Keras reports for one batch)."""
        return self.loss_sum / self.rows


class Tally:
    """Running sums of the loss and of each metric over batches: an epoch of ``fit``, or
    ``evaluate``. Metrics are exact over the whole run (sums of counts, not means of means)."""

    def __init__(self, metrics, hits_metric=None):
        self.names = ["loss"] + [m.name for m in metrics]
        self.metrics = metrics
        self.hits_metric = hits_metric
        self.loss_sum, self.rows = 0.0, 0
        self.sums = [0.0] * len(metrics)
        self.counts = [0] * len(metrics)

    def add(self, loss_sum, rows, y, y_hat, hits=None):
        self.loss_sum += loss_sum
        self.rows += rows
        for i, m in enumerate(self.metrics):
            s, c = (hits, rows) if i == self.hits_metric else m.update(y, y_hat)
            self.sums[i] += s
            self.counts[i] += c

    def values(self):
        """[loss, metric, ...] so far, as floats (what ``evaluate`` returns)."""
        return [float(self.loss_sum / self.rows)] + [float(s / c) for s, c in
                                                     zip(self.sums, self.counts)]

    def logs(self):
        """{"loss": mean loss, metric name: value, ...} so far."""
        logs = {"loss": float(self.loss_sum / self.rows)}
        for name, s, c in zip(self.names[1:], self.sums, self.counts):
            logs[name] = s / c
        return logs


class Trainer:
    """compile / train_step / fit / evaluate / predict for a model that is a Layer with
    ``forward``, ``backward``, ``backward_logits``, ``layers``, ``trainable_pairs`` and
    ``added_loss`` (``dlkit.model.Sequential``)."""

    optimizer = loss = None
    stop_training = False
    history = None
    _head = None         # the losses.Head, made when the model is built and compiled
    _trainable = None    # ([params], [grads]) that the optimizer updates

    # -- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics (names or objects, as Keras).

        As in Keras, compile again after changing a layer's ``trainable`` (``fit`` also looks
        at it afresh each time it is called)."""
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='categorical_crossentropy'")
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = losses_mod.get(loss)
        self._metric_ids = list(metrics or [])
        self.metrics = []
        self._head = None
        if self.built:
            self._resolve()

    def _resolve(self):
        """Metrics by name need the output shape, the head needs the output layer: both are
        known once the model is built."""
        self.metrics = [metrics_mod.get(m, self.loss, self.output_shape) for m in self._metric_ids]
        self._head = losses_mod.Head(self.loss, self.output_layer, self.metrics)
        self._trainable = _trainable_lists(self)

    def get_compile_config(self):
        """What compile was given (as Keras 3): {"optimizer", "loss", "metrics"}; None before
        compile. The metrics as named or passed (strings or Metric objects)."""
        if self.loss is None:
            return None
        return {"optimizer": self.optimizer, "loss": self.loss, "metrics": list(self._metric_ids)}

    @property
    def head(self):
        """The model's loss head (``losses.Head``): None before compile and build."""
        return self._head

    def _require_compiled(self, what):
        if self.loss is None:
            raise NotCompiledError(f"call model.compile(optimizer=..., loss=...) before {what}")

    # -- data -------------------------------------------------------------------------------
    def _prepare(self, x, y, what):
        """Check and convert (x, y) once: x in the model's dtype, y as the loss wants it."""
        self._require_compiled(what)
        x = np.asarray(x)
        if x.dtype == object:
            raise TypeError(f"{what}: x must be a numeric array, got dtype object")
        if not self.built:
            self.build((None,) + x.shape[1:])
        if self._head is None:
            self._resolve()
        self._check_x(x, what)
        x = np.ascontiguousarray(x, dtype=self.dtype)
        _check_finite(x, "x")
        if y is None:
            return x, None
        y = self.loss.prepare_targets(y, self.output_shape, self.dtype)
        if len(y) != len(x):
            raise ShapeError(f"{what}: x has {len(x)} samples but y has {len(y)}")
        if not self.loss.sparse and not _same_array(x, y):
            _check_finite(y, "y")
        return x, y

    def _prepared(self, x, y):
        """True when (x, y) are already as ``_prepare`` makes them (fit's batches are)."""
        return (self._head is not None and isinstance(x, np.ndarray)
                and isinstance(y, np.ndarray) and x.dtype == self.dtype
                and x.shape[1:] == self.input_shape[1:] and len(y) == len(x)
                and y.dtype == (np.int64 if self.loss.sparse else self.dtype))

    def _check_x(self, x, what):
        if x.shape[1:] != self.input_shape[1:]:
            first = self.layers[0]
            hint = ""
            if np.prod(x.shape[1:]) == np.prod(self.input_shape[1:]):
                hint = ("; reshape it, e.g. x.reshape(len(x), "
                        f"{', '.join(map(str, self.input_shape[1:]))})")
            raise ShapeError(
                f"{what}: layer {first.name!r} ({type(first).__name__}) expects input of shape "
                f"{self.input_shape} (batch first), got x of shape {x.shape}{hint}")

    # -- training ---------------------------------------------------------------------------
    def train_step(self, x, y):
        """One step of gradient descent on the batch (x, y); returns a ``Step``.

        This is exactly the step ``fit`` runs on each batch: on its own, N calls on N batches
        give the same weights as ``fit(..., shuffle=False)`` over them. x: (N, *input_shape);
        y: targets as for ``fit``. Unlike ``fit`` it sets no BLAS thread limits.
        """
        if not self._prepared(x, y):
            x, y = self._prepare(x, y, "train_step")
        self.skip_input_grad = True      # nothing needs dL/dx of the model's input
        try:
            y_hat = self.forward(x, training=True)
            loss_sum, grad, hits = self._head(y, y_hat)
            self._head.backward(self, grad)
        finally:
            self.skip_input_grad = False
        params, grads = self._trainable
        self.optimizer.apply(grads, params)
        rows = y_hat.size // y_hat.shape[-1]
        return Step(loss_sum + self.added_loss() * rows, rows, y_hat, hits)

    def fit(self, x, y, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0):
        """Train for ``epochs`` passes over (x, y). Returns a History whose ``.history`` holds
        one value per epoch for "loss", each metric, and "val_*" with validation data.

        x: (N, *input_shape); y: targets as the loss wants them (one-hot (N, K) for
        categorical cross-entropy, labels (N,) for the sparse one).
        verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.
        """
        self._require_compiled("fit")
        _check_hyper(batch_size, epochs, validation_split)
        x, y = self._prepare(x, y, "fit")
        self._trainable = _trainable_lists(self)   # layers' trainable flags may have changed
        if validation_data is None and validation_split:
            # as Keras: the last fraction of the data, taken before shuffling
            cut = int(len(x) * (1 - validation_split))
            x, y, validation_data = x[:cut], y[:cut], (x[cut:], y[cut:])
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (x_val, y_val)")
            xv, yv = self._prepare(*validation_data, "fit (validation_data)")
        n = len(x)
        same_xy = _same_array(x, y)
        steps = math.ceil(n / batch_size)
        history = History()
        cbs = [history] + list(callbacks or [])
        if verbose:
            cbs.append(ProgressBar(verbose))
        names = ["loss"] + [m.name for m in self.metrics]
        params = {"epochs": epochs, "steps": steps, "batch_size": batch_size, "verbose": verbose,
                  "metrics": names + ([f"val_{m}" for m in names] if validation_data else [])}
        for cb in cbs:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be dlkit.callbacks.Callback instances, got {cb!r}")
            cb.set_model(self)
            cb.set_params(params)
        batch_cbs = [cb for cb in cbs if cb.wants_batch_logs()]
        self.stop_training = False
        self.history = history
        logs = {}
        with blas_policy() as threads, compile_notice(verbose) as notice:
            for cb in cbs:
                cb.on_train_begin()
            for epoch in range(initial_epoch, epochs):
                for cb in cbs:
                    cb.on_epoch_begin(epoch)
                snapshot = [p.copy() for p in self._trainable[0]]
                order = self._rng.permutation(n) if shuffle else None
                tally = Tally(self.metrics, self._head.hits_metric)
                for b in range(steps):
                    xb, yb = _batch(x, y, order, b * batch_size, batch_size, same_xy)
                    step = self.train_step(xb, yb)
                    threads.step_done()
                    if notice is not None:
                        notice.done()   # the kernels this step needed are compiled
                    if not math.isfinite(step.loss_sum):
                        self._diverged(epoch, b, steps, step.loss_sum, snapshot)
                        return history
                    tally.add(step.loss_sum, step.rows, yb, step.y_hat, step.hits)
                    if batch_cbs:
                        blogs = tally.logs()
                        for cb in batch_cbs:
                            cb.on_train_batch_end(b, blogs)
                logs = tally.logs()
                if validation_data is not None:
                    val = self._evaluate_arrays(xv, yv, batch_size, threads)
                    logs.update({f"val_{k}": v for k, v in zip(val.names, val.values())})
                for cb in cbs:
                    cb.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            for cb in cbs:
                cb.on_train_end(logs)
        return history

    def _diverged(self, epoch, batch, steps, total, snapshot):
        params = self._trainable[0]
        if not all(np.isfinite(p).all() for p in params):
            for p, s in zip(params, snapshot):
                p[...] = s
            restored = (" The weights had become non-finite, so the model was reset to the "
                        f"weights it had at the start of epoch {epoch + 1}.")
        else:
            restored = " The model keeps the last weights, which are all finite."
        self.stop_training = True
        warnings.warn(
            f"loss became {total} at epoch {epoch + 1}, batch {batch + 1}/{steps}; training "
            f"stopped.{restored} Try a smaller learning_rate (now "
            f"{self.optimizer.learning_rate:g}), gradient clipping (clipnorm=1.0), or check the "
            "inputs' scale (divide pixels by 255).", DivergenceWarning, stacklevel=3)

    # -- inference --------------------------------------------------------------------------
    def predict(self, x, batch_size=32, verbose=0):
        """Outputs for x: (N, *input_shape) -> (N, *output_shape), in batches, inference mode."""
        if not self.built:
            self.build((None,) + np.shape(x)[1:])
        x = np.asarray(x)
        self._check_x(x, "predict")
        x = np.ascontiguousarray(x, dtype=self.dtype)
        outs = []
        with blas_policy() as threads, compile_notice(verbose):
            for i in range(0, len(x), batch_size):
                outs.append(self.forward(x[i:i + batch_size]).copy())
                threads.step_done()
        return np.concatenate(outs) if outs else np.empty((0,) + self.output_shape[1:], self.dtype)

    def evaluate(self, x, y, batch_size=32, verbose=0, return_dict=False):
        """Loss (and metrics) on (x, y): a float, or [loss, metric, ...] as Keras returns."""
        x, y = self._prepare(x, y, "evaluate")
        with blas_policy() as threads, compile_notice(verbose):
            tally = self._evaluate_arrays(x, y, batch_size, threads)
        vals = tally.values()
        if return_dict:
            return dict(zip(tally.names, vals))
        return vals[0] if len(vals) == 1 else vals

    def _evaluate_arrays(self, x, y, batch_size, threads):
        """The Tally of loss and metrics over (x, y) in batches, inference mode."""
        tally = Tally(self.metrics, self._head.hits_metric)
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            y_hat = self.forward(xb)
            loss_sum, _, hits = self._head(yb, y_hat)
            rows = y_hat.size // y_hat.shape[-1]
            tally.add(loss_sum + self.added_loss() * rows, rows, yb, y_hat, hits)
            threads.step_done()
        return tally


def _trainable_lists(model):
    """([params], [grads]) of the trainable weights, in the order the optimizer keeps state."""
    pairs = model.trainable_pairs()
    return [p for p, _ in pairs], [g for _, g in pairs]


def _check_finite(a, what):
    if np.issubdtype(a.dtype, np.floating) and a.size and not _all_finite(a):
        bad = np.argwhere(~np.isfinite(a.reshape(len(a), -1)))[:, 0]
        raise ValueError(f"{what} contains NaN or infinite values (in {len(np.unique(bad))} "
                         f"samples, first at row {bad[0]}); clean or drop those samples")


def _batch(x, y, order, start, size, same_xy):
    """Rows start:start+size of (x, y), in the epoch's shuffled order if there is one.

    Gathering each batch when it is needed (rather than a shuffled copy of the whole set per
    epoch) keeps it in cache for the step that uses it. An autoencoder's targets are its
    inputs (same_xy): one gathered batch serves both, since layers never write to their input.
    """
    if order is None:
        xb = x[start:start + size]
        return xb, (xb if same_xy else y[start:start + size])
    idx = order[start:start + size]
    xb = x.take(idx, axis=0)
    return xb, (xb if same_xy else y.take(idx, axis=0))


def _same_array(a, b):
    """True when a and b are the same data (the same array, or equal views of one buffer)."""
    if a is b:
        return True
    return (a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _all_finite(a):
    """True when no element of the float array a is NaN or infinite.

    The sum of squares (one BLAS pass, no temporary array; np.isfinite(a).all() allocates a
    boolean array as large as the data) is finite exactly when every element is, unless the
    squares overflow; only then are min and max (which propagate NaN) consulted.
    """
    flat = a.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.dot(flat, flat)):
            return True
    return bool(np.isfinite(a.min()) and np.isfinite(a.max()))


def _check_hyper(batch_size, epochs, validation_split):
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}")
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
