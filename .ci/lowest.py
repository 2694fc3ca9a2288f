"""Print pip constraints that pin every dependency of pyproject.toml to its lowest allowed version.

    python .ci/lowest.py runtime test > lowest.txt
    pip install -c lowest.txt -e ".[test]"

CI installs the book's test environment this way once more, so that the lower bounds in
pyproject.toml are versions that were actually tested, not hopes.
"""
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lowest(requirements):
    for req in requirements:
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*([^;#]*)", req)
        name, spec = m.group(1), m.group(3)
        low = re.search(r">=\s*([0-9][^,\s]*)", spec)
        if low:
            yield f"{name}=={low.group(1)}"


def main(groups):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = []
    for group in groups:
        reqs += (project["dependencies"] if group == "runtime"
                 else project["optional-dependencies"][group])
    print("\n".join(dict.fromkeys(lowest(reqs))))


if __name__ == "__main__":
    main(sys.argv[1:] or ["runtime"])
