"""Rules the library's code keeps so a reader can follow it: one concept per module (a line
budget), layers that do not know about models, and no object reaching into another's privates
along the training step."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400

# module -> why it may be longer than MAX_LINES (empty today: a module over budget is split)
LONG_MODULES = {}


def _modules():
    return sorted(p for p in (ROOT / "dlkit").rglob("*.py") if "__pycache__" not in p.parts)


def test_every_module_stays_within_the_line_budget():
    over = {str(p.relative_to(ROOT)): n for p in _modules()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    unexplained = {k: v for k, v in over.items() if k not in LONG_MODULES}
    assert not unexplained, (f"modules over {MAX_LINES} lines: {unexplained}; split them by "
                             "concept, or add each to LONG_MODULES with the reason")
    stale = set(LONG_MODULES) - set(over)
    assert not stale, f"LONG_MODULES lists modules that are within budget now: {stale}"


def test_layers_do_not_import_the_model():
    code = "import dlkit.layers, sys; print('dlkit.model' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_training_step_reads_no_other_objects_private_attributes():
    # obj._name where obj is not self (dunders such as type(x).__name__ are not private)
    other_private = re.compile(r"\b(?!self\b)[A-Za-z_]\w*\._[a-z]\w*")
    for name in ("model.py", "trainer.py", "losses.py", "functional.py"):
        for i, line in enumerate((ROOT / "dlkit" / name).read_text().splitlines(), 1):
            code = line.split("#")[0]
            assert not other_private.search(code), f"dlkit/{name}:{i}: {line.strip()}"


def test_no_layer_declares_its_threads():
    # which BLAS runs on how many threads follows from the kernels a model runs
    # (dlkit._threads), not from a flag each layer must remember to set
    for p in (ROOT / "dlkit" / "layers").glob("*.py"):
        assert "parallel_kernels" not in p.read_text(), p.name
