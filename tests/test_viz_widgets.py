"""Headless tests of dlkit.viz's widgets: set controls as a user would, check what is drawn.

No kernel or browser is needed: setting a control's ``.value`` runs its observers at once.
(tests/test_browser.py drives the same widgets in a real JupyterLab.)
"""
import base64

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
matplotlib = pytest.importorskip("matplotlib")

import dlkit  # noqa: E402
from dlkit import viz  # noqa: E402
from dlkit.optimizers import SGD, Adagrad, Adam, RMSprop, optimize_path  # noqa: E402
from dlkit.viz.surfaces import SURFACES  # noqa: E402
from widget_helpers import PNG_MAGIC, live_figures  # noqa: E402


# -- surfaces ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(SURFACES))
def test_surface_gradient_matches_central_differences(name):
    s = SURFACES[name]
    rng = np.random.default_rng(0)
    h = 1e-6
    for _ in range(20):
        p = np.array([rng.uniform(*s.xlim), rng.uniform(*s.ylim)])
        num = np.array([(s(*(p + h * e)) - s(*(p - h * e))) / (2 * h) for e in np.eye(2)])
        got = s.gradient(p)
        err = np.abs(got - num).max() / max(np.abs(num).max(), 1.0)
        assert err < 1e-6, f"{name} at {p}: analytic {got} vs numeric {num}"


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_surface_minima_are_stationary_and_global(name):
    s = SURFACES[name]
    for m in s.minima:
        assert np.abs(s.gradient(m)).max() < 1e-9, f"{name}: gradient {s.gradient(m)} at {m}"
        assert s(*m) == pytest.approx(s.min_value, abs=1e-12)
    X, Y, Z = s.grid()
    assert Z.min() >= s.min_value - 1e-12, f"{name}: grid value {Z.min()} below the minimum"
    assert s.xlim[0] < s.start[0] < s.xlim[1] and s.ylim[0] < s.start[1] < s.ylim[1]


def test_noisy_gradients_are_seeded():
    s = SURFACES["noisy_quadratic"]
    a = s.path(SGD(0.1), steps=30, seed=1)
    b = s.path(SGD(0.1), steps=30, seed=1)
    c = s.path(SGD(0.1), steps=30, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    exact = SURFACES["quadratic"].path(SGD(0.1), steps=30)
    assert not np.allclose(a, exact)


def test_steps_to_reach_and_unknown_surface():
    s = SURFACES["quadratic"]
    path = np.array([[2.0, 0.0], [1.0, 0.0], [0.05, 0.0], [0.0, 0.0]])
    assert s.steps_to_reach(path, 0.1) == 2
    assert s.steps_to_reach(path, 1e-3) == 3
    assert s.steps_to_reach(path[:2], 0.1) is None
    with pytest.raises(ValueError, match="unknown surface 'nope'.*rosenbrock"):
        viz.get_surface("nope")


# -- the explorer ------------------------------------------------------------------------
def own_optimizer(name, lr, momentum, beta_2, epsilon):
    """The optimizer for these settings, built directly from dlkit.optimizers."""
    return {"sgd": lambda: SGD(lr),
            "momentum": lambda: SGD(lr, momentum=momentum),
            "nesterov": lambda: SGD(lr, momentum=momentum, nesterov=True),
            "adagrad": lambda: Adagrad(lr, epsilon=epsilon),
            "rmsprop": lambda: RMSprop(lr, rho=beta_2, epsilon=epsilon),
            "adam": lambda: Adam(lr, beta_1=momentum, beta_2=beta_2, epsilon=epsilon)}[name]()


@pytest.mark.parametrize("surface,optimizer", [
    ("quadratic", "sgd"), ("rosenbrock", "momentum"), ("beale", "nesterov"),
    ("saddle", "adagrad"), ("himmelblau", "rmsprop"), ("noisy_quadratic", "adam"),
    ("rosenbrock", "adam")])
def test_explorer_draws_the_optimizers_own_path(surface, optimizer):
    w = viz.optimizer_explorer()
    w.controls["surface"].value = surface
    w.controls["optimizer"].value = optimizer
    w.controls["learning_rate"].value = 0.0123
    w.controls["steps"].value = 137
    w.controls["x0"].value = 0.5
    w.controls["y0"].value = -0.75
    if optimizer in ("momentum", "nesterov", "adam"):
        w.controls["momentum"].value = 0.8
    if optimizer in ("rmsprop", "adam"):
        w.controls["beta_2"].value = 0.95
    if optimizer in ("adagrad", "rmsprop", "adam"):
        w.controls["epsilon"].value = 1e-4
    v = {k: w.controls[k].value for k in ("momentum", "beta_2", "epsilon")}
    s = SURFACES[surface]
    expected = optimize_path(own_optimizer(optimizer, w.controls["learning_rate"].value, **v),
                             s.gradient_fn(0), (0.5, -0.75), 137)
    np.testing.assert_array_equal(w.path, expected)
    drawn = w.plot._lines[0][0].get_xydata()
    np.testing.assert_array_equal(drawn, expected)
    loss_line = w.plot._lines[0][2]
    gap = np.maximum(s.loss(expected) - s.min_value, 1e-16)
    np.testing.assert_array_equal(loss_line.get_ydata(), gap)


def test_explorer_observers_fire_once_per_change_and_picture_changes():
    w = viz.optimizer_explorer("quadratic", "sgd", steps=50)
    n, png = w.renders, w.png
    assert png.startswith(PNG_MAGIC) and w.image.value == png
    w.controls["learning_rate"].value = 0.05
    assert w.renders == n + 1 and w.png != png and w.image.value == w.png
    w.set(learning_rate=0.02, steps=80, x0=1.0)  # several controls, one redraw
    assert w.renders == n + 2 and len(w.path) == 81 and w.path[0, 0] == 1.0
    with pytest.raises(KeyError, match="no control.*'lr'"):
        w.set(lr=0.1)


def test_explorer_optimizer_change_sets_keras_defaults_and_greys_out_unused():
    w = viz.optimizer_explorer("beale", "sgd")
    c = w.controls
    assert c["momentum"].disabled and c["beta_2"].disabled and c["epsilon"].disabled
    c["optimizer"].value = "rmsprop"
    assert c["beta_2"].value == 0.9 and not c["beta_2"].disabled and c["momentum"].disabled
    assert c["learning_rate"].value == pytest.approx(SURFACES["beale"].learning_rates["rmsprop"],
                                                     rel=0.1)
    assert isinstance(w.optimizer(), RMSprop) and w.optimizer().rho == 0.9
    c["optimizer"].value = "adam"
    assert c["beta_2"].value == 0.999 and c["momentum"].value == 0.9
    assert w.optimizer().beta_1 == 0.9


def test_explorer_surface_change_moves_the_start_window():
    w = viz.optimizer_explorer("rosenbrock")
    w.controls["surface"].value = "himmelblau"
    s = SURFACES["himmelblau"]
    assert (w.controls["x0"].min, w.controls["x0"].max) == s.xlim
    assert w.start == s.start
    assert w.plot.ax_map.get_xlim() == s.xlim


def test_explorer_click_moves_the_start_point():
    w = viz.optimizer_explorer("quadratic", "sgd")
    px, py = w.plot.ax_map.transData.transform((1.5, -0.5))
    fig_w, fig_h = w.figure.canvas.get_width_height()
    # the browser shows the picture at half size: ipyevents reports element coordinates
    event = {"relativeX": px / 2, "relativeY": (fig_h - py) / 2,
             "boundingRectWidth": fig_w / 2, "boundingRectHeight": fig_h / 2}
    w.on_click(event)
    assert w.start == pytest.approx((1.5, -0.5), abs=0.05)
    assert w.path[0] == pytest.approx([1.5, -0.5], abs=0.05)
    before = w.renders
    w.on_click({"relativeX": 1, "relativeY": 1})  # the corner, outside the map: ignored
    assert w.renders == before


@pytest.mark.parametrize("surface", ["quadratic", "rosenbrock", "beale", "himmelblau"])
def test_explorer_diverging_learning_rate_is_reported(surface):
    w = viz.optimizer_explorer(surface, "sgd", steps=400)
    w.controls["learning_rate"].value = 5.0
    assert np.isnan(w.path[-1]).all()
    assert "diverged at step" in w.plot._lines[0][2].get_label()


def test_widget_static_fallback_bundle():
    w = viz.optimizer_explorer("saddle", "momentum")
    bundle = w._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == w.png
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == repr(w)
    assert repr(w) == ("OptimizerExplorer(surface='saddle', optimizer=SGD(learning_rate=0.02, "
                       "momentum=0.9, nesterov=False), start=(-1.8, 0.001), steps=200)")
    # the same settings give the same bytes: saved notebooks do not change when re-run
    assert viz.optimizer_explorer("saddle", "momentum").png == w.png


def test_plot_optimizer_paths_is_static_and_exact():
    from matplotlib.figure import Figure

    fig = viz.plot_optimizer_paths("himmelblau", {"a": SGD(0.01), "b": "adam"}, steps=40)
    assert isinstance(fig, Figure)
    # shows as a picture in a notebook even if pyplot (the inline backend) never started
    assert fig._repr_png_().startswith(PNG_MAGIC) and repr(fig).startswith("<Figure size")
    paths = [l.get_xydata() for l in fig.axes[0].lines[1::2]]  # after the minima marker
    s = SURFACES["himmelblau"]
    np.testing.assert_array_equal(paths[0], optimize_path(SGD(0.01), s.gradient, s.start, 40))
    np.testing.assert_array_equal(
        paths[1], optimize_path(Adam(s.learning_rates["adam"]), s.gradient, s.start, 40))
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'"):
        viz.plot_optimizer_paths("beale", ["adamax"])


def test_no_figures_leak_after_many_updates():
    import matplotlib.pyplot as plt

    w = viz.optimizer_explorer("quadratic", "sgd", steps=20)
    r = viz.optimizer_race("quadratic", ["sgd", "adam"], steps=20)
    before = live_figures()
    for i in range(15):
        w.controls["learning_rate"].value = 0.01 + 0.001 * i
        r.controls["step"].value = i % 20
    w.controls["surface"].value = "beale"
    r.controls["surface"].value = "saddle"
    assert live_figures() == before
    assert plt.get_fignums() == []


# -- the race -----------------------------------------------------------------------------
def test_race_paths_steps_and_scrubber():
    opts = {"SGD": SGD(0.1), "Adam": Adam(0.2), "AdaGrad": Adagrad(1.0)}
    r = viz.optimizer_race("quadratic", opts, steps=120, tol=0.05)
    s = SURFACES["quadratic"]
    for (label, opt), (path, reached), lines in zip(opts.items(), r.results.values(),
                                                    r.plot._lines):
        own = optimize_path(type(opt)(**opt.get_config()), s.gradient, s.start, 120)
        np.testing.assert_array_equal(path, own)
        assert reached == s.steps_to_reach(own, 0.05) and reached is not None
        assert lines[2].get_label() == f"{label}: step {reached}"
        np.testing.assert_array_equal(lines[0].get_xydata(), own)
    assert list(r.results) == list(opts)
    n = r.renders
    r.controls["step"].value = 10
    assert r.renders == n + 1
    assert all(len(lines[0].get_xdata()) == 11 for lines in r.plot._lines)
    r.controls["steps"].value = 60
    assert r.controls["step"].max == 60 and r.controls["step"].value == 60
    assert r.play.max == 60 and r.renders == n + 2
    assert "first step within" in r.table.value and "SGD" in r.table.value
    r.set(step=7)
    assert r.renders == n + 3 and all(len(l[0].get_xdata()) == 8 for l in r.plot._lines)


def test_race_names_use_the_surfaces_learning_rates_and_report_misses():
    res = viz.race_results("rosenbrock", ["sgd", "adam"], steps=5, tol=1e-3)
    assert all(reached is None for _, reached in res.values())
    assert list(res)[0] == "SGD(lr=0.001)"
    fig = viz.plot_optimizer_race("rosenbrock", ["sgd", "adam"], steps=5, tol=1e-3)
    assert "not within tol" in fig.axes[1].get_legend().get_texts()[0].get_text()


# -- LiveCurves -------------------------------------------------------------------------
def small_model(seed=0):
    from dlkit.layers import Dense

    dlkit.set_seed(seed)
    m = dlkit.Sequential([Dense(8, activation="tanh", input_shape=(2,), seed=seed),
                          Dense(2, activation="softmax", seed=seed + 1)], seed=seed)
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def moons():
    from dlkit.datasets import synthetic

    X, y = synthetic.moons(200, noise=0.2, seed=0)
    return X[:150], y[:150], X[150:], y[150:]


def test_livecurves_holds_one_point_per_epoch_with_the_history_values():
    x, y, xv, yv = moons()
    cb = viz.LiveCurves(live=False)
    h = small_model().fit(x, y, epochs=6, batch_size=16, validation_data=(xv, yv), verbose=0,
                          callbacks=[cb])
    assert cb.history == h.history and cb.epoch == h.epoch == list(range(6))
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        xs, ys = cb._lines[name].get_data()
        np.testing.assert_array_equal(xs, np.arange(1, 7))
        np.testing.assert_array_equal(ys, h.history[name])
    assert [a.get_title() for a in cb.figure.axes] == ["loss", "accuracy"]
    assert cb.updates == 0 and cb.handle is None  # not live, not in IPython: nothing shown


class FakeHandle:
    def __init__(self, log):
        self.log = log

    def update(self, obj):
        self.log.append(("update", obj))


def test_livecurves_updates_one_display_in_place(monkeypatch):
    import IPython.display

    log = []

    def fake_display(obj, display_id=None, **kw):
        log.append(("display", obj, display_id))
        return FakeHandle(log) if display_id else None

    monkeypatch.setattr(IPython.display, "display", fake_display)
    x, y, xv, yv = moons()
    cb = viz.LiveCurves(live=True, every_n_batches=5)
    small_model().fit(x, y, epochs=3, batch_size=16, validation_data=(xv, yv), verbose=0,
                      callbacks=[cb])
    assert [e[0] for e in log[:1]] == ["display"] and log[0][2] is True
    assert all(e[0] == "update" for e in log[1:])
    # 10 batches per epoch: updates after batches 5 and 10 and after each epoch
    assert len(log) == 1 + 3 * 3 == cb.updates
    texts = {e[1]._repr_mimebundle_()["text/plain"] for e in log}
    assert texts == {"<LiveCurves: loss, accuracy, val_loss, val_accuracy>"}
    last = base64.b64decode(log[-1][1]._repr_mimebundle_()["image/png"])
    assert last == viz.figure_to_png(cb.figure)
    assert len(cb.batch_points["loss"][0]) == 6
    with pytest.raises(ValueError, match="every_n_batches must be a positive integer"):
        viz.LiveCurves(every_n_batches=0)


def test_livecurves_leaks_no_figures_and_is_deterministic():
    x, y, xv, yv = moons()
    cb = viz.LiveCurves(live=False, every_n_batches=2)
    m = small_model()
    m.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[cb])
    before = live_figures()
    for _ in range(5):
        m.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[cb])
    assert live_figures() == before
    pngs = []
    for _ in range(2):
        cb = viz.LiveCurves(live=False)
        small_model().fit(x, y, epochs=3, batch_size=16, validation_data=(xv, yv), verbose=0,
                          callbacks=[cb])
        pngs.append(viz.figure_to_png(cb.figure))
    assert pngs[0] == pngs[1]
    fig = viz.plot_history(cb.model.history)
    assert [a.get_title() for a in fig.axes] == ["loss", "accuracy"]


def test_livecurves_in_a_real_kernel_leaves_one_static_figure(tmp_path):
    """Run a cell with LiveCurves and tqdm bars through nbclient (as nbconvert does): the
    saved cell holds one picture, the final one, above the bars, with a fixed text form."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    import os
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    code = (f"import sys; sys.path.insert(0, {root!r})\n"
            "import dlkit\nfrom dlkit import viz\nfrom dlkit.layers import Dense\n"
            "from dlkit.datasets import synthetic\n"
            "X, y = synthetic.moons(120, noise=0.2, seed=0)\ndlkit.set_seed(0)\n"
            "m = dlkit.Sequential([Dense(4, activation='tanh', input_shape=(2,), seed=0),\n"
            "                      Dense(2, activation='softmax', seed=1)], seed=0)\n"
            "m.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n"
            "cb = viz.LiveCurves()\n"
            "h = m.fit(X, y, epochs=4, batch_size=30, verbose=1, callbacks=[cb])\n"
            "print(cb.updates, cb.handle is not None)")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    env_path = os.environ.get("PYTHONPATH", "")
    try:
        os.environ["PYTHONPATH"] = root + (os.pathsep + env_path if env_path else "")
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    except Exception as e:  # no ipykernel registered: nothing to test here
        if "No such kernel" in str(e):
            pytest.skip(f"no python3 kernel: {e}")
        raise
    finally:
        os.environ["PYTHONPATH"] = env_path
    outs = nb.cells[0].outputs
    displays = [o for o in outs if o.output_type == "display_data"]
    pictures = [o for o in displays if "image/png" in o.data]
    assert len(pictures) == 1 and displays[0] is pictures[0], outs
    assert len(displays) == 1 + 4  # and below it, one progress bar per epoch
    assert pictures[0].data["text/plain"] == "<LiveCurves: loss, accuracy>"
    assert base64.b64decode(displays[0].data["image/png"]).startswith(PNG_MAGIC)
    streams = "".join(o.get("text", "") for o in outs if o.output_type == "stream")
    assert streams.strip().endswith("5 True"), (streams, sys.executable)


# -- the playground -----------------------------------------------------------------------
def test_playground_steps_controls_and_determinism():
    pg = viz.playground("xor", layers=1, units=4, learning_rate=0.03, frame_seconds=0.01)
    assert pg.session.epochs == 0 and pg.renders == 1
    pg.step()
    pg.step(4)
    s = pg.session
    assert s.epochs == 5 and len(s.train_loss) == len(s.test_loss) == 5 and pg.renders == 3
    ln = pg._artists["train"]
    np.testing.assert_array_equal(ln.get_ydata(), s.train_loss)
    outs = s.unit_outputs()
    assert [o.shape for o in outs] == [(48, 48, 4), (48, 48, 1)]
    np.testing.assert_array_equal(pg._artists["map"].get_array(), outs[-1][..., 0])
    other = viz.playground("xor", layers=1, units=4, learning_rate=0.03)
    other.step(5)
    assert other.session.train_loss == s.train_loss  # same seed, same numbers
    pg.controls["learning_rate"].value = 0.1  # applies to the running network
    assert pg.session.epochs == 5 and pg.session.model.optimizer.learning_rate == 0.1
    pg.controls["batch_size"].value = 25
    assert pg.session.batch_size == 25
    renders = pg.renders
    pg.set(learning_rate=0.05, batch_size=20)  # settings of the running network: no restart
    assert pg.session.epochs == 5 and pg.renders == renders
    assert pg.session.model.optimizer.learning_rate == 0.05
    pg.set(dataset="circles", layers=3, units=5, activation="relu", l2=1e-3)  # a new network
    assert pg.session.epochs == 0 and pg.session.dataset == "circles"
    assert [l.units for l in pg.session.model.layers] == [5, 5, 5, 1]
    assert pg.session.model.layers[0].kernel_regularizer.l2 == 1e-3
    pg.controls["layers"].value = 0
    pg.step()
    assert pg._artists["units"] is None and len(pg.session.model.layers) == 1


def test_playground_learns_and_play_pause_runs_in_the_background():
    import time

    pg = viz.playground("moons", noise=0.1, layers=1, units=6, learning_rate=0.03,
                        frame_seconds=0.02)
    pg.play()
    assert pg.controls["play"].description == "pause"
    deadline = time.monotonic() + 20
    while pg.session.epochs < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    pg.pause()
    epochs, renders = pg.session.epochs, pg.renders
    assert epochs >= 40 and renders >= 2
    time.sleep(0.2)
    assert pg.session.epochs == epochs and pg.renders == renders  # really paused
    assert pg.session.test_loss[-1] < 0.5 * pg.session.test_loss[0]
    fig = viz.plot_playground("blobs", epochs=3, hidden=(2,))
    assert len(fig.axes) == 3
