"""notebooks/07_replication_logs.ipynb runs headless, small; the explorer works headless."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_replication_logs.ipynb"


def test_notebook_is_committed_with_outputs_cleared_and_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.timeout(600)
def test_notebook_runs_small():
    from replab.notebooks import notebook_client

    nb = nbformat.read(NOTEBOOK, as_version=4)
    idx = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(idx + 1, nbformat.v4.new_code_cell("TRANSACTIONS = 30\nFOLLOWERS = 1"))
    env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline",
           "PYTHONPATH": str(NOTEBOOK.parents[1])}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        notebook_client(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
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
