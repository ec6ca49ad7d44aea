"""notebooks/03_single_leader.ipynb runs headless at a small size."""

from pathlib import Path

import nbformat
import pytest

from tests.conftest import cell_text, run_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_single_leader.ipynb"

pytestmark = pytest.mark.timeout(600)


def test_notebook_is_committed_clean_with_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert "DURATION_MS" in code[0].source
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


def test_notebook_runs_small():
    nb = run_notebook(NOTEBOOK.name)
    text = cell_text(nb)
    assert "fencing=True: split-brain writes 0" in text
    assert "last result: sync 0" in text
    assert "acknowledged writes lost" in text  # the metrics, as a table in words
