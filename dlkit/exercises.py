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
"""
import traceback

import numpy as np

__all__ = ["check", "check_all"]


def _compare(answer, expected, rtol, atol):
    """(ok, detail) for answer vs expected: arrays, numbers, tuples, strings, bools."""
    if isinstance(expected, (bool, np.bool_)) or isinstance(expected, str):
        return answer == expected, f"got {answer!r}"
    if isinstance(expected, tuple) and all(isinstance(e, (int, np.integer)) for e in expected):
        ans = tuple(answer) if isinstance(answer, (tuple, list)) else answer
        return ans == expected, f"got {ans!r}"
    try:
        a = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return False, f"got {type(answer).__name__}, expected numbers"
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        return False, f"shape is {a.shape}, expected {e.shape}"
    if not np.all(np.isfinite(a)):
        return False, "the answer contains NaN or inf"
    if np.allclose(a, e, rtol=rtol, atol=atol):
        return True, ""
    err = np.max(np.abs(a - e))
    return False, f"largest difference from the expected values is {err:.3g}"


class _Failed(Exception):
    """The reader's function could not give an answer; the message says why."""


def _call(func, args):
    """func(*args), with its failure turned into the sentence a reader sees."""
    try:
        return func(*args)
    except NotImplementedError:
        raise _Failed("not implemented yet") from None
    except Exception as exc:  # the reader's code failed: show the error, not a traceback
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise _Failed(f"your code raised {type(exc).__name__}: {exc} "
                      f"(line {where.lineno}: {where.line})") from None


def _copy(args):
    return tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)


def _describe(args):
    return ", ".join(f"shape {a.shape}" if isinstance(a, np.ndarray) else repr(a) for a in args)


def _check_cases(func, reference, cases, rtol, atol):
    """(ok, detail) for func against reference on every case (a tuple of arguments)."""
    if not callable(func) or isinstance(func, np.ndarray):
        return False, f"expected a function, got {type(func).__name__}"
    cases = [c if isinstance(c, tuple) else (c,) for c in cases]
    for i, args in enumerate(cases, 1):
        got = _call(func, _copy(args))
        if got is Ellipsis or got is None:
            return False, "your function returns nothing yet - replace the ... in it with your code"
        want = reference(*_copy(args)) if callable(reference) else reference[i - 1]
        ok, detail = _compare(got, want, rtol, atol)
        if not ok:
            return False, f"on test input {i} of {len(cases)} ({_describe(args)}): {detail}"
    return True, f"on all {len(cases)} test inputs"


def check(name, answer, expected, hint="", args=(), rtol=1e-5, atol=1e-8, cases=None):
    """Print whether ``answer`` matches ``expected``; return True/False, never raise.

    With ``cases`` (a list of argument tuples), ``answer`` is the reader's function and
    ``expected`` a reference function (or the list of expected results, one per case).
    """
    say = lambda line: print(line + (f" (hint: {hint})" if hint else ""))  # noqa: E731
    if answer is Ellipsis or answer is None:
        say(f"✗ {name}: no answer yet - replace the ... with your code")
        return False
    try:
        if cases is not None:
            ok, detail = _check_cases(answer, expected, cases, rtol, atol)
        else:
            if callable(answer) and not isinstance(answer, np.ndarray):
                answer = _call(answer, args)
            ok, detail = _compare(answer, expected, rtol, atol)
    except _Failed as failed:
        say(f"✗ {name}: {failed}")
        return False
    if ok:
        print(f"✓ {name}: correct" + (f" {detail}" if cases is not None else ""))
    elif detail.startswith("your function returns nothing"):
        say(f"✗ {name}: no answer yet - {detail}")
    else:
        print(f"✗ {name}: not yet - {detail}" + (f". Hint: {hint}" if hint else ""))
    return bool(ok)


def check_all(results):
    """Summarise several checks: ``check_all([check(...), check(...)])``."""
    n = sum(bool(r) for r in results)
    print(f"{n}/{len(results)} correct")
    return n == len(results)
