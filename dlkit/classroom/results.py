"""What grading produces: the scores, the grades files, the feedback notebooks, the summary.

``score_student`` turns the worker's per-cell results into a ``StudentResult`` (a ``TestResult`` per
test cell); ``write_grades`` writes grades.csv (one row per student), grades_tests.csv (one
row per student and test) and grades.json, each atomically; ``summary_table`` is what
``python -m dlkit assign grade`` prints.
"""
import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from .._files import atomic_write
from ..words import say_in

__all__ = ["TestResult", "StudentResult", "score_student", "output_paths", "write_grades",
           "write_feedback", "summary_table"]

_STATUS_ORDER = ("invalid", "missing", "crashed", "timeout", "error", "ok")


@dataclass
class TestResult:
    grade_id: str
    points: float
    max_points: float
    status: str          # passed, failed, timeout, missing, not run, crashed
    detail: str = ""


@dataclass
class StudentResult:
    student: str
    status: str
    score: float
    max_score: float
    message: str = ""
    tests: list = field(default_factory=list)
    seconds: float = 0.0       # wall time: shown in the summary, not written to the files
    notebook: object = None    # executed cells for --feedback (not written to grades files)


def one_line(text, limit=300):
    """One line, no memory addresses (they differ run to run), at most ``limit`` characters."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x…", " ".join(str(text).split()))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def score_student(student, assignment, plan, notes, run):
    """A StudentResult from the plan and the worker's per-cell results."""
    by_gid = {c.get("grade_id"): i for i, c in enumerate(plan) if c["kind"] == "test"}
    cells = run.get("cells") or [{"status": "not run"} for _ in plan]
    tests = []
    for t in assignment.tests:
        i = by_gid.get(t.grade_id)
        if i is None:
            tests.append(TestResult(t.grade_id, 0.0, t.points, "missing",
                                    say_in(assignment.language,
                                           "the test cell was deleted from the notebook")))
            continue
        r = cells[i]
        st = {"ok": "passed", "error": "failed"}.get(r["status"], r["status"])
        detail = one_line(f"{r.get('ename', '')}: {r.get('evalue', '')}") if st != "passed" else ""
        tests.append(TestResult(t.grade_id, t.points if st == "passed" else 0.0, t.points, st,
                                detail if r.get("ename") else ""))
    status, messages = "ok", []
    if run.get("kernel") in ("crashed", "timeout"):
        status = run["kernel"]
        messages.append(run.get("message", ""))
    for i, (c, r) in enumerate(zip(plan, cells)):
        if c["kind"] != "test" and r["status"] in ("error", "timeout"):
            if status == "ok":
                status = r["status"]
            messages.append(one_line(say_in(assignment.language, "cell {i} ({kind}): {error}",
                                            i=i, kind=c["kind"],
                                            error=f"{r.get('ename')}: {r.get('evalue', '')}"),
                                     160))
            break
        if c["kind"] == "test" and r["status"] == "timeout" and status == "ok":
            status = "timeout"
            messages.append(say_in(assignment.language,
                                   "test cell {gid!r} ran longer than the time limit",
                                   gid=c["grade_id"]))
    missing = [t.grade_id for t in tests if t.status == "missing"]
    if missing:
        messages.append(say_in(assignment.language, "missing test cells: {ids}",
                               ids=", ".join(missing)))
    messages += notes
    score = sum(t.points for t in tests)
    return StudentResult(student, status, score, assignment.max_score,
                         "; ".join(m for m in messages if m), tests)


def output_paths(out):
    """grades.csv, grades_tests.csv and grades.json: ``out`` and two files beside it."""
    out = Path(out)
    return out, out.with_name(out.stem + "_tests.csv"), out.with_suffix(".json")


def write_grades(results, assignment, out):
    """grades.csv, grades_tests.csv, grades.json (same stem as ``out``); returns the paths."""
    paths = output_paths(out)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    ids = [t.grade_id for t in assignment.tests]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", "status", "score", "max_score", *ids, "message"])
    for r in results:
        pts = {t.grade_id: t.points for t in r.tests}
        w.writerow([r.student, r.status, f"{r.score:g}", f"{r.max_score:g}",
                    *(f"{pts.get(i, 0):g}" for i in ids), r.message])
    atomic_write(paths[0], buf.getvalue().encode("utf-8"))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", "grade_id", "points", "max_points", "status", "detail"])
    for r in results:
        for t in r.tests:
            w.writerow([r.student, t.grade_id, f"{t.points:g}", f"{t.max_points:g}", t.status,
                        t.detail])
    atomic_write(paths[1], buf.getvalue().encode("utf-8"))
    doc = {"assignment": assignment.name, "max_score": assignment.max_score,
           "tests": [{"grade_id": t.grade_id, "points": t.points} for t in assignment.tests],
           "students": [{k: v for k, v in asdict(r).items() if k not in ("seconds", "notebook")}
                        for r in results]}
    atomic_write(paths[2], (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return paths


def write_feedback(path, plan, run):
    """The executed notebook (hidden tests included) for the teacher, written after grading."""
    cells = []
    for c, r in zip(plan, run.get("cells") or []):
        cell = nbformat.v4.new_code_cell(c["source"])
        cell.outputs = [nbformat.from_dict(o) for o in r.get("outputs", [])]
        cell.metadata["grader"] = {"kind": c["kind"], "status": r["status"]}
        cells.append(cell)
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


def summary_table(results):
    """A plain-text table: one line per student, then the class statistics."""
    if not results:
        return "no submissions"
    w = max(7, *(len(r.student) for r in results))
    lines = [f"{'student':<{w}}  {'status':<8}  {'score':>11}  {'tests':>7}  {'time':>6}  message",
             "-" * (w + 50)]
    for r in results:
        passed = sum(t.status == "passed" for t in r.tests)
        lines.append(f"{r.student:<{w}}  {r.status:<8}  {r.score:>5g} / {r.max_score:<3g}  "
                     f"{passed:>3}/{len(r.tests):<3}  {r.seconds:>5.1f}s  "
                     f"{one_line(r.message, 70)}")
    scores = sorted(r.score for r in results)
    n = len(scores)
    median = scores[n // 2] if n % 2 else (scores[n // 2 - 1] + scores[n // 2]) / 2
    counts = {s: sum(r.status == s for r in results) for s in _STATUS_ORDER}
    lines += ["-" * (w + 50),
              f"{n} students; mean {sum(scores) / n:.2f}, median {median:g} of "
              f"{results[0].max_score:g}; " +
              ", ".join(f"{c} {s}" for s, c in counts.items() if c)]
    return "\n".join(lines)
