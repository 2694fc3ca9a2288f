"""The early-stopping explorer (dlkit.viz.stopping): the decision it shows is the one
dlkit's EarlyStopping takes during fit, and the widget behaves like the book's other widgets.

Headless: setting a control's ``.value`` runs its observers at once.
"""
import statistics
import time

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import dlkit  # noqa: E402
from dlkit import Sequential, viz  # noqa: E402
from dlkit.callbacks import EarlyStopping  # noqa: E402
from dlkit.layers import Dense  # noqa: E402
from widget_helpers import PNG_MAGIC, live_figures  # noqa: E402


def recorded(n=40, seed=0):
    """A history shaped like an overfitting run: training loss falls, validation loss has a
    noisy minimum and rises again, validation accuracy creeps up."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return {"loss": 1.5 * np.exp(-t / 5) + 0.01,
            "accuracy": 1 - 0.5 * np.exp(-t / 5),
            "val_loss": 0.5 + 0.9 * np.exp(-t / 3) + 0.004 * t + 0.01 * rng.standard_normal(n),
            "val_accuracy": 0.9 - 0.3 * np.exp(-t / 4) + 0.005 * rng.standard_normal(n)}


def own_rule(values, patience, min_delta=0.0, mode="min", start_from_epoch=0):
    """Keras 3's rule written out (the book's chapter 7 version): (epochs run, best epoch)."""
    sign = 1 if mode == "min" else -1
    best, best_epoch, wait = np.inf, None, 0
    for epoch, v in enumerate(values, start=1):
        if epoch <= start_from_epoch:
            continue
        if sign * v < best - min_delta:
            best, best_epoch, wait = sign * v, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return len(values), best_epoch


# -- the replay is EarlyStopping's decision ------------------------------------------------
def test_replay_hand_made_sequence():
    h = {"val_loss": [0.90, 0.70, 0.62, 0.60, 0.61, 0.595, 0.63, 0.64, 0.66, 0.70]}
    r = viz.replay_early_stopping(h, patience=3)
    assert (r.stopped_epoch, r.restored_epoch, r.epochs_saved) == (9, 6, 1)
    # an improvement of 0.005 does not count with min_delta 0.01: epoch 4 is kept
    r = viz.replay_early_stopping(h, patience=3, min_delta=0.01)
    assert (r.stopped_epoch, r.restored_epoch, r.epochs_run) == (7, 4, 7)
    assert r.best[:4].tolist() == [0.90, 0.70, 0.62, 0.60] and r.wait.tolist()[-1] == 3
    # patience 0 and 1 are the same in Keras: the counter is raised before it is compared
    for p in (0, 1):
        assert viz.replay_early_stopping(h, patience=p).stopped_epoch == 5
    never = viz.replay_early_stopping({"val_loss": [3.0, 2.0, 1.0]}, patience=1)
    assert (never.stopped_epoch, never.restored_epoch, never.epochs_saved) == (None, 3, 0)
    assert repr(never) == ("StoppingReplay(epochs=3, stopped_epoch=None, restored_epoch=3, "
                           "epochs_saved=0)")


def test_replay_modes_and_warm_up():
    acc = {"val_accuracy": [0.5, 0.7, 0.69, 0.71, 0.705, 0.70, 0.69]}
    r = viz.replay_early_stopping(acc, monitor="val_accuracy", patience=2)   # auto -> max
    assert (r.stopped_epoch, r.restored_epoch) == (6, 4)
    h = {"val_loss": [1.0, 2.0, 3.0, 2.5, 2.4, 2.6, 2.7]}
    r = viz.replay_early_stopping(h, patience=2, start_from_epoch=2)   # epochs 1, 2 not watched
    assert (r.stopped_epoch, r.restored_epoch) == (7, 5)
    assert np.isnan(r.best[:2]).all()


@pytest.mark.parametrize("monitor", ["val_loss", "val_accuracy", "loss"])
def test_replay_equals_the_rule_written_out(monitor):
    rng = np.random.default_rng(3)
    for trial in range(60):
        h = recorded(n=int(rng.integers(5, 50)), seed=trial)
        patience = int(rng.integers(0, 8))
        min_delta = float(rng.choice([0.0, 1e-4, 1e-3, 1e-2]))
        start = int(rng.integers(0, 3))
        r = viz.replay_early_stopping(h, monitor, min_delta, patience, start_from_epoch=start)
        mode = "max" if "acc" in monitor else "min"
        assert (r.epochs_run, r.restored_epoch) == own_rule(h[monitor], patience, min_delta,
                                                            mode, start), (trial, monitor)


@pytest.mark.parametrize("settings", [dict(patience=2), dict(patience=4, min_delta=0.01),
                                      dict(patience=1, monitor="val_accuracy")])
def test_replay_predicts_where_fit_with_early_stopping_stops(settings):
    """Train once for 30 epochs, replay that history; train again from the same seed with the
    callback: fit stops after the replay's epoch, its history is a prefix of the full one, and
    the weights it ends with are those of the restored epoch."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 8)).astype(np.float32)
    y = (x[:, :2].sum(axis=1) + 0.8 * rng.normal(size=120) > 0).astype(np.int64)
    xv = rng.normal(size=(60, 8)).astype(np.float32)
    yv = (xv[:, :2].sum(axis=1) + 0.8 * rng.normal(size=60) > 0).astype(np.int64)

    def train(epochs, callbacks=()):
        dlkit.set_seed(1)
        m = Sequential([Dense(64, activation="relu", input_shape=(8,)),
                        Dense(2, activation="softmax")])
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
        h = m.fit(x, y, epochs=epochs, batch_size=16, verbose=0, validation_data=(xv, yv),
                  callbacks=list(callbacks))
        return m, h.history

    _, full = train(30)
    r = viz.replay_early_stopping(full, **settings)
    assert r.stopped_epoch is not None, "the toy run should overfit within 30 epochs"
    cb = EarlyStopping(restore_best_weights=True, **settings)
    model, stopped = train(30, [cb])
    assert len(stopped["loss"]) == r.stopped_epoch == cb.stopped_epoch + 1
    assert cb.best_epoch + 1 == r.restored_epoch
    for k in full:
        assert stopped[k] == full[k][:r.stopped_epoch], k
    monitor = settings.get("monitor", "val_loss")
    loss, acc = model.evaluate(xv, yv, verbose=0)
    value = loss if monitor == "val_loss" else acc
    assert value == pytest.approx(full[monitor][r.restored_epoch - 1], rel=1e-5)


def test_replay_rejects_bad_histories():
    with pytest.raises(KeyError, match="has no 'val_loss'"):
        viz.replay_early_stopping({"loss": [1.0, 0.5]})
    with pytest.raises(ValueError, match="one value per epoch"):
        viz.replay_early_stopping({"loss": [1.0, 0.5], "val_loss": [1.0]})
    with pytest.raises(ValueError, match="at least 2 epochs"):
        viz.replay_early_stopping({"val_loss": [1.0]})
    with pytest.raises(TypeError, match="History returned by fit"):
        viz.replay_early_stopping([1.0, 0.5])
    with pytest.raises(ValueError, match="patience must be >= 0"):
        viz.replay_early_stopping({"val_loss": [1.0, 0.5]}, patience=-1)


# -- the widget ------------------------------------------------------------------------------
def test_explorer_shows_the_callbacks_decision_and_redraws_on_every_control():
    h = recorded()
    w = viz.early_stopping_explorer(h)
    assert repr(w) == ("EarlyStoppingExplorer(monitor='val_loss', patience=5, min_delta=0.0001, "
                       "epochs=40)")
    assert w.renders == 1 and w.png.startswith(PNG_MAGIC)
    assert w.controls["monitor"].options == ("val_loss", "val_accuracy", "loss", "accuracy")
    assert all(not c.continuous_update for k, c in w.controls.items() if k != "monitor")
    seen = {w.png}
    for name, value in [("patience", 2), ("min_delta", 0.01), ("monitor", "val_accuracy"),
                        ("patience", 9), ("monitor", "loss")]:
        renders = w.renders
        w.controls[name].value = value
        assert w.renders == renders + 1, name
        assert w.png not in seen, f"the picture did not change when {name} moved"
        seen.add(w.png)
        c = {k: ctl.value for k, ctl in w.controls.items()}
        want = viz.replay_early_stopping(h, c["monitor"], c["min_delta"], c["patience"])
        got = w.replay
        assert (got.stopped_epoch, got.restored_epoch) == (want.stopped_epoch,
                                                          want.restored_epoch)
        # the lines drawn sit where the callback stops and at the epoch it restores
        stop_line = w.plot._stop_lines[0]
        assert stop_line.get_visible() == (want.stopped_epoch is not None)
        assert list(stop_line.get_xdata()) == [want.epochs_run] * 2
        assert list(w.plot._restore_lines[0].get_xdata()) == [want.restored_epoch] * 2
        assert w.plot._bands[0].get_width() == want.epochs_saved
        title = w.plot.title.get_text()
        assert f"patience={c['patience']}" in title
        assert f"restores epoch {want.restored_epoch}" in title
        if want.stopped_epoch:
            assert f"{want.epochs_saved} epochs saved" in title
    with w._hold():
        w.controls["patience"].value = 3
        w.controls["min_delta"].value = 0.001
    assert w.renders == 7                         # set() and _hold redraw once
    w.set(monitor="val_loss", patience=5, min_delta=1e-4)
    assert w.png == viz.early_stopping_explorer(h).png   # same settings, same bytes


def test_explorer_monitor_options_follow_the_history_and_bad_arguments():
    h = recorded()
    w = viz.early_stopping_explorer({"loss": h["loss"], "val_loss": h["val_loss"]})
    assert w.controls["monitor"].options == ("val_loss", "loss")
    assert len(w.figure.axes) == 1
    with pytest.raises(KeyError, match="cannot monitor 'val_accuracy'"):
        viz.early_stopping_explorer({"loss": h["loss"], "val_loss": h["val_loss"]},
                                    monitor="val_accuracy")
    with pytest.raises(ValueError, match="patience must be between 0 and 39"):
        viz.early_stopping_explorer(h, patience=40)
    with pytest.raises(ValueError, match="min_delta must be between"):
        viz.early_stopping_explorer(h, min_delta=0.0)
    with pytest.raises(KeyError, match="no control"):
        viz.early_stopping_explorer(h).set(baseline=0.5)


def test_explorer_accepts_a_history_object_and_its_bundle_is_static():
    import base64

    from dlkit.callbacks import History

    hist = History()
    hist.on_train_begin()
    for e, logs in enumerate(zip(*recorded(12).values())):
        hist.on_epoch_end(e, dict(zip(recorded(12), logs)))
    w = viz.early_stopping_explorer(hist, patience=2)
    bundle = w._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == w.png
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == repr(w) == ("EarlyStoppingExplorer(monitor='val_loss', "
                                               "patience=2, min_delta=0.0001, epochs=12)")


def test_static_picture_outside_jupyter():
    from matplotlib.figure import Figure

    fig = viz.plot_early_stopping(recorded(), patience=3, min_delta=0.001)
    assert isinstance(fig, Figure) and fig._repr_png_().startswith(PNG_MAGIC)
    title = fig.texts[0].get_text()
    assert "EarlyStopping(monitor='val_loss', patience=3, min_delta=0.001)" in title
    assert [ax.get_xlabel() for ax in fig.axes] == ["epoch", "epoch"]
    assert fig.axes[0].get_legend() is not None


def test_no_figures_leak():
    import matplotlib.pyplot as plt

    h = recorded()
    w = viz.early_stopping_explorer(h)
    before = live_figures()
    for i in range(12):
        w.controls["patience"].value = i
        w.controls["monitor"].value = ("val_loss", "val_accuracy", "loss")[i % 3]
    assert live_figures() == before
    assert plt.get_fignums() == []


def test_a_control_change_redraws_in_under_200_ms_of_cpu():
    from threadpoolctl import threadpool_limits

    w = viz.early_stopping_explorer(recorded())
    cpu = []
    with threadpool_limits(1):
        for v in [2, 8, 5, 12, 3, 7, 1, 9, 4, 6]:
            c = time.process_time()
            w.controls["patience"].value = v
            cpu.append(time.process_time() - c)
    assert statistics.median(cpu) < 0.2, cpu
