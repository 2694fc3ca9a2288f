"""Checks for the book's exercises: a wrong answer gets a hint, never a traceback.

    from dlkit.exercises import check
    answer = ...                        # the reader's work
    check("3.1 output shape", answer, (32, 10), hint="X W has one row per sample")

``check`` prints one line, "✓ 3.1 output shape: correct" or "✗ 3.1 output shape: not yet - ...",
and returns True/False. ``answer`` may be a value, or a function that ``check`` calls on
``args`` (its exceptions become hints too). Numbers and arrays compare with tolerances.

A "write a function" exercise passes ``cases``, a list of argument tuples (random inputs made
with a seeded generator), and a reference function as ``expected``:

    def softmax(z):                     # the reader's function
        p = ...   # your code
        return p
    cases = [(rng.normal(size=(n, 4)),) for n in (1, 3, 5)]
    check("5.5 softmax", softmax, dlkit.activations.softmax, cases=cases)

``check`` calls both on a copy of every case and reports the first case where they differ
(its argument shapes), or the reader's exception with its line.

The Chinese edition of the book says once, in each notebook's setup cell,
``dlkit.config.set_language("zh")``: every line ``check`` prints is then Chinese
("✓ 5.5 softmax：正确", from the one table in ``dlkit.words``); the ✓ and ✗ stay, since the
tests and the autograder look for them.
"""
import traceback

import numpy as np

from .words import say

__all__ = ["check", "check_all"]


def _compare(answer, expected, rtol, atol):
    """(ok, detail) for answer vs expected: arrays, numbers, tuples, strings, bools."""
    if isinstance(expected, (bool, np.bool_)) or isinstance(expected, str):
        return answer == expected, say("got {answer}", answer=repr(answer))
    if isinstance(expected, tuple) and all(isinstance(e, (int, np.integer)) for e in expected):
        ans = tuple(answer) if isinstance(answer, (tuple, list)) else answer
        return ans == expected, say("got {answer}", answer=repr(ans))
    try:
        a = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return False, say("got {type}, expected numbers", type=type(answer).__name__)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return False, say("shape is {shape}, expected {expected}", shape=a.shape,
                          expected=e.shape)
    if not np.all(np.isfinite(a)):
        return False, say("the answer contains NaN or inf")
    if np.allclose(a, e, rtol=rtol, atol=atol):
        return True, ""
    err = np.max(np.abs(a - e))
    return False, say("largest difference from the expected values is {err:.3g}", err=err)


class _Failed(Exception):
    """The reader's function could not give an answer; the message says why."""


def _call(func, args):
    """func(*args), with its failure turned into the sentence a reader sees."""
    try:
        return func(*args)
    except NotImplementedError:
        raise _Failed(say("not implemented yet")) from None
    except Exception as exc:  # the reader's code failed: show the error, not a traceback
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise _Failed(say("your code raised {error}: {message} (line {line}: {code})",
                          error=type(exc).__name__, message=exc, line=where.lineno,
                          code=where.line)) from None


def _copy(args):
    return tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)


def _describe(args):
    return ", ".join(say("shape {shape}", shape=a.shape) if isinstance(a, np.ndarray) else repr(a)
                     for a in args)


def _check_cases(func, reference, cases, rtol, atol):
    """(ok, detail) for func against reference on every case (a tuple of arguments); detail
    None: the function still returns the placeholder."""
    if not callable(func) or isinstance(func, np.ndarray):
        return False, say("expected a function, got {type}", type=type(func).__name__)
    cases = [c if isinstance(c, tuple) else (c,) for c in cases]
    for i, args in enumerate(cases, 1):
        got = _call(func, _copy(args))
        if got is Ellipsis or got is None:
            return False, None                  # the placeholder: no answer yet
        want = reference(*_copy(args)) if callable(reference) else reference[i - 1]
        ok, detail = _compare(got, want, rtol, atol)
        if not ok:
            return False, say("on test input {i} of {n} ({args}): {detail}", i=i, n=len(cases),
                              args=_describe(args), detail=detail)
    return True, say(" on all {n} test inputs", n=len(cases))


def check(name, answer, expected, hint="", args=(), rtol=1e-5, atol=1e-8, cases=None):
    """Print whether ``answer`` matches ``expected``; return True/False, never raise.

    With ``cases`` (a list of argument tuples), ``answer`` is the reader's function and
    ``expected`` a reference function (or the list of expected results, one per case).
    """
    out = lambda line: print(line + (say(" (hint: {hint})", hint=hint) if hint else ""))  # noqa: E731
    if answer is Ellipsis or answer is None:
        out(say("✗ {name}: no answer yet - replace the ... with your code", name=name))
        return False
    try:
        if cases is not None:
            ok, detail = _check_cases(answer, expected, cases, rtol, atol)
        else:
            if callable(answer) and not isinstance(answer, np.ndarray):
                answer = _call(answer, args)
            ok, detail = _compare(answer, expected, rtol, atol)
    except _Failed as failed:
        out(say("✗ {name}: {reason}", name=name, reason=failed))
        return False
    if ok:
        print(say("✓ {name}: correct", name=name) + (detail if cases is not None else ""))
    elif detail is None:
        out(say("✗ {name}: no answer yet - {detail}", name=name,
                detail=say("your function returns nothing yet - replace the ... in it with "
                           "your code")))
    else:
        print(say("✗ {name}: not yet - {detail}", name=name, detail=detail)
              + (say(". Hint: {hint}", hint=hint) if hint else ""))
    return bool(ok)


def check_all(results):
    """Summarise several checks: ``check_all([check(...), check(...)])``."""
    n = sum(bool(r) for r in results)
    print(say("{n}/{total} correct", n=n, total=len(results)))
    return n == len(results)
