"""The pictures of notebooks 05, 06 and 07 (issue 21): what each draws, from small frames.

Frames are built by hand where the numbers matter (an oracle for what is drawn) and by
the models at small sizes where only the shape matters.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

from replab.plots import (
    COLORS,
    PALETTE,
    leader_color,
    mark_events,
    plot_anti_entropy_cost,
    plot_apply_rate,
    plot_bytes_per_write,
    plot_cold_keys,
    plot_conflict_outcomes,
    plot_convergence,
    plot_divergence_by_workload,
    plot_leaderless_availability,
    plot_lww_loss,
    plot_offline_windows,
    plot_propagation_delays,
    plot_repair_comparison,
    plot_snapshot_catchup,
    plot_topology_flow,
    plot_write_cost,
)
from tests.figures import clipped


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _texts(fig) -> str:
    parts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return "\n".join(parts)


def _avail() -> pd.DataFrame:
    rows = []
    for p in (0.0, 0.2):
        for sloppy in (False, True):
            row = {"p_fail": p, "sloppy": sloppy, "runs": 3}
            for col, v in (("write_availability", 0.9), ("read_availability", 0.8),
                           ("stale_read_rate", 0.01 if sloppy else 0.0)):
                row |= {col: v, f"{col}_min": v - 0.05 * p, f"{col}_max": v + 0.05 * p}
            rows.append(row)
    return pd.DataFrame(rows)


def test_availability_has_min_max_bars_labels_and_settings():
    closed = pd.DataFrame({"p_fail": [0.0, 0.2], "p_write_available": [1.0, 0.9],
                           "p_read_available": [1.0, 0.9]})
    axes = plot_leaderless_availability(_avail(), closed_form=closed)
    fig = axes[0].figure
    assert all(ax.get_ylabel() for ax in axes)
    bars = axes[0].containers[0]  # strict, the first group
    (_, low), (_, high) = bars.lines[2][0].get_segments()[1]  # the p_fail=0.2 whisker
    assert (low, high) == pytest.approx((0.9 - 0.01, 0.9 + 0.01))
    text = _texts(fig)
    assert "n=3, r=w=2" in text and "min–max of 3 runs" in text
    assert "binomial closed form" in text and not clipped(fig)


def test_lww_loss_one_colour_per_client_count_and_plain_skew_ticks():
    df = pd.DataFrame({"clock_skew_ms": [0.0, 0.0, 20.0, 20.0], "sessions": [1, 8, 1, 8],
                       "runs": 2})
    for col in ("discarded", "by_skew"):
        df[col] = [0.0, 0.1, 0.2, 0.3]
        df[f"{col}_min"], df[f"{col}_max"] = df[col] - 0.01, df[col] + 0.01
    ax = plot_lww_loss(df)
    colors = {c.lines[0].get_color() for c in ax.containers}
    assert colors == {PALETTE[0], PALETTE[1]}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "20"]
    assert "min–max of 2 runs" in _texts(ax.figure)


def test_anti_entropy_panels_say_when_bars_are_too_short_to_see():
    df = pd.DataFrame({"anti_entropy_interval_ms": [25.0, 400.0], "runs": 3,
                       "convergence_ms": [80.0, 480.0], "convergence_ms_min": [79.0, 479.0],
                       "convergence_ms_max": [81.0, 481.0],
                       "anti_entropy_bytes": [16000.0, 4000.0],
                       "anti_entropy_bytes_min": [10000.0, 3000.0],
                       "anti_entropy_bytes_max": [20000.0, 5000.0]})
    conv, cost = plot_convergence(df), plot_anti_entropy_cost(df)
    assert "narrower than the markers" in _texts(conv.figure)
    assert "narrower" not in _texts(cost.figure)
    assert cost.get_ylabel() == "bytes sent by anti-entropy (kB)"
    assert cost.containers[0].lines[0].get_ydata().tolist() == [16.0, 4.0]


def test_repair_comparison_names_coinciding_lines_and_shades_the_outage():
    t = [0.0, 100.0, 200.0]
    timeline = pd.DataFrame([
        {"strategy": s, "run": r, "time": x, "stale_pairs": y}
        for s, ys in (("read repair only", [5, 4, 3]),
                      ("anti-entropy only (every 100 ms)", [5, 0, 0]), ("both", [5, 0, 0]))
        for r in (0, 1) for x, y in zip(t, ys, strict=True)])
    totals = pd.DataFrame([{"strategy": s, "run": r, "repair_bytes": b}
                           for s, b in (("read repair only", 300),
                                        ("anti-entropy only (every 100 ms)", 6000),
                                        ("both", 6000)) for r in (0, 1)])
    ax, bx = plot_repair_comparison(timeline, totals, restart_ms=50.0)
    labels = ax.get_legend_handles_labels()[1]
    assert "both (same as anti-entropy only (every 100 ms))" in labels
    assert "node 0 down" in labels
    assert [p.get_width() for p in bx.patches] == pytest.approx([0.3, 6.0, 6.0])


def test_cold_keys_mark_stale_keys_that_have_no_reads():
    cold = pd.DataFrame({"key": ["k0", "k1", "k2"], "reads": [5, 1, 0],
                         "stale_replicas": [0, 0, 2]})
    warm = cold.assign(stale_replicas=0)
    ax, bx = plot_cold_keys(cold, warm)
    marker = ax.lines[0]
    assert marker.get_xdata().tolist() == [2] and marker.get_color() == COLORS["stale"]
    assert [p.get_height() for p in bx.patches[:3]] == [0, 0, 2]
    assert "still stale" in _texts(ax.figure)


def test_leaders_keep_their_colour_in_every_panel():
    assert leader_color("dc0") == PALETTE[0] and leader_color("dc1") == PALETTE[1]
    assert leader_color("phone") == leader_color("phone")  # stable, not hash()
    fig, (a, b) = plt.subplots(1, 2)
    graph = nx.DiGraph([("dc0", "dc1"), ("dc1", "dc0")])
    plot_topology_flow(graph, a, failed=["dc0"])
    faces = a.collections[0].get_facecolors()
    assert np.allclose(faces[1][:3], matplotlib.colors.to_rgb(PALETTE[1]))
    assert "black ring" in a.get_title()
    prop = pd.DataFrame({"node": ["dc1", "dc1", "dc0"], "origin": ["dc0", "dc0", "dc1"],
                         "accepted_at": [1.0, 2.0, 3.0], "delay_ms": [10.0, np.nan, 20.0],
                         "applied_at": [11.0, np.nan, 23.0]})
    plot_propagation_delays(prop, b)
    assert "1 never applied" in b.get_title()
    assert b.get_ylim()[1] < 25  # the never-applied tick is not on the delay scale
    never = [c for c in b.collections if isinstance(c, PathCollection)][-1]
    assert never.get_transform() != b.transData


def test_mark_events_draws_crash_reconfiguration_and_down_window():
    ax = plt.subplots()[1]
    mark_events(ax, [(100.0, "crash"), (300.0, "reconfiguration")],
                down=[(100.0, 500.0, "dc0 down")])
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["dc0 down", "crash", "reconfiguration"]
    assert [ln.get_xdata()[0] for ln in ax.lines] == [100.0, 300.0]


def test_conflict_outcomes_put_convergence_under_each_strategy():
    df = pd.DataFrame({"resolution": ["lww", "arrival-order"], "runs": 5,
                       "converged": [1.0, 0.2], "ci_low": [0.57, 0.04], "ci_high": [1.0, 0.62],
                       "conflicts": [130.0, 130.0], "lost_writes": [80.0, 2.0],
                       "conflicts_min": [120.0, 120.0], "conflicts_max": [140.0, 140.0],
                       "lost_writes_min": [70.0, 1.0], "lost_writes_max": [90.0, 3.0]})
    ax = plot_conflict_outcomes(df)
    ticks = ax.get_xticklabels()
    assert ticks[1].get_text() == "arrival-order\nconverged 20%\n[4%, 62%]"
    assert ticks[1].get_color() == COLORS["lost"] and len(ax.texts) == 0
    assert "min–max of 5 runs" in _texts(ax.figure) and not clipped(ax.figure)


def test_write_cost_and_offline_windows():
    runs = pd.DataFrame({"scenario": ["a", "a", "b", "b"], "situation": ["x", "x", "x", "x"],
                         "write_p99_ms": [1.0, 3.0, 80.0, 80.0],
                         "write_availability": [1.0, 1.0, 0.5, 0.7]})
    lat, avail = plot_write_cost(runs)
    assert lat.get_yscale() == "log" and not lat.patches  # dots, no bars on a log axis
    assert lat.containers[0].lines[0].get_ydata().tolist() == [2.0, 80.0]
    assert "min–max\nof 2 runs" in _texts(lat.figure)
    windows = pd.DataFrame({"device": ["dc1", "dc0"], "from_ms": [3.6e6, 0.0],
                            "until_ms": [7.2e6, 3.6e6]})
    ax = plot_offline_windows(windows, time_unit=3.6e6)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["dc0", "dc1"]
    assert ax.collections[1].get_paths()[0].get_extents().x0 == pytest.approx(1.0)


def _kinds() -> pd.DataFrame:
    return pd.DataFrame({"kind": ["statement", "physical"], "bytes_per_write": [100.0, 4000.0],
                         "apply_rate": [5321.0, 6987.0], "apply_rate_min": [5000.0, 6000.0],
                         "apply_rate_max": [6000.0, 8000.0], "apply_runs": [3, 3]})


def test_replog_log_volume_is_dots_and_apply_rate_two_figures():
    ax = plot_bytes_per_write(_kinds())
    assert ax.get_yscale() == "log" and not ax.patches
    assert ax.collections[0].get_offsets()[:, 1].tolist() == [100.0, 4000.0]
    rate = plot_apply_rate(_kinds())
    assert [t.get_text() for t in rate.texts] == ["5,300", "7,000"]
    assert rate.get_title() == "apply rate (min–max of 3 runs)"


def test_divergence_by_workload_labels_zero_bars():
    grid = pd.DataFrame({"workload": ["a", "a", "b", "b"],
                         "kind": ["statement", "logical"] * 2,
                         "divergent_fraction": [0.5, 0.0, 0.0, 0.0],
                         "ci_low": [0.4, 0.0, 0.0, 0.0], "ci_high": [0.6, 0.1, 0.1, 0.1]})
    ax = plot_divergence_by_workload(grid)
    assert sorted(t.get_text() for t in ax.texts) == ["", "0", "0", "0"]
    assert [p.get_height() for p in ax.patches] == [0.5, 0.0, 0.0, 0.0]


def test_snapshot_catchup_draws_the_backlog_jump():
    from replab.replog import ReplogConfig, simulate_replog

    snap = simulate_replog(ReplogConfig(kind="logical", transactions=20, followers=1,
                                        join_at=0.5), seed=7)
    ax = plot_snapshot_catchup(snap)
    m = snap.metrics
    jump = ax.lines[1]
    assert jump.get_ydata().tolist() == [m["snapshot_lsn"],
                                         m["snapshot_lsn"] + m["snapshot_commits_during"]]
    assert ax.get_xlim()[0] < 1000  # times since the first commit, not an epoch
    assert f"backlog of {m['snapshot_backlog']} records" in _texts(ax.figure)


def test_edit_session_draws_every_edit_in_its_site_lane():
    from replab.models.collab import edit_session
    from replab.plots import plot_edit_session

    r = edit_session(2, 4, method="lock", seed=1, latency="exp:0.02")
    ax = plot_edit_session(r)
    drawn = sum(len(ln.get_xdata()) for ln in ax.lines if ln.get_linestyle() == "None")
    assert drawn == len(r.log)  # every insert and delete, once
    waits = ax.collections[0].get_segments()
    assert [s[1][0] - s[0][0] for s in waits] == pytest.approx(list(r.log.wait_ms))
    assert ax.lines[-1].get_xdata()[0] == r.metrics["end_ms"]
    assert "lock: final text" in ax.get_title() and not clipped(ax.figure)


def test_multi_leader_explorer_marks_the_crash_and_the_repair():
    from replab.models import MultiLeaderConfig, simulate_multi_leader
    from replab.plots import fault_marks
    from replab.widgets.multi_leader import MultiLeaderExplorer

    base = MultiLeaderConfig(datacenters=3, duration_ms=400.0)
    run = simulate_multi_leader(base.__class__(datacenters=3, duration_ms=400.0,
                                               topology="circular", fail_node="dc0",
                                               reconfigure_after_ms=100.0), seed=1)
    assert fault_marks(run.events) == [(100.0, "crash"), (200.0, "reconfiguration")]
    e = MultiLeaderExplorer(base, seed=1, prefetch=False)
    e.repair.value = "reconfigure"
    e.update()
    labels = e.axes["staleness"].get_legend_handles_labels()[1]
    assert "crash" in labels and "reconfiguration" in labels
    colors = {ln.get_label(): ln.get_color() for ln in e.axes["staleness"].lines}
    assert colors["dc1"] == leader_color("dc1") == PALETTE[1]
