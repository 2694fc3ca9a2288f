"""The source documents' code runs with dlkit once its import lines name dlkit.

The five source documents (../shared/seeds/00N_*.txt, see DESIGN.md) teach with Keras /
TensorFlow code blocks. Each block is extracted from the document text, its import lines (and
nothing else) are rewritten by the table ``IMPORTS``, the names it leaves undefined
(``x_train``, ``y_train``, ...) are filled with the bundled MNIST, and it is executed as is:
same layers, same arguments, same epochs. One test id per block.

Blocks that are not run are listed in ``NOT_RUN`` with the reason; a block whose failure *is*
the document's (known, documented) error is in ``DOCUMENT_ERRORS`` and must fail that way.
Also here: ``dlkit.models`` (``keras.models``'s name) and the Keras 2 ``lr=`` spelling the
first document uses.
"""
import ast
import builtins
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import dlkit

ROOT = Path(__file__).resolve().parents[1]
# The documents live beside the repository (DESIGN.md: ../shared/seeds/), not inside it.
SEEDS = Path(os.environ.get("DLKIT_SEEDS_DIR", ROOT.parent / "shared" / "seeds"))

# Fenced ```python blocks per document (checked, so the extractor cannot silently find none).
# The documents have no other fences and no indented code; their $$ ... $$ blocks are display
# formulas (the book checks those in its chapters), not code.
EXPECTED_BLOCKS = {"000": 1, "001": 2, "002": 1, "003": 1, "004": 3}

# A document's import line -> its dlkit replacement. Every import line of every block must
# match one of these in full; no other line of a block is changed.
IMPORTS = [
    # keras.models / keras.layers / keras.optimizers ... have the same names in dlkit
    (r"from (?:tensorflow\.)?keras\.(\w+) import (.+)", r"from dlkit.\1 import \2"),
    (r"import keras", "import dlkit as keras"),
    # the blocks write tf.keras.models.Sequential, tf.keras.layers.Dense: dlkit plays tf.keras
    (r"import tensorflow as tf", "import types, dlkit; tf = types.SimpleNamespace(keras=dlkit)"),
    (r"import numpy as np", r"import numpy as np"),  # not Keras: unchanged
]

# Blocks that are executed but must fail, because the document's code is wrong there (the
# known errors listed in ../shared/seeds/README.md): block id -> (exception, message).
DOCUMENT_ERRORS = {
    # 001's from-scratch forward pass: biases has shape (hidden_size, output_size) = (3, 1),
    # and np.dot(x, weights) is (2, 3): NumPy cannot add them. (The README lists this example
    # as wrong; the book's chapter shows the corrected version with a gradient check.)
    "001-1": (ValueError, r"operands could not be broadcast together with shapes \(2,3\) \(3,1\)"),
}
# Blocks not executed, with the reason.
NOT_RUN = {
    "001-2": "continues block 001-1 (uses its x, weights, biases, output_layer_output), which "
             "fails with the document's own shape error; NumPy-only, no Keras in it",
}

# What each block leaves undefined, and how the test provides it. The documents never say
# how x_train / y_train are made; the usual Keras preparation of MNIST is used: pixels scaled
# to [0, 1] as float32, flattened to 784 values because the first layer says input_dim=784 /
# input_shape=(784,); labels one-hot for categorical_crossentropy, integers for the sparse one.
ONE_HOT, INTEGER = "one-hot", "integer"
PROVIDED = {
    "000-1": ({"x_train", "y_train"}, ONE_HOT),
    "002-1": ({"x_train", "y_train", "x_test", "y_test"}, INTEGER),
    "003-1": ({"x_train", "y_train", "x_test", "y_test"}, ONE_HOT),
}

# Warnings a block must give (block id -> regex); every other block must give none.
EXPECTED_WARNINGS = {
    "000-1": r"`lr` is the old \(Keras 2\) name of `learning_rate`; use learning_rate=0\.01",
}


# -- reading the documents -------------------------------------------------------------------------

def documents():
    if not SEEDS.is_dir():
        pytest.skip(f"the source documents are not at {SEEDS} (set DLKIT_SEEDS_DIR)")
    docs = {p.name[:3]: p for p in sorted(SEEDS.glob("00[0-9]_*.txt"))}
    assert set(docs) == set(EXPECTED_BLOCKS), f"documents found in {SEEDS}: {sorted(docs)}"
    return docs


def fenced_blocks(text):
    """[(language, first code line number, code)] of every ``` fence; raises if one is open."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = re.match(r"^```\s*(\S*)\s*$", lines[i])
        if m:
            start = i + 1
            for j in range(start, len(lines)):
                if lines[j].strip() == "```":
                    blocks.append((m.group(1), start + 1, "\n".join(lines[start:j]) + "\n"))
                    i = j
                    break
            else:
                raise ValueError(f"the fence opened on line {i + 1} is never closed")
        i += 1
    return blocks


def indented_lines_outside_fences(text):
    """Lines that Markdown could read as an indented code block (4 spaces or a tab)."""
    out, inside = [], False
    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            inside = not inside
        elif not inside and re.match(r"^(    |\t)\S", line):
            out.append((n, line))
    return out


def all_blocks():
    """{block id "DDD-k": (document path, first line, code)}; python blocks, numbered from 1."""
    out = {}
    for doc, path in documents().items():
        python = [(n, c) for lang, n, c in fenced_blocks(path.read_text("utf-8"))
                  if lang == "python"]
        for k, (n, code) in enumerate(python, start=1):
            out[f"{doc}-{k}"] = (path, n, code)
    return out


def translate(code):
    """The block with each import line replaced by its dlkit equivalent (``IMPORTS``)."""
    out = []
    for line in code.splitlines():
        if re.match(r"\s*(import|from)\s", line):
            for pattern, repl in IMPORTS:
                if re.fullmatch(pattern, line.strip()):
                    line = re.sub(pattern, repl, line.strip())
                    break
            else:
                raise AssertionError(f"no dlkit equivalent listed in IMPORTS for {line!r}")
        out.append(line)
    return "\n".join(out) + "\n"


def free_names(code):
    """Names the code reads but neither assigns, imports nor gets from builtins."""
    tree = ast.parse(code)
    bound, read = set(dir(builtins)), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return read - bound


def block_ids():
    try:
        return sorted(all_blocks())
    except pytest.skip.Exception:
        # no documents: one id that skips (with the reason) instead of none
        return ["documents-missing"]


# -- the extractor and the translation -------------------------------------------------------------

def test_every_fenced_block_is_found_and_is_python():
    for doc, path in documents().items():
        text = path.read_text("utf-8")
        blocks = fenced_blocks(text)
        assert [lang for lang, _, _ in blocks] == ["python"] * EXPECTED_BLOCKS[doc], (
            f"{path.name}: fences {[(lang, n) for lang, n, _ in blocks]}")
        assert text.count("```") == 2 * len(blocks)
        # code can hide in indented blocks too: the documents have none
        assert indented_lines_outside_fences(text) == [], path.name
        for _, n, code in blocks:
            ast.parse(code, filename=f"{path.name}:{n}")   # each block is valid Python


def test_the_extractor_reads_fences_and_indentation():
    text = "intro\n```python\nx = 1\n    y = 2\n```\n\n    indented\n```\nshell\n```\n"
    assert fenced_blocks(text) == [("python", 3, "x = 1\n    y = 2\n"), ("", 9, "shell\n")]
    assert indented_lines_outside_fences(text) == [(7, "    indented")]
    with pytest.raises(ValueError, match="line 1 is never closed"):
        fenced_blocks("```python\nx = 1\n")


def test_only_import_lines_change_and_every_block_is_accounted_for():
    blocks = all_blocks()
    assert set(DOCUMENT_ERRORS) | set(NOT_RUN) | set(PROVIDED) <= set(blocks)
    for bid, (path, n, code) in blocks.items():
        new = translate(code)
        for old_line, new_line in zip(code.splitlines(), new.splitlines(), strict=True):
            if old_line != new_line:
                assert re.match(r"(import|from)\s", old_line), (bid, old_line)
                assert "keras" in old_line or "tensorflow" in old_line, (bid, old_line)
        if bid in NOT_RUN:
            continue
        # the test provides exactly what the block leaves undefined
        assert free_names(new) == PROVIDED.get(bid, (set(), None))[0], bid


def test_translate_maps_each_keras_import_form():
    assert translate("from keras.models import Sequential, Model\n") == (
        "from dlkit.models import Sequential, Model\n")
    assert translate("from tensorflow.keras.layers import Conv2D, Dense\n") == (
        "from dlkit.layers import Conv2D, Dense\n")
    assert translate("from keras.optimizers import SGD\n") == "from dlkit.optimizers import SGD\n"
    with pytest.raises(AssertionError, match="no dlkit equivalent"):
        translate("import torch\n")


# -- running the blocks ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_prepared():
    (x, y), (xt, yt) = dlkit.datasets.mnist.load_data()
    flat = lambda a: (a.reshape(len(a), -1) / np.float32(255)).astype(np.float32)  # noqa: E731
    return {"x_train": flat(x), "x_test": flat(xt),
            INTEGER: {"y_train": y.astype(np.int64), "y_test": yt.astype(np.int64)},
            ONE_HOT: {"y_train": dlkit.utils.to_categorical(y, 10),
                      "y_test": dlkit.utils.to_categorical(yt, 10)}}


def check_result(bid, ns, data):
    """After the block: the model it made is usable (and learned, where the block trains).

    Accuracy bounds are wide ranges, not digits: float-sum order must not change the verdict.
    """
    rng = np.random.default_rng(0)
    if bid in PROVIDED:   # the blocks that train on MNIST: well above chance (0.1)
        labels = data[PROVIDED[bid][1]]
        loss, acc = ns["model"].evaluate(data["x_test"], labels["y_test"])
        assert np.isfinite(loss) and acc > 0.8, (bid, loss, acc)
        return
    # the blocks that only build and compile: predict, and one epoch on a few rows
    x28 = data["x_train"][:64].reshape(-1, 28, 28, 1)
    cases = {
        "004-1": ("model", x28, data[INTEGER]["y_train"][:64], (64, 10)),
        "004-2": ("model", rng.random((64, 10, 10), dtype=np.float32),
                  dlkit.utils.to_categorical(rng.integers(0, 10, 64), 10), (64, 10)),
        "004-3": ("autoencoder", data["x_train"][:64], data["x_train"][:64], (64, 784)),
    }
    name, x, y, shape = cases[bid]
    model = ns[name]
    out = model.predict(x)
    assert out.shape == shape and np.all(np.isfinite(out)), bid
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0]), bid


@pytest.mark.parametrize("bid", block_ids())
def test_document_block_runs_with_dlkit(bid, mnist_prepared):
    blocks = all_blocks()
    if bid in NOT_RUN:
        pytest.skip(f"{bid} not run: {NOT_RUN[bid]}")
    path, line, code = blocks[bid]
    ns = {"__name__": f"document_{bid.replace('-', '_')}"}
    if bid in PROVIDED:
        names, labels = PROVIDED[bid]
        data = {"x_train": mnist_prepared["x_train"], "x_test": mnist_prepared["x_test"],
                **mnist_prepared[labels]}
        ns.update({k: data[k] for k in names})
    program = compile(translate(code), f"{path.name}, block at line {line}", "exec")
    dlkit.set_seed(0)
    if bid in DOCUMENT_ERRORS:
        error, message = DOCUMENT_ERRORS[bid]
        with pytest.raises(error, match=message):
            exec(program, ns)
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exec(program, ns)
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    if bid in EXPECTED_WARNINGS:
        assert len(messages) == 1 and re.search(EXPECTED_WARNINGS[bid], messages[0]), messages
        assert caught[0].category is UserWarning   # shown by default, unlike DeprecationWarning
        assert caught[0].filename == program.co_filename   # points at the document's line
    else:
        assert messages == [], messages
    check_result(bid, ns, mnist_prepared)


# -- dlkit.models: keras.models's name -------------------------------------------------------------

def test_dlkit_models_is_keras_models():
    from dlkit.models import Model, Sequential, load_model, save_model
    from dlkit.saving import save_model as saving_save_model

    assert Sequential is dlkit.Sequential and Model is dlkit.Model
    assert load_model is dlkit.load_model and save_model is saving_save_model
    assert dlkit.models.Sequential is Sequential           # also as an attribute, lazily
    assert set(dlkit.models.__all__) == {"Sequential", "Model", "load_model", "save_model"}
    # the functional Model is a model like Sequential (compile, fit, ... are the same methods)
    assert issubclass(Model, Sequential)


def test_importing_dlkit_models_stays_cheap():
    code = ("import sys; from dlkit.models import Sequential, Model, load_model; "
            "print(sorted(m for m in ('numba', 'matplotlib', 'ipywidgets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
