"""notebooks/09_real_mariadb.ipynb runs headless, small; the explorer runs headless."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest

from tests.conftest import cell_text, run_notebook
from tests.test_notebook_figures import cells_missing_images, figure_problems

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
    problems = figure_problems(out)  # issue 21: the figure lint on every figure
    assert not problems, "figure lint:\n" + "\n".join(problems)
    text = cell_text(out)
    assert "binlog_format=STATEMENT" in text and "UUID()" in text
    assert "unreplicated_before_heal" in text
    assert "from db" in text and ": 1062" in text  # the colliding AUTO_INCREMENT keys
    check_claims(text)


def check_claims(text: str) -> None:
    """The text's claims against the printed numbers: the patient semi-sync loses no
    acknowledged write on the crash; each p99 names how few writes it rests on; the ring's
    "converged" and "divergent_rows" are both explained with the metrics' own values."""
    semi = {name: tuple(float(x) for x in rest) for name, *rest in re.findall(
        r"^(async|semi-sync(?:, timeout \d+ ms)?): (\d+) of (\d+) acknowledged writes lost "
        r"\(([\d.]+) %, Wilson 95 % ([\d.]+)-([\d.]+) %\); latency p50 ([\d.]+) ms, "
        r"p99 ([\d.]+) ms \(the p99 rests on the slowest (\d+) writes?\); (\d+) unknown",
        text, flags=re.M)}
    assert set(semi) == {"async", "semi-sync", "semi-sync, timeout 100 ms"}
    assert semi["semi-sync"][0] == 0
    for lost, acked, pct, lo, hi, p50, p99, tail, _ in semi.values():
        assert lo <= pct <= hi and p50 <= p99
        assert tail == max(1, round(0.01 * acked))
        assert pct == pytest.approx(100 * lost / max(acked, 1), abs=0.05)
    ring = re.search(r"'divergent_rows': (\d+), 'converged': (True|False)\}", text)
    said = re.search(r"converged (True|False): every server applied every transaction .*"
                     r"divergent_rows (\d+) of (\d+): rows whose content differs", text)
    assert ring and said
    assert (said.group(1), said.group(2)) == (ring.group(2), ring.group(1))
    # the format's effect alone (both with offsets): statements keep both increments, row
    # images one; the offsets' effect alone (both row): no key clash with them
    assert len(re.findall(r"^statement, offsets +db\d +2 ", text, flags=re.M)) == 3
    assert len(re.findall(r"^row, offsets +db\d +1 ", text, flags=re.M)) == 3
    assert not re.search(r"^row, offsets +.*: 1062", text, flags=re.M)
    assert re.search(r"^row, no offsets +from db\d: 1062", text, flags=re.M)


@needs_mariadb
def test_explorer_headless():
    from replab.widgets.mariadb import MariaDBExplorer

    e = MariaDBExplorer(duration_s=0.3, seed=1)
    e.binlog.value, e.workload.value = "row", "nondeterministic"
    e.update()
    assert e.result is not None and e.result.metrics["divergent_rows"] == 0
    table = e.metrics_table()
    assert list(table.columns) == ["metric", "value"] and len(table) == 9
