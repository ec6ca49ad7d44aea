"""Shared test helpers: headless matplotlib and running notebooks small."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def run_notebook(name: str, overrides: dict[str, Any], timeout: int = 600) -> Any:
    """Execute ``notebooks/<name>`` headless with parameter overrides; return the notebook.

    The overrides are injected as a cell right after the cell tagged ``parameters``
    (papermill's convention), so the notebook itself stays unchanged.
    """
    import nbformat

    from replab.notebooks import notebook_client

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    idx = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    lines = [f"{k} = {v!r}" for k, v in overrides.items()]
    nb.cells.insert(idx + 1, nbformat.v4.new_code_cell("\n".join(lines)))
    env_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        notebook_client(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        if env_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = env_backend
    return nb


def cell_text(nb: Any) -> str:
    """All stream and text/plain output of an executed notebook, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            elif "data" in out and "text/plain" in out["data"]:
                parts.append(out["data"]["text/plain"])
    return "\n".join(parts)
