"""The single-leader explorer: pure seeded compute, in-place redraw, errors shown."""

import re

import numpy as np
import pytest

from replab.errors import ConfigError
from replab.models import SingleLeaderConfig, simulate_single_leader
from replab.widgets import (
    SingleLeaderExplorer,
    SingleLeaderView,
    compute_single_leader_view,
)

DUR = 600.0


def test_compute_is_pure_seeded_and_matches_the_model():
    compute_single_leader_view.cache_clear()
    a = compute_single_leader_view("async", 2, "2+exp:0.2", 300.0, 300.0, duration_ms=DUR,
                                   write_rate=200.0, seed=3)
    compute_single_leader_view.cache_clear()
    b = compute_single_leader_view("async", 2, "2+exp:0.2", 300.0, 300.0, duration_ms=DUR,
                                   write_rate=200.0, seed=3)
    assert a is not b and isinstance(a, SingleLeaderView)
    assert a.lag.equals(b.lag) and a.metrics == b.metrics
    assert np.array_equal(a.write_latency_ms, b.write_latency_ms)
    # the oracle: the model run the view wraps
    ref = simulate_single_leader(SingleLeaderConfig(
        mode="async", followers=2, lag="2+exp:0.2", failover_timeout_ms=300.0,
        leader_crash_at_ms=300.0, duration_ms=DUR, write_rate=200.0), seed=3)
    assert a.metrics == ref.metrics and a.lag.equals(ref.lag)
    m = a.metrics
    assert a.lost_fraction == m["acked_writes_lost"] / max(m["writes_ok"], 1)
    assert a.unavailable_fraction == pytest.approx(1 - m["write_availability"])
    assert len(a.write_latency_ms) == m["writes_ok"] and len(a.lost) == m["acked_writes_lost"]
    c = compute_single_leader_view("async", 2, "2+exp:0.2", 300.0, 300.0, duration_ms=DUR,
                                   write_rate=200.0, seed=4)
    assert not c.lag.equals(a.lag)


def test_compute_rejects_bad_parameters_with_the_standard_message():
    with pytest.raises(ConfigError, match=re.escape("'mode' parameter of SingleLeaderConfig")):
        compute_single_leader_view("quorum", 2, "2+exp:0.2", 300.0, None, duration_ms=DUR)


def test_moving_controls_recomputes_and_redraws_in_place():
    e = SingleLeaderExplorer(duration_ms=DUR, seed=1)
    fig, image, lines, hist = e.fig, e.image, list(e.lag_lines), e.lat_hist
    assert e.result is not None and e.result.config.mode == "async"
    assert e.errors.outputs == () and e.last_update_ms > 0
    first_png, first_lat = image.value, hist.get_data().values.copy()
    e.mode.value = "sync"
    assert e.result.config.mode == "sync" and e.result.metrics["acked_writes_lost"] == 0
    assert e.fig is fig and e.image is image and e.lat_hist is hist and e.lag_lines == lines
    assert image.value != first_png
    assert not np.array_equal(hist.get_data().values, first_lat)
    assert hist.get_data().values.sum() == e.result.metrics["writes_ok"]
    e.followers.value = 4
    assert e.result.config.followers == 4
    lag = e.result.lag
    lagging = lag[lag["up"].astype(bool) & lag["time_behind_ms"].notna()].node.nunique()
    assert sum(ln.get_visible() for ln in e.lag_lines) == lagging  # not the node that led
    e.leader_crash_at_ms.value = DUR / 4
    assert e.result.config.leader_crash_at_ms == DUR / 4
    assert list(e.crash_marker.get_xdata()) == [DUR / 4]
    e.failover_timeout_ms.value = 100.0
    e.lag.value = "10+exp:0.05"
    assert (e.result.config.failover_timeout_ms, e.result.config.lag) == (100.0, "10+exp:0.05")
    heights = [b.get_height() for b in e.bad_bars]
    assert heights == [e.result.lost_fraction, e.result.unavailable_fraction]
    r = e.result
    segments = [[tuple(p) for p in seg] for seg in e.bad_err.get_segments()]
    assert segments == [[(0, r.lost_ci[0]), (0, r.lost_ci[1])],
                        [(1, r.unavailable_ci[0]), (1, r.unavailable_ci[1])]]
    assert r.lost_ci[0] <= r.lost_fraction <= r.lost_ci[1]
    assert r.unavailable_ci[0] <= r.unavailable_fraction <= r.unavailable_ci[1]
    ev = simulate_single_leader(r.config, seed=1).events
    promoted = ev[(ev.kind == "leader") & (ev.time > DUR / 4)].time
    assert e.failover_marker.get_visible() and \
        list(e.failover_marker.get_xdata()) == [promoted.iloc[0]]
    assert [t.get_text() for t in e.ax_lag.get_legend().get_texts()][-2:] == \
        ["leader crash", "failover"]


def test_errors_are_shown_not_raised_and_cleared_on_recovery():
    e = SingleLeaderExplorer(duration_ms=DUR, seed=1)
    good = e.result
    e.write_rate = -1.0  # a bad value reaching the compute call
    e.followers.value = 3
    assert len(e.errors.outputs) == 1
    text = e.errors.outputs[0]["text"]
    assert "ConfigError" in text and "'write_rate' parameter of SingleLeaderConfig" in text
    assert e.result is good  # the last good view is kept
    e.write_rate = 300.0
    e.mode.value = "sync"
    assert e.errors.outputs == ()
    assert e.result.config.followers == 3 and e.result.config.mode == "sync"
