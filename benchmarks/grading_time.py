"""How long the autograder takes for a class: 20 submissions of one assignment on 2 workers.

    python benchmarks/grading_time.py [book/assignments/02_optimizers.ipynb] [--students 20]

The class: mostly correct solutions, some untouched student copies (every solution raises
NotImplementedError), one with a wrong answer, one that deleted a test cell, one infinite
loop (costs one --cell-timeout) and one corrupt file. Prints the wall time and the summary.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_class(src, folder, n):
    import nbformat

    from dlkit.classroom.cells import cell_kind
    from dlkit.classroom.release import release_notebook

    solution = nbformat.read(src, as_version=4)
    student = release_notebook(solution, src.name)
    answers = [i for i, c in enumerate(solution.cells) if cell_kind(c) == "answer"]
    tests = [i for i, c in enumerate(solution.cells) if cell_kind(c) == "test"]
    kinds = ["student", "wrong", "deleted", "loop", "corrupt", "student", "student"]
    kinds += ["solution"] * max(0, n - len(kinds))
    for k, kind in enumerate(kinds[:n]):
        path = folder / f"student{k:02d}.ipynb"
        if kind == "corrupt":
            path.write_text('{"cells": [ {"cell_type": "code", "sour')
            continue
        nb = nbformat.from_dict(student if kind == "student" else solution)
        if kind == "wrong":
            nb.cells[answers[0]].source = "raise ValueError('my bug')"
        elif kind == "deleted":
            del nb.cells[tests[-1]]
        elif kind == "loop":
            nb.cells[answers[-1]].source = "while True:\n    pass"
        nbformat.write(nb, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", nargs="?", default=str(ROOT / "book/assignments/02_optimizers.ipynb"))
    ap.add_argument("--students", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cell-timeout", type=float, default=10)
    args = ap.parse_args()
    from dlkit.classroom.grade import grade, summary_table

    with tempfile.TemporaryDirectory() as tmp:
        subs, out = Path(tmp) / "submitted", Path(tmp) / "grades.csv"
        subs.mkdir()
        make_class(Path(args.src), subs, args.students)
        t = time.perf_counter()
        results = grade(args.src, subs, out, jobs=args.jobs, cell_timeout=args.cell_timeout,
                        progress=True)
        secs = time.perf_counter() - t
        print(summary_table(results))
        print(json.dumps({"assignment": Path(args.src).name, "students": len(results),
                          "jobs": args.jobs, "seconds": round(secs, 1)}))


if __name__ == "__main__":
    main()
