"""notebooks/05_leaderless.ipynb runs headless at its small sizes and is committed clean."""

import os
from pathlib import Path

import matplotlib
import nbformat

from replab.notebooks import notebook_client

matplotlib.use("Agg")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "05_leaderless.ipynb"


def run_small(nb):
    """Insert the small parameters after the ``parameters`` cell and execute."""
    idx = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    small = nb.metadata["replab"]["small"]
    nb.cells.insert(idx + 1, nbformat.v4.new_code_cell(
        "\n".join(f"{k} = {v!r}" for k, v in small.items())))
    saved = {k: os.environ.get(k) for k in ("MPLBACKEND", "PYTHONPATH")}
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # The kernel runs in notebooks/: make this checkout's replab win over any install.
    root = str(NOTEBOOK.parents[1])
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, saved["PYTHONPATH"]]))
    try:
        notebook_client(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def outputs(nb):
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text.append(out.get("text", ""))
            elif "data" in out and "text/plain" in out["data"]:
                text.append(out["data"]["text/plain"])
    return "\n".join(text)


def test_committed_clean_with_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert set(nb.metadata["replab"]["small"]) <= set(code[0].source.replace(" ", "")
                                                     .replace("=", "\n").split())


def test_runs_headless_small():
    nb = run_small(nbformat.read(NOTEBOOK, as_version=4))
    text = outputs(nb)
    assert "stale replicas without anti-entropy" in text
    assert "lost writes with siblings: 0" in text
    assert "sloppy quorum stale read" in text
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 7
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
