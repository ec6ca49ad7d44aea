"""The claims of notebooks/04_replication_lag.ipynb's text hold for its results.

Each test calls the library functions the notebook calls, with the notebook's default
parameters (its first code cell), and checks one sentence of its prose.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from replab.models import (
    LagAnomalyConfig,
    PartitionedConfig,
    anomaly_sweep,
    simulate_lag_anomalies,
)
from tests.conftest import notebook_parameters


@pytest.fixture(scope="module")
def p() -> dict:
    """The notebook's default parameters (its first code cell)."""
    return notebook_parameters("04_replication_lag.ipynb")


def _ryw(p: dict, **change) -> dict:
    leaky = LagAnomalyConfig(duration_ms=p["DURATION_MS"], lag_ms=30.0, lag_dist="pareto",
                             window_ms=50.0)
    return simulate_lag_anomalies(replace(leaky, **change), seed=p["SEED"]).metrics


def test_where_the_cures_leak(p):
    window = _ryw(p, mitigation="recent-write-leader")
    fresh = _ryw(p, mitigation="lag-threshold", max_lag_ms=40.0)
    stale = _ryw(p, mitigation="lag-threshold", monitor_interval_ms=300.0)
    own = _ryw(p, mitigation="own-data-leader", own_writes=0.5)
    # (b) leaks, (c) with a fresh monitor closes it, a stale monitor leaks, (a) leaks
    assert window["read_your_writes_count"] > 0
    assert fresh["read_your_writes_count"] == 0
    assert stale["read_your_writes_count"] > 0 and own["read_your_writes_count"] > 0


def test_a_shared_position_fixes_cross_device_reads(p):
    xd = anomaly_sweep("cross-device-read-your-writes", ["position-wait"], [max(p["LAGS"])],
                       base=LagAnomalyConfig(duration_ms=p["DURATION_MS"],
                                             devices_per_user=2),
                       grid={"memory": ["device", "shared"]}, seed=p["SEED"])
    counts = xd.set_index("memory")["count"]
    assert counts["device"] > 0 and counts["shared"] == 0


def test_sticky_routing_removes_monotonic_violations_until_a_follower_crashes(p):
    mono = anomaly_sweep("monotonic-reads", lags=p["LAGS"],
                         base=LagAnomalyConfig(duration_ms=p["DURATION_MS"]), seed=p["SEED"])
    sticky = mono[mono.mitigation == "sticky-user"]
    none = mono[mono.mitigation == "none"]
    assert (sticky["count"] == 0).all() and none["count"].iloc[-1] > 0
    assert (mono.leader_read_share == 0).all()  # "neither routing sends reads to the leader"
    crash = simulate_lag_anomalies(LagAnomalyConfig(
        duration_ms=p["DURATION_MS"], lag_ms=50.0, mitigation="sticky-user",
        follower_crash_at_ms=p["DURATION_MS"] / 3), seed=p["SEED"]).metrics
    assert crash["monotonic_reads_count"] > 0


def test_co_partitioning_fixes_consistent_prefix_at_no_cost(p):
    cp = anomaly_sweep("consistent-prefix", lags=p["LAGS"],
                       base=PartitionedConfig(duration_ms=p["DURATION_MS"]), seed=p["SEED"])
    none = cp[cp.mitigation == "none"].reset_index(drop=True)
    co = cp[cp.mitigation == "co-partition"].reset_index(drop=True)
    assert (co["count"] == 0).all() and none["count"].iloc[-1] > 0
    costs = ["leader_read_share", "read_p50_ms", "read_p99_ms", "reads"]
    assert co[costs].equals(none[costs])  # "exactly those of none"
