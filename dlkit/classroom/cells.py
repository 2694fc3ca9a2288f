"""Reading an assignment: which cells are solutions, tests and read-only, in nbgrader's format.

A solution notebook marks its cells the way nbgrader does, so a teacher can also use nbgrader
itself. Each marked cell has ``cell.metadata.nbgrader`` (schema version 3)::

    {"grade": bool, "grade_id": "unique-name", "locked": bool, "points": float,
     "schema_version": 3, "solution": bool, "task": bool}

    kind              solution  grade  locked   what dlkit's tools do with it
    answer            true      false  false    region cleared on release, student's code graded
    test              false     true   true     visible part kept, hidden part removed on release;
                                                at grading the whole cell comes from SRC
    readonly          false     false  true     at grading the cell comes from SRC
    manual            true      true   -        answer cleared on release; not autograded
    task              -         -      -        left as is; not autograded

Inside a cell, regions are delimited by lines (any indentation)::

    ### BEGIN SOLUTION           ### BEGIN HIDDEN TESTS
    ...                          ...
    ### END SOLUTION             ### END HIDDEN TESTS
"""
import re
from dataclasses import dataclass, field

__all__ = ["AssignmentError", "TestCell", "Assignment", "nbgrader_meta", "cell_kind",
           "read_assignment", "split_regions", "SOLUTION", "HIDDEN_TESTS"]

SOLUTION = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_TESTS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


class AssignmentError(ValueError):
    """The solution notebook's markup is inconsistent (the message says which cell and why)."""


def nbgrader_meta(cell):
    """The cell's nbgrader metadata dict, or {} for an unmarked cell."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def cell_kind(cell):
    """'answer', 'test', 'readonly', 'manual', 'task' or None (see the module docstring)."""
    m = nbgrader_meta(cell)
    if not m:
        return None
    if m.get("task"):
        return "task"
    if m.get("solution") and m.get("grade"):
        return "manual"
    if m.get("solution"):
        return "answer"
    if m.get("grade"):
        return "test"
    if m.get("locked"):
        return "readonly"
    return None


def split_regions(source, markers, where=""):
    """Split ``source`` into [(inside, lines, indent)] runs by the begin/end marker lines.

    Returns a list of (inside: bool, lines: list[str], indent: str); the marker lines
    themselves are dropped, ``indent`` is the begin marker's indentation (for the stub).
    Raises AssignmentError on an unmatched or nested marker.
    """
    begin, end = markers
    runs, current, inside, indent = [], [], False, ""
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == begin:
            if inside:
                raise AssignmentError(f"{where}: nested '{begin}' (close the first with '{end}')")
            runs.append((False, current, ""))
            current, inside, indent = [], True, line[:len(line) - len(line.lstrip())]
        elif stripped == end:
            if not inside:
                raise AssignmentError(f"{where}: '{end}' without a '{begin}' before it")
            runs.append((True, current, indent))
            current, inside = [], False
        else:
            current.append(line)
    if inside:
        raise AssignmentError(f"{where}: '{begin}' is never closed by '{end}'")
    runs.append((False, current, ""))
    return [r for r in runs if r[0] or r[1]]


@dataclass
class TestCell:
    """An autograded test cell of the solution notebook: the whole source, hidden parts too."""
    grade_id: str
    points: float
    source: str
    index: int          # position in the solution notebook


@dataclass
class Assignment:
    """What the grader needs from a solution notebook (kept in memory, never given to students)."""
    name: str
    language: str = "en"                            # its metadata's dlkit.language: en or zh
    tests: list = field(default_factory=list)       # [TestCell] in notebook order
    readonly: dict = field(default_factory=dict)    # grade_id -> source of read-only cells

    @property
    def max_score(self):
        return float(sum(t.points for t in self.tests))

    def test(self, grade_id):
        return next((t for t in self.tests if t.grade_id == grade_id), None)


_ID = re.compile(r"^[A-Za-z0-9_\-.]+$")


def notebook_language(nb, name="notebook"):
    """The language an assignment is written in: its metadata's ``dlkit.language`` ("en" when
    absent; the Chinese edition's notebooks say "zh"). Released stubs and the grader's
    per-test messages use it."""
    from ..config import LANGUAGES

    lang = nb.get("metadata", {}).get("dlkit", {}).get("language", "en")
    if lang not in LANGUAGES:
        raise AssignmentError(f"{name}: metadata dlkit.language is {lang!r}; use one of "
                              f"{list(LANGUAGES)}")
    return lang


def read_assignment(nb, name="assignment"):
    """Check the markup of a solution notebook and return its Assignment.

    Every marked cell needs a unique ``grade_id`` (letters, digits, - _ .); test cells need
    ``points`` > 0 and must be code cells; solution markers may appear only in answer cells
    and hidden-test markers only in test cells.
    """
    seen = {}
    result = Assignment(name=name, language=notebook_language(nb, name))
    for i, cell in enumerate(nb.cells):
        where = f"{name}, cell {i}"
        kind, meta, src = cell_kind(cell), nbgrader_meta(cell), cell.source
        if nbgrader_meta(cell):
            gid = meta.get("grade_id")
            if not isinstance(gid, str) or not _ID.match(gid):
                raise AssignmentError(f"{where}: nbgrader cells need a grade_id made of letters, "
                                      f"digits, '-', '_' or '.', got {gid!r}")
            if gid in seen:
                raise AssignmentError(f"{where}: grade_id {gid!r} is also used by cell "
                                      f"{seen[gid]}; grade ids must be unique")
            seen[gid] = i
            where += f" ({gid})"
        has_solution = any(line.strip() in SOLUTION for line in src.splitlines())
        has_hidden = any(line.strip() in HIDDEN_TESTS for line in src.splitlines())
        if has_solution and kind not in ("answer", "manual"):
            raise AssignmentError(f"{where}: has '### BEGIN SOLUTION' but is not marked as a "
                                  "solution cell (metadata.nbgrader.solution = true)")
        if has_hidden and kind != "test":
            raise AssignmentError(f"{where}: has '### BEGIN HIDDEN TESTS' but is not a test cell "
                                  "(metadata.nbgrader.grade = true, solution = false)")
        split_regions(src, SOLUTION, where)       # raises on unbalanced markers
        split_regions(src, HIDDEN_TESTS, where)
        if kind == "test":
            points = meta.get("points")
            if cell.cell_type != "code":
                raise AssignmentError(f"{where}: a test cell must be a code cell")
            if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
                raise AssignmentError(f"{where}: a test cell needs points > 0, got {points!r}")
            result.tests.append(TestCell(meta["grade_id"], float(points), src, i))
        elif kind == "readonly" and cell.cell_type == "code":
            result.readonly[meta["grade_id"]] = src
    if not result.tests:
        raise AssignmentError(f"{name}: no test cells (cells with metadata.nbgrader.grade = true "
                              "and points) — nothing to grade")
    return result
