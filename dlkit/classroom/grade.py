"""The autograder: ``python -m dlkit assign grade SRC SUBMISSIONS/ --out grades.csv``.

For each student (``SUBMISSIONS/<student>.ipynb`` or ``SUBMISSIONS/<student>/.../<name>.ipynb``):

1. The grader reads every submission and the solution notebook SRC into memory first, so
   no student's code can change another's notebook or the tests before they are graded.
2. It builds the cells to run: a preamble that seeds ``random``, NumPy and dlkit; then the
   submission's code cells in the student's order, where every test cell (matched by
   ``grade_id``) and read-only cell is replaced by SRC's version, hidden tests included.
   A test cell the student deleted is not restored: it scores 0 and is reported "missing".
   A second cell with the same grade_id is dropped.
3. A worker process of its own runs the cells in a fresh kernel (``run.py``): an empty
   working directory, memory / CPU / file-size limits, a per-cell and a per-notebook time
   limit, no access to SRC, the submissions, the grades files or the other students' folders.
4. Each test cell scores its points if it ran without an exception, else 0 (``results.py``).
5. After all students ran, the grader alone writes grades.csv (one row per student),
   grades_tests.csv (one row per student and test) and grades.json, each atomically
   (``results.py``).

Student status: ok (every cell ran; failed tests just lose points), error (a non-test cell
raised), timeout, crashed (the kernel died, or was stopped because it held its whole memory
limit after a MemoryError), invalid (not a readable notebook), missing (no notebook found
for the student).
"""
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from multiprocessing.connection import wait
from pathlib import Path

import nbformat
from tqdm import tqdm

from ..words import say_in
from .cells import nbgrader_meta, read_assignment
from .release import solution_notebooks
from .results import (StudentResult, TestResult, one_line, output_paths, score_student,
                      summary_table, write_feedback, write_grades)

__all__ = ["StudentResult", "TestResult", "grade", "find_submissions", "parse_size",
           "summary_table", "PREAMBLE"]

PREAMBLE = """\
# inserted by the grader: the same random numbers in every run
import random as _random
import numpy as _np
_random.seed({seed})
_np.random.seed({seed})
try:
    import dlkit as _dlkit
    _dlkit.set_seed({seed})
except ImportError:
    pass
del _random, _np
"""

_LIBRARY = Path(__file__).resolve().parents[1]   # the dlkit package


def parse_size(text):
    """'2G', '512M', '1.5GiB', '1000000' -> bytes."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([kmgt]?)(i?b)?\s*", str(text), re.I)
    if not m:
        raise ValueError(f"not a size: {text!r} (use e.g. 2G, 512M or a number of bytes)")
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2).lower() or " "))


def find_submissions(folder, notebook_name):
    """[(student, path or None)] sorted by student.

    ``folder/<student>.ipynb``, or ``folder/<student>/`` holding ``notebook_name`` anywhere
    below it (nbgrader's submitted/<student>/<assignment>/ layout), or its only notebook.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no submissions folder at {folder}")
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ".ipynb":
            found.append((entry.stem, entry))
        elif entry.is_dir():
            nbs = sorted(p for p in entry.rglob("*.ipynb")
                         if ".ipynb_checkpoints" not in p.parts and p.is_file())
            named = [p for p in nbs if p.name == notebook_name]
            found.append((entry.name, named[0] if named else (nbs[0] if len(nbs) == 1 else None)))
    return found


def _plan(nb, assignment, seed):
    """Cells to run for one submission, and notes about dropped duplicates."""
    cells, seen, notes = [{"source": PREAMBLE.format(seed=seed), "kind": "preamble"}], set(), []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        test = assignment.test(gid) if isinstance(gid, str) else None
        if test is not None or (isinstance(gid, str) and gid in assignment.readonly):
            if gid in seen:
                notes.append(say_in(assignment.language, "a second cell {gid!r} was dropped",
                                    gid=gid))
                continue
            seen.add(gid)
            src = test.source if test is not None else assignment.readonly[gid]
            cells.append({"source": src, "kind": "test" if test else "readonly", "grade_id": gid})
        else:
            src = cell.get("source", "")
            cells.append({"source": src if isinstance(src, str) else "".join(src),
                          "kind": "student"})
    return cells, notes


def _guard_config(src, submissions, outputs, private, workdir, connection_file, sockets):
    """What the student's kernel may not touch (see _guard)."""
    essential = [_LIBRARY, Path(sys.prefix).resolve(),
                 Path(os.__file__).resolve().parent]
    src_dir = src.resolve().parent
    trees = [str(submissions.resolve()), str(private)]
    if not any(e == src_dir or src_dir in e.parents for e in essential):
        trees.append(str(src_dir))   # the whole solution folder, unless the library lives there
    return {"trees": trees, "files": [str(src.resolve())] + [str(p.resolve()) for p in outputs],
            "ipynb_trees": [str(src_dir)],
            "allow": [str(workdir), str(connection_file), str(sockets)]}


def grade(src, submissions, out="grades.csv", *, cell_timeout=60, timeout=300, memory="2G",
          jobs=2, seed=0, progress=True, feedback=None):
    """Grade every submission of one assignment; returns [StudentResult] sorted by student.

    src: the solution notebook (or a folder holding exactly one); submissions: the folder;
    out: grades.csv path (grades_tests.csv and grades.json are written beside it);
    cell_timeout / timeout: seconds per cell / per notebook; memory: per-kernel address-space
    limit ("2G"; student code gets it less a reserve, see ``_kernel``); jobs: students graded
    at once; seed: for the preamble; feedback: a folder for the executed notebooks (written
    after grading), or None.
    """
    srcs = solution_notebooks(src)
    if len(srcs) != 1:
        raise ValueError(f"{src} holds {len(srcs)} notebooks; pass the solution notebook of "
                         "the assignment to grade")
    src, submissions = srcs[0], Path(submissions)
    assignment = read_assignment(nbformat.read(src, as_version=4), src.name)
    outputs = output_paths(out)
    for p in outputs:
        if submissions.resolve() in p.resolve().parents:
            raise ValueError(f"write the grades outside the submissions folder (got {out})")
    # 1. everything read into memory before any student code runs
    entries = []
    for student, path in find_submissions(submissions, src.name):
        if path is None:
            entries.append((student, None, "no notebook found for this student"))
            continue
        try:
            entries.append((student, nbformat.reads(path.read_text("utf-8"), as_version=4), ""))
        except Exception as e:   # corrupt JSON, not a notebook, not UTF-8
            entries.append((student, None, one_line(f"not a readable notebook: "
                                                    f"{type(e).__name__}: {e}", 200)))
    mem = parse_size(memory) if memory else None
    private = Path(tempfile.mkdtemp(prefix="dlkit-grade-")).resolve()   # mode 0700
    ctx = _context()
    results, pending, running = {}, [], {}
    # one thread each (two students share two cores); few malloc arenas, so that the address
    # space limit is close to the memory actually used (a bare kernel: ~0.3 GB, with Numba ~0.6)
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2", "PYTHONHASHSEED": str(seed),
           "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(filter(None, [
               str(_LIBRARY.parent), os.environ.get("PYTHONPATH")]))}
    plans = {}
    for k, (student, nb, error) in enumerate(entries):
        if nb is None:
            status = "missing" if error.startswith("no notebook") else "invalid"
            results[student] = StudentResult(
                student, status, 0.0, assignment.max_score, error,
                [TestResult(t.grade_id, 0.0, t.points, "not run") for t in assignment.tests])
            continue
        plan, notes = _plan(nb, assignment, seed)
        home = private / f"s{k:04d}"
        workdir, conn_file, sockets = home / "work", home / "kernel.json", home / "ipc"
        (workdir / "tmp").mkdir(parents=True)
        sockets.mkdir()
        ipc_prefix = str(sockets / "k")      # sockets k-1 ... k-5; a Unix socket path is short
        job = {"cells": plan, "workdir": str(workdir), "connection_file": str(conn_file),
               "ipc_prefix": ipc_prefix if len(ipc_prefix) < 96 else None,
               "cell_timeout": cell_timeout, "timeout": timeout,
               "env": {**env, "TMPDIR": str(workdir / "tmp"), "HOME": os.environ.get("HOME", "")},
               "kernel_config": {"memory": mem, "cpu_seconds": int(timeout) + 30,
                                 "file_size": 256 * 2 ** 20,
                                 "guard": _guard_config(src, submissions, outputs, private,
                                                        workdir, conn_file, sockets)}}
        plans[student] = (plan, notes, home)
        pending.append((student, job))
    bar = _progress(len(entries), progress)
    bar.update(len(results))
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs):
                student, job = pending.pop(0)
                parent, child = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_worker, args=(job, child), daemon=True)
                proc.start()
                child.close()
                running[parent] = (student, proc, time.monotonic())
            ready = wait(list(running), timeout=1.0)
            now = time.monotonic()
            for conn in list(running):
                student, proc, started = running[conn]
                run = None
                if conn in ready:
                    try:
                        run = conn.recv()
                    except (EOFError, OSError):
                        run = {"kernel": "crashed", "message": "the grader's worker died"}
                elif now - started > timeout + 90:   # startup and shutdown grace
                    run = {"kernel": "timeout", "message": "the grader's worker was overdue "
                           f"(> {timeout + 90} s) and was stopped"}
                if run is None:
                    continue
                conn.close()
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
                plan, notes, home = plans[student]
                res = score_student(student, assignment, plan, notes, run)
                res.seconds = now - started
                res.notebook = run
                results[student] = res
                shutil.rmtree(home, ignore_errors=True)
                del running[conn]
                bar.set_postfix_str(f"{student}: {res.status} {res.score:g}/{res.max_score:g}")
                bar.update(1)
    finally:
        for conn, (student, proc, _) in running.items():
            proc.kill()
        bar.close()
        shutil.rmtree(private, ignore_errors=True)
    ordered = [results[s] for s, _, _ in entries]
    write_grades(ordered, assignment, out)
    if feedback:
        Path(feedback).mkdir(parents=True, exist_ok=True)
        for r in ordered:
            if r.notebook is not None:
                write_feedback(Path(feedback) / f"{r.student}.ipynb", plans[r.student][0],
                               r.notebook)
    return ordered


def _context():
    """Fresh worker processes, forked from a server that has imported nbclient once.

    (Importing nbformat's JSON-schema validator takes seconds: paid once, not per student.
    The server never runs student code, so each worker still starts clean.)
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["dlkit.classroom.run"])
    return ctx


def _worker(job, conn):
    from .run import worker_main  # lazy: nbclient loads in the worker, not in the grader

    worker_main(job, conn)


def _progress(total, enabled):
    return tqdm(total=total, desc="grading", unit="student", disable=not enabled,
                file=sys.stderr)


