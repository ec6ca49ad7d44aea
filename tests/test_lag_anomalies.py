"""Replication-lag anomalies in single-leader replication and what each cure costs."""

import re
from functools import cache

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.checks import read_your_writes
from replab.errors import ConfigError
from replab.models import LagAnomalyConfig, simulate_lag_anomalies
from replab.models.anomalies.lag import LAG_CHECKS, lag_distribution
from replab.models.anomalies.routing import ClientMemory, owner_of, rendezvous

SEED = 11


@cache
def run(seed=SEED, **kw):
    return simulate_lag_anomalies(LagAnomalyConfig(duration_ms=3000.0, **kw), seed=seed)


def metric(name, seed=SEED, **kw):
    return run(seed, **kw).metrics[name]


def separated(low, high, stem):
    """The high run's rate is above the low run's, their 95 % intervals apart."""
    return low.metrics[f"{stem}_ci_high"] < high.metrics[f"{stem}_ci_low"]


# -- the anomalies without mitigation ---------------------------------------------------------
def test_read_your_writes_appears_and_grows_with_lag():
    low, mid, high = run(lag_ms=2.0), run(lag_ms=15.0), run(lag_ms=60.0)
    assert high.metrics["read_your_writes_count"] >= 100
    assert separated(low, mid, "read_your_writes")
    assert separated(mid, high, "read_your_writes")
    assert run(lag_ms=0.0).metrics["read_your_writes_count"] == 0


def test_monotonic_reads_appear_and_grow_with_lag():
    low, high = run(lag_ms=2.0), run(lag_ms=60.0)
    assert high.metrics["monotonic_reads_count"] >= 15
    assert separated(low, high, "monotonic_reads")


# -- read-your-writes: each cure -------------------------------------------------------------
@pytest.mark.parametrize("mitigation", ["own-data-leader", "recent-write-leader",
                                        "position-wait", "position-redirect"])
def test_each_cure_removes_read_your_writes(mitigation):
    res = run(lag_ms=60.0, mitigation=mitigation)
    assert res.metrics["read_your_writes_count"] == 0
    assert res.metrics["read_your_writes_examined"] > 200


def test_lag_threshold_is_safe_with_a_margin_for_the_monitor_and_leaks_when_stale():
    leaky = dict(lag_ms=30.0, lag_dist="pareto", window_ms=50.0)
    # (b) alone leaks: some followers lag more than the window.
    assert metric("read_your_writes_count", mitigation="recent-write-leader", **leaky) > 0
    # (c): the threshold plus the monitor's age stays within the window -> safe.
    safe = run(mitigation="lag-threshold", max_lag_ms=40.0, monitor_interval_ms=10.0, **leaky)
    assert safe.metrics["read_your_writes_count"] == 0
    # A monitor sampling every 300 ms routes reads to followers that fell behind since.
    stale = run(mitigation="lag-threshold", monitor_interval_ms=300.0, **leaky)
    assert stale.metrics["read_your_writes_count"] > 0
    # Refusing lagging followers costs leader reads over (b).
    assert safe.metrics["leader_read_share"] > metric("leader_read_share",
                                                      mitigation="recent-write-leader", **leaky)


def test_own_data_from_the_leader_leaks_when_users_write_others_data():
    assert metric("read_your_writes_count", lag_ms=30.0, mitigation="own-data-leader",
                  own_writes=0.5) > 0


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10**6), lag=st.sampled_from([5.0, 40.0]),
       mitigation=st.sampled_from(["position-wait", "position-redirect", "own-data-leader"]),
       followers=st.integers(1, 3))
def test_position_and_ownership_cures_are_exact_for_any_seed(seed, lag, mitigation, followers):
    res = simulate_lag_anomalies(LagAnomalyConfig(
        duration_ms=800.0, lag_ms=lag, mitigation=mitigation, followers=followers), seed=seed)
    assert res.metrics["read_your_writes_count"] == 0


# -- the costs ------------------------------------------------------------------------------
def test_costs_move_the_expected_way():
    lag = 60.0
    none = run(lag_ms=lag).metrics
    assert none["leader_read_share"] == 0.0 and none["reads_waited"] == 0
    own = run(lag_ms=lag, mitigation="own-data-leader").metrics
    assert 0.4 < own["leader_read_share"] < 0.65  # own_reads=0.5 of the reads
    recent = run(lag_ms=lag, mitigation="recent-write-leader").metrics
    assert recent["leader_read_share"] > own["leader_read_share"]  # a minute is long
    wait = run(lag_ms=lag, mitigation="position-wait").metrics
    assert wait["reads_waited"] > 100 and wait["leader_read_share"] == 0.0
    assert wait["read_p99_ms"] > 10 * none["read_p99_ms"]
    assert wait["reads_failed"] > none["reads_failed"]  # waits beyond max_wait_ms fail
    redirect = run(lag_ms=lag, mitigation="position-redirect").metrics
    assert redirect["reads_redirected"] > 100 and redirect["leader_read_share"] > 0.2
    assert redirect["read_p50_ms"] > none["read_p50_ms"]  # a second round trip
    assert redirect["read_p99_ms"] < wait["read_p99_ms"]
    assert redirect["reads_failed"] == 0


def test_a_distant_leader_makes_leader_reads_slow():
    far = dict(lag_ms=20.0, leader_distance_ms=20.0, rate=200.0)
    none, own = metric("read_p50_ms", **far), metric("read_p50_ms", mitigation="own-data-leader",
                                                      **far)
    assert none < 5.0 < 40.0 < metric("read_p99_ms", mitigation="own-data-leader", **far)
    assert own > none


@pytest.mark.parametrize("own_reads", [0.2, 0.8])
def test_leader_share_of_own_data_reads_matches_the_workload(own_reads):
    # A read is of an own key with P = own_reads + (1 - own_reads) / users (8 users).
    m = run(lag_ms=10.0, mitigation="own-data-leader", own_reads=own_reads).metrics
    expected = own_reads + (1 - own_reads) / 8
    assert m["leader_read_share_ci_low"] < expected < m["leader_read_share_ci_high"]


# -- cross-device read-your-writes ----------------------------------------------------------
@pytest.mark.parametrize("mitigation", ["position-wait", "position-redirect",
                                        "recent-write-leader"])
def test_cross_device_needs_a_shared_position(mitigation):
    kw = dict(lag_ms=40.0, devices_per_user=2, mitigation=mitigation)
    device = run(memory="device", **kw).metrics
    assert device["read_your_writes_count"] == 0  # each device reads its own writes ...
    assert device["cross_device_read_your_writes_count"] > 0  # ... but not the others'
    shared = run(memory="shared", **kw).metrics
    assert shared["cross_device_read_your_writes_count"] == 0
    assert shared["read_your_writes_count"] == 0


def test_cross_device_checker_groups_processes_by_user():
    h = [
        {"time": 0, "process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1},
        {"time": 1, "process": 0, "type": "ok", "f": "write", "key": "x", "value": 1},
        {"time": 2, "process": 1, "type": "invoke", "f": "read", "key": "x", "value": None},
        {"time": 3, "process": 1, "type": "ok", "f": "read", "key": "x", "value": None},
        {"time": 4, "process": 2, "type": "invoke", "f": "read", "key": "x", "value": None},
        {"time": 5, "process": 2, "type": "ok", "f": "read", "key": "x", "value": None},
    ]
    assert read_your_writes(h).count == 0
    res = read_your_writes(h, user_of={0: "ann", 1: "ann", 2: "bob"})
    assert (res.name, res.count, res.examined) == ("cross-device-read-your-writes", 1, 1)
    assert "misses its user's op 1 (process 0 wrote 1" in res.examples[0]["message"]


# -- monotonic reads -------------------------------------------------------------------------
def test_sticky_users_read_monotonically_until_their_follower_fails():
    res = run(lag_ms=60.0, mitigation="sticky-user")
    assert res.metrics["monotonic_reads_count"] == 0
    assert res.metrics["monotonic_reads_examined"] > 500
    assert res.metrics["read_your_writes_count"] > 0  # stickiness is no cure for that
    crashed = [run(seed, lag_ms=60.0, mitigation="sticky-user", follower_crash_at_ms=1000.0)
               for seed in (1, 2, 3)]
    assert sum(r.metrics["monotonic_reads_count"] for r in crashed) > 0
    # while it is down, follower 1 serves nothing; its users went elsewhere
    h = crashed[0].history.df
    during = h[(h.type == "ok") & (h.f == "read") & h.time.between(1100.0, 1300.0)]
    assert len(during) > 20 and not (during.node == 1).any()


def test_rendezvous_moves_only_the_users_of_a_lost_replica():
    users = range(200)
    before = {u: rendezvous(u, [1, 2, 3]) for u in users}
    after = {u: rendezvous(u, [1, 3]) for u in users}
    assert all(after[u] == before[u] for u in users if before[u] != 2)
    assert {before[u] for u in users} == {1, 2, 3}
    assert rendezvous(5, []) is None


# -- plumbing ----------------------------------------------------------------------------------
def test_result_shape_and_determinism():
    res = run(lag_ms=20.0)
    assert list(res.checks.check) == list(LAG_CHECKS)
    assert list(res.checks.columns) == ["check", "count", "examined", "rate", "ci_low",
                                        "ci_high"]
    again = simulate_lag_anomalies(LagAnomalyConfig(duration_ms=3000.0, lag_ms=20.0), seed=SEED)
    pd.testing.assert_frame_equal(res.history.df, again.history.df)
    assert pd.Series(res.metrics).equals(pd.Series(again.metrics))  # NaN equals NaN here
    other = simulate_lag_anomalies(LagAnomalyConfig(duration_ms=3000.0, lag_ms=20.0), seed=12)
    assert not res.history.df.equals(other.history.df)


def test_owned_keys_and_client_memory():
    assert [owner_of(f"k{i}", 4) for i in range(6)] == [0, 1, 2, 3, 0, 1]
    res = run(lag_ms=5.0)  # own_writes=1: every write is to the writer's own key
    df = res.history.df
    writes = df[(df.f == "write") & (df.type == "ok")]
    assert all(owner_of(k, 8) == p % 8 for k, p in zip(writes.key, writes.process,
                                                       strict=True))

    class S:
        def __init__(self, user, sid):
            self.user, self.id = user, sid

    mem = ClientMemory(shared=True)
    mem.note(S(0, "c0"), 5.0, 10**9 + 7)
    mem.note(S(0, "c1"), 4.0, 10**9 + 3)  # an older report from the other device
    assert mem.last(S(0, "c1")) == (5.0, 7)
    assert ClientMemory(shared=False).last(S(0, "c0")) is None


def test_lag_distribution_has_the_requested_mean():
    assert lag_distribution(0.0).mean == 0.0
    for shape in ("exp", "const", "pareto"):
        assert lag_distribution(20.0, shape).mean == pytest.approx(20.0)


@pytest.mark.parametrize("kw, message", [
    ({"mitigation": "magic"}, "The 'mitigation' parameter of LagAnomalyConfig must be one of "
     "'none', 'own-data-leader', 'recent-write-leader', 'lag-threshold', 'position-wait', "
     "'position-redirect', 'sticky-user'. Got 'magic' instead."),
    ({"followers": 0}, "The 'followers' parameter of LagAnomalyConfig must be an int in "
     "[1, 16]. Got 0 instead."),
    ({"keys": 4}, "The 'keys' parameter of LagAnomalyConfig must be an int in [users=8, inf). "
     "Got 4 instead."),
    ({"read_fraction": 1.5}, "The 'read_fraction' parameter of LagAnomalyConfig must be a "
     "finite number in [0, 1]. Got 1.5 instead."),
    ({"memory": "cloud"}, "The 'memory' parameter of LagAnomalyConfig must be one of "
     "'device', 'shared'. Got 'cloud' instead."),
    ({"lag_ms": -1.0}, "The 'lag_ms' parameter of LagAnomalyConfig must be a finite number "
     "in [0, inf). Got -1.0 instead."),
    ({"net_delay": "fast"}, "The 'net_delay' parameter of LagAnomalyConfig must be a latency "
     "spec such as '0.5+exp:2'. Got 'fast' instead."),
])
def test_bad_config_names_the_parameter(kw, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        LagAnomalyConfig(**kw)


def test_simulate_rejects_another_config():
    with pytest.raises(ConfigError, match=re.escape("The 'config' parameter of "
                                                    "simulate_lag_anomalies must be a")):
        simulate_lag_anomalies({"lag_ms": 3})  # type: ignore[arg-type]
