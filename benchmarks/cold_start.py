"""Cold start: each source document's model trained for one batch, predicted and evaluated in a
fresh process with an empty kernel cache, so every kernel it needs is compiled; then the same
with the cache that run left (warm). The time is the whole of ``dlkit.warmup``'s task for the
model (fit on one batch of 16, predict, evaluate), an upper bound on "fit called to the end of
its first batch".

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
from dlkit.warmup import _documents
name, fn = _documents("float32")[int(sys.argv[1])]
t = time.perf_counter(); fn(); print(name, "|", time.perf_counter() - t)
"""


def run(i, cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", CODE, str(i)], env=env, capture_output=True,
                         text=True, check=True, cwd=ROOT)
    name, seconds = out.stdout.strip().splitlines()[-1].split(" | ")
    return name, float(seconds)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--markdown")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from dlkit.warmup import _documents

    rows = []
    for i in range(len(_documents("float32"))):
        with tempfile.TemporaryDirectory() as cache:
            name, cold = run(i, cache)
            _, warm = run(i, cache)
        rows.append((name, cold, warm))
        print(f"{name:<34} cold {cold:6.1f} s   warm {warm:5.2f} s", flush=True)
    lines = ["| model (empty cache, fresh process) | cold s | warm s | floor |",
             "|---|---:|---:|---:|"]
    lines += [f"| {n} | {c:.1f}{' **over**' if c >= 20 else ''} | {w:.2f} | < 20 |"
              for n, c, w in rows]
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")


if __name__ == "__main__":
    main()
