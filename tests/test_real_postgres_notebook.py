"""notebooks/08_real_postgres.ipynb runs headless at its small size against real servers."""

import re
from pathlib import Path

import nbformat
import pytest

from tests.conftest import NOTEBOOKS, cell_text, run_notebook
from tests.test_notebook_figures import cells_missing_images

NAME = "08_real_postgres.ipynb"


def test_notebook_is_committed_clean_with_parameters_first():
    nb = nbformat.read(NOTEBOOKS / NAME, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    small = nb.metadata["replab"]["small"]
    assert set(small) <= {"STANDBYS", "DELAYS_MS", "ROUTINGS", "DURATION_S", "STALLS_S", "SEED"}
    for name in small:
        assert f"{name} =" in code[0].source
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


@pytest.mark.timeout(300)
def test_notebook_runs_small_and_stops_its_servers():
    out = run_notebook(NAME)
    assert cells_missing_images(out) == []
    text = cell_text(out)
    pids = [int(p) for p in re.findall(r"\(PID (\d+)\)", text)]
    assert len(pids) == 3  # primary + 2 standbys
    assert re.search(r"stale-read: intervals overlap for \d of 4 \(routing, delay\) pairs", text)
    assert "wait-lsn, apply delay 50 ms" in text
    assert "VBox" in text  # the explorer is displayed
    assert re.search(r"last run: async, delay 50 ms, reads to standby: \d+ operations", text)
    assert "stopped: True" in text
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]
