"""The claims of notebooks/03_single_leader.ipynb's text hold for its results.

The notebook renders its numbers from the results (Markdown cells built from them); the
claims written in its prose (who loses what, which way a curve goes) are checked here by
calling the same library functions with the notebook's own default parameters.
"""

from __future__ import annotations

import numpy as np
import pytest

from replab.models import (
    SingleLeaderConfig,
    durability_tradeoff,
    failover_tradeoff,
    simulate_single_leader,
)
from tests.conftest import notebook_parameters


@pytest.fixture(scope="module")
def p() -> dict:
    """The notebook's default parameters (its first code cell)."""
    return notebook_parameters("03_single_leader.ipynb")


def test_async_crash_loses_only_what_was_acknowledged_just_before_it(p):
    crash = SingleLeaderConfig(mode="async", duration_ms=p["DURATION_MS"], write_rate=400.0,
                               lag="uniform:5,60", leader_crash_at_ms=p["DURATION_MS"] / 2,
                               leader_restart_after_ms=p["DURATION_MS"] / 4)
    res = simulate_single_leader(crash, seed=p["SEED"])
    at = crash.leader_crash_at_ms
    assert len(res.lost) > 0
    # "acknowledged in the last replication delay before the crash" (lag at most 60 ms)
    assert res.lost["time"].between(at - 60.0, at).all()
    assert (res.lost["node"] == 0).all()  # the crashed leader acknowledged them
    ev = res.events
    promoted = ev[(ev.kind == "leader") & (ev.time > at)]
    assert len(promoted) == 1 and promoted.node.iloc[0] != 0  # "the follower promoted"
    restart = ev[(ev.kind == "restart") & (ev.node == 0)].time.iloc[0]
    # "the old leader throws them away when it rejoins as a follower"
    truncated = ev[(ev.kind == "truncate") & (ev.node == 0)]
    assert len(truncated) == 1 and truncated.time.iloc[0] > restart


def _split(p: dict, fencing: bool):
    t = p["TIMELINE_MS"]
    return simulate_single_leader(SingleLeaderConfig(
        duration_ms=t, write_rate=30.0, read_rate=10.0, partition_at_ms=t / 4,
        partition_ms=t / 2, failover_timeout_ms=120.0, fencing=fencing), seed=p["SEED"])


def test_split_brain_without_fencing_loses_the_deposed_leaders_writes(p):
    sb = _split(p, fencing=False)
    ev, h = sb.events, sb.history.df
    promoted = ev[(ev.kind == "leader") & (ev.node == 1)].time.iloc[0]
    demoted = ev[(ev.kind == "demote") & (ev.node == 0)].time.iloc[0]
    assert promoted < demoted  # "for a while two nodes believe they lead"
    acked = h[(h.type == "ok") & (h.f == "write")]
    during = acked[(acked.node == 0) & (acked.time > promoted)]
    assert len(during) > 0  # "node 0 goes on acknowledging its clients' writes"
    assert set(sb.lost["index"]) <= set(acked[acked.node == 0]["index"])
    assert sb.metrics["acked_writes_lost"] > 0 and sb.metrics["split_brain_writes"] > 0


def test_fencing_stops_the_old_leader_before_the_new_one_is_promoted(p):
    sb = _split(p, fencing=True)
    ev, h = sb.events, sb.history.df
    promoted = ev[(ev.kind == "leader") & (ev.node == 1)].time.iloc[0]
    acked = h[(h.type == "ok") & (h.f == "write")]
    assert (acked[acked.node == 0].time < promoted).all()
    assert sb.metrics["acked_writes_lost"] == 0 and sb.metrics["split_brain_writes"] == 0


def test_sync_and_semi_sync_lose_nothing_and_pay_a_round_trip(p):
    modes = durability_tradeoff(SingleLeaderConfig(duration_ms=p["DURATION_MS"],
                                                   write_rate=300.0, lag="uniform:5,60"),
                                repeats=p["REPEATS"], seed=p["SEED"])
    by = modes.groupby("mode")
    assert (by.seed.apply(tuple).nunique()) == 1  # the same seeds for every mode
    lost = by.acked_writes_lost
    assert lost.max()["semi-sync"] == 0 and lost.max()["sync"] == 0
    assert lost.min()["async"] > 0
    p50 = by.write_p50_ms.min()
    # a replication round trip (the lag alone is at least 5 ms) on every write
    assert min(p50["semi-sync"], p50["sync"]) > by.write_p50_ms.max()["async"] + 5.0


def test_failover_timeout_trades_false_failovers_for_unavailability(p):
    base = SingleLeaderConfig(duration_ms=p["DURATION_MS"], spike_rate=1.0, spike_ms=200.0,
                              client_timeout_ms=100.0)
    df = failover_tradeoff(base, p["TIMEOUTS"], repeats=p["REPEATS"], seed=p["SEED"])
    per = df.groupby("failover_timeout_ms").mean()
    assert per.unavailable_ms.is_monotonic_increasing  # "longer after a real crash"
    shortest, longest = per.unnecessary_failovers.iloc[0], per.unnecessary_failovers.iloc[-1]
    assert shortest > 0 and longest < shortest  # "short timeouts fail over on spikes"
    assert np.isfinite(per.to_numpy()).all()
