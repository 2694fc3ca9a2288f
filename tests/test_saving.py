"""Saving and loading: round trips, atomic writes, and clear errors for bad files."""
import json
import os
import stat

import numpy as np
import pytest

import dlkit
from dlkit import Sequential, load_model
from dlkit._files import atomic_write
from dlkit.layers import Dense, Dropout, Flatten, Reshape
from dlkit.optimizers import SGD
from dlkit.saving import load_config


@pytest.fixture
def trained():
    dlkit.set_seed(3)
    model = Sequential([Reshape((2, 4), input_shape=(8,)), Flatten(),
                        Dense(6, activation="tanh", kernel_regularizer=0.01), Dropout(0.2),
                        Dense(3, activation="softmax")])
    model.compile(optimizer=SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x, y = rng.random((50, 8)), rng.integers(0, 3, 50)
    model.fit(x, y, epochs=2, verbose=0)
    return model, x, y


def test_round_trip_gives_same_predictions_and_config(trained, tmp_path):
    model, x, y = trained
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert repr(loaded) == repr(model)
    assert loaded.evaluate(x, y) == pytest.approx(model.evaluate(x, y))
    assert isinstance(loaded.optimizer, SGD) and loaded.optimizer.momentum == 0.9
    doc = load_config(path)
    assert doc["format"] == "dlkit-model" and doc["config"]["layers"][2]["class_name"] == "Dense"
    json.dumps(doc)  # plain JSON
    loaded.fit(x, y, epochs=1, verbose=0)  # trainable again


def test_files_load_without_pickle(trained, tmp_path):
    model, _, _ = trained
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


def test_failed_save_leaves_old_file_intact(trained, tmp_path, monkeypatch):
    model, x, _ = trained
    path = tmp_path / "model.npz"
    model.save(path)
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"partial garbage")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(np, "savez", broken_savez)
    model.layers[2].kernel[...] = 0
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temp file left behind


def test_weights_only_round_trip(trained, tmp_path):
    model, x, _ = trained
    model.save_weights(tmp_path / "w.npz")
    dlkit.set_seed(99)
    other = Sequential.from_config(model.get_config())
    other.build((None, 8))
    assert not np.array_equal(other.predict(x), model.predict(x))
    other.load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_corrupt_and_missing_files_get_clear_errors(trained, tmp_path):
    model, _, _ = trained
    path = tmp_path / "m.npz"
    model.save(path)
    data = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or not saved by dlkit"):
        load_model(tmp_path / "cut.npz")
    with pytest.raises(FileNotFoundError, match="no model file"):
        load_model(tmp_path / "nothing.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a readable dlkit model"):
        load_model(tmp_path / "other.npz")


def test_set_weights_checks_shapes(trained):
    model, _, _ = trained
    w = model.get_weights()
    w[0] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="kernel.*shape"):
        model.set_weights(w)
    with pytest.raises(ValueError, match="weight arrays"):
        model.set_weights(w[:2])


def test_keras_weight_layout():
    layer = Dense(5, input_shape=(3,))
    layer.build((None, 3))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 5) and bias.shape == (5,)


# -- atomic_write: the one function saving, datasets and the classroom write files with ------
@pytest.mark.parametrize("error", [OSError("disk full (simulated)"), KeyboardInterrupt()])
def test_failed_atomic_write_leaves_old_file_intact_and_no_temp_file(tmp_path, error):
    path = tmp_path / "data.bin"
    atomic_write(path, b"old content")

    def write_half(f):
        f.write(b"new cont")
        raise error

    with pytest.raises(type(error)):
        atomic_write(path, write_half)
    assert path.read_bytes() == b"old content"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
    with pytest.raises(type(error)):                 # no old file: none afterwards either
        atomic_write(tmp_path / "new.bin", write_half)
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_atomic_write_gives_the_complete_new_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    content = np.random.default_rng(0).bytes(3 << 20)
    chunks = [content[i:i + 65536] for i in range(0, len(content), 65536)]
    assert atomic_write(path, lambda f: [f.write(c) for c in chunks]) == str(path)
    assert path.read_bytes() == content
    atomic_write(path, b"bytes")
    assert path.read_bytes() == b"bytes"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_atomic_write_syncs_the_file_before_the_rename_and_the_directory_after(tmp_path,
                                                                            monkeypatch):
    events, fsync, replace = [], os.fsync, os.replace

    def record_fsync(fd):
        events.append("fsync dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        fsync(fd)

    def record_replace(src, dst):
        events.append("replace")
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", record_fsync)
    monkeypatch.setattr(os, "replace", record_replace)
    atomic_write(tmp_path / "f", b"x")
    assert events == ["fsync file", "replace", "fsync dir"]


def test_atomic_write_gives_the_mode_of_a_normally_created_file(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write(tmp_path / "f", b"x")
        (tmp_path / "g").write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "g").stat().st_mode) == 0o640
