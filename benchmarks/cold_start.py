"""Cold start: each source document's model in a fresh process with an empty kernel cache, so
every kernel it needs is compiled, then again with the cache that run left (warm). Two times:
from ``fit`` called to the end of its first batch (what a reader waits for), and the whole of
``dlkit.warmup``'s task for the model (fit on two batches of 8, predict, evaluate: every kernel
the model uses). The documents' models, as ``dlkit.warmup`` builds them.

    python benchmarks/cold_start.py [--markdown FILE]
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = """
import time, sys
from dlkit import warmup
name, fn = warmup._documents("float32")[int(sys.argv[1])]
t = time.perf_counter(); fn(); print(name, "|", warmup.FIRST_BATCH[0], "|", time.perf_counter() - t)
"""


def run(i, cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", CODE, str(i)], env=env, capture_output=True,
                         text=True, check=True, cwd=ROOT)
    name, first, whole = out.stdout.strip().splitlines()[-1].split(" | ")
    return name, float(first), float(whole)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--markdown")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from dlkit.warmup import _documents

    rows = []
    for i in range(len(_documents("float32"))):
        with tempfile.TemporaryDirectory() as cache:
            name, cold, cold_all = run(i, cache)
            _, warm, warm_all = run(i, cache)
        rows.append((name, cold, warm, cold_all, warm_all))
        print(f"{name:<34} first batch cold {cold:5.1f} s, warm {warm:5.2f} s; "
              f"fit + predict + evaluate cold {cold_all:5.1f} s, warm {warm_all:5.2f} s",
              flush=True)
    lines = ["| model, fresh process | first batch, empty cache | warm | floor | "
             "fit + predict + evaluate, empty cache | warm |", "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {n} | {c:.1f} s{' **over**' if c >= 20 else ''} | {w:.2f} s | < 20 s | "
              f"{ca:.1f} s | {wa:.2f} s |" for n, c, w, ca, wa in rows]
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")


if __name__ == "__main__":
    main()
