"""The pages of one edition of the website: what is changed on the way from the book's files
(links, widgets' outputs, the run box, the glossary table). See dlkit.website."""
import csv
import html
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..words import say_in

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
ASSETS = BOOK / "_site"                      # the language switch's template, the site's CSS
WIDGET = "application/vnd.jupyter.widget-view+json"
CHAPTER = re.compile(r"^\d\d_\w+\.ipynb$")


class SiteError(RuntimeError):
    """The site cannot be built: what is wrong, and what to do."""


@dataclass(frozen=True)
class Edition:
    language: str          # "en" or "zh": dlkit.words' language, and the page's lang
    folder: str            # the edition's notebooks, relative to book/
    readme: str            # the repository README whose commands the pages give
    site: str              # the edition's folder in the site ("" or "zh")
    sphinx_language: str   # the theme's and the search index's language
    title: str

    @property
    def source(self):
        return BOOK / self.folder if self.folder else BOOK


EDITIONS = {
    "en": Edition("en", "", "README.md", "", "en",
                  "Deep learning, from a single neuron to autoencoders"),
    "zh": Edition("zh", "zh", "README.zh.md", "zh", "zh_CN", "深度学习：从单个神经元到自编码器"),
}


@lru_cache(maxsize=None)        # read once per edition, not once per page's run box
def readme_commands(edition):
    """The two commands of the repository README of ``edition``, with their comments (its first
    two ```bash blocks): install and open the book, install and run every test."""
    text = (ROOT / edition.readme).read_text(encoding="utf-8")
    blocks = [b.rstrip("\n") for b in re.findall(r"```bash\n(.*?)```", text, re.S)[:2]]
    if len(blocks) < 2 or not all("pip install" in b for b in blocks):
        raise SiteError(f"{edition.readme} does not start with two ```bash blocks, its two "
                        "commands (read, test); the pages' run boxes copy them from there")
    return "\n\n".join(blocks)


def binder_url(path, repository):
    """Binder's URL of notebook ``path`` (relative to the repository) in ``repository``."""
    return (f"https://mybinder.org/v2/gh/{repository or 'OWNER/REPO'}/HEAD"
            f"?labpath={path.replace('/', '%2F')}")


def _download_link(page, name):
    """An HTML link, from page ``page`` ("06_optimizers", "assignments/01_dense_layer"), to its
    notebook as Sphinx copies it into ``_sources/`` (the theme's download button's file)."""
    up = "../" * page.count("/")
    return f'<a class="reference download" href="{up}_sources/{page}.ipynb" download>{name}</a>'


def run_box(edition, page, repository=None, assignment=False):
    """The folded box under a chapter's (or an assignment's) title, in MyST markdown."""
    lang, name = edition.language, page.split("/")[-1] + ".ipynb"
    notebook = f"book/{edition.folder + '/' if edition.folder else ''}{page}.ipynb"
    download = _download_link(page, name)
    if assignment:
        title = say_in(lang, "Work on this assignment")
        text = say_in(lang, "This page is the student copy of the assignment, as `python -m dlkit "
                            "assign release` writes it: {download}. Open it in JupyterLab with "
                            "dlkit installed (the first command, in a clone of the repository), "
                            "write your code where it says `{stub}`, and hand the notebook in. "
                            "The second command runs every test:",
                      download=download, stub=say_in(lang, "# YOUR CODE HERE"))
    else:
        title = say_in(lang, "Run this chapter")
        text = say_in(lang, "This page is the notebook {download} with its saved outputs: nothing "
                            "was re-run to make it, and its widgets are still pictures. To run "
                            "it, move its widgets and check your answers, install the book in a "
                            "clone of the repository and open it in JupyterLab (the first "
                            "command); the second runs every test:", download=download)
    if repository:
        binder = say_in(lang, "On Binder: {url}", url=f"`{binder_url(notebook, repository)}`")
    else:
        binder = say_in(lang, "On Binder, for a public copy of the repository (OWNER/REPO is its "
                              "name): {url}", url=f"`{binder_url(notebook, None)}`")
    return (f":::{{admonition}} {title}\n:class: dropdown tip dlkit-run\n\n{text}\n\n"
            f"```bash\n{readme_commands(edition)}\n```\n\n{binder}\n:::\n")


def widget_caption(lang):
    """The caption under a widget's still picture (an HTML output after it)."""
    from nbformat import v4

    text = say_in(lang, "A still picture of the widget: in Jupyter its controls move it (see "
                        "“{run}” under the chapter's title).", run=say_in(lang, "Run this chapter"))
    return v4.new_output("display_data", data={
        "text/html": f'<p class="dlkit-widget-caption">{html.escape(text)}</p>'})


def still_widgets(nb, lang, name):
    """Each widget output of ``nb`` keeps its picture (and text), loses its widget model, and
    gets a caption; the notebook's saved widget state goes. Returns the number of widgets."""
    count = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            outputs.append(out)
            data = out.get("data", {})
            if WIDGET in data:
                if "image/png" not in data:
                    raise SiteError(f"{name}, cell {i}: a widget output without its still picture "
                                    "(image/png); re-run the cell with dlkit's widgets, which save "
                                    "one, or clear the output")
                del data[WIDGET]
                outputs.append(widget_caption(lang))
                count += 1
        cell["outputs"] = outputs
    nb.metadata.pop("widgets", None)
    return count


def with_run_box(nb, box, name):
    """``nb`` with ``box`` placed right under the title line of its first cell."""
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown" or not first.source.startswith("# "):
        raise SiteError(f"{name}: the first cell should start with the title ('# ...')")
    title, _, rest = first.source.partition("\n")
    first.source = f"{title}\n\n{box}\n{rest.lstrip(chr(10))}"
    return nb


def site_page(path):
    """(edition language, page name) of a file of the book that is a page of the site, or None."""
    try:
        rel = Path(os.path.normpath(path)).relative_to(BOOK).as_posix()
    except ValueError:
        return None
    lang, rel = ("zh", rel[3:]) if rel == "zh" or rel.startswith("zh/") else ("en", rel)
    pages = {"README.md": "index", "": "index", "glossary.csv": "glossary",
             "assignments": "assignments/index", "assignments/README.md": "assignments/index"}
    if rel in pages:
        return lang, pages[rel]
    if rel.endswith(".ipynb") and (CHAPTER.match(rel) or rel.startswith("assignments/")):
        return lang, rel[:-len(".ipynb")]
    return None


def page_file(page):
    """The staged file of a page: chapters and assignments are notebooks, the rest markdown."""
    return page + (".ipynb" if re.search(r"(^|/)\d\d_", page) else ".md")


def relink(text, source, edition, page):
    """``text`` (markdown of file ``source``, shown as ``page`` of ``edition``) with each link
    to a file of the book turned into a link to its page: a MyST link within the edition, an
    HTML link to the other edition. A link to a file that is not a page is an error."""
    def replace(match):
        label, target = match.group(1), match.group(2)
        if re.match(r"[a-z]+:|#", target):
            return match.group(0)
        found = site_page(source.parent / target)
        if found is None:
            raise SiteError(f"{source.relative_to(ROOT)} links to {target}, which is not a page "
                            "of the website; link to a chapter, README or the glossary instead")
        lang, target_page = found
        up = "../" * page.count("/")
        if lang == edition.language:
            return f"[{label}]({up}{page_file(target_page)})"
        there = EDITIONS[lang]
        root = up + ("../" if edition.site else "") + (there.site + "/" if there.site else "")
        plain = html.escape(re.sub(r"`([^`]*)`", r"\1", label))
        return f'<a href="{root}{target_page}.html" hreflang="{lang}">{plain}</a>'
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", replace, text)


def glossary_rows():
    """book/glossary.csv's rows: {"zh", "en", "chapter", "avoid"}."""
    with open(BOOK / "glossary.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def search_words():
    """jieba's user dictionary for the Chinese search index: each Chinese term of the glossary
    as one word ("word frequency" lines; a high frequency keeps it whole)."""
    terms = [t.strip() for row in glossary_rows() for t in row["zh"].split("/")]
    return "".join(f"{t} 100000\n" for t in dict.fromkeys(terms) if t and " " not in t)


def glossary_page(edition):
    """book/glossary.csv as a markdown table, the edition's language first, each term's chapter
    linked to that chapter."""
    lang = edition.language
    chapters = {int(p.name[:2]): p.name for p in edition.source.glob("*.ipynb")
                if CHAPTER.match(p.name)}
    rows = glossary_rows()
    columns = ["en", "zh"] if lang == "en" else ["zh", "en"]
    names = {"en": say_in(lang, "English"), "zh": say_in(lang, "Chinese")}
    lines = ["# " + say_in(lang, "Glossary"), "",
             say_in(lang, "The book's key terms, each with one Chinese and one English form "
                          "(`book/glossary.csv`). Chapter 12 ends with the same table, and the "
                          "tests fail when a chapter uses another translation of a term."), "",
             f"| {names[columns[0]]} | {names[columns[1]]} | {say_in(lang, 'first in chapter')} |",
             "|---|---|---|"]
    for row in rows:
        number = int(row["chapter"])
        chapter = f"[{number}]({chapters[number]})" if number in chapters else str(number)
        first, second = (row[c].replace("|", "\\|") for c in columns)
        lines.append(f"| {first} | {second} | {chapter} |")
    return "\n".join(lines) + "\n"
