"""notebooks/04_replication_lag.ipynb runs headless at its small size."""


import nbformat
import pytest

from tests.conftest import NOTEBOOKS, NotebookRuns, cell_text
from tests.test_notebook_figures import cells_missing_images

NAME = "04_replication_lag.ipynb"
pytestmark = pytest.mark.timeout(600)


def test_notebook_is_committed_clean_with_parameters_first():
    nb = nbformat.read(NOTEBOOKS / NAME, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    small = nb.metadata["replab"]["small"]
    assert set(small) <= {"DURATION_MS", "LAGS", "WINDOW_MS", "SEED"}
    for name in small:
        assert f"{name} =" in code[0].source
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


def test_notebook_runs_small(notebook_runs: NotebookRuns):
    out = notebook_runs(NAME)  # its metadata.replab.small sizes
    text = cell_text(out)
    assert "read-your-writes" in text and "position-redirect" in text
    assert "(c) stale monitor (300 ms): read-your-writes" in text
    assert "breaks consistent prefix" in text  # the answer-before-question example
    assert "last result: co-partition" in text
    assert "misses its own" in text  # the read-your-writes example drawn as a diagram
    assert "sticky-user with a follower crash: monotonic-reads violations" in text
    assert "(95 % CI" in text  # the leak counts carry their intervals
    assert not cells_missing_images(out)
