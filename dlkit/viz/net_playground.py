"""A network playground (the idea of TensorFlow Playground, in a notebook).

    viz.playground()                                  # widget: data, network, play / pause / step
    viz.plot_playground("xor", hidden=(4,), epochs=100)   # the same picture, static

Pick a 2-D dataset and its noise, the hidden layers and units, the activation, the learning
rate, L2 and batch size; press play. A dlkit ``Sequential`` (Dense layers, a sigmoid output,
binary cross-entropy) trains epoch after epoch while the picture shows the decision boundary
over the training (filled) and test (hollow) points, the training and test loss per epoch,
and what every hidden unit computes over the plane.

Training runs in a background thread, so the notebook (and the pause button) stays
responsive; each frame trains for about ``frame_seconds`` and then redraws once.
"""
import threading
import time

import numpy as np

from ..words import say
from .render import WidgetFigure, log_slider, new_figure

__all__ = ["DATASETS", "PlaygroundSession", "draw_playground", "plot_playground",
           "Playground", "playground"]


def _blobs(n, noise, seed):
    from ..datasets.synthetic import blobs

    return blobs(n, centers=[[-0.6, -0.6], [0.6, 0.6]], cluster_std=0.2 + noise, seed=seed)


def _dataset(name):
    from ..datasets import synthetic

    if name == "blobs":
        return _blobs
    fn = getattr(synthetic, name)
    return lambda n, noise, seed: fn(n, noise=noise, seed=seed)


DATASETS = ("spirals", "moons", "circles", "xor", "blobs")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
OPTIMIZERS = ("sgd", "momentum", "adam")
L2_CHOICES = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)


class PlaygroundSession:
    """Data, network and loss curves of one playground run (no widgets: also for static plots).

    Data: ``n_samples`` points from ``DATASETS[dataset]``, half for training, half for test.
    Network: ``hidden`` Dense layers (units each) with ``activation`` and L2 penalty ``l2``,
    then Dense(1, sigmoid); binary cross-entropy. ``train_epoch()`` is one pass of ``fit``.
    """

    def __init__(self, dataset="spirals", noise=0.1, hidden=(6, 6), activation="tanh",
                 learning_rate=0.03, optimizer="adam", l2=0.0, batch_size=10, n_samples=400,
                 seed=0, grid=48):
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; choose one of {DATASETS}")
        self.dataset, self.noise, self.seed = dataset, float(noise), seed
        self.hidden, self.activation, self.l2 = tuple(int(u) for u in hidden), activation, l2
        self.batch_size = int(batch_size)
        X, y = _dataset(dataset)(n_samples, self.noise, seed)
        half = n_samples // 2
        self.x_train, self.y_train = X[:half], y[:half].astype(np.float32).reshape(-1, 1)
        self.x_test, self.y_test = X[half:], y[half:].astype(np.float32).reshape(-1, 1)
        lo, hi = X.min(axis=0) - 0.25, X.max(axis=0) + 0.25
        self.extent = (lo[0], hi[0], lo[1], hi[1])
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], grid), np.linspace(lo[1], hi[1], grid))
        self.grid_shape = gx.shape
        self.grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
        self.model = self._build(learning_rate, optimizer)
        self.epochs, self.train_loss, self.test_loss = 0, [], []

    def _build(self, learning_rate, optimizer):
        from ..layers import Dense
        from ..model import Sequential
        from ..regularizers import L2
        from .explorer import make_optimizer

        reg = L2(self.l2) if self.l2 else None
        layers = [Dense(u, activation=self.activation, kernel_regularizer=reg,
                        seed=self.seed * 100 + i, **({"input_shape": (2,)} if i == 0 else {}))
                  for i, u in enumerate(self.hidden)]
        layers.append(Dense(1, activation="sigmoid", seed=self.seed * 100 + 99,
                            **({} if layers else {"input_shape": (2,)})))
        model = Sequential(layers, seed=self.seed)
        model.compile(optimizer=make_optimizer(optimizer, learning_rate),
                      loss="binary_crossentropy", metrics=["accuracy"])
        return model

    def train_epoch(self):
        """One epoch of minibatch training; appends the training and test loss."""
        h = self.model.fit(self.x_train, self.y_train, batch_size=self.batch_size, epochs=1,
                           verbose=0)
        self.epochs += 1
        self.train_loss.append(h.history["loss"][-1])
        self.test_loss.append(float(self.model.evaluate(self.x_test, self.y_test,
                                                        batch_size=256)[0]))

    def unit_outputs(self):
        """[(grid_h, grid_w, units) for each hidden layer] + [(grid_h, grid_w, 1) output]."""
        outs, a = [], self.grid
        for layer in self.model.layers:
            a = layer.forward(a)
            outs.append(a.reshape(*self.grid_shape, -1))
        return outs


def _mosaic(outs, gap=2):
    """The hidden units' outputs side by side, one row per layer: (rows, cols) with NaN gaps.
    Each unit is scaled by its largest |value|, so its pattern shows whatever its range."""
    if not outs:
        return None
    h, w = outs[0].shape[:2]
    cols = max(o.shape[-1] for o in outs)
    img = np.full((len(outs) * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for r, o in enumerate(outs):
        for u in range(o.shape[-1]):
            a = o[::-1, :, u]   # drawn with origin="upper": flip so y grows upwards
            img[r * (h + gap):r * (h + gap) + h, u * (w + gap):u * (w + gap) + w] = \
                a / max(float(np.abs(a).max()), 1e-12)
    return img


def draw_playground(session, fig=None, artists=None):
    """Draw (or, given ``artists`` from the previous call, update) the playground picture.

    Returns (fig, artists). The first call builds the axes; later calls only replace image
    data and line data, so a frame costs one render.
    """
    s = session
    outs = s.unit_outputs()
    prob = outs[-1][..., 0]
    mosaic = _mosaic(outs[:-1])
    epochs = np.arange(1, s.epochs + 1)
    if artists is None:
        fig = fig or new_figure((10.0, 3.6), 80, layout=None)
        fig.clear()
        ax_units, ax_map, ax_loss = fig.subplots(1, 3, width_ratios=[1.0, 1.1, 1.0])
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
        artists = {"map": ax_map.imshow(prob, extent=s.extent, origin="lower", cmap="RdBu",
                                        vmin=0, vmax=1, aspect="auto", alpha=0.8,
                                        interpolation="bilinear")}
        for X, Y, hollow in ((s.x_train, s.y_train, False), (s.x_test, s.y_test, True)):
            colors = np.where(Y[:, 0] > 0.5, "tab:blue", "tab:orange")
            ax_map.scatter(X[:, 0], X[:, 1], s=12, c="none" if hollow else colors,
                           edgecolors=colors if hollow else "white", linewidths=0.6)
        ax_map.set_xlim(s.extent[:2])
        ax_map.set_ylim(s.extent[2:])
        artists["title"] = ax_map.set_title("", fontsize=9)
        ax_map.set_xlabel("x1", fontsize=8)
        ax_map.set_ylabel("x2", fontsize=8)
        artists["train"], = ax_loss.plot([], [], "-", label="training loss")
        artists["test"], = ax_loss.plot([], [], "--", label="test loss")
        ax_loss.set_xlabel("epoch")
        ax_loss.set_ylabel("loss (binary cross-entropy)", fontsize=8)
        ax_loss.set_title("training and test loss", fontsize=9)
        ax_loss.grid(True, alpha=0.3)
        ax_loss.legend(fontsize=8)
        artists["ax_loss"] = ax_loss
        ax_units.set_axis_off()
        ax_units.set_title("hidden units (a row per layer, first on top)", fontsize=9)
        if mosaic is None:
            ax_units.text(0.5, 0.5, "no hidden layer:\na linear classifier", ha="center",
                          va="center", transform=ax_units.transAxes)
            artists["units"] = None
        else:
            artists["units"] = ax_units.imshow(mosaic, cmap="RdBu", vmin=-1, vmax=1,
                                               origin="upper", interpolation="nearest")
    artists["map"].set_data(prob)
    if artists["units"] is not None:
        artists["units"].set_data(mosaic)
    artists["train"].set_data(epochs, s.train_loss)
    artists["test"].set_data(epochs, s.test_loss)
    ax = artists["ax_loss"]
    ax.set_xlim(0, max(s.epochs, 10))
    losses = [v for v in s.train_loss + s.test_loss if np.isfinite(v) and v > 0]
    if losses:
        ax.set_ylim(0, max(losses) * 1.1)
    test = f", test loss {s.test_loss[-1]:.3f}" if s.test_loss else ""
    artists["title"].set_text(f"{s.dataset}, epoch {s.epochs}{test}")
    return fig, artists


def plot_playground(dataset="spirals", epochs=100, **settings):
    """Train a PlaygroundSession(dataset, **settings) for ``epochs`` epochs; return the Figure."""
    session = PlaygroundSession(dataset, **settings)
    for _ in range(epochs):
        session.train_epoch()
    return draw_playground(session)[0]


class Playground(WidgetFigure):
    """Widget: the playground. ``self.controls``: dataset, noise, layers, units, activation,
    optimizer, learning_rate, l2, batch_size, play (a toggle). ``self.step()`` trains one
    epoch, ``self.play()`` / ``self.pause()`` start and stop the background training,
    ``self.reset()`` starts afresh. ``self.session`` holds the data, model and curves.
    """

    def __init__(self, dataset="spirals", noise=0.1, layers=2, units=6, activation="tanh",
                 optimizer="adam", learning_rate=0.01, l2=0.0, batch_size=10, seed=0,
                 frame_seconds=0.05):
        import ipywidgets as w

        self.seed, self.frame_seconds = seed, frame_seconds
        self._lock = threading.RLock()
        self._thread = None
        self._init_image()
        self.figure = new_figure((10.0, 3.6), 80, layout=None)
        slider = dict(continuous_update=False, style={"description_width": "initial"})
        c = self.controls = dict(
            dataset=w.Dropdown(options=[(say(d), d) for d in DATASETS], value=dataset,
                               description=say("data")),
            noise=w.FloatSlider(value=noise, min=0, max=0.5, step=0.05, description=say("noise"),
                                **slider),
            layers=w.IntSlider(value=layers, min=0, max=4, description=say("hidden layers"), **slider),
            units=w.IntSlider(value=units, min=1, max=8, description=say("units"), **slider),
            activation=w.Dropdown(options=ACTIVATIONS, value=activation,
                                  description=say("activation")),
            optimizer=w.Dropdown(options=[(say(o), o) for o in OPTIMIZERS], value=optimizer,
                                 description=say("optimizer")),
            learning_rate=log_slider("learning rate", learning_rate, -4, 0),
            l2=w.Dropdown(options=L2_CHOICES, value=l2, description="L2"),
            batch_size=w.IntSlider(value=batch_size, min=1, max=64, description=say("batch size"),
                                   **slider),
            play=w.ToggleButton(value=False, description=say("play"), icon="play"),
        )
        self.step_button = w.Button(description=say("step"), icon="step-forward")
        self.reset_button = w.Button(description=say("reset"), icon="refresh")
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        for k in ("dataset", "noise", "layers", "units", "activation", "optimizer", "l2"):
            c[k].observe(self._changed, names="value")      # a new network and data
        c["learning_rate"].observe(self._set_learning_rate, names="value")
        c["batch_size"].observe(self._set_batch_size, names="value")
        c["play"].observe(self._toggle, names="value")
        self.widget = w.VBox([
            w.HBox([c["play"], self.step_button, self.reset_button, c["dataset"], c["noise"]]),
            w.HBox([c["layers"], c["units"], c["activation"]]),
            w.HBox([c["optimizer"], c["learning_rate"], c["l2"], c["batch_size"]]),
            self.image])
        self.update()

    def update(self):
        """Start afresh from the controls: new data, new network, empty curves."""
        c = self.controls
        with self._lock:
            self.session = PlaygroundSession(
                c["dataset"].value, c["noise"].value, (c["units"].value,) * c["layers"].value,
                c["activation"].value, c["learning_rate"].value, c["optimizer"].value,
                c["l2"].value, c["batch_size"].value, seed=self.seed)
            self._artists = None
            self._redraw()

    reset = update

    def _redraw(self):
        self.figure, self._artists = draw_playground(self.session, self.figure, self._artists)
        self.refresh()

    def step(self, epochs=1):
        """Train ``epochs`` epochs and redraw once."""
        with self._lock:
            for _ in range(epochs):
                self.session.train_epoch()
            self._redraw()

    def _set_learning_rate(self, change):
        with self._lock:
            self.session.model.optimizer.learning_rate = change["new"]

    def _set_batch_size(self, change):
        with self._lock:
            self.session.batch_size = int(change["new"])

    def play(self):
        self.controls["play"].value = True

    def pause(self):
        """Stop the background training and wait for its current frame to finish."""
        self.controls["play"].value = False
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _toggle(self, change):
        c = self.controls["play"]
        c.description, c.icon = (say("pause"), "pause") if change["new"] else (say("play"), "play")
        if change["new"] and (self._thread is None or not self._thread.is_alive()):
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="dlkit-playground")
            self._thread.start()

    def _run(self):
        # each frame trains for about frame_seconds, then draws once: fast networks train
        # many epochs per picture, slow ones one
        while self.controls["play"].value:
            with self._lock:
                t = time.perf_counter()
                self.session.train_epoch()
                while time.perf_counter() - t < self.frame_seconds:
                    self.session.train_epoch()
                self._redraw()
            time.sleep(0.01)  # let the kernel handle the pause button between frames

    def __repr__(self):
        s = self.session
        return (f"Playground(dataset={s.dataset!r}, noise={s.noise:g}, hidden={list(s.hidden)}, "
                f"activation={s.activation!r}, epochs={s.epochs})")


def playground(dataset="spirals", **kwargs):
    """Show a Playground (see its docstring) and return it."""
    return Playground(dataset, **kwargs)
