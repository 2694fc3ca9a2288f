"""The first run: kernels compiled ahead of time (warmup), a cache prepared by someone else and
read-only to the user, two processes filling one cache at once, the compile notice, and data
files other users can read. Each case runs in fresh processes with its own cache directory."""
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]

# A fit of the first document's model that prints how many kernels Numba compiled meanwhile
# (its compile event fires only for a kernel not found in the cache).
FIT = textwrap.dedent("""
    import numpy as np
    from numba.core import event
    from dlkit import Sequential
    from dlkit.layers import Dense

    class Count(event.Listener):
        n = 0
        def on_start(self, ev):
            self.n += 1
        def on_end(self, ev):
            pass

    count = Count()
    event.register("numba:compile", count)
    m = Sequential([Dense(32, activation="relu", input_shape=(784,)),
                    Dense(10, activation="softmax")])
    m.compile("sgd", "categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[np.arange(64) % 10]
    m.fit(x, y, epochs=1, verbose=VERBOSE)
    print("compiled", count.n)
""")


def run(code, cache, home, verbose=0):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), XDG_CACHE_HOME=str(home))
    out = subprocess.run([sys.executable, "-c", code.replace("VERBOSE", str(verbose))], env=env,
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


def compiled(out):
    return int(out.stdout.split("compiled")[-1].split()[0])


def test_warmup_then_fit_compiles_nothing_and_a_cold_fit_says_it_compiles(tmp_path, monkeypatch):
    log = tmp_path / "compiled.txt"
    monkeypatch.setenv("DLKIT_LOG_COMPILES", str(log))     # the list an administrator reads
    cold = run(FIT, tmp_path / "cold", tmp_path, verbose=2)
    assert compiled(cold) > 0
    assert "compiling dlkit kernels for this CPU, once" in cold.stdout
    assert "dlkit.kernels.dense." in log.read_text()
    monkeypatch.delenv("DLKIT_LOG_COMPILES")
    warm = run("from dlkit.warmup import warmup; warmup(verbose=False)", tmp_path / "c", tmp_path)
    after = run(FIT, tmp_path / "c", tmp_path, verbose=2)
    assert compiled(after) == 0
    assert "compiling dlkit kernels" not in after.stdout + after.stderr
    quiet = run(FIT, tmp_path / "q", tmp_path, verbose=0)          # cold, but verbose=0
    assert compiled(quiet) > 0 and "compiling" not in quiet.stdout + quiet.stderr


def test_two_processes_warming_one_cache_at_once(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "c"), XDG_CACHE_HOME=str(tmp_path))
    code = FIT.replace("VERBOSE", "0")
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
    assert compiled(run(FIT, tmp_path / "c", tmp_path)) == 0


def _as_student(code, shared):
    """Run as a student, for whom ``shared`` is read-only. Root may write anywhere (and the
    user 'nobody' cannot run this venv's Python here), so as root the check dlkit makes, a
    temporary file in the directory, is made to fail there as it would for a student."""
    if os.geteuid() != 0:
        return code
    return textwrap.dedent(f"""
        import tempfile
        _real = tempfile.TemporaryFile
        def _read_only(*a, dir=None, **k):
            if dir is not None and str(dir).startswith({str(shared)!r}):
                raise PermissionError(13, "Permission denied", str(dir))
            return _real(*a, dir=dir, **k)
        tempfile.TemporaryFile = _read_only
    """) + code


def test_a_read_only_prepared_cache_is_used_as_is(tmp_path):
    shared = tmp_path / "shared"
    run(FIT, shared, tmp_path / "admin")                       # the administrator's warmup
    files = sorted(p for p in shared.rglob("*") if p.is_file())
    before = {p: p.stat().st_mtime_ns for p in files}
    for p in [shared, *shared.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) | 0o555
                if p.is_dir() else 0o444)
    home = tmp_path / "student"
    out = run(_as_student(FIT, shared), shared, home)
    assert compiled(out) == 0, out.stderr
    assert "is read-only; using its kernels" in out.stderr
    assert out.stderr.count("dlkit:") == 1                      # one line
    assert {p: p.stat().st_mtime_ns for p in files} == before   # untouched
    # a model the administrator did not prepare compiles into the student's directory
    f64 = FIT.replace('input_shape=(784,))', 'input_shape=(784,), dtype="float64")').replace(
        'activation="softmax")', 'activation="softmax", dtype="float64")')
    assert compiled(run(_as_student(f64, shared), shared, home)) > 0
    assert {p: p.stat().st_mtime_ns for p in files} == before


def test_an_unusable_cache_directory_falls_back_to_the_users_own(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = run(FIT, blocker / "cache", tmp_path)
    assert "is not writable; compiling kernels into" in out.stderr
    assert str(tmp_path / "dlkit" / "numba") in out.stderr


def test_downloaded_and_saved_files_are_readable_by_other_users(tmp_path):
    from dlkit._files import atomic_write   # what downloads and saves both write through

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "data.bin", b"123")
        atomic_write(tmp_path / "model.npz", lambda f: f.write(b"x"))
    finally:
        os.umask(old)
    for name in ("data.bin", "model.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


def test_a_portable_cache_for_generic_cpus_trains_with_blas(tmp_path):
    """NUMBA_CPU_NAME=generic (one cache for a hub's different CPUs): BLAS products, said by
    `python -m dlkit info`, and a model trains."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "c"), NUMBA_CPU_NAME="generic")
    env.pop("NUMBA_CPU_FEATURES", None)
    info = subprocess.run([sys.executable, "-m", "dlkit", "info"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert "BLAS (NUMBA_CPU_NAME=generic has no AVX-512)" in info.stdout, info.stdout
    code = FIT.replace("VERBOSE", "0") + textwrap.dedent("""
        from dlkit.kernels import gemm
        assert not gemm.ENABLED
        assert np.isfinite(m.evaluate(x, y, verbose=0)[0])
    """)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert compiled(out) > 0
