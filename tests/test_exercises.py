"""dlkit.exercises.check: the lines a reader sees, for values and for "write a function"."""
import numpy as np

from dlkit.exercises import check
from dlkit.gradcheck import compare


def softmax_ref(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


CASES = [(np.random.default_rng(i).normal(size=(n, 4)),) for i, n in enumerate((1, 3, 5))]


def test_a_correct_function_passes_on_every_case(capsys):
    assert check("softmax", lambda z: softmax_ref(z), softmax_ref, cases=CASES)
    assert capsys.readouterr().out == "✓ softmax: correct on all 3 test inputs\n"


def test_a_function_still_returning_the_placeholder_says_no_answer_yet(capsys):
    def softmax(z):
        p = ...
        return p
    assert not check("softmax", softmax, softmax_ref, cases=CASES, hint="subtract the max")
    out = capsys.readouterr().out
    assert out.startswith("✗ softmax: no answer yet - your function returns nothing yet")
    assert "(hint: subtract the max)" in out


def test_a_wrong_function_names_the_first_failing_case(capsys):
    wrong = lambda z: softmax_ref(z) if z.shape[0] < 3 else softmax_ref(2 * z)  # noqa: E731
    assert not check("softmax", wrong, softmax_ref, cases=CASES)
    out = capsys.readouterr().out
    assert "on test input 2 of 3 (shape (3, 4))" in out and "largest difference" in out


def test_the_readers_exception_becomes_a_hint_with_its_line(capsys):
    def softmax(z):
        return z @ np.ones((3, 3))
    assert not check("softmax", softmax, softmax_ref, cases=CASES, hint="h")
    out = capsys.readouterr().out
    assert out.startswith("✗ softmax: your code raised ValueError")
    assert "return z @ np.ones((3, 3))" in out and "(hint: h)" in out


def test_the_readers_function_cannot_change_the_cases():
    def softmax(z):
        z -= z.max(axis=-1, keepdims=True)   # in place, on check's copy
        return softmax_ref(z)
    before = [c[0].copy() for c in CASES]
    assert check("softmax", softmax, softmax_ref, cases=CASES)
    assert all(np.array_equal(b, c[0]) for b, c in zip(before, CASES))


def test_expected_may_be_a_list_of_results():
    assert check("double", lambda x: 2 * x, [2, 4], cases=[1, 2])
    assert not check("double", lambda x: 3 * x, [2, 4], cases=[1, 2])


def test_a_value_where_a_function_is_expected_is_refused(capsys):
    assert not check("softmax", np.ones(3), softmax_ref, cases=CASES)
    assert "expected a function" in capsys.readouterr().out


def test_compare_prints_the_difference_and_its_verdict(capsys):
    assert compare("fwd", np.ones(3), np.ones(3) + 1e-8)
    assert not compare("fwd", np.ones(3), np.ones(3) + 1e-3)
    assert compare("dW", np.ones(3), np.ones(3) + 1e-9, tol=1e-7,
                   labels=("analytic", "numerical"), relative=True)
    assert capsys.readouterr().out.splitlines() == [
        "fwd: max |NumPy - dlkit| = 1.0e-08 < 1e-06: True",
        "fwd: max |NumPy - dlkit| = 1.0e-03 < 1e-06: False",
        "dW: relative error(analytic, numerical) = 5.0e-10 < 1e-07: True"]


def test_compare_refuses_different_shapes():
    import pytest
    with pytest.raises(ValueError, match=r"shapes differ: NumPy \(3,\) vs dlkit \(2,\)"):
        compare("fwd", np.ones(3), np.ones(2))


def test_compare_says_false_for_nan(capsys):
    assert not compare("fwd", np.array([np.nan]), np.array([1.0]))


# -- the Chinese edition's lines ---------------------------------------------------------
import re  # noqa: E402

import pytest  # noqa: E402

from dlkit import config  # noqa: E402



def test_check_speaks_chinese_when_asked(chinese, capsys):
    def softmax(z):
        p = ...
        return p
    assert check("5.5 softmax", lambda z: softmax_ref(z), softmax_ref, cases=CASES)
    assert not check("5.5 softmax", softmax, softmax_ref, cases=CASES, hint="先减去最大值")
    assert not check("5.1 交叉熵", 0.5, 0.356675, hint="只有真实类别的概率有关")
    assert not check("5.1 交叉熵", ..., 0.356675)
    assert capsys.readouterr().out.splitlines() == [
        "✓ 5.5 softmax：正确（全部 3 组测试输入）",
        "✗ 5.5 softmax：还没有答案——你的函数还没有返回结果，请把函数里的 ... 换成你的代码"
        "（提示：先减去最大值）",
        "✗ 5.1 交叉熵：还不对——与期望值的最大差为 0.143。提示：只有真实类别的概率有关",
        "✗ 5.1 交叉熵：还没有答案——请把 ... 换成你的代码"]


def test_the_readers_exception_in_chinese(chinese, capsys):
    def softmax(z):
        return z @ np.ones((3, 3))
    assert not check("5.5 softmax", softmax, softmax_ref, cases=CASES)
    out = capsys.readouterr().out
    assert out.startswith("✗ 5.5 softmax：你的代码抛出了 ValueError：") and "（第 " in out


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language 'fr'; choose one of"):
        config.set_language("fr")
    assert config.language() == "en"


def test_compare_speaks_chinese_and_the_sanitiser_still_finds_its_number(chinese, capsys):
    assert compare("dW", np.ones(3), np.ones(3) + 1e-9, tol=1e-7,
                   labels=("解析", "数值"), relative=True)
    assert not compare("前向", np.ones(3), np.ones(3) + 1e-3)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["dW：相对误差(解析, 数值) = 5.0e-10 < 1e-07：True",
                     "前向：max |NumPy - dlkit| = 1.0e-03 < 1e-06：False"]
    from pathlib import Path
    cfg = (Path(__file__).resolve().parents[1] / "book" / "nbval_sanitize.cfg").read_text("utf-8")
    section = cfg.split("[the measured difference", 1)[1]
    regex = re.search(r"^regex: (.+)$", section, re.M).group(1)
    replace = re.search(r"^replace: (.+)$", section, re.M).group(1)
    assert [re.sub(regex, replace, line) for line in lines] == [
        "dW：相对误差(解析, 数值) = DIFFERENCE < 1e-07：True",
        "前向：max |NumPy - dlkit| = DIFFERENCE < 1e-06：False"]
