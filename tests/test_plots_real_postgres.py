"""replab.plots.real_postgres without servers: the linearizability split of notebook 08,
the fault windows of its timelines, and what its figures say (legends, titles, colours)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from replab.history import History
from replab.plots import COLORS, lint_figure
from replab.plots.real_postgres import (
    MODE_COLORS,
    ROUTING_COLORS,
    pg_fault_windows,
    plot_failover_cost,
    plot_failover_loss,
    plot_linearizability_by_server,
    plot_pg_lag,
)
from replab.real.postgres.linearizability import (
    LINEARIZABILITY_COLUMNS,
    linearizability_by_server,
    reads_served_by,
)
from replab.stats import wilson


def _history() -> History:
    """x := 1 completes on the primary; then the primary reads 1 and standby1 reads the
    initial null (a stale read: not linearizable); y is read only on the primary."""
    h = History()
    h.record(0.0, 0, "invoke", "write", "x", 1)
    h.record(1.0, 0, "ok", "write", "x", 1, version=1, node="primary")
    h.record(2.0, 1, "invoke", "read", "x", None)
    h.record(3.0, 2, "invoke", "read", "x", None)
    h.record(4.0, 1, "ok", "read", "x", 1, version=1, node="primary")
    h.record(5.0, 2, "ok", "read", "x", None, node="standby1")
    h.record(6.0, 1, "invoke", "read", "y", None)
    h.record(7.0, 1, "ok", "read", "y", None, node="primary")
    return h


def test_reads_served_by_keeps_writes_and_only_the_named_servers_reads_with_indices():
    h = _history()
    standby = reads_served_by(h, ["standby1"])
    assert [op["index"] for op in standby] == [0, 1, 3, 5]
    primary = reads_served_by(h, ["primary"])
    assert [op["index"] for op in primary] == [0, 1, 2, 4, 6, 7]
    assert len(reads_served_by(h, [])) == 2  # the write only


def test_linearizability_by_server_primary_reads_linearizable_standby_reads_not():
    table, results = linearizability_by_server(_history())
    assert list(table.columns) == list(LINEARIZABILITY_COLUMNS)
    rows = {r["reads from"]: r for r in table.to_dict("records")}
    p, s = rows["primary"], rows["standbys"]
    assert (p["servers"], p["reads"], p["linearizable"], p["not linearizable"]) == (
        "primary", 2, 2, 0)
    assert (s["servers"], s["reads"], s["linearizable"], s["not linearizable"]) == (
        "standby1", 1, 0, 1)
    lo, hi = wilson(1, 1)
    assert (s["share"], s["ci_low"], s["ci_high"]) == (1.0, pytest.approx(float(lo)),
                                                        pytest.approx(float(hi)))
    assert results["primary"].verdict == "linearizable"
    assert results["standbys"].keys["x"].verdict == "not linearizable"
    assert results["standbys"].keys["x"].blocked[0]["reason"] == \
        "read null (not found), but the register held 1"


def test_pg_fault_windows_stall_window_and_instants():
    faults = pd.DataFrame({"time_ms": [100.0, 600.0, 650.0], "f": ["stall", "kill", "promote"],
                           "value": ["", "", ""]})
    assert pg_fault_windows(faults) == [(100.0, 600.0, "replication stalled"),
                                        (600.0, None, "kill"), (650.0, None, "promote")]
    assert pg_fault_windows(None) == []


def _lag() -> pd.DataFrame:
    return pd.DataFrame({"time_ms": [0.0, 100.0, 0.0, 100.0],
                         "standby": ["primary", "primary", "standby1", "standby1"],
                         "replay_lag_ms": [1.0, 2.0, 1.5, 2.5]})


def test_lag_title_claims_shading_only_when_a_stall_is_shaded_and_names_the_old_primary():
    ax = plot_pg_lag(_lag())
    assert "shaded" not in ax.get_title() and "no fault" in ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["primary (a standby since a failover)", "standby1"]
    faults = pd.DataFrame({"time_ms": [20.0, 80.0], "f": ["stall", "resume"], "value": ["", ""]})
    ax2 = plot_pg_lag(_lag(), faults)
    assert "shaded: replication stalled" in ax2.get_title() and len(ax2.patches) == 1
    assert lint_figure(ax.figure) == [] and lint_figure(ax2.figure) == []
    plt.close("all")


def _loss() -> pd.DataFrame:
    lo, hi = wilson(3, 30)
    return pd.DataFrame({"mode": ["async", "semi-sync"], "stall_s": [0.5, 0.5],
                         "writes_ok": [30, 4], "lost_acknowledged": [3, 0],
                         "lost_in_data_acknowledged": [3, 0],
                         "writes_in_doubt": [0, 2], "lost_share": [0.1, 0.0],
                         "ci_low": [float(lo), 0.0], "ci_high": [float(hi), 0.49]})


def test_failover_figures_use_the_mode_colours_and_plot_the_cost():
    assert MODE_COLORS == {m: COLORS[m] for m in ("async", "semi-sync", "sync")}
    assert ROUTING_COLORS["primary"] == COLORS["leader"]
    assert ROUTING_COLORS["standby"] == COLORS["follower"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 3.6), layout="constrained")
    plot_failover_loss(_loss(), ax=a)
    plot_failover_cost(_loss(), ax=b)
    squares = {line.get_label(): list(line.get_ydata()) for line in a.get_lines()}
    assert squares["async: only in the old primary's data"] == [0.1]
    colors = {line.get_label(): line.get_color() for line in b.get_lines()}
    assert colors["semi-sync: acknowledged"] == COLORS["semi-sync"]
    ys = {line.get_label(): list(line.get_ydata()) for line in b.get_lines()}
    assert ys["semi-sync: acknowledged"] == [4] and ys["semi-sync: in doubt (info)"] == [2]
    assert lint_figure(fig) == []
    plt.close(fig)


def test_linearizability_bars_show_the_shares_and_counts():
    table, _ = linearizability_by_server(_history())
    ax = plot_linearizability_by_server(table)
    assert [p.get_height() for p in ax.patches] == [0.0, 1.0]
    assert [t.get_text() for t in ax.texts] == ["0 of 2 keys", "1 of 1 keys"]
    assert lint_figure(ax.figure) == []
    plt.close("all")
