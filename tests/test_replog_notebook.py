"""notebooks/07_replication_logs.ipynb runs headless, small; the explorer works headless."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import nbformat
import pytest

from tests.conftest import run_notebook

matplotlib.use("Agg")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_replication_logs.ipynb"


def test_notebook_is_committed_with_outputs_cleared_and_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.timeout(600)
def test_notebook_runs_small():
    nb = run_notebook(NOTEBOOK.name, {"TRANSACTIONS": 30, "FOLLOWERS": 1})
    text = "\n".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "apply errors; follower1 cannot apply the physical log" in text
    assert "dataframe follower divergent rows: 0" in text
    assert "'snapshot_divergent_rows': 0" in text
    assert "trigger-based vs logical" in text


def test_explorer_headless():
    from replab.widgets.replog import ReplogExplorer

    e = ReplogExplorer(transactions=15, seed=2)
    e.update()
    assert e.result is not None and e.result.metrics["kind"] == "statement"
    e.kind.value = "logical"  # observing the control recomputes
    assert e.result.metrics["kind"] == "logical"
    assert e.result.metrics["divergent_rows"] == 0
    comparison = e.view.comparison
    assert list(comparison["kind"]) == ["statement", "statement-fixed", "physical",
                                        "logical", "trigger"]
    heights = [p.get_height() for p in e.axes["bytes_per_write"].patches]
    assert heights == pytest.approx(list(comparison["bytes_per_write"]))
    assert "divergent rows" in e.summary.value
    e.followers.value = 99  # clipped by the slider, never an exception
    assert e.followers.value == 5
