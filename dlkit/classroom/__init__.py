"""Classroom tools: student copies of the assignments and an autograder.

    python -m dlkit assign release book/assignments/ release/
    python -m dlkit assign grade book/assignments/01_dense.ipynb submitted/ --out grades.csv

Solution notebooks use nbgrader's cell metadata and region markers (see ``cells``), so a
teacher can use nbgrader itself as well. ``release`` writes the student copies; ``grade``
runs every submission in its own limited process and scores the test cells. The grader
isolates students from each other and from the hidden tests, but it is not a security
sandbox: see book/assignments/README.md.
"""
import importlib

__all__ = ["release", "release_notebook", "grade", "read_assignment", "AssignmentError"]

_LAZY = {"release": ".release", "release_notebook": ".release", "grade": ".grade",
         "read_assignment": ".cells", "AssignmentError": ".cells"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'dlkit.classroom' has no attribute {name!r}")
