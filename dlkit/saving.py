"""Saving and loading models: one ``.npz`` file, never pickled.

The file holds each weight array (``w000``, ``w001``, ... in ``model.get_weights()`` order) and
an ``architecture`` entry: the UTF-8 bytes of a JSON document with the layer configs and the
compile settings. ``numpy.load(..., allow_pickle=False)`` reads it, so loading a file can run
no code. Writes go through ``atomic_write``: a temporary file in the same directory, flushed
to disk, then renamed over the target, so a failed save leaves the old file intact.
"""
import json
import os
import zipfile

import numpy as np

from . import __version__, losses, optimizers
from ._files import atomic_write

FORMAT = "dlkit-model"
VERSION = 1


def _config(model, include_compile=True):
    doc = {"format": FORMAT, "version": VERSION, "dlkit_version": __version__,
           "class_name": type(model).__name__, "config": model.get_config(),
           "input_shape": list(model.input_shape[1:]) if model.input_shape else None}
    compiled = model.get_compile_config() if include_compile else None
    if compiled is not None:
        doc["compile"] = {"optimizer": optimizers.serialize(compiled["optimizer"]),
                          "loss": losses.serialize(compiled["loss"]),
                          "metrics": [m if isinstance(m, str) else m.name
                                      for m in compiled["metrics"]]}
    return doc


def _write_npz(path, doc, weights):
    arrays = {f"w{i:03d}": w for i, w in enumerate(weights)}
    arrays["architecture"] = np.frombuffer(json.dumps(doc).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def save_model(model, path):
    if not model.built:
        raise ValueError("the model has no weights yet: build it (give the first layer "
                         "input_shape=...) or train it before saving")
    _write_npz(path, _config(model), model.get_weights())


def save_weights(model, path):
    _write_npz(path, _config(model, include_compile=False), model.get_weights())


def _read(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no model file at {path!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            doc = json.loads(bytes(data["architecture"]).decode("utf-8"))
            weights = [data[f"w{i:03d}"] for i in range(len(data.files) - 1)]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        raise ValueError(f"{path!r} is not a readable dlkit model file ({e}); it may be truncated "
                         "or not saved by dlkit: save the model again") from e
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a dlkit model file (format {doc.get('format')!r})")
    return doc, weights


def load_config(path):
    """The JSON architecture document stored in a model file."""
    return _read(path)[0]


def load_model(path, compile=True):
    """Rebuild a model saved with ``model.save(path)``: architecture, weights, compile settings."""
    # lazy (the model stack calls this module); importing them registers Sequential and Model
    from . import functional, model as model_module  # noqa: F401
    from .layers.base import get_layer_class

    doc, weights = _read(path)
    cls = get_layer_class(doc["class_name"])
    model = cls.from_config(doc["config"])
    if doc.get("input_shape") is not None and not model.built:
        model.build((None,) + tuple(doc["input_shape"]))
    model.set_weights(weights)
    if compile and "compile" in doc:
        c = doc["compile"]
        model.compile(optimizer=optimizers.get(c["optimizer"]), loss=losses.get(c["loss"]),
                      metrics=c["metrics"])
    return model


def load_weights(model, path):
    _, weights = _read(path)
    model.set_weights(weights)
