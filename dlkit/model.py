"""Sequential: a stack of layers with Keras's compile / fit / evaluate / predict.

Training, step by step (``fit`` and ``train_step`` below are the whole algorithm):

    for each epoch:
        shuffle the samples once, into one contiguous copy
        for each batch (xb, yb):
            y_hat = layer_k(...layer_1(xb))          forward, each layer caching what it needs
            loss, dL/dy_hat = loss(yb, y_hat)          (or dL/dz from the logits: fused head)
              + the terms layers add (a VAE's KL), whose gradient their backward includes
            for each layer, last to first: dL/dx = layer.backward(dL/dy)
            optimizer.apply(grads, params)
            callbacks (progress bar, live curves, early stopping)

A Sequential is itself a Layer, so models nest: ``Sequential([encoder, decoder])`` shares the
encoder's weights with the autoencoder rather than copying them.
"""
import math
import re
import warnings

import numpy as np

from . import losses as losses_mod
from . import metrics as metrics_mod
from . import optimizers as optimizers_mod
from ._compiling import compile_notice
from ._threads import single_threaded_kernel_blas
from .callbacks import Callback, History, ProgressBar
from .errors import DivergenceWarning, NotCompiledError, ShapeError
from .layers.base import Layer, set_sublayer_weights

__all__ = ["Sequential"]


def _snake(name):
    # Keras's layer-name rule: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, LSTM -> lstm
    s = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()


class Sequential(Layer):
    """A linear stack of layers.

        model = Sequential([Dense(32, activation="relu", input_shape=(784,)),
                            Dense(10, activation="softmax")])
        model.compile(optimizer=SGD(learning_rate=0.01, momentum=0.9),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=10, batch_size=32, validation_data=(xv, yv))
    """

    def __init__(self, layers=None, name=None, seed=None, **kwargs):
        super().__init__(name=name, seed=seed, **kwargs)
        self.layers = []
        self.optimizer = self.loss = None
        self.metrics = []
        self._resolved = False
        self.stop_training = False
        self.history = None
        self._loss_adders = None   # set by fit: the layers whose added_loss can be non-zero
        for layer in layers or []:
            self.add(layer)

    # -- structure --------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (or a whole Sequential, whose weights are then shared)."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential takes dlkit layers, got {layer!r} ({type(layer).__name__})")
        if layer.name is None:
            base = _snake(type(layer).__name__)
            taken = {l.name for l in self.layers}
            layer.name, i = base, 0
            while layer.name in taken:
                i += 1
                layer.name = f"{base}_{i}"
        elif layer.name in {l.name for l in self.layers}:
            raise ValueError(f"a layer named {layer.name!r} is already in the model")
        self.layers.append(layer)
        self.built = False
        first = self.layers[0]
        shape = first._declared_input_shape
        if shape is None and first.built:
            shape = first.input_shape[1:]
        if shape is not None:
            self.build((None,) + tuple(shape))

    def build(self, input_shape):
        shape = tuple(input_shape)
        self.input_shape = shape
        for layer in self.layers:
            if layer.built and layer.input_shape[1:] != shape[1:]:
                raise ShapeError(
                    f"layer {layer.name!r} ({type(layer).__name__}) was built for inputs of shape "
                    f"{layer.input_shape} but the layer before it outputs {shape}")
            shape = layer.maybe_build(shape)
        self.output_shape = shape
        self.built = True

    def compute_output_shape(self, input_shape):
        if not self.built:
            self.build(input_shape)
        return self.output_shape

    @property
    def params(self):
        return [p for layer in self.layers for p in layer.params]

    @property
    def grads(self):
        return [g for layer in self.layers for g in layer.grads]

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def param_names(self):
        return [f"{layer.name}/{n}" for layer in self.layers for n in layer.param_names]

    @property
    def weight_names(self):
        return [f"{layer.name}/{n}" for layer in self.layers for n in layer.weight_names]

    def trainable_pairs(self):
        if not self.trainable:
            return []
        return [pair for layer in self.layers for pair in layer.trainable_pairs()]

    def get_layer(self, name=None, index=None):
        """A layer by name or by position (as Keras)."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; layers: {[l.name for l in self.layers]}")

    @property
    def parallel_kernels(self):
        return any(layer.parallel_kernels for layer in self.layers)

    @property
    def activation(self):
        """The last layer's output activation (what the fused loss head looks for)."""
        return getattr(self.layers[-1], "activation", None) if self.layers else None

    @property
    def skip_input_grad(self):
        return self.layers[0].skip_input_grad if self.layers else False

    @skip_input_grad.setter
    def skip_input_grad(self, value):
        # only the very first leaf layer of the outermost model may skip its input gradient
        if self.layers:
            self.layers[0].skip_input_grad = value

    # -- the layer contract -----------------------------------------------------------------
    def forward(self, x, training=False):
        """x: (N, *input_shape) -> (N, *output_shape), through every layer in turn."""
        if not self.layers:
            raise ValueError("the model has no layers; add some with model.add(...)")
        if not self.built:
            self.build((None,) + tuple(np.shape(x)[1:]))
        mask = None   # Embedding(mask_zero=True) -> the next (recurrent) layer skips padding
        for layer in self.layers:
            if mask is not None and getattr(layer, "supports_masking", False):
                x = layer.forward(x, training=training, mask=mask)
            else:
                x = layer.forward(x, training=training)
            mask = getattr(layer, "output_mask", None)
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def backward_logits(self, dz):
        """Backward from dL/dz of the last layer's pre-activation (the fused loss head)."""
        dz = self.layers[-1].backward_logits(dz)
        for layer in reversed(self.layers[:-1]):
            dz = layer.backward(dz)
        return dz

    def adds_loss(self):
        """True when some layer may add a term to the loss (see ``added_loss``)."""
        return any(_adds_loss(layer) for layer in self.layers)

    def added_loss(self):
        """Loss terms the layers add to the model's loss: weight penalties (L2) and terms of the
        last forward pass (a VAE's KL divergence, a mean over the batch). Protocol: a layer with
        ``added_loss()`` reports its term, and its ``backward`` already includes that term's
        gradient; the model only adds the values to the loss it reports."""
        return sum(layer.added_loss() for layer in self.layers if hasattr(layer, "added_loss"))

    # -- compile ----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer, the loss and the metrics (names or objects, as Keras)."""
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='categorical_crossentropy'")
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = losses_mod.get(loss)
        self._metric_ids = list(metrics or [])
        self.metrics = []
        self._resolved = False
        if self.built:
            self._resolve_metrics()

    def _resolve_metrics(self):
        self._resolved = True
        self.metrics = [metrics_mod.get(m, self.loss, self.output_shape) for m in self._metric_ids]
        head = self._last_leaf()
        # Fused head: softmax/sigmoid output + matching cross-entropy, computed from the logits.
        self._fused = (not self.loss.from_logits and self.loss.fused_activation is not None
                       and getattr(head, "activation", None) == self.loss.fused_activation
                       and hasattr(head, "backward_logits"))
        self._head = head
        # fit's accuracy, when the fused loss kernel counts it in its own pass
        want = (metrics_mod.SparseCategoricalAccuracy if self.loss.sparse
                else metrics_mod.CategoricalAccuracy)
        self._hits_metric = next((i for i, m in enumerate(self.metrics) if type(m) is want),
                                 None) if self._fused and self.loss.counts_hits else None

    def _last_leaf(self):
        layer = self
        while isinstance(layer, Sequential):
            layer = layer.layers[-1]
        return layer

    def _require_compiled(self, what):
        if self.loss is None:
            raise NotCompiledError(f"call model.compile(optimizer=..., loss=...) before {what}")

    # -- data -------------------------------------------------------------------------------
    def _prepare(self, x, y, what):
        x = np.asarray(x)
        if x.dtype == object:
            raise TypeError(f"{what}: x must be a numeric array, got dtype object")
        if not self.built:
            self.build((None,) + x.shape[1:])
        if not self._resolved:
            self._resolve_metrics()
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
    def train_step(self, xb, yb):
        """One step of gradient descent on a batch. Returns (loss sum, rows, y_hat, hits):
        hits, the rows classified right, when the fused loss counted them, else None."""
        y_hat = self.forward(xb, training=True)
        hits = None
        if self._fused:
            z = self._head._z
            k = z.shape[-1]
            t = _targets_rows(yb, k, self.loss)
            flat = z.ndim == 2 and y_hat.ndim == 2   # the common case skips the reshapes
            z2 = z if flat else z.reshape(-1, k)
            p2 = y_hat if flat else y_hat.reshape(-1, k)
            if self._hits_metric is not None:
                total, _, dz, hits = self.loss.value_and_grad_logits(t, z2, p2, with_hits=True)
            else:
                total, _, dz = self.loss.value_and_grad_logits(t, z2, p2)
            self.backward_logits(dz if flat else dz.reshape(z.shape))
        else:
            k = y_hat.shape[-1]
            total, dy = self.loss.value_and_grad(_targets_rows(yb, k, self.loss),
                                                 y_hat.reshape(-1, k))
            self.backward(dy.reshape(y_hat.shape))
        self.optimizer.apply(self._grads_list, self._params_list)
        rows = y_hat.size // y_hat.shape[-1]
        if self._loss_adders is None or self._loss_adders:   # fit lists the layers that add one
            total += self.added_loss() * rows
        return total, rows, y_hat, hits

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
        pairs = self.trainable_pairs()
        self._params_list = [p for p, _ in pairs]
        self._grads_list = [g for _, g in pairs]
        self.stop_training = False
        self.history = history
        self.skip_input_grad = True
        self._loss_adders = [layer for layer in self.layers if _adds_loss(layer)]
        hit_i = self._hits_metric
        logs = {}
        try:
            with single_threaded_kernel_blas(everything=self.parallel_kernels), \
                    compile_notice(verbose) as notice:
                for cb in cbs:
                    cb.on_train_begin()
                for epoch in range(initial_epoch, epochs):
                    for cb in cbs:
                        cb.on_epoch_begin(epoch)
                    snapshot = [p.copy() for p in self._params_list]
                    order = self._rng.permutation(n) if shuffle else None
                    loss_sum, rows = 0.0, 0
                    sums = [0.0] * len(self.metrics)
                    counts = [0] * len(self.metrics)
                    for b in range(steps):
                        xb, yb = _batch(x, y, order, b * batch_size, batch_size, same_xy)
                        total, r, y_hat, hits = self.train_step(xb, yb)
                        if notice is not None:
                            notice.done()   # the kernels this step needed are compiled
                        if not math.isfinite(total):
                            self._diverged(epoch, b, steps, total, snapshot)
                            return history
                        loss_sum += total
                        rows += r
                        for i, m in enumerate(self.metrics):
                            s, c = (hits, r) if i == hit_i else m.update(yb, y_hat)
                            sums[i] += s
                            counts[i] += c
                        if batch_cbs:
                            blogs = _logs(names, loss_sum / rows, sums, counts)
                            for cb in batch_cbs:
                                cb.on_train_batch_end(b, blogs)
                    logs = _logs(names, loss_sum / rows, sums, counts)
                    if validation_data is not None:
                        vals = self._evaluate_arrays(xv, yv, batch_size)
                        logs.update({f"val_{k}": v for k, v in zip(names, vals)})
                    for cb in cbs:
                        cb.on_epoch_end(epoch, logs)
                    if self.stop_training:
                        break
                for cb in cbs:
                    cb.on_train_end(logs)
        finally:
            self.skip_input_grad = False
            self._loss_adders = None
        return history

    def _diverged(self, epoch, batch, steps, total, snapshot):
        restored = ""
        if not all(np.isfinite(p).all() for p in self._params_list):
            for p, s in zip(self._params_list, snapshot):
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
        with single_threaded_kernel_blas(everything=self.parallel_kernels), \
                compile_notice(verbose):
            outs = [self.forward(x[i:i + batch_size]).copy() for i in range(0, len(x), batch_size)]
        return np.concatenate(outs) if outs else np.empty((0,) + self.output_shape[1:], self.dtype)

    def evaluate(self, x, y, batch_size=32, verbose=0, return_dict=False):
        """Loss (and metrics) on (x, y): a float, or [loss, metric, ...] as Keras returns."""
        self._require_compiled("evaluate")
        x, y = self._prepare(x, y, "evaluate")
        with single_threaded_kernel_blas(everything=self.parallel_kernels), \
                compile_notice(verbose):
            vals = self._evaluate_arrays(x, y, batch_size)
        names = ["loss"] + [m.name for m in self.metrics]
        if return_dict:
            return dict(zip(names, vals))
        return vals[0] if len(vals) == 1 else vals

    def _evaluate_arrays(self, x, y, batch_size):
        loss_sum, rows = 0.0, 0
        sums = [0.0] * len(self.metrics)
        counts = [0] * len(self.metrics)
        for i in range(0, len(x), batch_size):
            xb, yb = x[i:i + batch_size], y[i:i + batch_size]
            y_hat = self.forward(xb)
            k = y_hat.shape[-1]
            t = _targets_rows(yb, k, self.loss)
            if self._fused:
                z = self._head._z
                loss_sum += self.loss.value_and_grad_logits(t, z.reshape(-1, k),
                                                            y_hat.reshape(-1, k))[0]
            else:
                loss_sum += self.loss.value_and_grad(t, y_hat.reshape(-1, k))[0]
            loss_sum += self.added_loss() * (y_hat.size // k)
            rows += y_hat.size // k
            for j, m in enumerate(self.metrics):
                s, c = m.update(yb, y_hat)
                sums[j] += s
                counts[j] += c
        vals = [loss_sum / rows]
        vals += [s / c for s, c in zip(sums, counts)]
        return [float(v) for v in vals]

    # -- weights, summary, saving -----------------------------------------------------------
    def set_weights(self, weights):
        set_sublayer_weights(f"model {self.name!r}", self.layers, weights)

    def summary(self, print_fn=print):
        """Print a Keras-style table: each layer's output shape and parameter count."""
        from .summary import summary_text

        print_fn(summary_text(self))

    def save(self, path):
        """Save architecture, weights and compile settings to one ``.npz`` file (atomic)."""
        from .saving import save_model

        save_model(self, path)

    def save_weights(self, path):
        from .saving import save_weights

        save_weights(self, path)

    def load_weights(self, path):
        from .saving import load_weights

        load_weights(self, path)

    def get_config(self):
        cfg = {"name": self.name, "trainable": self.trainable,
               "layers": [{"class_name": type(l).__name__, "config": l.get_config()}
                          for l in self.layers]}
        if self.seed is not None:
            cfg["seed"] = self.seed
        return cfg

    @classmethod
    def from_config(cls, config):
        from .layers.base import get_layer_class

        layers = [get_layer_class(c["class_name"]).from_config(c["config"])
                  for c in config["layers"]]
        return cls(layers, name=config.get("name"), seed=config.get("seed"))

    def __repr__(self):
        inner = ", ".join(repr(l) for l in self.layers)
        name = f", name={self.name!r}" if self.name else ""
        return f"Sequential([{inner}]{name})"


def _adds_loss(layer):
    """Whether a layer can add a loss term: it has ``added_loss``, and ``adds_loss()`` (if it
    has one) does not rule it out (a Dense without a regulariser adds nothing)."""
    if not hasattr(layer, "added_loss"):
        return False
    adds = getattr(layer, "adds_loss", None)
    return adds() if adds is not None else True


def _targets_rows(yb, k, loss):
    if loss.sparse:
        return yb if yb.ndim == 1 else yb.reshape(-1)
    return yb if yb.ndim == 2 and yb.shape[1] == k else yb.reshape(-1, k)


def _logs(names, loss, sums, counts):
    logs = {names[0]: float(loss)}
    for name, s, c in zip(names[1:], sums, counts):
        logs[name] = s / c
    return logs


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
