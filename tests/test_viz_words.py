"""The widgets speak the book's language: after dlkit.config.set_language("zh") every word a
control shows (descriptions, dropdown labels, buttons, the text beside a figure) is Chinese;
in English they are unchanged. Names (SGD, Adam, relu, the surfaces) and symbols stay."""
import re

import numpy as np
import pytest

from dlkit import viz

# Names a Chinese label may keep as they are (capitalised names such as Adam, Glorot or
# RMSprop are names anyway): activations, optimizers and surfaces as dlkit spells them, and
# the keys of a training history.
NAMES = {"relu", "tanh", "sigmoid", "linear", "sgd", "adam", "logit", "quadratic", "beale",
         "rosenbrock", "himmelblau", "saddle", "ravine", "rastrigin", "loss", "accuracy"}


def linear_decoder(z):
    a = np.linspace(-1, 1, 784)
    return 1 / (1 + np.exp(-(z[:, :1] * a + z[:, 1:] * a[::-1])))


def history(n=20):
    t = np.arange(n)
    return {"loss": np.exp(-t / 5) + 0.01, "val_loss": np.exp(-t / 5) + 0.002 * t + 0.1}


BUILDERS = {
    "optimizer_explorer": lambda: viz.optimizer_explorer("quadratic", "momentum", steps=20),
    "optimizer_race": lambda: viz.optimizer_race("quadratic", steps=20),
    "playground": lambda: viz.playground("moons", layers=1, units=2),
    "init_explorer": lambda: viz.init_explorer(width=16, n=32),
    "backprop_explorer": lambda: viz.backprop_explorer(),
    "softmax_explorer": lambda: viz.softmax_explorer(),
    "early_stopping_explorer": lambda: viz.early_stopping_explorer(history()),
    "conv_explorer": lambda: viz.conv_explorer(),
    "gradient_flow_explorer": lambda: viz.gradient_flow_explorer(timesteps=10, units=3, samples=2),
    "latent_explorer": lambda: viz.latent_explorer(
        linear_decoder, np.random.default_rng(0).normal(size=(50, 2)), np.arange(50) % 10),
}


def shown_words(widget):
    """Every text a user reads on the widget's controls: descriptions, dropdown labels,
    buttons and HTML text (tags removed)."""
    import ipywidgets as w

    texts = []
    for ctl in _all(widget.widget):
        if isinstance(ctl, w.HTML):
            texts.append(re.sub(r"<[^>]+>", " ", ctl.value))
        if getattr(ctl, "description", ""):
            texts.append(ctl.description)
        texts += list(getattr(ctl, "_options_labels", ()))
    return texts


def _all(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _all(child)


@pytest.mark.parametrize("name", BUILDERS)
def test_every_word_on_a_widget_is_chinese_in_the_chinese_edition(name, chinese):
    texts = shown_words(BUILDERS[name]())
    assert texts, "no text found on the widget"
    code = r"\b[A-Z]\w*\([^)]*\)"                    # an optimizer's repr: SGD(lr=0.1, ...)
    english = [t for t in texts for word in re.findall(r"(?<!\w)[a-z]{3,}(?!\w)", re.sub(code, "", t))
               if word not in NAMES]                # (history keys like val_loss are names)
    assert not english, f"English labels left: {english}"


@pytest.mark.parametrize("name", BUILDERS)
def test_the_english_edition_keeps_its_labels(name):
    texts = shown_words(BUILDERS[name]())
    assert not [t for t in texts if re.search("[\u4e00-\u9fff]", t)], texts
