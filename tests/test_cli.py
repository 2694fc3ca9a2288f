"""The command line: python -m dlkit info / train."""
import subprocess
import sys

import pytest


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "dlkit", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_info_prints_versions_threads_and_directories():
    out = run("info")
    assert out.returncode == 0, out.stderr
    for key in ("dlkit", "numba", "numpy", "numba threads", "numba cache dir", "data dir",
                "float32 matrix products"):
        assert key in out.stdout


def test_train_mlp_prints_test_accuracy_and_saves(tmp_path):
    out = run("train", "mlp", "--epochs", "2", "--quiet", "--save", str(tmp_path / "m.npz"))
    assert out.returncode == 0, out.stderr
    line = [l for l in out.stdout.splitlines() if "test accuracy" in l][-1]
    acc = float(line.rsplit(" ", 1)[1])
    assert acc > 0.85, line
    assert (tmp_path / "m.npz").exists()


def test_bad_arguments_exit_with_usage():
    out = run("train", "resnet")
    assert out.returncode == 2 and "invalid choice" in out.stderr
