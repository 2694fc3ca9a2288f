"""Checks for the book's exercises: a wrong answer gets a hint, never a traceback.

    from dlkit.exercises import check
    answer = ...                        # the reader's work
    check("3.1 output shape", answer, (32, 10), hint="X W has one row per sample")

``check`` prints one line, "✓ 3.1 output shape: correct" or "✗ 3.1 output shape: not yet - ...",
and returns True/False. ``answer`` may be a value, or a function that ``check`` calls on
``args`` (its exceptions become hints too). Numbers and arrays compare with tolerances.
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


def check(name, answer, expected, hint="", args=(), rtol=1e-5, atol=1e-8):
    """Print whether ``answer`` matches ``expected``; return True/False, never raise."""
    if answer is Ellipsis or answer is None:
        print(f"✗ {name}: no answer yet - replace the ... with your code" + (f" (hint: {hint})" if hint else ""))
        return False
    if callable(answer) and not isinstance(answer, np.ndarray):
        try:
            answer = answer(*args)
        except NotImplementedError:
            print(f"✗ {name}: not implemented yet" + (f" (hint: {hint})" if hint else ""))
            return False
        except Exception as exc:  # the reader's code failed: show the error, not a traceback
            where = traceback.extract_tb(exc.__traceback__)[-1]
            print(f"✗ {name}: your code raised {type(exc).__name__}: {exc} "
                  f"(line {where.lineno}: {where.line})" + (f" - hint: {hint}" if hint else ""))
            return False
    ok, detail = _compare(answer, expected, rtol, atol)
    if ok:
        print(f"✓ {name}: correct")
    else:
        print(f"✗ {name}: not yet - {detail}" + (f". Hint: {hint}" if hint else ""))
    return bool(ok)


def check_all(results):
    """Summarise several checks: ``check_all([check(...), check(...)])``."""
    n = sum(bool(r) for r in results)
    print(f"{n}/{len(results)} correct")
    return n == len(results)
