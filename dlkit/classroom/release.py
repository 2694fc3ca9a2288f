"""Student copies: solutions replaced by a stub, hidden tests removed, outputs cleared.

``python -m dlkit assign release SRC OUT`` (SRC a solution notebook or a folder of them).
What changes, cell by cell (nbgrader's ClearSolutions / ClearHiddenTests / ClearOutput /
LockCells, re-implemented on nbformat):

- answer code cells: each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region becomes
  ``# YOUR CODE HERE`` + ``raise NotImplementedError()`` at the marker's indentation (a cell
  marked as an answer without markers is replaced whole); markdown answers become
  ``YOUR ANSWER HERE``; both in the notebook's language (metadata ``dlkit.language``: the
  Chinese edition's stubs say ``# 在这里写你的代码`` and ``在这里写你的答案``);
- test cells: ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are deleted, the
  visible tests stay; test and read-only cells are made undeletable and read-only in the UI;
- every cell: outputs and execution counts cleared.

The hidden tests stay only in the solution notebook, which the grader reads at grading time.
"""
import codecs
from pathlib import Path

import nbformat

from .._files import atomic_write
from ..words import say_in
from .cells import (HIDDEN_TESTS, SOLUTION, AssignmentError, cell_kind, read_assignment,
                    split_regions)

__all__ = ["CODE_STUB", "MARKDOWN_STUB", "stubs", "release_notebook", "release",
           "solution_notebooks"]


def stubs(language="en"):
    """(code stub, markdown stub) that replace a solution, in the assignment's language."""
    return (say_in(language, "# YOUR CODE HERE") + "\nraise NotImplementedError()",
            say_in(language, "YOUR ANSWER HERE"))


CODE_STUB, MARKDOWN_STUB = stubs("en")


def _replace_regions(source, markers, stub, where):
    runs = split_regions(source, markers, where)
    out = []
    for inside, lines, indent in runs:
        if not inside:
            out.extend(lines)
        elif stub is not None:
            out.extend(indent + s + "\n" for s in stub.splitlines())
    return "".join(out).rstrip("\n")


def release_notebook(nb, name="notebook"):
    """The student copy of solution notebook ``nb`` (a new NotebookNode; nb is not changed)."""
    code_stub, markdown_stub = stubs(read_assignment(nb, name).language)  # checks the markup
    nb = nbformat.from_dict(nb)           # deep copy
    for i, cell in enumerate(nb.cells):
        where, kind = f"{name}, cell {i}", cell_kind(cell)
        if kind in ("answer", "manual"):
            stub = code_stub if cell.cell_type == "code" else markdown_stub
            if any(line.strip() == SOLUTION[0] for line in cell.source.splitlines()):
                cell.source = _replace_regions(cell.source, SOLUTION, stub, where)
            else:
                cell.source = stub
        elif kind == "test":
            cell.source = _replace_regions(cell.source, HIDDEN_TESTS, None, where)
        if kind in ("test", "readonly"):
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
    for cell in nb.cells:                 # belt and braces: nothing hidden may survive
        for marker in (*SOLUTION, *HIDDEN_TESTS):
            if marker in cell.source:
                raise AssignmentError(f"{name}: '{marker}' survived the release (a marker that "
                                      "is not alone on its line?)")
    return nb


def solution_notebooks(src):
    """The solution notebooks at ``src``: the file itself or the *.ipynb in the folder."""
    src = Path(src)
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise FileNotFoundError(f"no solution notebook or folder at {src}")
    found = sorted(p for p in src.glob("*.ipynb") if p.is_file())
    if not found:
        raise FileNotFoundError(f"no .ipynb files in {src}")
    return found


def release(src, out):
    """Write the student copy of each solution notebook at ``src`` into folder ``out``.

    Returns the list of written paths. ``out`` must not be the folder of the solutions.
    """
    notebooks, out = solution_notebooks(src), Path(out)
    if out.resolve() in {p.parent.resolve() for p in notebooks}:
        raise ValueError(f"refusing to write the student copies into {out}, the folder of the "
                         "solutions: they would overwrite them; choose another folder")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        student = release_notebook(nb, path.name)
        target = out / path.name
        atomic_write(target, lambda f: nbformat.write(student, codecs.getwriter("utf-8")(f)))
        written.append(target)
    return written
