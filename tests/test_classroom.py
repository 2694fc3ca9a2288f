"""Tests of dlkit.classroom: release (student copies) and grade (the autograder).

The grading tests run real kernels: small notebooks where possible, and every assignment of
book/assignments end to end (its solution, its student copy and five broken submissions).
"""
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from dlkit.classroom import results as graded   # graded.TestResult: not a pytest class
from dlkit.classroom.cells import AssignmentError, cell_kind, read_assignment
from dlkit.classroom.grade import grade, parse_size, summary_table
from dlkit.classroom.release import release, release_notebook
from dlkit.classroom.results import StudentResult, write_grades

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted((ROOT / "book" / "assignments").glob("*.ipynb"))
SECRET = "HIDDEN_" + "SECRET_42"        # split: this file must not contain it whole either


def meta(gid, **kw):
    m = {"grade": False, "grade_id": gid, "locked": False, "schema_version": 3,
         "solution": False, "task": False, **kw}
    return {"nbgrader": m}


def tiny():
    """A two-exercise solution notebook (5 points) whose hidden tests mention SECRET."""
    return new_notebook(cells=[
        new_markdown_cell("# Tiny assignment"),
        new_code_cell("import numpy as np", metadata=meta("setup", locked=True)),
        new_code_cell("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n"
                      "    ### END SOLUTION", metadata=meta("add", solution=True)),
        new_code_cell("assert add(1, 2) == 3\n### BEGIN HIDDEN TESTS\n"
                      f"assert add(np.ones(2), 1).sum() == 4, '{SECRET}'\n"
                      "### END HIDDEN TESTS", metadata=meta("t_add", grade=True, locked=True,
                                                            points=2)),
        new_code_cell("def noise():\n    ### BEGIN SOLUTION\n    return np.random.rand()\n"
                      "    ### END SOLUTION", metadata=meta("noise", solution=True)),
        new_code_cell("assert 0 <= noise() < 1\n### BEGIN HIDDEN TESTS\n"
                      f"assert noise() != 0.5, '{SECRET}'\n### END HIDDEN TESTS",
                      metadata=meta("t_noise", grade=True, locked=True, points=3)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})


def variant(nb, answer_index, source):
    nb = nbformat.from_dict(nb)
    nb.cells[answer_index].source = source
    return nb


@pytest.fixture
def course(tmp_path):
    src = tmp_path / "source" / "tiny.ipynb"
    src.parent.mkdir()
    nbformat.write(tiny(), src)
    subs = tmp_path / "submitted"
    subs.mkdir()
    return src, subs, tmp_path / "grades" / "grades.csv"


def rows(out):
    return {r["student"]: r for r in json.loads(out.with_suffix(".json").read_text())["students"]}


# ---------------------------------------------------------------- release

def test_release_replaces_solutions_and_removes_hidden_tests(tmp_path):
    nb = tiny()
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="old output")]
    student = release_notebook(nb)
    text = nbformat.writes(student)
    assert SECRET not in text and "BEGIN SOLUTION" not in text and "return a + b" not in text
    assert student.cells[2].source == ("def add(a, b):\n    # YOUR CODE HERE\n"
                                       "    raise NotImplementedError()")
    assert student.cells[3].source == "assert add(1, 2) == 3"        # visible test kept
    assert all(c.get("outputs", []) == [] for c in student.cells)
    assert student.cells[3].metadata["editable"] is False
    assert student.cells[3].metadata["deletable"] is False
    assert [cell_kind(c) for c in student.cells] == [cell_kind(c) for c in nb.cells]
    assert "return a + b" in nb.cells[2].source, "the solution notebook must not change"


def test_release_cli_writes_every_assignment(tmp_path):
    out = tmp_path / "release"
    r = subprocess.run([sys.executable, "-m", "dlkit", "assign", "release",
                        str(ROOT / "book" / "assignments"), str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.glob("*.ipynb")) == [p.name for p in ASSIGNMENTS]
    for path in out.glob("*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        assert "NotImplementedError" in text


def test_release_refuses_bad_markup_and_overwriting(tmp_path):
    nb = tiny()
    nb.cells[3].metadata["nbgrader"]["grade_id"] = "add"
    with pytest.raises(AssignmentError, match="grade_id 'add' is also used"):
        release_notebook(nb)
    nb = tiny()
    nb.cells[2].source = "### BEGIN SOLUTION\nx = 1"
    with pytest.raises(AssignmentError, match="never closed"):
        release_notebook(nb)
    nb = tiny()
    nb.cells[1].source += "\n### BEGIN HIDDEN TESTS\nx = 1\n### END HIDDEN TESTS"
    with pytest.raises(AssignmentError, match="not a test cell"):
        release_notebook(nb)
    nb = tiny()
    del nb.cells[3].metadata["nbgrader"]["points"]
    with pytest.raises(AssignmentError, match="points > 0"):
        read_assignment(nb)
    src = tmp_path / "a.ipynb"
    nbformat.write(tiny(), src)
    with pytest.raises(ValueError, match="overwrite"):
        release(src, tmp_path)


def test_parse_size():
    assert parse_size("2G") == 2 * 2 ** 30 and parse_size("512M") == 512 * 2 ** 20
    assert parse_size("1.5GiB") == int(1.5 * 2 ** 30) and parse_size("1000") == 1000
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")


def test_grades_files_are_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    """write_grades writes each file through atomic_write: a failed write keeps the old one."""
    assignment = read_assignment(tiny(), "tiny.ipynb")
    passed = [graded.TestResult("t_add", 2.0, 2.0, "passed"),
              graded.TestResult("t_noise", 3.0, 3.0, "passed")]
    alice = StudentResult("alice", "ok", 5.0, 5.0, "", passed)
    out = tmp_path / "grades" / "grades.csv"               # the folder is created
    paths = write_grades([alice], assignment, out)
    before = {p: p.read_bytes() for p in paths}
    assert before[paths[0]].decode("utf-8").splitlines()[1] == "alice,ok,5,5,2,3,"
    assert json.loads(before[paths[2]])["students"][0]["score"] == 5.0

    def disk_full(src, dst):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="disk full"):
        write_grades([alice, alice], assignment, out)
    assert {p: p.read_bytes() for p in paths} == before
    assert sorted(out.parent.iterdir()) == sorted(paths)   # no temp file left behind


# ---------------------------------------------------------------- the assignments

def _run(nb, src):
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(src.parent)}}).execute()
    return nb


@functools.lru_cache(maxsize=None)
def _check_lines(src):
    """The lines dlkit.exercises.check prints in the solution (as run now) and in an untouched
    student copy. Running the solution also compiles every kernel it uses, so that the grading
    test's per-cell time limit measures the students' code, not dlkit's first compile (a
    teacher runs the solutions once before grading, as book/assignments/README.md says)."""
    call = re.compile(r"(?<![\w.])check\(")

    def lines(nb):
        # a cell's stdout may arrive in several pieces (split anywhere, e.g. between a line
        # and its newline on a busy machine): join them before splitting into lines
        return [line for c in nb.cells if c.cell_type == "code" and call.search(c.source)
                for line in "".join(o["text"] for o in c.outputs
                                    if o.get("name") == "stdout").splitlines()]

    solution = nbformat.read(src, as_version=4)
    student = release_notebook(solution, src.name)
    return lines(_run(solution, src)), lines(_run(student, src))


@pytest.mark.parametrize("src", ASSIGNMENTS, ids=[p.stem for p in ASSIGNMENTS])
def test_checks_say_yes_in_the_solution_and_not_yet_in_the_student_copy(src):
    """The read-only cells that compare the student's functions with dlkit print one
    dlkit.exercises.check line per array: all ✓ when the solution runs, all ✗ in an untouched
    student copy (a check that cannot fail is a defect)."""
    solved, untouched = _check_lines(src)
    assert solved and all(l.startswith("✓") for l in solved), solved
    assert len(untouched) == len(solved) and all(l.startswith("✗") for l in untouched), untouched


@pytest.mark.parametrize("src", ASSIGNMENTS, ids=[p.stem for p in ASSIGNMENTS])
def test_assignment_end_to_end(src, tmp_path):
    """Solution: full marks; student copy and five broken submissions: the right rows."""
    _check_lines(src)      # compiles the kernels the solution uses (see there)
    solution = nbformat.read(src, as_version=4)
    assignment = read_assignment(solution, src.name)
    answers = [i for i, c in enumerate(solution.cells) if cell_kind(c) == "answer"]
    tests = [i for i, c in enumerate(solution.cells) if cell_kind(c) == "test"]
    last = assignment.tests[-1]
    subs = tmp_path / "submitted"
    subs.mkdir()
    nbformat.write(solution, subs / "a_solution.ipynb")
    nbformat.write(release_notebook(solution, src.name), subs / "b_student_copy.ipynb")
    nbformat.write(variant(solution, answers[0], "while True:\n    pass"), subs / "c_loop.ipynb")
    nbformat.write(variant(solution, answers[0], "import numpy as np\nhog = []\nwhile True:\n"
                           "    hog.append(np.empty(2 ** 26))"), subs / "d_memory.ipynb")
    nbformat.write(variant(solution, answers[0], "raise RuntimeError('my bug')"),
                   subs / "e_raises.ipynb")
    (subs / "f_corrupt.ipynb").write_text(nbformat.writes(solution)[:500])
    deleted = nbformat.from_dict(solution)
    del deleted.cells[tests[-1]]
    nbformat.write(deleted, subs / "g_deleted.ipynb")
    out = tmp_path / "grades.csv"
    results = grade(src, subs, out, cell_timeout=4, timeout=60, memory="1500M", progress=False)
    by = {r.student: r for r in results}
    full = assignment.max_score
    assert (by["a_solution"].status, by["a_solution"].score) == ("ok", full), by["a_solution"]
    copy = by["b_student_copy"]
    assert copy.score == 0 and all(t.status == "failed" for t in copy.tests), copy
    loop = by["c_loop"]
    assert loop.status == "timeout" and loop.score < full, loop
    assert "cell" in loop.message and "CellTimeoutError" in loop.message
    mem = by["d_memory"]
    # error (memory was left over: later cells ran) or crashed (the kernel kept all of it and
    # was stopped); which one depends on where the 512 MiB steps meet the limit
    assert mem.status in ("error", "crashed") and mem.score < full, mem
    assert "MemoryError" in mem.message, mem
    raises = by["e_raises"]
    assert raises.status == "error" and "RuntimeError: my bug" in raises.message, raises
    assert raises.score < full
    corrupt = by["f_corrupt"]
    assert (corrupt.status, corrupt.score) == ("invalid", 0), corrupt
    gone = by["g_deleted"]
    assert gone.status == "ok" and gone.score == full - last.points, gone
    assert [t.status for t in gone.tests if t.grade_id == last.grade_id] == ["missing"]
    assert last.grade_id in gone.message
    # the files: one row per student, a per-test breakdown, JSON
    lines = out.read_text().splitlines()
    assert lines[0].split(",")[:4] == ["student", "status", "score", "max_score"]
    assert len(lines) == 1 + len(by)
    per_test = (tmp_path / "grades_tests.csv").read_text().splitlines()
    assert len(per_test) == 1 + len(by) * len(assignment.tests)
    assert rows(out)["a_solution"]["score"] == full


# ---------------------------------------------------------------- limits

def test_memory_bomb_is_reported_and_stops_the_kernel(course):
    """1 MiB steps leave no room at all under the limit: the MemoryError still comes back,
    and the kernel, which would hold all its memory for the later cells, is stopped."""
    src, subs, out = course
    hog = "import numpy as np\nhog = []\nwhile True:\n    hog.append(np.empty(2 ** 17))"
    nbformat.write(variant(tiny(), 2, hog), subs / "hog.ipynb")
    r = grade(src, subs, out, cell_timeout=20, memory="1G", progress=False,
              feedback=out.parent / "feedback")[0]
    assert r.status == "crashed" and r.score == 0, r
    assert "cell 2 ran out of memory (limit 1024 MiB)" in r.message, r.message
    assert "MemoryError" in r.message and [t.status for t in r.tests] == ["not run"] * 2
    fb = nbformat.read(out.parent / "feedback" / "hog.ipynb", as_version=4)
    assert [o.get("ename") for o in fb.cells[2].outputs] == ["MemoryError"]


def test_failed_allocation_leaves_the_kernel_working(course):
    """One allocation too big for the limit: the error is reported, the later cells run
    (the tests score their points), and the reserve is back for the next MemoryError."""
    src, subs, out = course
    nb = variant(tiny(), 2, "def add(a, b):\n    return a + b\nnp.empty(2 ** 40)")
    nb = variant(nb, 4, "def noise():\n    return np.random.rand()\n"
                 "from ipykernel.connect import get_connection_info\n"
                 "assert get_connection_info(unpack=True)['transport'] == 'ipc'\n"
                 "np.empty(2 ** 40)")
    nbformat.write(nb, subs / "big.ipynb")
    r = grade(src, subs, out, cell_timeout=20, memory="1G", progress=False,
              feedback=out.parent / "feedback")[0]
    assert r.status == "error" and r.score == 5, r
    assert "cell 2 (student): MemoryError" in r.message, r.message
    fb = nbformat.read(out.parent / "feedback" / "big.ipynb", as_version=4)
    assert [o.get("ename") for o in fb.cells[4].outputs] == ["MemoryError"]   # the second one


def test_kernel_that_cannot_start_is_reported_with_its_last_words(course):
    """(Tried twice: a kernel that dies before answering has run no student code.)"""
    src, subs, out = course
    nbformat.write(tiny(), subs / "alice.ipynb")
    r = grade(src, subs, out, memory="40M", progress=False)[0]
    assert r.status == "crashed" and r.score == 0, r
    assert "Kernel died before replying" in r.message, r.message
    assert "(the kernel wrote: MemoryError" in r.message, r.message


# ---------------------------------------------------------------- isolation

SNOOP = f'''
import glob, os
mark = "HIDDEN_" + "SECRET_42"
found, blocked = [], []
def look(path):
    try:
        with open(path, errors="replace") as f:
            if mark in f.read():
                found.append(path)
    except PermissionError:
        blocked.append(path)
    except (OSError, UnicodeDecodeError):
        pass
for pattern in ["*", "**/*", "../**/*.ipynb", "../../**/*.ipynb", "/tmp/dlkit-grade-*/**/*",
                "{{root}}/**/*", "{{root}}/**/.*"]:
    for path in glob.glob(pattern, recursive=True):
        if os.path.isfile(path):
            look(path)
for path in ["{{src}}", "{{root}}/source/tiny.ipynb", "{{root}}/submitted/zed.ipynb",
             "/proc/%d/cmdline" % os.getppid(), "/proc/%d/environ" % os.getppid()]:
    look(path)
history = [s for s in In if mark in s]
assert not found and not history, ("LEAK", found, history)
print("blocked:", len(blocked))
def add(a, b):
    return a + b
'''


def test_submission_cannot_read_hidden_tests(course):
    src, subs, out = course
    root = src.parent.parent
    nbformat.write(tiny(), subs / "zed.ipynb")
    snoop = variant(tiny(), 2, SNOOP.replace("{root}", str(root)).replace("{src}", str(src)))
    snoop.cells.insert(4, new_code_cell("look_again = [s for s in In if 'HIDDEN_' + "
                                        "'SECRET_42' in s]\nassert not look_again, 'LEAK'"))
    nbformat.write(snoop, subs / "snoop.ipynb")
    results = {r.student: r for r in grade(src, subs, out, cell_timeout=20, progress=False,
                                           feedback=out.parent / "feedback")}
    assert results["snoop"].status == "ok", results["snoop"].message
    assert results["snoop"].score == 5 and results["zed"].score == 5
    fb = nbformat.read(out.parent / "feedback" / "snoop.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in fb.cells for o in c.outputs)
    assert "blocked:" in printed and "blocked: 0" not in printed


TAMPER = '''
import os, signal, shutil, subprocess
done = []
def attempt(name, action):
    try:
        action()
        done.append(name)
    except (PermissionError, OSError):
        pass
attempt("write grades", lambda: open("{out}", "w").write("student,score\\nme,100\\n"))
attempt("write json", lambda: open("{json}", "w").write("{{}}"))
attempt("overwrite victim", lambda: open("{victim}", "w").write("{{}}"))
attempt("delete victim", lambda: os.remove("{victim}"))
attempt("move victim", lambda: os.rename("{victim}", "{victim}.bak"))
attempt("rmtree submissions", lambda: shutil.rmtree("{subs}"))
attempt("spawn", lambda: subprocess.Popen(["sleep", "0"]))
attempt("system", lambda: os.system("true"))
attempt("fork", lambda: os._exit(0) if os.fork() == 0 else None)
attempt("signal the grader", lambda: os.kill(os.getppid(), 0))
assert not done, done
def add(a, b):
    return a + b
'''


def test_submission_cannot_change_other_results_or_the_grades(course):
    src, subs, out = course
    out.parent.mkdir()
    victim = subs / "zed.ipynb"
    nbformat.write(tiny(), victim)
    before = victim.read_bytes()
    code = TAMPER.format(out=out, json=out.with_suffix(".json"), victim=victim, subs=subs)
    nbformat.write(variant(tiny(), 2, code), subs / "a_tamper.ipynb")
    results = {r.student: r for r in grade(src, subs, out, cell_timeout=20, progress=False)}
    assert results["a_tamper"].status == "ok", results["a_tamper"].message
    assert results["zed"].status == "ok" and results["zed"].score == 5
    assert victim.read_bytes() == before
    assert "me,100" not in out.read_text()
    assert set(rows(out)) == {"a_tamper", "zed"}


def test_deterministic_grades_and_cli(course, tmp_path):
    """Two runs (one through the command line) give byte-identical grade files."""
    src, subs, out = course
    nbformat.write(tiny(), subs / "alice.ipynb")
    # seed 0: rand() gives 0.549 (visible test passes) then 0.715 (hidden test fails), every run
    nbformat.write(variant(tiny(), 4, "def noise():\n    return 0.5 if np.random.rand() > 0.6 "
                           "else 0.25"), subs / "bob.ipynb")
    nbformat.write(release_notebook(tiny()), subs / "carol.ipynb")
    nested = subs / "dave" / "tiny"
    nested.mkdir(parents=True)
    nbformat.write(tiny(), nested / "tiny.ipynb")      # nbgrader's submitted/<student>/<a>/ layout
    (subs / "erin").mkdir()                            # a student who handed in nothing
    nbformat.write(variant(tiny(), 2, "import os\nos._exit(1)"), subs / "frank.ipynb")
    first = grade(src, subs, out, progress=False)
    files = {p.name: p.read_bytes() for p in out.parent.iterdir()}
    out2 = tmp_path / "again" / "grades.csv"
    r = subprocess.run([sys.executable, "-m", "dlkit", "assign", "grade", str(src), str(subs),
                        "--out", str(out2)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "grading" in r.stderr                       # the progress bar
    assert "6 students" in r.stdout and "alice" in r.stdout
    assert {p.name: p.read_bytes() for p in out2.parent.iterdir()} == files
    by = {x.student: x for x in first}
    assert by["bob"].score == 2 and by["bob"].tests[1].status == "failed"
    assert by["carol"].score == 0 and by["dave"].score == 5
    assert by["erin"].status == "missing"
    assert by["frank"].status == "crashed" and by["frank"].score == 0
    assert "mean" in summary_table(first)


# ---------------------------------------------------------------- the Chinese edition

def in_chinese(nb):
    nb = nbformat.from_dict(nb)
    nb.metadata["dlkit"] = {"language": "zh"}
    return nb


def test_a_chinese_assignment_is_released_with_chinese_stubs():
    student = release_notebook(in_chinese(tiny()))
    assert student.cells[2].source == ("def add(a, b):\n    # 在这里写你的代码\n"
                                       "    raise NotImplementedError()")
    assert release_notebook(tiny()).cells[2].source.endswith("# YOUR CODE HERE\n"
                                                             "    raise NotImplementedError()")
    bad = in_chinese(tiny())
    bad.metadata["dlkit"]["language"] = "fr"
    with pytest.raises(AssignmentError, match="metadata dlkit.language is 'fr'"):
        release_notebook(bad)


def test_the_grader_reports_a_chinese_assignment_in_chinese(course):
    """The grader's per-test messages follow the assignment's language; the test cells' own
    assertion messages are the notebook's words, already Chinese."""
    src, subs, out = course
    nbformat.write(in_chinese(tiny()), src)
    nb = in_chinese(tiny())
    nb.cells[2].source = "def add(a, b):\n    return a + b\nraise ValueError('故意的错误')"
    del nb.cells[5]                                              # the second test cell
    nbformat.write(nb, subs / "li.ipynb")
    r = grade(src, subs, out, cell_timeout=20, progress=False)[0]
    assert r.tests[1].detail == "这个测试单元格已从笔记本中删除", r.tests
    assert "第 2 个单元格（student）：ValueError: 故意的错误" in r.message, r.message
    assert "缺少测试单元格：t_noise" in r.message, r.message


def test_every_chinese_assignment_is_released_by_the_cli(tmp_path):
    zh = ROOT / "book" / "zh" / "assignments"
    if not list(zh.glob("*.ipynb")):
        pytest.skip("no Chinese assignments yet")
    out = tmp_path / "release"
    r = subprocess.run([sys.executable, "-m", "dlkit", "assign", "release", str(zh), str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.glob("*.ipynb")) == [p.name for p in ASSIGNMENTS]
    for path in out.glob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert "# 在这里写你的代码" in text and "YOUR CODE HERE" not in text, path.name
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path.name
