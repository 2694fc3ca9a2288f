"""The book as a static website: ``python -m dlkit book build`` (source checkout only).

Both editions are built from the notebooks as they are saved, outputs included (nothing is
re-run), with Jupyter Book 1 (Sphinx, sphinx-book-theme, myst-nb)::

    book/_build/html/            the English edition (index.html: the book's README)
    book/_build/html/zh/         the Chinese edition, page for page

Every page has a link to the same page in the other edition: both have the same page names
(``06_optimizers.html`` and ``zh/06_optimizers.html``, ``assignments/01_dense_layer.html``, ...).

Why Jupyter Book 1 and not 2: version 2 builds through mystmd, which downloads its site
template from api.mystmd.org (or GitHub) at build time, and its pages are a JavaScript
application that needs a web server at a fixed base URL. Version 1 builds with Sphinx from
pip packages alone, and its pages are plain HTML that also open from ``file://``.

The site asks nothing of another host: the theme bundles its fonts and scripts, MathJax 3
comes from the ``sphinx-mathjax-offline`` package, and myst-nb's widget scripts (from a CDN)
are turned off. Each widget is shown by the still picture it saves with its output
(``image/png``) with a caption saying that it moves in Jupyter. tests/test_site.py builds the
site and opens every page in chromium, logging every request.

How a page is made, per edition, in a staging folder (``src/<language>/`` in a temporary
folder beside the site, removed after the build):

- ``index.md``: the edition's README, its links to other files turned into links to pages;
- the 12 chapters: copies of the notebooks with their outputs, each widget's output reduced to
  its picture with a caption, and a folded "Run this chapter" box under the title (the
  download, the README's two commands, Binder's URL form); the download is the notebook itself;
- ``assignments/``: the teacher's guide and the student copies (``dlkit.classroom.release``);
- ``glossary.md``: ``book/glossary.csv`` as a table; its Chinese terms are also the words
  jieba keeps whole in the Chinese search index.

The new site replaces the old one only when both editions are built: a failed build leaves
``book/_build/html/`` as it was.

``pages`` makes the pages (links, widgets, run boxes, the glossary); ``jupyterbook`` stages an
edition with its Jupyter Book configuration and builds the site.
"""
from .jupyterbook import build, main, stage
from .pages import BOOK, EDITIONS, SiteError

__all__ = ["build", "main", "stage", "EDITIONS", "SiteError", "BOOK"]
