"""The single-leader and lag-anomaly figures draw what the runs hold."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from replab import plots  # noqa: E402
from replab.models import (  # noqa: E402
    SingleLeaderConfig,
    durability_tradeoff,
    simulate_single_leader,
)
from replab.models.single_leader import DURABILITY_COLUMNS  # noqa: E402
from tests.figures import clipped  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def crash():
    return simulate_single_leader(SingleLeaderConfig(
        duration_ms=1200.0, write_rate=400.0, lag="uniform:5,60", leader_crash_at_ms=600.0,
        leader_restart_after_ms=300.0), seed=1)


@pytest.fixture(scope="module")
def split():
    return simulate_single_leader(SingleLeaderConfig(
        duration_ms=600.0, write_rate=30.0, read_rate=10.0, partition_at_ms=150.0,
        partition_ms=300.0, failover_timeout_ms=120.0, fencing=False), seed=1)


def test_lag_marks_the_crash_the_failover_and_the_restart(crash):
    ax = plots.plot_lag(crash.lag, faults=crash.events)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    new = crash.events[(crash.events.kind == "leader") & (crash.events.time > 0)].node.iloc[0]
    assert set(labels[:4]) == {"node 0 down", "crash 0", f"failover: node {new} leads",
                               "restart 0"}
    # no line while a node leads or is down
    for line, (_, sub) in zip(ax.get_lines()[-3:], crash.lag.groupby("node"), strict=True):
        y = np.asarray(line.get_ydata(), dtype=float)
        hidden = ~(sub["up"].astype(bool) & (sub["leader"] != sub["node"])).to_numpy()
        assert np.isnan(y[hidden]).all() and not np.isnan(y[~hidden]).any()
    assert ax.get_ylim()[0] == 0 and not clipped(ax.figure)


def test_timeline_rings_exactly_the_lost_writes(crash):
    ax = plots.plot_history_timeline(crash.history, faults=crash.events, lost=crash.lost)
    ring = next(c for c in ax.collections if c.get_label().startswith("acknowledged, then"))
    assert ring.get_label() == f"acknowledged, then lost ({len(crash.lost)})"
    assert len(crash.lost) > 0 and len(ring.get_offsets()) == len(crash.lost)
    pairs = {op["index"]: op for op in crash.history}
    invoked = sorted(np.asarray(ring.get_offsets())[:, 0])
    # the ring sits at the invocation of each lost write (the op before its completion)
    acked = sorted(crash.lost["time"])
    assert all(t0 <= t1 for t0, t1 in zip(invoked, acked, strict=True))
    assert to_hex(ring.get_edgecolor()[0]) == plots.COLORS["lost"] and pairs


def test_leadership_lanes_show_who_led_and_what_was_lost(split):
    ax = plots.plot_leadership(split.events, split.history, split.lost)
    bars = [c for c in ax.collections if c.get_label() == "believes it leads"]
    assert len(bars) == 1  # one legend entry, however many spans
    spans = [p.get_paths()[0].get_extents() for c in ax.collections
             if type(c).__name__ == "PolyCollection" for p in [c]]
    assert len(spans) == 2  # node 0 (until demoted) and node 1 (from its promotion)
    overlap = min(s.x1 for s in spans) - max(s.x0 for s in spans)
    assert overlap > 0  # the split brain: both lead at once
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    n_lost, n_acked = len(split.lost), int(((split.history.df.type == "ok")
                                            & (split.history.df.f == "write")).sum())
    assert f"write acknowledged, then lost ({n_lost})" in texts
    assert f"write acknowledged, kept ({n_acked - n_lost})" in texts
    h = split.history.df
    acked0 = int(((h.type == "ok") & (h.f == "write") & (h.node == 0)).sum())
    assert [t.get_text() for t in ax.get_yticklabels()][0] == \
        f"node 0\n{acked0} acked, {n_lost} lost"  # every lost write was node 0's
    assert not clipped(ax.figure)


def test_durability_tradeoff_runs_every_mode_on_the_same_seeds():
    df = durability_tradeoff(SingleLeaderConfig(duration_ms=400.0, write_rate=200.0,
                                                lag="uniform:5,60"), repeats=2, seed=3)
    assert list(df.columns) == DURABILITY_COLUMNS
    assert list(df["mode"]) == ["async"] * 2 + ["semi-sync"] * 2 + ["sync"] * 2
    seeds = df.groupby("mode", sort=False).seed.apply(tuple)
    assert seeds.nunique() == 1 and len(set(seeds.iloc[0])) == 2
    again = durability_tradeoff(SingleLeaderConfig(duration_ms=400.0, write_rate=200.0,
                                                   lag="uniform:5,60"), repeats=2, seed=3)
    pd.testing.assert_frame_equal(df, again)
    ax = plots.plot_durability(df)
    for mode, container in zip(["async", "semi-sync", "sync"], ax.containers, strict=True):
        sub = df[df["mode"] == mode]
        x, y = container.lines[0].get_data()
        assert (x[0], y[0]) == pytest.approx((sub.write_p50_ms.mean(),
                                              sub.acked_writes_lost.mean()))
        assert to_hex(container.lines[0].get_color()) == plots.COLORS[mode]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == f"async: {df[df['mode'] == 'async'].write_availability.mean():.0%}" \
        " of writes acked"
    assert "min–max\nof 2 runs" in ax.get_legend().get_title().get_text()


def test_rate_intervals_and_coinciding_costs():
    df = pd.DataFrame({"case": ["a", "b"], "count": [0, 5], "examined": [100, 100],
                       "rate": [0.0, 0.05], "ci_low": [0.0, 0.02], "ci_high": [0.037, 0.11]})
    ax = plots.plot_rate_intervals(df)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a\n0 of 100", "b\n5 of 100"]
    assert list(ax.get_yticks()) == [1, 0]  # the first case on top
    assert "95 % Wilson interval" in ax.get_xlabel()
    sweep = pd.DataFrame({"anomaly": "consistent-prefix", "mitigation": ["none", "none", "co",
                                                                         "co"],
                          "lag_ms": [0.0, 50.0] * 2, "count": [0, 4, 0, 0],
                          "examined": [90] * 4, "rate": [0, 0.04, 0, 0],
                          "ci_low": [0, 0.01, 0, 0], "ci_high": [0.04, 0.1, 0.04, 0.04],
                          "read_p99_ms": [4.0, 4.5] * 2})
    axes = plots.plot_mitigation_panels(sweep, ["read_p99_ms"])
    legend = axes[-1].get_legend()
    assert legend.get_title().get_text() == "co: costs identical to none\n(the lines coincide)"
    assert [t.get_text() for t in legend.get_texts()] == ["none", "co (0 at every lag)"]
    sweep.loc[3, "read_p99_ms"] = 9.0
    axes = plots.plot_mitigation_panels(sweep, ["read_p99_ms"])
    assert axes[-1].get_legend().get_title().get_text() == ""


def test_common_seeds_give_every_grid_point_the_same_runs():
    from replab.models import sweep_single_leader

    base = SingleLeaderConfig(duration_ms=300.0, write_rate=100.0)
    crn = sweep_single_leader(base, {"failover_timeout_ms": [100.0, 400.0]}, repeats=2,
                              seed=4, common_seeds=True)
    own = sweep_single_leader(base, {"failover_timeout_ms": [100.0, 400.0]}, repeats=2,
                              seed=4)
    assert crn.groupby("failover_timeout_ms").seed.apply(tuple).nunique() == 1
    assert own.seed.nunique() == 4  # without: every run its own seed
    # nothing depends on the timeout in a run without failures: identical metrics
    a, b = (crn[crn.failover_timeout_ms == t].drop(columns="failover_timeout_ms")
            .reset_index(drop=True) for t in (100.0, 400.0))
    pd.testing.assert_frame_equal(a, b)


def test_lost_writes_say_when_the_lines_coincide():
    df = pd.DataFrame({"failover_timeout_ms": [100, 100, 200, 200] * 2,
                       "repeat": [0, 1] * 4, "lag": ["a"] * 4 + ["b"] * 4,
                       "acked_writes_lost": [3, 5, 1, 1] * 2})
    ax = plots.plot_lost_writes(df)
    title = ax.get_legend().get_title().get_text()
    assert title == "mean, bars: min–max\nof 2 runs\n(identical in every run:\nthe lines coincide)"
    assert ax.get_xlabel() == "failover timeout (ms)"
    assert ax.get_ylabel() == "acknowledged writes lost per run"
    df.loc[7, "acked_writes_lost"] = 2
    ax = plots.plot_lost_writes(df)
    assert ax.get_legend().get_title().get_text() == "mean, bars: min–max\nof 2 runs"
    xs = [c.lines[0].get_xdata()[0] for c in ax.containers]
    assert xs[0] < 100 < xs[1]  # nudged apart: neither hides the other's bars
