"""The book's website: ``python -m dlkit book build``, then every page read as a reader reads it.

The module builds both editions once, with the README's command, into a temporary folder.
Then, without a browser:

- the two editions have the same pages: the book's README, 12 chapters, the teacher's guide
  and 4 student copies, the glossary;
- every local link, image, script and stylesheet of every page exists (anchors too), and no
  page, script tag or stylesheet loads anything from another host;
- each chapter page shows its notebook's saved outputs: every printed line, every picture,
  each widget as its still picture with a caption; its folded solutions stay folded;
- the download of a page is the notebook in the repository (an assignment's: its student copy).

And in Debian's chromium (pages served by ``python -m http.server`` on 127.0.0.1), every page
of both editions: no console error, no failed request and no request to another host (every
request is logged), every image decoded, every formula typeset by MathJax with no raw TeX
left, a copy button on every code block; the language switch of every page leads to its twin
and back; the search finds chapter 4 in each language. Three pages also open from ``file://``.
Screenshots of three pages per edition go to tests/artifacts/site/ (gitignored). Last, the
build command's own behaviour: a failed build keeps the old site, bad arguments are refused.

Skipped, with the reason, where Jupyter Book 1 (``pip install -e '.[site]'``), playwright or
chromium is missing.
"""
import html
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from browser_helpers import free_port, wait_for_server

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
ARTIFACTS = ROOT / "tests" / "artifacts" / "site"
EDITIONS = {"en": (BOOK, ""), "zh": (BOOK / "zh", "zh/")}      # notebooks, folder in the site
CHAPTERS = sorted(p.stem for p in BOOK.glob("[0-9][0-9]_*.ipynb"))
ASSIGNMENTS = sorted(p.stem for p in (BOOK / "assignments").glob("*.ipynb"))
PAGES = (["index", "glossary", "assignments/index"] + CHAPTERS
         + [f"assignments/{a}" for a in ASSIGNMENTS])
SCREENSHOTS = ["index", "06_optimizers", "assignments/01_dense_layer"]
WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("jupyter_book", reason="Jupyter Book is not installed: "
                        "pip install -e '.[site]' (or '.[test]') to build the website")
    out = tmp_path_factory.mktemp("site") / "html"
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "dlkit", "book", "build", "--output", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"the build failed:\n{run.stdout[-3000:]}\n{run.stderr[-8000:]}"
    print(f"website built in {time.perf_counter() - start:.1f} s")
    return out


def html_pages(site):
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts
                  and "_sources" not in p.parts)


class Parsed(HTMLParser):
    """One HTML page: its ids, its references (tag, attribute, URL), its text, the <details> in
    its <main> (True where open), its pictures from notebooks (_images/)."""

    SKIP_TEXT = {"script", "style"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.ids, self.refs, self.text, self.details, self.images = set(), [], [], [], 0
        self._skip = self._main = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        for attr in ("href", "src"):
            if a.get(attr) is not None:
                self.refs.append((tag, attr, a[attr]))
        if tag == "main":
            self._main += 1
        if tag == "details" and self._main:          # the solutions, not the menu's sections
            self.details.append("open" in a)
        if tag == "img" and "_images/" in (a.get("src") or ""):
            self.images += 1
        if tag in self.SKIP_TEXT:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "main":
            self._main -= 1
        if tag in self.SKIP_TEXT:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(path):
    return Parsed(path.read_text(encoding="utf-8"))


def squash(text):
    return re.sub(r"\s+", " ", text).strip()


# --- without a browser -------------------------------------------------------------------

def test_both_editions_have_the_same_pages(site):
    en = {p.relative_to(site).as_posix() for p in html_pages(site) if "zh" not in p.relative_to(site).parts}
    zh = {p.relative_to(site / "zh").as_posix() for p in html_pages(site / "zh")}
    assert en == zh
    assert {f"{p}.html" for p in PAGES} <= en, sorted({f"{p}.html" for p in PAGES} - en)


def link_problems(site):
    """What is broken or loaded from another host in the pages and stylesheets under ``site``."""
    problems, parsed = [], {page: parse(page) for page in html_pages(site)}
    for page, doc in parsed.items():
        where = page.relative_to(site).as_posix()
        for tag, attr, url in doc.refs:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                if tag != "a":      # a link is followed by a reader's click; this is a load
                    problems.append(f"{where}: <{tag} {attr}> loads {url} from another host")
                continue
            if parts.scheme in ("mailto", "data", "javascript"):
                continue
            if parts.scheme:
                problems.append(f"{where}: <{tag} {attr}={url}>: unexpected scheme")
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{where}: <{tag} {attr}={url}>: no such file")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{where}: <{tag} {attr}={url}>: no such anchor")
    for css in site.rglob("*.css"):
        text = css.read_text(errors="replace")
        for url in re.findall(r"(?:url\(|@import)\s*['\"]?(https?://[^'\")\s]+)", text):
            problems.append(f"{css.relative_to(site)}: {url} from another host")
    return problems


def test_links_and_images_exist_and_nothing_comes_from_another_host(site):
    problems = link_problems(site)
    assert not problems, "\n".join(problems[:60])


def test_the_link_check_finds_what_it_looks_for(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.html").write_text(
        '<p id="here">a</p><a href="sub/b.html#there">ok</a><a href="#here">ok</a>'
        '<a href="https://example.org/">a link is fine</a><img src="missing.png">'
        '<a href="sub/b.html#nowhere">x</a><script src="https://cdn.example.org/x.js"></script>')
    (tmp_path / "sub" / "b.html").write_text('<h1 id="there">b</h1><a href="../a.html">up</a>')
    (tmp_path / "s.css").write_text("@font-face { src: url('https://fonts.example.org/f.woff2') }")
    problems = link_problems(tmp_path)
    assert len(problems) == 4, problems
    for found in ("missing.png>: no such file", "#nowhere>: no such anchor",
                  "loads https://cdn.example.org/x.js", "fonts.example.org/f.woff2 from another"):
        assert any(found in p for p in problems), (found, problems)


def saved_lines(nb):
    """Every non-empty line a reader sees in the notebook's saved text outputs."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                text = out.text
            elif out.output_type in ("execute_result", "display_data"):
                data = out.get("data", {})
                if set(data) & {"image/png", "text/html", WIDGET}:
                    continue
                text = data.get("text/plain", "")
            else:
                text = "".join(out.get("traceback", []))
            for line in re.split(r"[\r\n]+", re.sub(r"\x1b\[[0-9;]*m", "", text)):
                if line.strip():
                    yield squash(line)


@pytest.mark.parametrize("edition", sorted(EDITIONS))
def test_chapter_pages_show_the_saved_outputs(site, edition):
    source, folder = EDITIONS[edition]
    for chapter in CHAPTERS:
        nb = nbformat.read(source / f"{chapter}.ipynb", as_version=4)
        page = site / folder / f"{chapter}.html"
        doc = parse(page)
        text = squash(html.unescape(" ".join(doc.text)))
        lines = list(saved_lines(nb))
        assert len(lines) > 10, f"{chapter}: {len(lines)} printed lines? (the check reads them)"
        missing = [line for line in lines if line not in text]
        assert not missing, f"{page.relative_to(site)}: {len(missing)} printed lines not shown: {missing[:5]}"
        outputs = [o for c in nb.cells for o in c.get("outputs", [])]
        pictures = sum("image/png" in o.get("data", {}) for o in outputs)
        widgets = sum(WIDGET in o.get("data", {}) for o in outputs)
        assert doc.images == pictures, (page.name, doc.images, pictures)
        raw = page.read_text(encoding="utf-8")
        assert raw.count('class="dlkit-widget-caption"') == widgets, (page.name, widgets)
        assert "widget-view+json" not in raw and "widget-state+json" not in raw
        folded = sum(c.source.count("<details>") for c in nb.cells if c.cell_type == "markdown")
        assert len(doc.details) == folded and not any(doc.details), (page.name, doc.details, folded)
        assert re.search(r'class="[^"]*dlkit-run', raw), f"{page.name}: no run box"


@pytest.mark.parametrize("edition", sorted(EDITIONS))
def test_downloads_are_the_notebooks_themselves(site, edition):
    from dlkit.classroom.release import release_notebook

    source, folder = EDITIONS[edition]
    for chapter in CHAPTERS:
        given = site / folder / "_sources" / f"{chapter}.ipynb"
        assert given.read_bytes() == (source / f"{chapter}.ipynb").read_bytes(), given
    for name in ASSIGNMENTS:
        given = nbformat.read(site / folder / "_sources" / "assignments" / f"{name}.ipynb", 4)
        student = release_notebook(nbformat.read(source / "assignments" / f"{name}.ipynb", 4))
        assert [c.source for c in given.cells] == [c.source for c in student.cells], name
        page = (site / folder / "assignments" / f"{name}.html").read_text(encoding="utf-8")
        for hidden in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
            assert hidden not in page, (name, hidden)


def test_the_glossary_page_is_the_glossary_file(site):
    import csv

    with open(BOOK / "glossary.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for folder in ("", "zh/"):
        text = squash(html.unescape(" ".join(parse(site / folder / "glossary.html").text)))
        missing = [r["en"] for r in rows if r["zh"] not in text or html.unescape(r["en"]) not in text]
        assert not missing, (folder, missing)


# --- in a browser ------------------------------------------------------------------------

CHECK_PAGE = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
    const images = [...document.images];
    await Promise.all(images.map(i => i.decode().catch(() => null)));
    const clone = document.querySelector('main').cloneNode(true);
    clone.querySelectorAll('pre, code, script, style, mjx-container').forEach(e => e.remove());
    const text = clone.textContent;
    const raw = ['$$', '\\\\(', '\\\\[', '\\\\frac', '\\\\begin'].filter(t => text.includes(t))
        .map(t => t + ' in "' + text.substr(Math.max(0, text.indexOf(t) - 40), 90) + '"');
    const link = document.querySelector('a.dlkit-language');
    return {
        broken: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src')),
        untypeset: [...document.querySelectorAll('span.math, div.math')]
            .filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)),
        mathErrors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 60)),
        formulas: document.querySelectorAll('mjx-container').length,
        raw: raw,
        openDetails: [...document.querySelectorAll('main details')].filter(d => d.open).length,
        codeBlocks: document.querySelectorAll('div.highlight pre').length,
        copyButtons: document.querySelectorAll('button.copybtn').length,
        lang: document.documentElement.lang,
        twin: link ? link.href : null,
    };
}"""


class Reader:
    """A chromium tab that logs every request, failure and console error of the pages it opens."""

    def __init__(self, browser, allowed):
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.allowed, self.events = allowed, []
        self.page.on("request", self._request)
        self.page.on("requestfailed", lambda r: self.events.append(f"failed request {r.url}: {r.failure}"))
        self.page.on("response", lambda r: r.status >= 400 and self.events.append(f"HTTP {r.status} {r.url}"))
        self.page.on("console", lambda m: m.type == "error" and self.events.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.events.append(f"page error: {e}"))
        self.requests = 0

    def _request(self, request):
        self.requests += 1
        if not request.url.startswith(self.allowed) and not request.url.startswith(("data:", "blob:")):
            self.events.append(f"request to another host: {request.url}")

    def read(self, url, click=None):
        """Open ``url`` (or click ``click`` and wait for the next page); returns (url, checks,
        events of this page)."""
        self.events = []
        if click:
            with self.page.expect_navigation():
                self.page.click(click)
        else:
            self.page.goto(url)
        self.page.wait_for_load_state("load")
        facts = self.page.evaluate(CHECK_PAGE)
        self.page.wait_for_timeout(50)           # late console errors of the page's scripts
        return self.page.url, facts, list(self.events)


def page_problems(name, facts, events, lang):
    problems = [f"{name}: {e}" for e in events]
    for key in ("broken", "untypeset", "mathErrors", "raw"):
        if facts[key]:
            problems.append(f"{name}: {key}: {facts[key][:3]}")
    if facts["openDetails"]:
        problems.append(f"{name}: {facts['openDetails']} solutions unfolded")
    if facts["copyButtons"] < facts["codeBlocks"]:
        problems.append(f"{name}: {facts['codeBlocks']} code blocks, {facts['copyButtons']} copy buttons")
    if not facts["lang"].startswith(lang):
        problems.append(f"{name}: <html lang={facts['lang']}>, expected {lang}")
    return problems


@pytest.fixture(scope="module")
def server(site):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(site)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        assert wait_for_server(f"http://127.0.0.1:{port}/index.html", proc, 30), "http.server did not start"
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_every_page_of_both_editions_in_a_browser(site, server, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    reader = Reader(browser, server)
    problems, pages, formulas = [], 0, 0
    extra = sorted({p.relative_to(site).with_suffix("").as_posix() for p in html_pages(site)
                    if "zh" not in p.relative_to(site).parts} - set(PAGES))   # genindex, search
    for name in PAGES + extra:
        url, facts, events = reader.read(server + name + ".html")
        problems += page_problems(name, facts, events, "en")
        formulas += facts["formulas"]
        twin = f"{server}zh/{name}.html"
        if facts["twin"] != twin:
            problems.append(f"{name}: the language switch leads to {facts['twin']}, not {twin}")
            continue
        if name in SCREENSHOTS:
            screenshot(reader.page, f"en_{name}")
        url, facts, events = reader.read(None, click="a.dlkit-language")
        problems += page_problems(f"zh/{name}", facts, events, "zh")
        formulas += facts["formulas"]
        if url != twin:
            problems.append(f"{name}: clicking the language switch opened {url}, not {twin}")
        if facts["twin"] != server + name + ".html":
            problems.append(f"zh/{name}: the language switch leads to {facts['twin']}")
        if name in SCREENSHOTS:
            screenshot(reader.page, f"zh_{name}")
        pages += 2
    reader.page.close()
    print(f"{pages} pages, {reader.requests} requests, {formulas} formulas typeset")
    assert formulas > 1000
    assert not problems, "\n".join(problems[:60])


@pytest.mark.parametrize("lang, query", [("en", "backpropagation"), ("zh", "反向传播")])
def test_search_finds_a_chapter_in_each_language(site, server, browser, lang, query):
    """Sphinx's search runs in the page, offline; the Chinese index is cut into words by jieba,
    with the glossary's terms kept whole, so a search for 反向传播 finds chapter 4."""
    reader = Reader(browser, server)
    folder = "" if lang == "en" else "zh/"
    reader.page.goto(f"{server}{folder}search.html?q={query}")
    reader.page.wait_for_function(
        "() => document.querySelectorAll('#search-results ul.search li a').length > 0",
        timeout=30_000)
    found = reader.page.eval_on_selector_all("#search-results ul.search li a",
                                             "links => links.map(a => a.getAttribute('href'))")
    reader.page.close()
    assert any(href.startswith("04_backprop.html") for href in found), found
    assert not reader.events, reader.events


def screenshot(page, name):
    """A screenshot of the page's top, or of its first widget when it has one."""
    caption = page.locator(".dlkit-widget-caption").first
    if caption.count():
        caption.scroll_into_view_if_needed()
        page.evaluate("() => window.scrollBy(0, 150)")
    page.screenshot(path=str(ARTIFACTS / (name.replace("/", "_") + ".png")))


def test_pages_open_from_file_urls(site, browser):
    reader = Reader(browser, "file://")
    problems = []
    for name, lang in (("index", "en"), ("06_optimizers", "en"), ("zh/08_cnn", "zh")):
        url, facts, events = reader.read((site / f"{name}.html").as_uri())
        problems += page_problems(name, facts, events, lang)
        if not facts["twin"] or not Path(unquote(urlsplit(facts["twin"]).path)).exists():
            problems.append(f"{name}: the language switch leads to {facts['twin']}")
    reader.page.close()
    assert not problems, "\n".join(problems)


# --- the build command itself ------------------------------------------------------------

def test_a_failed_build_leaves_the_old_site(tmp_path, monkeypatch):
    from dlkit import website
    from dlkit.website import jupyterbook

    out = tmp_path / "html"
    out.mkdir()
    (out / "index.html").write_text("the old site")
    monkeypatch.setattr(jupyterbook, "_jupyter_book_command",
                        lambda folder: [sys.executable, "-c", "print('WARNING: broken'); raise SystemExit(1)"])
    with pytest.raises(website.SiteError, match="WARNING: broken"):
        website.build(out, log=lambda *a: None)
    assert (out / "index.html").read_text() == "the old site"
    assert [p.name for p in tmp_path.iterdir()] == ["html"]        # no staging folder left


def test_the_build_refuses_bad_arguments_and_explains():
    from dlkit import website

    with pytest.raises(website.SiteError, match="OWNER/NAME"):
        website.build(repository="https://github.com/x/y")


def test_a_widget_output_without_its_picture_is_refused():
    from dlkit.website import pages as website

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("w", outputs=[
        nbformat.v4.new_output("display_data", data={WIDGET: {"model_id": "x"}, "text/plain": "w"})])])
    with pytest.raises(website.SiteError, match="without its still picture"):
        website.still_widgets(nb, "en", "x.ipynb")
    nb.cells[0].outputs[0].data["image/png"] = "iVBORw0KGgo="
    assert website.still_widgets(nb, "zh", "x.ipynb") == 1
    out = nb.cells[0].outputs
    assert WIDGET not in out[0].data and "交互控件" in out[1].data["text/html"]


def test_links_to_files_that_are_not_pages_are_refused():
    from dlkit.website import pages as website

    readme = BOOK / "README.md"
    en, zh = website.EDITIONS["en"], website.EDITIONS["zh"]
    assert website.relink("[6](06_optimizers.ipynb)", readme, en, "index") == "[6](06_optimizers.ipynb)"
    assert website.relink("[中文版](zh/README.md)", readme, en, "index") == \
        '<a href="zh/index.html" hreflang="zh">中文版</a>'
    assert website.relink("[English](../README.md)", BOOK / "zh" / "README.md", zh, "index") == \
        '<a href="../index.html" hreflang="en">English</a>'
    assert website.relink("[g](glossary.csv)", readme, en, "assignments/index") == "[g](../glossary.md)"
    with pytest.raises(website.SiteError, match="not a page of the website"):
        website.relink("[setup](../pyproject.toml)", readme, en, "index")


def test_the_run_box_gives_the_download_the_two_commands_and_binder():
    from dlkit.website import pages

    zh = pages.run_box(pages.EDITIONS["zh"], "06_optimizers", repository="me/dlkit")
    assert "https://mybinder.org/v2/gh/me/dlkit/HEAD?labpath=book%2Fzh%2F06_optimizers.ipynb" in zh
    assert 'href="_sources/06_optimizers.ipynb" download>06_optimizers.ipynb</a>' in zh
    assert 'pip install -e ".[book]" && jupyter lab book/zh/' in zh and "运行本章" in zh
    en = pages.run_box(pages.EDITIONS["en"], "assignments/02_optimizers", assignment=True)
    assert "OWNER/REPO/HEAD?labpath=book%2Fassignments%2F02_optimizers.ipynb" in en
    assert 'href="../_sources/assignments/02_optimizers.ipynb"' in en
    assert "`# YOUR CODE HERE`" in en and 'pip install -e ".[test]" && python -m pytest' in en
