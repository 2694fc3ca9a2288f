"""The command line: python -m dlkit info / train; where compiled kernels are cached."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

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


def test_kernel_cache_directory_follows_the_kernel_sources(tmp_path, monkeypatch):
    # Numba checks a cached kernel against its own file only; dlkit keys the whole cache by a
    # hash of every kernel source, so a change to a helper file (gemm.py) is never served stale
    import numba

    variant = f"numba{numba.__version__}-blas"
    stale = tmp_path / f"dlkit-000000000000-{variant}"       # older sources, same variant
    legacy = tmp_path / "dlkit-111111111111"                 # the layout before variants
    other_env = tmp_path / "dlkit-222222222222-numba0.1.0-blas"   # another environment's
    other = tmp_path / "unrelated"
    for d in (stale, legacy, other_env, other):
        d.mkdir()
    out = subprocess.run([sys.executable, "-c",
                          "from dlkit.kernels._jit import cache_dir; print(cache_dir())"],
                         env={**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "DLKIT_GEMM": "blas"},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    used = Path(out.stdout.strip())
    assert used.parent == tmp_path and used.name.startswith("dlkit-") and used != stale
    assert used.name.endswith(f"-{variant}")
    assert not stale.exists() and not legacy.exists()       # old versions go,
    assert other_env.exists() and other.exists()            # nothing else

    from dlkit.kernels import _jit

    copy = tmp_path / "kernels"
    shutil.copytree(_jit._PKG_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(_jit, "_PKG_DIR", copy)
    before = _jit._sources_hash()
    assert before == used.name.split("-")[1]
    (copy / "gemm.py").write_text((copy / "gemm.py").read_text() + "\n# edited\n")
    assert _jit._sources_hash() != before


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


def test_gemm_switch_forces_blas_and_rejects_unknown_values():
    code = "from dlkit.kernels import gemm; print(gemm.ENABLED)"
    for env, expected in (({"DLKIT_GEMM": "blas"}, "False"),
                          ({"NUMBA_CPU_NAME": "generic"}, "False")):
        out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env},
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and out.stdout.strip() == expected, (env, out.stdout, out.stderr)
    info = subprocess.run([sys.executable, "-m", "dlkit", "info"],
                          env={**os.environ, "DLKIT_GEMM": "blas"},
                          capture_output=True, text=True, timeout=120)
    assert "BLAS (DLKIT_GEMM=blas)" in info.stdout, info.stdout
    bad = subprocess.run([sys.executable, "-c", code], env={**os.environ, "DLKIT_GEMM": "fast"},
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "DLKIT_GEMM='fast' is not a valid setting" in bad.stderr
