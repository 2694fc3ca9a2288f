"""Staging an edition for Jupyter Book 1 and building the site with it. See dlkit.website."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..words import say_in
from .pages import (ASSETS, BOOK, CHAPTER, EDITIONS, ROOT, SiteError, glossary_page, relink,
                    run_box, search_words, still_widgets, with_run_box)


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _config(edition, folder):
    """The _config.yml of ``edition`` staged in ``folder`` (JSON is YAML: no YAML writer needed)."""
    lang = edition.language
    twin = EDITIONS["zh" if lang == "en" else "en"]
    switch = {"dlkit_twin_root": "zh/" if not edition.site else "../",
              "dlkit_twin_lang": twin.language,
              "dlkit_twin_label": {"en": "English", "zh": "中文"}[twin.language],
              "dlkit_twin_title": {"en": say_in(lang, "the same page in English"),
                                   "zh": say_in(lang, "the same page in Chinese")}[twin.language]}
    config = {
        "title": edition.title, "author": "the dlkit developers", "copyright": "2026",
        "only_build_toc_files": True,
        "exclude_patterns": ["_build", "_originals"],
        "execute": {"execute_notebooks": "off"},
        "parse": {"myst_enable_extensions": ["colon_fence", "dollarmath", "amsmath", "linkify"]},
        "html": {"use_repository_button": False, "use_issues_button": False,
                 "use_edit_page_button": False, "home_page_in_navbar": True},
        "launch_buttons": {"binderhub_url": "", "jupyterhub_url": "", "thebe": False,
                           "colab_url": "", "deepnote_url": ""},
        "repository": {"url": ""},
        "sphinx": {
            "recursive_update": True,
            "config": {
                # Jupyter Book's extensions less sphinx_thebe (a script from a CDN, unused here)
                # and intersphinx (inventories from other hosts), plus MathJax
                "extensions": ["sphinx_togglebutton", "sphinx_copybutton", "myst_nb",
                               "jupyter_book", "sphinx_comments", "sphinx_external_toc",
                               "sphinx_design", "sphinx_book_theme", "sphinx-mathjax-offline"],
                "language": edition.sphinx_language,
                # Chinese search: jieba cuts the text into words, and the glossary's terms are
                # words (反向传播, not 反向 + 传播), so a reader's search for one finds it
                "html_search_options": {"dict": str(folder / "_search_words.txt")} if lang == "zh"
                else {},
                # "text\n$$ x $$" is display math in Jupyter; Jupyter Book's own
                # parse.myst_dmath_double_inline does not reach myst-parser, this does
                "myst_dmath_double_inline": True,
                "nb_ipywidgets_js": {},            # no widget scripts from a CDN: stills instead
                "templates_path": [str(ASSETS / "_templates")],
                "html_static_path": [str(ASSETS / "_static")],
                "html_css_files": ["dlkit-site.css"],
                "html_show_sphinx": False,
                "html_favicon": str(ASSETS / "_static" / "dlkit-favicon.svg"),
                "togglebutton_hint": say_in(lang, "Click to show"),
                "togglebutton_hint_hide": say_in(lang, "Click to hide"),
                "html_context": {"default_mode": "light",      # the figures are drawn on white
                                 **switch},                    # dlkit-language.html's words
                "html_theme_options": {
                    "article_header_end": ["dlkit-language.html", "article-header-buttons.html"],
                    "use_download_button": True, "use_fullscreen_button": False,
                    "home_page_in_toc": True, "show_navbar_depth": 1,
                },
            },
        },
    }
    return json.dumps(config, ensure_ascii=False, indent=1)


def _toc(edition, chapters, assignments):
    lang = edition.language
    toc = {"format": "jb-book", "root": "index", "parts": [
        {"caption": say_in(lang, "Chapters"), "chapters": [{"file": c} for c in chapters]},
        {"caption": say_in(lang, "Assignments"), "chapters": [
            {"file": "assignments/index", "sections": [{"file": a} for a in assignments]}]},
        {"caption": say_in(lang, "Reference"), "chapters": [{"file": "glossary"}]},
    ]}
    return json.dumps(toc, ensure_ascii=False, indent=1)


def stage(edition, folder, repository=None):
    """Write the source of ``edition``'s site into ``folder``. Returns {page: notebook file}:
    the notebook each notebook page's download should give (the file itself, not the staged
    copy with its run box)."""
    import nbformat

    from ..classroom.release import release_notebook

    folder, src, lang = Path(folder), edition.source, edition.language
    downloads, chapters, assignments = {}, [], []
    readme = src / "README.md"
    _write(folder / "index.md", relink(readme.read_text(encoding="utf-8"), readme, edition, "index"))
    guide = src / "assignments" / "README.md"
    intro = say_in(lang, "The student copies of the assignments follow this guide in the menu, "
                         "as `python -m dlkit assign release` writes them: no solutions, no "
                         "hidden tests, no outputs.")
    title, _, rest = relink(guide.read_text(encoding="utf-8"), guide, edition,
                            "assignments/index").partition("\n")
    _write(folder / "assignments" / "index.md", f"{title}\n\n{intro}\n{rest}")
    _write(folder / "glossary.md", glossary_page(edition))
    for path in sorted(src.glob("*.ipynb")):
        if not CHAPTER.match(path.name):
            continue
        page = path.stem
        nb = nbformat.read(path, as_version=4)
        still_widgets(nb, lang, path.relative_to(ROOT))
        with_run_box(nb, run_box(edition, page, repository), path.relative_to(ROOT))
        nbformat.write(nb, folder / f"{page}.ipynb")
        downloads[page], chapters = path, chapters + [page]
    originals = folder / "_originals"
    for path in sorted((src / "assignments").glob("*.ipynb")):
        page = f"assignments/{path.stem}"
        student = release_notebook(nbformat.read(path, as_version=4), path.name)
        (originals / "assignments").mkdir(parents=True, exist_ok=True)
        nbformat.write(student, originals / f"{page}.ipynb")
        with_run_box(student, run_box(edition, page, repository, assignment=True), path.name)
        nbformat.write(student, folder / f"{page}.ipynb")
        downloads[page], assignments = originals / f"{page}.ipynb", assignments + [page]
    if not chapters:
        raise SiteError(f"no chapters (NN_name.ipynb) in {src}")
    if lang == "zh":
        _write(folder / "_search_words.txt", search_words())
    _write(folder / "_config.yml", _config(edition, folder))
    _write(folder / "_toc.yml", _toc(edition, chapters, assignments))
    return downloads


def _require_jupyter_book():
    try:
        import jupyter_book
    except ImportError:
        raise SiteError("the website is built with Jupyter Book 1, which is not installed: "
                        "pip install -e '.[site]' (or '.[test]')") from None
    major = int(jupyter_book.__version__.split(".")[0])
    if major != 1:
        raise SiteError(f"jupyter-book {jupyter_book.__version__} is installed; the website "
                        "needs version 1 (pip install 'jupyter-book>=1.0.4,<2'): version 2 "
                        "downloads its site template at build time")


def _jupyter_book_command(folder):
    """Jupyter Book's build of the staged ``folder`` (into folder/_build/html), warnings as
    errors, all of them listed."""
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build",
            str(folder), "--path-output", str(folder), "--all", "-W", "--keep-going", "-q"]


def build(out=None, repository=None, log=print):
    """Build the website, both editions, into ``out`` (default book/_build/html/); returns its
    path. ``repository``: OWNER/NAME of a public copy on GitHub, for the Binder addresses.

    The editions are built at once (one process each), into a new folder that then replaces
    ``out``; a failed build raises SiteError with Sphinx's warnings and leaves ``out`` as it was.
    """
    if not (BOOK / "README.md").exists():
        raise SiteError(f"no book at {BOOK}: the website is built from a source checkout "
                        "(git clone, then pip install -e '.[site]')")
    if repository is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        raise SiteError(f"repository {repository!r}: give it as OWNER/NAME, as on GitHub")
    _require_jupyter_book()
    out = Path(out) if out is not None else BOOK / "_build" / "html"
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=".site-", dir=out.parent))
    jobs = {}
    try:
        staged = {}
        for name in EDITIONS:
            folder = work / "src" / name
            staged[name] = (EDITIONS[name], folder,
                            stage(EDITIONS[name], folder, repository))
            log(f"{name}: {len(staged[name][2])} notebook pages and their menu staged")
        for name, (edition, folder, _) in staged.items():
            log_file = open(work / f"{name}.log", "w+", encoding="utf-8")
            jobs[name] = (subprocess.Popen(_jupyter_book_command(folder), stdout=log_file,
                                           stderr=subprocess.STDOUT, cwd=folder), log_file)
        log(f"Jupyter Book is building {' and '.join(jobs)} side by side ...")
        failed = []
        for name, (proc, log_file) in jobs.items():
            proc.wait()
            log_file.seek(0)
            if proc.returncode != 0:
                failed.append(f"--- {name} (exit {proc.returncode}) ---\n{log_file.read()[-6000:]}")
        if failed:
            raise SiteError("Jupyter Book could not build the website (warnings are errors "
                            "here):\n" + "\n".join(failed))
        site = work / "html"
        for name, (edition, folder, downloads) in staged.items():
            target = site / edition.site if edition.site else site
            shutil.copytree(folder / "_build" / "html", target, dirs_exist_ok=True)
            for page, original in downloads.items():
                # the theme's download button and the run box give the notebook as it is in
                # the repository (or the student copy), not the staged copy with its run box
                shutil.copyfile(original, target / "_sources" / f"{page}.ipynb")
        (site / ".nojekyll").write_text("")      # GitHub Pages: serve the _static/ folders
        if out.exists():
            os.replace(out, work / "old")        # removed with the work folder below
        os.replace(site, out)
    finally:
        for proc, log_file in jobs.values():
            if proc.poll() is None:              # interrupted: no builder outlives the build
                proc.kill()
                proc.wait()
            log_file.close()
        shutil.rmtree(work, ignore_errors=True)
    log(f"built {' and '.join(EDITIONS)} in {time.perf_counter() - start:.0f} s: {out / 'index.html'}")
    return out


def main(args):
    """``python -m dlkit book build``."""
    try:
        out = build(args.output, args.repository)
    except SiteError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"open {out.resolve().as_uri()}/index.html, or serve it: "
          f"python -m http.server --bind 127.0.0.1 --directory {out}")
    return 0
