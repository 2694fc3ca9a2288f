"""dlkit.words: one table of the book's Chinese, keyed by the English used in the code.

- every sentence the code passes to say()/say_in() as a literal has its Chinese;
- every entry is used somewhere in dlkit (no dead translations);
- each Chinese sentence has its English key's {fields}, and no English word;
- say() follows dlkit.config.set_language, say_in() a given language.
"""
import ast
import re
from pathlib import Path

import pytest

from dlkit import config
from dlkit.words import ZH, say, say_in

DLKIT = Path(__file__).resolve().parents[1] / "dlkit"
SOURCES = {p: p.read_text(encoding="utf-8") for p in DLKIT.rglob("*.py") if p.name != "words.py"}
# Words a Chinese sentence keeps: Python's names for values and errors, and a layer's name.
KEPT = {"NaN", "inf", "LSTM"}


def literal_calls():
    """(file, English literal) of every say("...") / say_in(lang, "...") call in dlkit."""
    for path, src in SOURCES.items():
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("say", "say_in"):
                args = node.args[1:] if node.func.id == "say_in" else node.args
                if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
                    yield path.relative_to(DLKIT), args[0].value


def test_every_literal_said_has_its_chinese():
    calls = list(literal_calls())
    assert len(calls) > 40
    missing = [(str(f), text) for f, text in calls if text not in ZH]
    assert not missing, missing


def test_every_chinese_entry_is_used():
    strings = {node.value for src in SOURCES.values() for node in ast.walk(ast.parse(src))
               if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    unused = [k for k in ZH if k not in strings]
    assert not unused, unused


def fields(text):
    return sorted(re.findall(r"\{(\w+)", text))


def test_each_chinese_sentence_has_the_english_fields_and_no_english_word():
    assert [k for k, v in ZH.items() if fields(k) != fields(v)] == []
    english = [(k, w) for k, v in ZH.items()
               for w in re.findall(r"(?<![\w{])[A-Za-z]{2,}(?![\w}])", re.sub(r"\{[^}]*\}", "", v))
               if w not in KEPT and w not in re.findall(r"[A-Za-z]+", k)]   # kept from the English
    assert not english, english


def test_say_follows_the_setting_and_say_in_its_argument():
    assert say("stride") == "stride" and say("class {i}", i=2) == "class 2"
    config.set_language("zh")
    try:
        assert say("stride") == "步幅" and say("class {i}", i=2) == "类别 2"
        assert say("a sentence nobody translated") == "a sentence nobody translated"
        assert say_in("en", "stride") == "stride"
    finally:
        config.set_language("en")
    assert say_in("zh", "# YOUR CODE HERE") == "# 在这里写你的代码"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        say_in("fr", "stride")
