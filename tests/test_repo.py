"""The repository's contracts: the README's commands, CI, and a cheap import."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readme_test_command_and_the_book_in_two_more_environments():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    m = re.search(r"# run every test\n(.+)\n", readme)
    assert m, "README must show the test command under a '# run every test' comment"
    command = m.group(1).strip()
    lines = [l.strip() for l in ci.splitlines()]
    marker = [i for i, l in enumerate(lines) if l.startswith("# --- the README's test command")]
    assert len(marker) == 1 and lines[marker[0] + 1] == command, \
        "CI must run the README's test command verbatim, on the line after its marker comment"
    assert "DLKIT_GEMM=blas .ci/venv/bin/python -m pytest book/" in ci, "CI runs the book with BLAS"
    assert "lowest.py" in ci, "CI runs the book at the oldest allowed versions"


def test_the_chinese_readme_gives_the_same_two_commands_and_the_readmes_link_both_ways():
    en, zh = ((ROOT / name).read_text(encoding="utf-8") for name in ("README.md", "README.zh.md"))
    commands = lambda text: re.findall(r"```bash\n# [^\n]*\n(pip install [^\n]+)\n```", text)  # noqa: E731
    (read_en, test_en), (read_zh, test_zh) = commands(en)[:2], commands(zh)[:2]
    assert test_zh == test_en and "python -m pytest" in test_en
    assert read_zh == read_en.replace("jupyter lab book/", "jupyter lab book/zh/") != read_en
    assert "(README.zh.md)" in en and "(README.md)" in zh
    assert "(book/zh/README.md)" in zh


def test_import_dlkit_loads_no_numba_and_no_plotting():
    code = ("import sys, dlkit; from dlkit import Sequential; from dlkit.layers import Dense; "
            "import dlkit.optimizers, dlkit.losses, dlkit.datasets; "
            "print(sorted(m for m in ('numba', 'matplotlib', 'ipywidgets', 'torch', 'pooch') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_bundled_data_is_package_data():
    toml = (ROOT / "pyproject.toml").read_text()
    assert '"data/*.gz"' in toml
    assert (ROOT / "dlkit" / "datasets" / "data" / "t10k-images-idx3-ubyte.gz").exists()
