"""Every exercise of the book and the assignments: untouched it says ✗, solved it says ✓.

An exercise is a code cell that calls ``check(...)`` and has placeholder lines (``answer = ...``).
The markdown cell after it folds the solution in ``<details>``: one fenced ```python block that,
pasted in place of the placeholder lines, must make every check of the cell print ✓. This test
does exactly that, in a kernel that runs the notebook top to bottom: each exercise cell is run
first as the reader finds it (it must print ✗ and no ✓: a check that cannot fail is a defect),
then with the solution pasted in (it must print ✓ and no ✗). A stated expected value is thereby
verified by a solution that computes it from the cell's data.
"""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb")) + sorted(BOOK.glob("assignments/*.ipynb")) \
    + sorted(BOOK.glob("zh/*.ipynb")) + sorted(BOOK.glob("zh/assignments/*.ipynb"))

CHECK_CALL = re.compile(r"(?<![\w.])check\(")
PLACEHOLDER = re.compile(r"^(?P<indent>\s*)[A-Za-z_]\w*\s*=\s*\.\.\.\s*(#.*)?$")
SOLUTION = re.compile(r"<details>.*?```python\n(?P<code>.*?)```.*?</details>", re.S)
PASS, FAIL = "✓", "✗"


def exercises(nb):
    """[(index of the exercise cell, its solution code)] for one notebook; raises on a
    malformed exercise (no placeholder line, no folded python solution right after it)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not CHECK_CALL.search(cell.source):
            continue
        if not any(PLACEHOLDER.match(line) for line in cell.source.splitlines()):
            continue   # a check the book itself calls (not an exercise for the reader)
        nxt = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
        m = SOLUTION.search(nxt.source) if nxt is not None and nxt.cell_type == "markdown" else None
        assert m, (f"cell {i}: an exercise needs a folded solution with a ```python block "
                   f"in the markdown cell right after it")
        found.append((i, m.group("code")))
    return found


def paste(source, solution):
    """The exercise cell with ``solution`` in place of its placeholder lines (the solution goes
    where the first one stood, at its indentation; the others are removed)."""
    out, pasted = [], False
    for line in source.splitlines():
        m = PLACEHOLDER.match(line)
        if not m:
            out.append(line)
        elif not pasted:
            indent = m.group("indent")
            out += [indent + s if s.strip() else s for s in solution.rstrip("\n").splitlines()]
            pasted = True
    return "\n".join(out)


def test_paste_replaces_every_placeholder_line():
    cell = "x = np.ones(3)\nw = ...   # a list\nb = ...\nok = check('x', w, [1])"
    assert paste(cell, "w = [1]\nb = 0\n") == "x = np.ones(3)\nw = [1]\nb = 0\nok = check('x', w, [1])"


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(BOOK)))
def test_every_exercise_fails_untouched_and_passes_with_its_folded_solution(path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    todo = dict(exercises(nb))
    if not todo:
        pytest.skip("no exercises in this notebook")
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    problems = []
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if i not in todo:
                client.execute_cell(cell, i)
                continue
            name = cell.source.split("check(", 1)[1].split(",", 1)[0]
            untouched = nbformat.v4.new_code_cell(cell.source)
            client.execute_cell(untouched, i)
            out = _stdout(untouched)
            if FAIL not in out or PASS in out:
                problems.append(f"cell {i} {name}: untouched, it must print {FAIL} and no {PASS}; "
                                f"it printed {out!r}")
            solved = nbformat.v4.new_code_cell(paste(cell.source, todo[i]))
            client.execute_cell(solved, i)
            out = _stdout(solved)
            if PASS not in out or FAIL in out:
                problems.append(f"cell {i} {name}: with the folded solution pasted, it must print "
                                f"{PASS} and no {FAIL}; it printed {out!r}")
    assert not problems, "\n".join(problems)
