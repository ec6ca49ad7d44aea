"""Multi-leader: command line, plots, explorer widget and notebook 06."""

import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import nbformat
import pytest

from replab import plots
from replab.cli import main
from replab.cli._common import _jsonable
from replab.history import History
from replab.models import MultiLeaderConfig, simulate_multi_leader, strategy_outcomes
from replab.models.multi_leader import topology_graph
from replab.widgets.multi_leader import MultiLeaderExplorer
from tests.conftest import NotebookRuns, cell_text

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "06_multi_leader.ipynb"
SMALL = dict(duration_ms=400.0, settle_ms=1200.0, wan_delay="uniform:10,60")


# ------------------------------------------------------------------------------- CLI
def test_cli_json_metrics_and_history(tmp_path, capsys):
    path = tmp_path / "h.jsonl"
    rc = main(["simulate", "multi-leader", "--set", "topology=circular", "--set",
               "resolution=lww", "--set", "datacenters=4", "--set", "fail_node=dc1",
               "--set", "duration_ms=400", "--set", "fail_at_ms=100", "--seed", "3",
               "--history", str(path), "--format", "json"])
    assert rc == 0
    m = json.loads(capsys.readouterr().out)
    for key in ("converged", "divergent_keys", "conflicts", "lost_writes",
                "writes_not_propagated", "undelivered_writes", "overtaking_anomalies",
                "causality_violations", "write_p50_ms", "write_p99_ms", "messages"):
        assert key in m
    assert m["topology"] == "circular" and m["converged"] is False
    assert m["writes_not_propagated"] > 0
    h = History.read_jsonl(path).without_final_reads()
    assert len(h) == 2 * (m["writes"] + m["reads"])


def test_cli_table_is_deterministic(capsys):
    args = ["simulate", "multi-leader", "--set", "duration_ms=300", "--set",
            "resolution=siblings", "--seed", "5"]
    main(args)
    first = capsys.readouterr().out
    main(args)
    assert capsys.readouterr().out == first
    assert first.splitlines()[0].split() == ["topology", "all-to-all"]


@pytest.mark.parametrize(("args", "needle"), [
    (["--set", "topology=ring"], "The 'topology' parameter of MultiLeaderConfig must be one of"),
    (["--set", "resolution=newest"], "The 'resolution' parameter of MultiLeaderConfig"),
    (["--set", "fail_node=dc9"], "The 'fail_node' parameter of MultiLeaderConfig must be one"),
    (["--set", "datacenters=many"], "The 'datacenters' parameter of MultiLeaderConfig must be"),
    (["--set", "wan_delay=fast"], "The 'wan_delay' parameter of MultiLeaderConfig"),
    (["--set", "nonsense=1"], "Unknown setting 'nonsense' for MultiLeaderConfig"),
])
def test_cli_bad_input_is_one_line_exit_2(args, needle, capsys):
    assert main(["simulate", "multi-leader", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_cli_subprocess():
    env = {"PYTHONPATH": str(ROOT), "PATH": ""}
    ok = subprocess.run([sys.executable, "-m", "replab.cli", "simulate", "multi-leader",
                         "--set", "duration_ms=200", "--set", "routing=home", "--seed", "1",
                         "--format", "json"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["conflicts"] == 0
    here = simulate_multi_leader(MultiLeaderConfig(duration_ms=200.0, routing="home"), seed=1)
    assert json.loads(ok.stdout) == _jsonable(here.metrics)  # same seed, another process
    bad = subprocess.run([sys.executable, "-m", "replab.cli", "simulate", "multi-leader",
                          "--set", "followers_per_dc=-1"], capture_output=True, text=True,
                         env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "replab simulate: error: The 'followers_per_dc' parameter of MultiLeaderConfig must "
        "be an int in [0, 16]. Got -1 instead."]


# ----------------------------------------------------------------------------- plots
def test_plots_draw_the_frames():
    res = simulate_multi_leader(MultiLeaderConfig(topology="circular", datacenters=4,
                                                  fail_node="dc1", fail_at_ms=100.0,
                                                  reconfigure_after_ms=100.0, **SMALL), seed=1)
    ax = plots.plot_topology_flow(res.topology, base=topology_graph("circular", 4),
                                  failed=["dc1"])
    assert len(ax.collections) >= 1 and ax.get_title() == "(black ring: failed)"
    ax = plots.plot_propagation_delays(res.propagation)
    remote = res.propagation[res.propagation.node != res.propagation.origin]
    dots = sum(len(c.get_offsets()) for c in ax.collections)
    assert dots == len(remote) + int(remote.applied_at.isna().sum())
    ax = plots.plot_node_staleness(res.staleness, value="oldest_missing_ms")
    assert len(ax.get_lines()) == 4
    df = strategy_outcomes(MultiLeaderConfig(**SMALL), ["lww", "merge"], repeats=2, seed=1)
    ax = plots.plot_conflict_outcomes(df)
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx(list(df.conflicts) + list(df.lost_writes))


# ------------------------------------------------------------------------- explorer
def test_explorer_headless(capsys):
    e = MultiLeaderExplorer(MultiLeaderConfig(datacenters=4, **SMALL), seed=2)
    e.update()
    assert e.result is not None and e.result.metrics["topology"] == "circular"
    stuck = e.result.metrics["writes_not_propagated"]
    assert stuck > 0 and "not propagated" in e.summary.value
    e.repair.value = "reconfigure"  # observing the control recomputes
    assert e.result.metrics["reconfigurations"] >= 1
    assert e.result.metrics["writes_not_propagated"] < stuck
    e.fail_node.value = "none"
    assert e.result.metrics["converged"] and e.result.metrics["reconfigurations"] == 0
    last = e.result
    e.wan_delay.options = (*e.wan_delay.options, "not a spec")
    e.wan_delay.value = "not a spec"  # the error is shown, the dashboard stays usable
    assert e.result is last
    shown = "".join(o["text"] for o in e.errors.outputs)
    assert "The 'wan_delay' parameter" in shown and "failed" in e.status.value


def test_explorer_shows_a_setting_drawn_before_without_drawing_it_again():
    e = MultiLeaderExplorer(MultiLeaderConfig(datacenters=4, **SMALL), seed=3)
    e.update()
    first, first_summary = e.image.value, e.summary.value
    e.repair.value = "reconfigure"
    assert e.image.value != first and e.summary.value != first_summary
    painted = e.frames
    e.repair.value = "none"  # back: the picture of this setting, not of the last one
    assert e.frames == painted
    assert e.image.value == first and e.summary.value == first_summary


def test_pictures_painted_ahead_are_those_painted_on_demand(monkeypatch):
    from replab.widgets import multi_leader

    monkeypatch.setenv("REPLAB_PREFETCH", "on")
    base = MultiLeaderConfig(datacenters=4, **SMALL)
    e = MultiLeaderExplorer(base, seed=4)
    e.update()
    for key in [(*k, e.dpi) for k in e._nearby()]:  # wait for the guesses (a thread here)
        e_future = multi_leader._FRAMES._futures.get(key)
        if e_future is not None:
            e_future.result(timeout=120)
    painted = e.frames
    e.topology.value = "star"  # one step: painted ahead
    assert e.frames == painted and e.result.metrics["topology"] == "star"
    ahead = e.image.value
    multi_leader._FRAMES._futures.clear()  # the same setting painted on demand
    e.update()
    assert e.frames == painted + 1 and e.image.value == ahead


# ------------------------------------------------------------------------- notebook
def test_notebook_committed_clean_with_parameters_first():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    small = nb.metadata["replab"]["small"]
    assert set(small) <= {line.split("=")[0].strip() for line in code[0].source.splitlines()
                          if "=" in line}


@pytest.mark.timeout(600)
def test_notebook_runs_small(notebook_runs: NotebookRuns):
    nb = notebook_runs(NOTEBOOK.name)  # its metadata.replab.small sizes
    text = cell_text(nb)
    assert "circular, never reconfigured:" in text and "after None ms" not in text
    assert "all-to-all, never reconfigured: " in text
    assert "longest a leader lacked a write" in text
    # the failed-leader figure draws the table's runs (issue 21: 72 against 50 before)
    drawn = re.findall(r"(\d+) writes not propagated \(table: (\d+)\)", text)
    assert len(drawn) == 3 and all(a == b for a, b in drawn)
    assert "sync detection: lost writes <= conflicts reported before the ack in every " \
        "situation: True" in text
    assert re.search(r"siblings: accepted_writes \d+, conflicts \d+, lost_writes 0,", text)
    assert "causal=True: 0 updates dropped (row missing), 0 causality violations" in text
    assert "arrival-order converged in" in text
    assert "last result: star reconfigurations" in text
    assert "siblings: " in text and "converged True" in text
    assert "crdt: converged True" in text and "ot: converged True" in text
    assert "three-way: {'city': 'London', 'name': 'Ada L.'}" in text
