"""notebooks/09_real_mariadb.ipynb runs headless, small; the explorer runs headless."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from tests.conftest import cell_text, run_notebook
from tests.test_notebook_figures import cells_missing_images

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "09_real_mariadb.ipynb"
needs_mariadb = pytest.mark.skipif(
    shutil.which("mariadbd", path="/usr/sbin:/usr/bin") is None,
    reason="MariaDB is not installed (tasks.py installs mariadb-server as root)")


def test_notebook_is_committed_with_outputs_cleared_and_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.metadata["replab"]["small"] == {"DURATION_S": 0.5, "SERVERS": 2}


@needs_mariadb
@pytest.mark.timeout(300)
def test_notebook_runs_small():
    out = run_notebook(NOTEBOOK.name)
    assert cells_missing_images(out) == []
    text = cell_text(out)
    assert "binlog_format=STATEMENT" in text and "UUID()" in text
    assert "unreplicated_before_heal" in text
    assert "from db" in text and ": 1062" in text  # the colliding AUTO_INCREMENT keys


@needs_mariadb
def test_explorer_headless():
    from replab.widgets.mariadb import MariaDBExplorer

    e = MariaDBExplorer(duration_s=0.3, seed=1)
    e.binlog.value, e.workload.value = "row", "nondeterministic"
    e.update()
    assert e.result is not None and e.result.metrics["divergent_rows"] == 0
    table = e.metrics_table()
    assert list(table.columns) == ["metric", "value"] and len(table) == 9
