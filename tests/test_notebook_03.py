"""notebooks/03_single_leader.ipynb runs headless at a small size."""

from pathlib import Path

import nbformat
import pytest

from tests.conftest import NotebookRuns, cell_text
from tests.test_notebook_figures import cells_missing_images

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_single_leader.ipynb"

pytestmark = pytest.mark.timeout(600)


def test_notebook_is_committed_clean_with_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert "DURATION_MS" in code[0].source
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


def _markdown(nb) -> str:
    """The Markdown the cells rendered from their results."""
    return "\n".join(out["data"]["text/markdown"] for c in nb.cells
                     for out in c.get("outputs", []) if "text/markdown" in out.get("data", {}))


def test_notebook_runs_small(notebook_runs: NotebookRuns):
    nb = notebook_runs(NOTEBOOK.name)  # its metadata.replab.small sizes
    text = cell_text(nb)
    assert "last result: sync 0" in text
    assert "acknowledged writes lost" in text  # the metrics, as a table in words
    assert "writes acknowledged by a deposed leader" in text  # split brain, as a table
    rendered = _markdown(nb)
    # at the small size the crash comes before the leader has anything unshipped
    assert "No acknowledged write was lost in this run." in rendered
    assert "Semi-synchronous and synchronous: none lost" in rendered
    assert "Unnecessary failovers per run (mean of 1)" in rendered
    assert "None" not in rendered and "nan" not in rendered
    assert not cells_missing_images(nb)
