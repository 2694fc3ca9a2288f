"""The book's widgets in a real JupyterLab (and Notebook 7), in a real browser.

Starts ``jupyter lab`` on 127.0.0.1 (a free port, a random token) in a temporary directory
holding copies of tests/notebooks/*.ipynb, opens one in Debian's chromium driven by the
``playwright`` package, runs all cells, drags a slider and checks that the figure changed
(pixel difference) and that no cell printed an error. The widgets: the optimizer explorer
(chapter 6), the softmax explorer (chapter 5: the temperature slider) and the convolution
explorer (chapter 8: the stride slider; again with the Chinese edition's labels, 步幅).
Screenshots go to tests/artifacts/browser/ (gitignored). Skipped, with the reason, where
chromium or playwright is missing or chromium cannot start (the ``browser`` fixture of
browser_helpers.py); ``.ci/run`` installs chromium first.
"""
import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser_helpers import free_port, wait_for_server

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "tests" / "notebooks"
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"


# front end -> (module to run, its app class for config, URL of the notebook)
FRONT_ENDS = {"jupyterlab": ("jupyterlab", "LabApp", "lab/tree/"),
              "notebook7": ("notebook", "JupyterNotebookApp", "notebooks/")}


@pytest.fixture(params=sorted(FRONT_ENDS))
def jupyter(request, tmp_path):
    """A JupyterLab or Notebook 7 server serving copies of the test notebooks; killed by its
    PID at the end. Yields (URL of the notebooks' folder, token)."""
    module, app, route = FRONT_ENDS[request.param]
    mod = pytest.importorskip(module, reason=f"{module} is not installed (pip install "
                              f"'{module}>={4 if module == 'jupyterlab' else 7}')")
    if module == "notebook" and int(mod.__version__.split(".")[0]) < 7:
        pytest.skip(f"notebook {mod.__version__} is not Notebook 7")
    work = tmp_path / "work"
    work.mkdir()
    for nb in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(nb, work / nb.name)
    settings = tmp_path / "settings" / "@jupyterlab"
    for plugin, value in (("apputils-extension/notification", '{"fetchNews": "false"}'),
                          ("notebook-extension/tracker", '{"autoStartDefaultKernel": true}')):
        # no news toast over the notebook, no "Select Kernel" dialog before it runs
        (settings / plugin).parent.mkdir(parents=True, exist_ok=True)
        (settings / f"{plugin}.jupyterlab-settings").write_text(value)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), MPLBACKEND="Agg")
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--allow-root", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--port-retries=0", f"--ServerApp.token={token}",
         f"--{app}.expose_app_in_browser=True", f"--{app}.user_settings_dir={tmp_path / 'settings'}",
         f"--{app}.workspaces_dir={tmp_path / 'workspaces'}",
         f"--ServerApp.root_dir={work}"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not wait_for_server(f"http://127.0.0.1:{port}/api/status?token={token}", proc, 60):
            log.flush()
            pytest.fail(f"{module} did not start within 60 s:\n"
                        + (tmp_path / "jupyterlab.log").read_text()[-3000:])
        yield f"http://127.0.0.1:{port}/{route}", token
    finally:
        # the server shuts its kernels down on SIGTERM; SIGKILL its process group if it hangs
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=5)
        log.close()


def _image_difference(a, b):
    """Fraction of pixels that differ between two PNG screenshots (sizes may differ)."""
    import io

    import numpy as np
    from PIL import Image

    x = np.asarray(Image.open(io.BytesIO(a)).convert("RGB"), dtype=np.int16)
    y = np.asarray(Image.open(io.BytesIO(b)).convert("RGB"), dtype=np.int16)
    if x.shape != y.shape:
        return 1.0
    return float((np.abs(x - y).max(axis=-1) > 16).mean())


def _run(page_test, browser, prefix):
    """Open a page, run ``page_test(page, console_errors)``; a screenshot on failure."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{prefix}_*.png"):
        old.unlink()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors = []
    page.on("pageerror", lambda e: console_errors.append(str(e)))
    try:
        page_test(page, console_errors)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{prefix}_failure.png"))
        raise
    finally:
        page.close()


def test_explorer_responds_to_the_learning_rate_slider(jupyter, browser, request):
    url, token = jupyter
    name = request.node.callspec.params["jupyter"]
    _run(lambda page, errors: _drive_explorer(page, url + "explorer.ipynb", token, name, errors),
         browser, name)


# widget notebook -> the slider to drag (its label), which way, the minimum share of changed
# pixels. JupyterLab only: the explorer's test covers Notebook 7's widget manager.
BOOK_WIDGETS = {"softmax": ("softmax.ipynb", "temperature", -0.3, 0.005),
                "convolution": ("convolution.ipynb", "stride", 0.3, 0.005),
                # the Chinese edition's labels (dlkit.config.set_language("zh")) in a real browser
                "convolution_zh": ("convolution_zh.ipynb", "步幅", 0.3, 0.005)}


@pytest.mark.parametrize("jupyter", ["jupyterlab"], indirect=True)
@pytest.mark.parametrize("widget", sorted(BOOK_WIDGETS))
def test_book_widget_responds_to_its_slider(jupyter, browser, widget):
    url, token = jupyter
    notebook, label, move, min_changed = BOOK_WIDGETS[widget]

    def drive(page, console_errors):
        _open_and_run_all(page, url + notebook, token, console_errors)
        image, before_src, before = _first_widget_image(page)
        (ARTIFACTS / f"{widget}_before.png").write_bytes(before)
        readout_before, readout_after = _drag_slider(page, label, move)
        after = _wait_for_new_image(page, image, before_src)
        (ARTIFACTS / f"{widget}_after.png").write_bytes(after)
        page.screenshot(path=str(ARTIFACTS / f"{widget}_page_after.png"))
        assert readout_after != readout_before, \
            f"the {label} slider did not move: {readout_before} -> {readout_after}"
        changed = _image_difference(before, after)
        assert changed > min_changed, f"only {changed:.2%} of the figure's pixels changed"
        _assert_no_errors(page, console_errors)

    _run(drive, browser, widget)


def _open_and_run_all(page, url, token, console_errors):
    """Open the notebook, wait for its kernel, run all cells; returns the errors raised while
    the front end loaded (its own, not ours: Notebook 7.6 raises one), and clears the list."""
    page.set_default_timeout(30_000)
    page.goto(f"{url}?token={token}")
    page.wait_for_function("window.jupyterapp !== undefined && window.jupyterapp.shell")
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    # "run all" before the kernel's websocket is connected is silently dropped: wait for the
    # kernel's info reply first (JupyterLab's own promise for "connected and answering")
    page.evaluate("""async () => {
        const nb = window.jupyterapp.shell.currentWidget;
        await nb.context.ready;
        await nb.sessionContext.ready;
        await nb.sessionContext.session.kernel.info; }""")
    loading_errors = list(console_errors)
    console_errors.clear()
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    return loading_errors


def _first_widget_image(page):
    """(locator, src, screenshot) of the first widget's picture once it has loaded and the
    last cell has printed."""
    image = page.locator(".jp-OutputArea-output img.widget-image").first
    image.wait_for(state="visible", timeout=60_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('.jp-OutputArea-output img.widget-image');"
        " return i && i.complete && i.naturalWidth > 0; }")
    page.wait_for_selector(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stdout']")
    return image, image.get_attribute("src"), image.screenshot()


def _drag_slider(page, label, move):
    """Drag the slider labelled ``label`` by ``move`` times its track's width (negative: left);
    returns its readout before and after."""
    slider = page.locator(".widget-slider", has_text=label).first
    readout = slider.locator(".widget-readout")
    before = readout.inner_text()
    handle = slider.locator(".noUi-handle").first
    track = slider.locator(".noUi-target").first
    hb, tb = handle.bounding_box(), track.bounding_box()
    x, y = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
    target = min(max(tb["x"] + 2, x + move * tb["width"]), tb["x"] + tb["width"] - 2)
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x + (target - x) * i / 10, y)
    page.mouse.up()
    return before, readout.inner_text()


def _wait_for_new_image(page, image, old_src):
    """continuous_update=False: the kernel hears the value on release, redraws and sends a
    new picture, which the browser shows under a new blob URL. Returns its screenshot."""
    page.wait_for_function(
        "(old) => { const i = document.querySelector('.jp-OutputArea-output img.widget-image');"
        " return i && i.getAttribute('src') !== old && i.complete && i.naturalWidth > 0; }",
        arg=old_src, timeout=30_000)
    page.wait_for_timeout(300)
    return image.screenshot()


def _assert_no_errors(page, console_errors, loading_errors=()):
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert errors.count() == 0, errors.all_inner_texts()
    assert not console_errors, (console_errors, "while loading:", list(loading_errors))


def _drive_explorer(page, url, token, name, console_errors):
    loading_errors = _open_and_run_all(page, url, token, console_errors)
    image, before_src, before = _first_widget_image(page)
    (ARTIFACTS / f"{name}_explorer_before.png").write_bytes(before)
    page.screenshot(path=str(ARTIFACTS / f"{name}_page_before.png"))
    # about 2 decades lower
    lr_before, lr_after = _drag_slider(page, "learning rate", -0.35)
    after = _wait_for_new_image(page, image, before_src)
    (ARTIFACTS / f"{name}_explorer_after.png").write_bytes(after)
    page.screenshot(path=str(ARTIFACTS / f"{name}_page_after.png"))
    assert lr_after != lr_before, f"the slider did not move: {lr_before} -> {lr_after}"
    changed = _image_difference(before, after)
    assert changed > 0.005, f"only {changed:.2%} of the figure's pixels changed"
    if importlib.util.find_spec("ipyevents") is not None:
        # with ipyevents, a click on the map moves the start point (the kernel runs the same
        # Python as this test, so it has ipyevents too)
        start_x = page.locator(".widget-slider", has_text="start x").first.locator(
            ".widget-readout")
        x_before, src = start_x.inner_text(), image.get_attribute("src")
        box = image.bounding_box()
        page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.3 * box["height"])
        page.wait_for_function(
            "(old) => document.querySelector('.jp-OutputArea-output img.widget-image')"
            ".getAttribute('src') !== old", arg=src, timeout=30_000)
        assert start_x.inner_text() != x_before
        page.screenshot(path=str(ARTIFACTS / f"{name}_page_clicked.png"))
    _assert_no_errors(page, console_errors, loading_errors)
