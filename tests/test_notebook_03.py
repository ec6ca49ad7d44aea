"""notebooks/03_single_leader.ipynb runs headless at a small size."""

import os
from pathlib import Path

import nbformat
import pytest

from replab.notebooks import notebook_client

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_single_leader.ipynb"

pytestmark = pytest.mark.timeout(600)


def _outputs(nb):
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out and "text/plain" in out["data"]:
                parts.append(out["data"]["text/plain"])
    return "\n".join(parts)


def test_notebook_is_committed_clean_with_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert "DURATION_MS" in code[0].source
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


def test_notebook_runs_small():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    idx = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    small = ("DURATION_MS = 800.0\nTIMELINE_MS = 300.0\nTIMEOUTS = [100.0, 400.0]\n"
             "LAGS = ['2+exp:0.2']\nREPEATS = 1\n")
    nb.cells.insert(idx + 1, nbformat.v4.new_code_cell(small))
    old = os.environ.get("MPLBACKEND")
    old_path = os.environ.get("PYTHONPATH")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # The kernel must import this checkout's replab (not another installed copy).
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(NOTEBOOK.parents[1]), old_path) if p)
    try:
        notebook_client(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        for name, value in (("MPLBACKEND", old), ("PYTHONPATH", old_path)):
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    text = _outputs(nb)
    assert "fencing=True: split-brain writes 0" in text
    assert "last result: sync 0" in text
    assert "acked_writes_lost" in text
