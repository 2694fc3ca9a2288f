"""The book's house rules, checked on the notebooks' sources (no kernel needed), in both
editions: the English book in book/, the Chinese one in book/zh/ (each rule in its language).

- Headings follow one convention: ``# Chapter N — Title (中文)``, sections ``## N.M ...``,
  ``## Summary (小结)``; assignments ``# Assignment N — ...``. In Chinese: ``# 第 N 章 标题``,
  ``## N.M ...``, ``## 小结``; ``# 作业 N 标题``.
- The five sources are "documents" (文档), never "articles" (文章).
- English prose uses half-width parentheses; full-width ones appear only inside verbatim
  Chinese quotations 「...」. Chinese prose uses full-width ones: no half-width parenthesis
  touches a Chinese character outside code and formulas.
- A cell whose output nbval does not compare is marked visibly in its first two lines
  (``# NBVAL_IGNORE_OUTPUT`` then ``# not compared: <reason>``, in Chinese ``# 不比较：<原因>``),
  asserts its results in ranges (unless it prints only timings), and is listed with its section
  and reason in its edition's README; every sanitiser of book/nbval_sanitize.cfg is listed in
  book/README.md. Nothing is silenced wholesale.
- A cell that trains, predicts or evaluates with ``verbose`` other than 0 is not compared: what
  it prints (losses, times, and on a machine with an empty kernel cache the line "compiling
  dlkit kernels for this CPU, once") differs from run to run.
"""
import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
ZH = BOOK / "zh"
CHAPTERS = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
ASSIGNMENTS = sorted(BOOK.glob("assignments/*.ipynb"))
ZH_CHAPTERS = sorted(ZH.glob("[0-9][0-9]_*.ipynb"))
ZH_ASSIGNMENTS = sorted(ZH.glob("assignments/*.ipynb"))
README = BOOK / "README.md"
MARK = "# NBVAL_IGNORE_OUTPUT"
NBVAL_MARKERS = re.compile(r"^#\s*NBVAL_\w+", re.M)
NBVAL_TAGS = {"nbval-ignore-output", "nbval-skip", "nbval-check-output", "raises-exception"}


class Edition:
    """One edition's words for the same rules."""

    def __init__(self, root, chapter, section, summary, assignment, reason, timing, exercise,
                 function, derivation):
        self.root, self.readme = root, root / "README.md"
        self.chapter, self.section, self.summary = chapter, section, summary
        self.assignment, self.reason, self.timing = assignment, reason, timing
        self.exercise, self.function, self.derivation = re.compile(exercise), function, derivation


EN = Edition(BOOK, chapter=r"# Chapter {n} — \S.*", section="## {n}.M Title",
             summary="Summary (小结)", assignment=r"# Assignment {n} — \S.*",
             reason="# not compared: ", timing="timing",
             exercise=r"\*\*Exercise (\d+)\.(\d+) — ([^*]+?)\.?\*\*",
             function="write a function", derivation="derivation")
ZH_ = Edition(ZH, chapter=r"# 第 {n} 章 \S.*", section="## {n}.M 标题", summary="小结",
              assignment=r"# 作业 {n} \S.*", reason="# 不比较：", timing="计时",
              exercise=r"\*\*练习 (\d+)\.(\d+) — ([^*]+?)。?\*\*",
              function="编写函数", derivation="推导")


def edition(path):
    return ZH_ if ZH in path.parents else EN


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


def markdown(path):
    return "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")


def rel(path):
    return str(path.relative_to(BOOK))


def test_the_book_has_twelve_chapters_and_four_assignments_in_each_edition():
    assert len(CHAPTERS) == 12 and len(ASSIGNMENTS) == 4
    assert [p.name for p in ZH_CHAPTERS] == [p.name for p in CHAPTERS]
    assert [p.name for p in ZH_ASSIGNMENTS] == [p.name for p in ASSIGNMENTS]


@pytest.mark.parametrize("path", CHAPTERS + ZH_CHAPTERS, ids=rel)
def test_chapter_headings_follow_one_convention(path):
    n, ed = int(path.name[:2]), edition(path)
    title = source(cells(path)[0]).splitlines()[0]
    assert re.fullmatch(ed.chapter.format(n=n), title), title
    bad = [line for line in markdown(path).splitlines() if line.startswith("## ")
           and not re.match(rf"## ({n}\.\d+ \S|{re.escape(ed.summary)}$)", line)]
    assert not bad, (f"section headings must read '{ed.section.format(n=n)}' or "
                     f"'## {ed.summary}': {bad}")
    assert not [l for l in markdown(path).splitlines() if l.startswith("# ")][1:], \
        "one '# ' title per chapter"


@pytest.mark.parametrize("path", ASSIGNMENTS + ZH_ASSIGNMENTS, ids=rel)
def test_assignment_title(path):
    n = int(path.name[:2])
    title = source(cells(path)[0]).splitlines()[0]
    assert re.fullmatch(edition(path).assignment.format(n=n), title), title


@pytest.mark.parametrize("path", CHAPTERS + ASSIGNMENTS, ids=rel)
def test_sources_are_called_documents_and_parentheses_are_half_width(path):
    text = markdown(path)
    assert not re.findall(r"\barticles?\b", text, re.I), "call the sources 'documents'"
    outside_quotes = re.sub(r"「[^」]*」", "", text)
    wrong = [m.group(0) for m in re.finditer(r".{0,20}[（）].{0,20}", outside_quotes)]
    assert not wrong, f"full-width parentheses outside a Chinese quotation 「...」: {wrong}"


CJK = "\u3400-\u4dbf\u4e00-\u9fff"


def prose(text):
    """Markdown without code, formulas, HTML tags and link targets: what is read as prose."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " ", text)
    text = re.sub(r"`[^`\n]+`", " ", text)
    text = re.sub(r"<[^>\n]+>", " ", text)
    text = re.sub(r"\]\([^)\s]+\)", "]", text)
    return re.sub(r"https?://\S+", " ", text)


@pytest.mark.parametrize("path", ZH_CHAPTERS + ZH_ASSIGNMENTS, ids=rel)
def test_chinese_sources_are_wendang_and_parentheses_are_full_width(path):
    text = prose(re.sub(r"「[^」]*」", "「」", markdown(path)))
    assert "文章" not in text, "call the sources 文档, not 文章"
    wrong = [m.group(0) for m in re.finditer(rf".{{0,12}}([{CJK}]\s*\(|\)\s*[{CJK}]).{{0,12}}", text)]
    assert not wrong, f"half-width parentheses in Chinese prose (use （ ）): {wrong}"


def marked_cells(path):
    """[(file, section, reason)] of the cells nbval does not compare (section: the '## '
    heading the cell is under, without the hashes); raises on an unmarked marker."""
    found, section = [], ""
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] != "code":
            headings = re.findall(r"^## (.+)$", source(cell), re.M)
            section = headings[-1].strip() if headings else section
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        assert not tags & NBVAL_TAGS, f"cell {i}: mark it with a visible comment, not a tag"
        src = source(cell)
        markers = NBVAL_MARKERS.findall(src)
        if not markers:
            continue
        lines = src.splitlines()
        assert markers == [MARK] and lines[0] == MARK, \
            f"cell {i}: the only marker allowed is '{MARK}', on the first line"
        ed = edition(path)
        assert len(lines) > 1 and lines[1].startswith(ed.reason), \
            f"cell {i}: the second line must say '{ed.reason}<reason>'"
        reason = lines[1][len(ed.reason):].strip()
        code = "\n".join(l for l in lines if not l.lstrip().startswith("#"))
        assert "assert " in code or ed.timing in reason, \
            f"cell {i}: a cell whose output is not compared must assert its results in ranges " \
            f"(only wall-clock timings are exempt; say '{ed.timing}' in the reason)"
        found.append((str(path.relative_to(ed.root)), section, reason))
    return found


def readme_rows(heading, readme=README):
    text = readme.read_text(encoding="utf-8")
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert m, f"{readme.relative_to(ROOT)} needs a section '## {heading}'"
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in m.group(1).splitlines() if line.startswith("|")]
    return rows[2:]   # past the header and the |---| line


NOT_COMPARED = {"en": "Cells whose output is not compared", "zh": "不比较输出的单元格"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_cell_not_compared_is_listed_with_its_reason(lang):
    ed, paths = (EN, CHAPTERS + ASSIGNMENTS) if lang == "en" else (ZH_, ZH_CHAPTERS + ZH_ASSIGNMENTS)
    marked = Counter(m for p in paths for m in marked_cells(p))
    listed = Counter((row[0].strip("`"), row[1], row[2]) for row in
                     readme_rows(NOT_COMPARED[lang], ed.readme))
    where = ed.readme.relative_to(ROOT)
    assert marked == listed, (f"in the notebooks, not in {where}: {marked - listed}; "
                              f"in {where}, not in the notebooks: {listed - marked}")


def test_every_sanitiser_is_listed():
    cfg = (BOOK / "nbval_sanitize.cfg").read_text(encoding="utf-8")
    sections = re.findall(r"^\[(.+)\]$", cfg, re.M)
    listed = {row[0] for row in readme_rows("What the tests replace before comparing")}
    assert sections and set(sections) == listed, (sections, listed)


VERBOSE_CALL = re.compile(r"\.(fit|predict|evaluate)\(")


def _verbose(call_text, method):
    m = re.search(r"verbose\s*=\s*(\w+)", call_text)
    if m:
        return m.group(1)
    return "1" if method == "fit" else "0"   # dlkit's defaults, as Keras's for fit


def _calls(src):
    """(method, text of the call) for each .fit( / .predict( / .evaluate( in a cell."""
    for m in VERBOSE_CALL.finditer(src):
        depth = 0
        for j in range(m.end() - 1, len(src)):
            depth += {"(": 1, ")": -1}.get(src[j], 0)
            if depth == 0:
                break
        yield m.group(1), src[m.start():j + 1]


@pytest.mark.parametrize("path", CHAPTERS + ASSIGNMENTS + ZH_CHAPTERS + ZH_ASSIGNMENTS, ids=rel)
def test_cells_that_print_progress_are_not_compared(path):
    bad = []
    for i, cell in enumerate(cells(path)):
        src = source(cell)
        if cell["cell_type"] != "code" or src.startswith(MARK):
            continue
        bad += [f"cell {i}: {text[:60]}" for method, text in _calls(src)
                if _verbose(text, method) != "0"]
    assert not bad, f"a call with verbose != 0 in a compared cell: {bad}"


# -- exercises and widgets (issue 18) ----------------------------------------------------
PLACEHOLDER_LINE = re.compile(r"^\s*[A-Za-z_]\w*\s*=\s*\.\.\.\s*(#.*)?$", re.M)
DERIVATION_CHAPTERS = {4, 5, 6, 9}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def chapter_exercises(path):
    """[(title, source of the exercise cell)] in order: an exercise is a code cell with a
    check(...) and a placeholder line, titled by the nearest '**Exercise N.k — title.**' above."""
    found, title = [], None
    for cell in cells(path):
        src = source(cell)
        if cell["cell_type"] == "markdown":
            titles = edition(path).exercise.findall(src)
            if titles:
                title = titles[-1]
        elif "check(" in src and PLACEHOLDER_LINE.search(src):
            found.append((title, src))
    return found


@pytest.mark.parametrize("path", CHAPTERS + ZH_CHAPTERS, ids=rel)
def test_exercises_ask_for_functions_and_derivations(path):
    """>= 4 exercises, each titled '**Exercise N.k — title.**' (k = 1, 2, ... in order); one
    titled 'write a function: ...' whose check runs the reader's function on several inputs
    (cases=); in chapters 4, 5, 6 and 9 one titled 'derivation: ...'. In Chinese:
    '**练习 N.k — 标题。**', '编写函数：...', '推导：...'."""
    n, ed = int(path.name[:2]), edition(path)
    ex = chapter_exercises(path)
    assert len(ex) >= 4, f"{len(ex)} exercises; a chapter keeps at least 4"
    untitled = [src.splitlines()[0] for t, src in ex if t is None]
    assert not untitled, f"exercises without a '**Exercise {n}.k — title.**' line: {untitled}"
    numbers = [(int(a), int(b)) for (a, b, _), _ in ex]
    assert numbers == [(n, k) for k in range(1, len(ex) + 1)], numbers
    functions = [t for t, src in ex if t[2].startswith(ed.function) and "cases=" in src]
    assert functions, f"no '{ed.function}: ...' exercise whose check passes cases="
    if n in DERIVATION_CHAPTERS:
        assert any(t[2].startswith(ed.derivation) for t, _ in ex), \
            f"no '{ed.derivation}: ...' exercise"


@pytest.mark.parametrize("chapters", [CHAPTERS, ZH_CHAPTERS], ids=["en", "zh"])
def test_no_two_exercises_share_a_title(chapters):
    titles = Counter(re.split("[:：]", t[2], maxsplit=1)[-1].strip().lower()
                     for p in chapters for t, _ in chapter_exercises(p) if t)
    assert not [t for t, k in titles.items() if k > 1], titles.most_common(3)


@pytest.mark.parametrize("path", [p for p in CHAPTERS + ZH_CHAPTERS if 2 <= int(p.name[:2]) <= 11],
                         ids=rel)
def test_every_chapter_from_2_to_11_shows_a_widget(path):
    """A widget view saved among the outputs (and its static PNG beside it)."""
    views = [o for c in cells(path) if c["cell_type"] == "code" for o in c.get("outputs", [])
             if WIDGET_VIEW in o.get("data", {})]
    assert views, "no widget among the saved outputs"
    assert all("image/png" in o["data"] for o in views), "a widget without its static picture"
