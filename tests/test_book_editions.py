"""One book in two editions that cannot drift, and one glossary for both.

- Every Chinese chapter and assignment (book/zh/) has the same sequence of code cells as its
  English twin, and the same folded solutions, equal after comments and string literals are
  normalised: translated messages, labels and comments are allowed, changed code is not (so
  the exercises' expected values are the same too).
- book/glossary.csv fixes each key term's Chinese and English form. Chapter 12's glossary table
  (in each edition) is that file, row by row, and no chapter uses one of the second
  translations the file lists for a term (outside a verbatim quotation 「...」 of a document,
  which keeps the document's words).
"""
import ast
import csv
import io
import json
import re
import tokenize
from collections import Counter

import pytest
from test_book_rules import (BOOK, CJK, ROOT, ZH, ZH_ASSIGNMENTS, ZH_CHAPTERS, cells, prose,
                             source)
from test_documents import SEEDS

GLOSSARY = BOOK / "glossary.csv"
SOLUTION = re.compile(r"<details>.*?```python\n(?P<code>.*?)```.*?</details>", re.S)


def normalise(code):
    """The code's tokens without comments, every string literal replaced by '' (so a
    translated message or label compares equal); IPython lines (%, !) are kept as they are."""
    lines = code.splitlines()
    magics = [line.strip() for line in lines if line.lstrip().startswith(("%", "!"))]
    python = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(python + "\n").readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER):
            if tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                out.append(tokenize.tok_name[tok.type])
            continue
        out.append("''" if tok.type == tokenize.STRING else tok.string)
    return magics + out


def code_cells(path):
    return [normalise(source(c)) for c in cells(path) if c["cell_type"] == "code"]


def solutions(path):
    return [normalise(m.group("code")) for c in cells(path) if c["cell_type"] == "markdown"
            for m in SOLUTION.finditer(source(c))]


def test_normalising_allows_translated_strings_and_comments():
    en = ('answer = ...   # a number\n'
          'ok = check("5.1 cross-entropy", answer, 0.356675, hint="-log P_c")')
    zh = ('answer = ...   # 一个数\n'
          'ok = check("5.1 交叉熵", answer, 0.356675, hint=\'只与 -log P_c 有关\')')
    assert normalise(en) == normalise(zh)
    assert normalise('print(f"loss {x:.3f}")  # en') == normalise('print(f"损失 {x:.3f}")')


def test_normalising_sees_changed_code():
    base = "answer = ...\nok = check('5.1', answer, 0.356675)"
    for changed in ("answer = ...\nok = check('5.1', answer, 0.36)",        # an expected value
                    "answer = ...\nok = check('5.1', answer, 0.356675, rtol=1)",
                    "answer = 1\nok = check('5.1', answer, 0.356675)",
                    "answer = ...\nif True:\n    ok = check('5.1', answer, 0.356675)"):
        assert normalise(changed) != normalise(base), changed


TWINS = ZH_CHAPTERS + ZH_ASSIGNMENTS


@pytest.mark.parametrize("zh", TWINS, ids=lambda p: str(p.relative_to(BOOK)))
def test_each_chinese_notebook_has_its_english_twins_code(zh):
    en = BOOK / zh.relative_to(ZH)
    assert en.exists(), f"{zh.relative_to(BOOK)} has no English twin {en.relative_to(BOOK)}"
    a, b = code_cells(en), code_cells(zh)
    first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
    assert first is None and len(a) == len(b), (
        f"code cells differ from the English edition's: {len(a)} vs {len(b)} cells, the first "
        f"difference at code cell {first}")
    assert solutions(en) == solutions(zh), "the folded solutions differ from the English ones"


# -- the glossary --------------------------------------------------------------------------
def glossary():
    with open(GLOSSARY, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_glossary_gives_each_term_one_form():
    rows = glossary()
    assert rows and all(list(r) == ["zh", "en", "chapter", "avoid"] for r in rows), \
        [r for r in rows if None in r]          # a field with an unquoted comma
    for key in ("zh", "en"):
        seen = [r[key] for r in rows]
        assert len(seen) == len(set(seen)), f"a {key} term appears twice"
    for r in rows:
        assert 1 <= int(r["chapter"]) <= 12, r
        if r["avoid"]:
            avoid = re.compile(r["avoid"])
            clash = [t["zh"] for t in rows if avoid.search(t["zh"])]
            assert not clash, f"{r['zh']}: its second translations match glossary terms {clash}"


CHAPTER_12 = [p for p in (BOOK / "12_faq.ipynb", ZH / "12_faq.ipynb") if p.exists()]


@pytest.mark.parametrize("path", CHAPTER_12, ids=lambda p: str(p.relative_to(BOOK)))
def test_chapter_12s_glossary_table_is_the_glossary(path):
    rows = re.compile(r"^\| (.+?) \| (.+?) \| (\d+) \|$", re.M)
    table = [m.groups() for c in cells(path) if c["cell_type"] == "markdown"
             for m in rows.finditer(source(c))]
    assert table == [(r["zh"], r["en"], r["chapter"]) for r in glossary()]


NOTEBOOKS = sorted(BOOK.glob("*.ipynb")) + sorted(BOOK.glob("assignments/*.ipynb")) + TWINS


def second_translations(text):
    """[(glossary term, the second translation found)] in ``text``, outside the documents'
    verbatim quotations 「...」 (which keep the documents' own words)."""
    text = re.sub(r"「[^」]*」", "", text)
    return [(r["zh"], m.group(0)) for r in glossary() if r["avoid"]
            for m in re.finditer(r["avoid"], text)]


def test_a_term_translated_a_second_way_is_found():
    assert second_translations("先定义代价函数，再用正向传播算出输出。") == [
        ("前向传播", "正向传播"), ("损失函数", "代价函数")]
    assert second_translations("卷积的步长为 2，周围补零。") == [("步幅 / 填充", "卷积的步长"),
                                                          ("步幅 / 填充", "补零")]
    assert second_translations("文档 001 写的是「代价函数」。梯度下降的步长由学习率决定。") == []


READMES = [ROOT / "README.zh.md", ZH / "README.md", ZH / "assignments" / "README.md"]


@pytest.mark.parametrize("path", NOTEBOOKS + [p for p in READMES if p.exists()],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_second_translation_of_a_glossary_term(path):
    text = (path.read_text(encoding="utf-8") if path.suffix == ".md"
            else "\n".join(source(c) for c in cells(path)))
    found = second_translations(text)
    assert not found, f"(glossary term, second translation used): {found}"


# -- the Chinese edition is Chinese ---------------------------------------------------------
@pytest.mark.parametrize("path", TWINS, ids=lambda p: str(p.relative_to(BOOK)))
def test_chinese_chapters_are_written_in_chinese(path):
    """At least 80 % of the letters of the markdown are CJK (code, formulas, HTML and link
    targets excluded; a term's English in parentheses counts against it)."""
    text = prose("\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown"))
    cjk, latin = len(re.findall(f"[{CJK}]", text)), len(re.findall("[A-Za-z]", text))
    share = cjk / max(cjk + latin, 1)
    words = Counter(w.lower() for w in re.findall(r"[A-Za-z]{3,}", text))
    assert share >= 0.8, (f"{share:.1%} of the letters are CJK ({cjk} CJK, {latin} Latin); "
                          f"most frequent English words: {words.most_common(12)}")


# Words a Chinese sentence may carry as they are: names of software, layers, functions.
NAMES = {"softmax", "relu", "sigmoid", "tanh", "dlkit", "numpy", "swish", "logits", "logit",
         "epoch", "epochs", "batch"}


def _calls_strings(code):
    """(function name, string) for each string literal a reader sees from a call: print,
    check's name and hint, compare's name and labels, and assertion messages."""
    code = "\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in code.splitlines())
    tree = ast.parse(code)

    def strings(node):
        """The text of a string expression: literals, f-strings' literal parts, and the
        parts of a concatenation, tuple or conditional; not what is inside a replacement
        field or a call (a dict key such as h['loss'] is code, not text)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.JoinedStr):
            for part in node.values:
                yield from strings(part)
        elif isinstance(node, ast.BinOp):
            yield from strings(node.left)
            yield from strings(node.right)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for e in node.elts:
                yield from strings(e)
        elif isinstance(node, ast.IfExp):
            yield from strings(node.body)
            yield from strings(node.orelse)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name in ("print", "AssertionError"):
                args = node.args
            elif name == "check":
                args = node.args[:1] + [k.value for k in node.keywords if k.arg == "hint"]
            elif name == "compare":
                args = node.args[:1] + [k.value for k in node.keywords if k.arg == "labels"]
            else:
                continue
            for a in args:
                yield from ((name, s) for s in strings(a))
        elif isinstance(node, ast.Assert) and node.msg is not None:
            yield from (("assert", s) for s in strings(node.msg))


def english_words(text):
    """Lower-case English words of 3+ letters that are not names (NAMES) or code: format
    fields, `quoted code`, attributes, calls and keyword arguments (x.sum, max(, key=, =bool)."""
    text = re.sub(r"\{[^}]*\}|`[^`]*`", " ", text)
    return [w for w in re.findall(r"(?<![\w.=])[a-z]{3,}(?![\w(=])", text) if w not in NAMES]


def test_english_words_are_found_in_a_message_and_names_are_not():
    found = list(_calls_strings('print("训练集 loss", x)\ncheck("5.1 交叉熵", a, 1, hint="log of p")\n'
                                'assert x, f"shape {x.shape} 不对"\ncompare("前向", a, b)\n'
                                'print(f"损失 {h[\'loss\'][-1]:.3f}")'))
    assert sorted((name, w) for name, s in found for w in english_words(s)) == [
        ("assert", "shape"), ("check", "log"), ("print", "loss")]
    assert english_words("用 `np.triu(a, k=1)` 或 max(x, key=f)，dtype=bool 的 mask") == ["mask"]
    assert {name for name, _ in found} == {"print", "check", "assert", "compare"}
    assert ("print", "损失 ") in found and ("print", "loss") not in found     # h['loss'] is code


@pytest.mark.parametrize("path", TWINS, ids=lambda p: str(p.relative_to(BOOK)))
def test_every_message_a_reader_sees_is_chinese(path):
    """Printed messages, check names and hints, comparison names, assertion messages: no
    English word in them; every saved ✓/✗ line is one of check's Chinese lines."""
    from dlkit.words import ZH
    english = [(name, s) for c in cells(path) if c["cell_type"] == "code"
               for name, s in _calls_strings(source(c)) if english_words(s)]
    assert not english, f"English words in messages of the Chinese edition: {english[:8]}"
    text = lambda o: "".join(o.get("text", ""))   # a str, or the list of lines nbformat saves  # noqa: E731
    marks = [line for c in cells(path) if c["cell_type"] == "code"
             for line in "".join(text(o) for o in c.get("outputs", [])).splitlines()
             if line.startswith(("✓", "✗"))]
    zh = [re.escape(t.split("{name}", 1)[1].split("{", 1)[0]) for t in ZH.values()
          if t.startswith(("✓", "✗"))]
    bad = [line for line in marks if not re.search("|".join(zh), line)]
    assert not bad, f"check lines that are not Chinese: {bad[:5]}"


@pytest.mark.parametrize("zh", ZH_ASSIGNMENTS, ids=lambda p: str(p.relative_to(BOOK)))
def test_each_chinese_assignment_is_graded_as_its_english_twin(zh):
    """The same graded cells (grade_id, points, kind) in the same order, and the notebook says
    it is Chinese (metadata dlkit.language), so that its stubs and the grader's messages are."""
    en = BOOK / zh.relative_to(ZH)
    nb_zh, nb_en = (json.loads(p.read_text(encoding="utf-8")) for p in (zh, en))
    assert nb_zh["metadata"].get("dlkit") == {"language": "zh"}
    assert nb_en["metadata"].get("dlkit") == {"language": "en"}
    graded = lambda nb: [c.get("metadata", {}).get("nbgrader") for c in nb["cells"]  # noqa: E731
                         if c.get("metadata", {}).get("nbgrader")]
    assert graded(nb_zh) == graded(nb_en)


# -- the documents' errors, corrected in both editions ------------------------------------
# A box: a block quote that starts "> **The original says**" ("> **原文**"), up to its
# "**Correct is:**" ("**更正：**") line: the part that quotes the document.
BOX = {"en": re.compile(r"^> \*\*The original says\*\*(.*\n(?:(?!> \*\*Correct)>.*\n)*)", re.M),
       "zh": re.compile(r"^> \*\*原文\*\*(.*\n(?:(?!> \*\*更正)>.*\n)*)", re.M)}


def boxes(path, lang):
    """The quoting part of every "original says / 原文" box of a chapter, in order."""
    md = "\n".join(source(c) + "\n" for c in cells(path) if c["cell_type"] == "markdown")
    return BOX[lang].findall(md)


@pytest.mark.parametrize("zh", ZH_CHAPTERS, ids=lambda p: str(p.relative_to(BOOK)))
def test_every_error_box_of_the_english_chapter_is_in_the_chinese_one(zh):
    en = BOOK / zh.name
    assert len(boxes(zh, "zh")) == len(boxes(en, "en")), (
        f"{len(boxes(en, 'en'))} '> **The original says**' boxes in English, "
        f"{len(boxes(zh, 'zh'))} '> **原文**' boxes in Chinese")


@pytest.mark.parametrize("zh", ZH_CHAPTERS, ids=lambda p: str(p.relative_to(BOOK)))
def test_each_chinese_box_quotes_the_document_verbatim(zh):
    """Every box quotes the document (a sentence in 「...」, or its code in `...`), and every
    「quotation」 in it is in one of the five documents as written there (white space aside:
    the documents break lines inside sentences)."""
    if not SEEDS.is_dir():
        pytest.skip(f"the source documents are not at {SEEDS} (set DLKIT_SEEDS_DIR)")
    squash = lambda t: re.sub(r"\s+", "", t)  # noqa: E731
    documents = squash("".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("0*.txt")))
    found = boxes(zh, "zh")
    quoted = [re.findall(r"「([^」]+)」", box) for box in found]
    assert all(q or "`" in box for q, box in zip(quoted, found)), \
        f"a 原文 box that quotes neither a sentence 「...」 nor code `...`: {found}"
    missing = [q for qs in quoted for q in qs if squash(q) not in documents]
    assert not missing, f"quoted in a 原文 box but not in the documents: {missing}"
