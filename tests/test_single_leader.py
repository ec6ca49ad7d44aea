"""The single-leader model: durability per mode, catch-up, snapshots, fencing, failover."""

import hashlib
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replab.errors import ConfigError
from replab.models import SingleLeaderConfig, build_single_leader, simulate_single_leader
from replab.models.single_leader import LAG_COLUMNS, epoch_of
from replab.sim import EVENT_COLUMNS, random_faults

FAST = dict(duration_ms=1500.0, write_rate=300.0, read_rate=100.0)


def cfg(**kw):
    return SingleLeaderConfig(**{**FAST, **kw})


def ok_writes(result):
    df = result.history.df
    return df[(df.type == "ok") & (df.f == "write")]


def history_hash(result, tmp_path):
    path = tmp_path / "h.jsonl"
    result.history.to_jsonl(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_same_data(cluster, node):
    """A follower's data equals the leader's state at the follower's log position."""
    leader = cluster.replicas[cluster.controller.leader]
    f = cluster.replicas[node]
    assert f.log.end == leader.log.end  # writes stopped long enough ago: fully caught up
    assert f.data == leader.log.state_at(f.log.end) == leader.data


# ----------------------------------------------------------------------------- durability
@pytest.mark.parametrize("seed", range(4))
def test_sync_never_loses_acked_writes_on_leader_crash(seed):
    res = simulate_single_leader(cfg(mode="sync", leader_crash_at_ms=700.0,
                                     leader_restart_after_ms=300.0), seed=seed)
    assert res.metrics["failovers"] == 1
    assert res.metrics["writes_ok"] > 100
    assert res.metrics["acked_writes_lost"] == 0 and res.lost.empty


def test_async_loses_exactly_the_acked_writes_no_follower_had():
    c = cfg(mode="async", write_rate=800.0, lag="uniform:5,60", leader_crash_at_ms=700.0,
            leader_restart_after_ms=500.0)
    cluster = build_single_leader(c, seed=3)
    seen = {}
    original = cluster.note_failover

    def probe(old, new, epoch, votes):  # the followers' logs when the new leader is chosen
        seen["had"] = {(e.key, e.value) for r in cluster.replica_ids if r != old
                       for e in cluster.replicas[r].log.entries}
        original(old, new, epoch, votes)

    cluster.note_failover = probe
    res = cluster.run()
    ok = ok_writes(res)
    old_epoch = ok[ok.version.map(lambda v: epoch_of(int(v))) == 1]
    expected = {(k, v) for k, v in zip(old_epoch.key, old_epoch.value, strict=True)
                if (k, v) not in seen["had"]}
    lost = set(zip(res.lost.key, res.lost.value, strict=True))
    assert len(expected) > 3
    assert lost == expected
    assert res.metrics["acked_writes_lost"] == len(expected)
    # the old leader rejoined and threw its unreplicated tail away
    assert (res.events.kind == "truncate").any()


def test_async_lost_write_shows_in_history_as_older_value_read():
    res = simulate_single_leader(cfg(mode="async", write_rate=800.0, read_rate=400.0, keys=3,
                                     lag="uniform:5,60", leader_crash_at_ms=700.0), seed=3)
    df = res.history.df
    lost = res.lost
    assert len(lost) > 0
    reads = df[(df.f == "read") & (df.type == "ok")]
    k, v, t = lost.key.iloc[-1], lost.value.iloc[-1], lost.time.iloc[-1]
    later = reads[(reads.key == k) & (reads.time > t + 600.0)]
    assert len(later) > 0 and v not in set(later.value)


def test_semi_sync_every_acked_write_is_on_two_nodes():
    c = cfg(mode="semi-sync", followers=3, sync_followers=1, follower_crash_at_ms=400.0,
            follower_restart_after_ms=400.0, spike_rate=2.0, spike_ms=150.0)
    cluster = build_single_leader(c, seed=5)
    copies = []
    original = cluster.note_ack

    def probe(node, epoch, lsn):
        holders = [r for r in cluster.replica_ids
                   if cluster.replicas[r].log.end >= lsn
                   and cluster.replicas[r].log.entry(lsn).epoch == epoch]
        copies.append(len(holders))
        original(node, epoch, lsn)

    cluster.note_ack = probe
    res = cluster.run()
    assert len(copies) >= res.metrics["writes_ok"] > 100  # some acks arrive too late
    assert min(copies) >= 2
    assert (res.events.kind == "sync_swap").any()


def test_semi_sync_swaps_a_slow_sync_follower():
    c = cfg(mode="semi-sync", followers=2, sync_followers=1,
            faults=((300.0, "slow", {"nodes": [1], "extra_ms": 400.0, "duration_ms": 800.0}),))
    res = simulate_single_leader(c, seed=1)
    swaps = res.events[res.events.kind == "sync_swap"]
    assert len(swaps) >= 1 and swaps.peer.iloc[0] == 2
    assert res.metrics["write_p50_ms"] < 100.0


def test_sync_mode_blocks_writes_while_a_follower_is_down():
    res = simulate_single_leader(cfg(mode="sync", follower_crash_at_ms=500.0,
                                     follower_restart_after_ms=800.0), seed=2)
    assert res.metrics["write_availability"] < 0.9
    res_async = simulate_single_leader(cfg(mode="async", follower_crash_at_ms=500.0,
                                           follower_restart_after_ms=800.0), seed=2)
    assert res_async.metrics["write_availability"] == 1.0


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.floats(0.5, 3.0), st.floats(0.0, 2.0), st.booleans())
def test_random_faults_never_break_sync_durability(seed, crash_rate, partition_rate, fencing):
    faults = random_faults([0, 1, 2], 1200.0, seed=seed, crash_rate=crash_rate,
                           mean_downtime_ms=250.0, partition_rate=partition_rate,
                           pause_rate=0.5, slow_rate=1.0)
    c = cfg(mode="sync", duration_ms=1200.0, write_rate=200.0, fencing=fencing,
            faults=tuple(f.as_tuple() for f in faults))
    res = simulate_single_leader(c, seed=seed)
    assert res.metrics["acked_writes_lost"] == 0


# ----------------------------------------------------------------------------- catch-up
def test_crashed_follower_catches_up_from_its_durable_log():
    cluster = build_single_leader(cfg(follower_crash_at_ms=400.0,
                                      follower_restart_after_ms=500.0), seed=4)
    at_crash = {}
    cluster.sim.schedule_at(400.0 + 1e-6, lambda: at_crash.setdefault(
        "end", cluster.replicas[1].log.end))
    res = cluster.run()
    assert cluster.replicas[1].log.end >= at_crash["end"] > 0  # the log survived the crash
    caught = res.events[(res.events.kind == "caught_up") & (res.events.node == 1)]
    assert len(caught) == 1 and caught.time.iloc[0] > 900.0
    assert_same_data(cluster, 1)
    lag = res.lag[res.lag.node == 1]
    assert lag[(lag.time > 500) & (lag.time < 900)].positions_behind.max() > 50


def test_snapshot_follower_joins_while_writes_continue():
    cluster = build_single_leader(cfg(add_follower_at_ms=600.0, snapshot_ms_per_key=20.0),
                                  seed=6)
    res = cluster.run()
    kinds = res.events.kind.tolist()
    assert kinds.index("snapshot") < kinds.index("snapshot_installed") < \
        len(kinds) - 1 - kinds[::-1].index("caught_up")
    assert cluster.replicas[3].log.base > 0  # built from the snapshot, not from the log
    assert res.metrics["catch_up_ms"] >= 200.0  # 10 keys * 20 ms copy + backlog
    assert res.metrics["write_availability"] == 1.0
    assert_same_data(cluster, 3)


# ----------------------------------------------------------------------------- failover
def test_failover_elects_most_up_to_date_and_clients_follow():
    res = simulate_single_leader(cfg(leader_crash_at_ms=600.0, lag="uniform:1,80"), seed=7)
    elect = res.events[res.events.kind == "elect"].iloc[0]
    votes = eval(elect.detail.split("votes ")[1])  # {node: (epoch, lsn)}
    assert elect.node == max(votes, key=lambda n: (votes[n], -n))
    ok = ok_writes(res)
    assert set(ok[ok.time > 1200].node) == {elect.node}
    m = res.metrics
    assert m["failovers"] == 1 and m["unnecessary_failovers"] == 0
    assert 300.0 <= m["failover_ms"] <= 300.0 + 50.0 + 20.0 + 10.0
    assert m["unavailable_ms"] >= m["failover_ms"]


def test_pause_longer_than_timeout_is_an_unnecessary_failover():
    res = simulate_single_leader(cfg(pause_leader_at_ms=400.0, pause_ms=600.0), seed=1)
    assert res.metrics["failovers"] == 1 and res.metrics["unnecessary_failovers"] == 1
    assert res.metrics["split_brain_writes"] == 0  # fencing: the lease ran out in the pause


@pytest.mark.parametrize("seed", range(3))
def test_fencing_prevents_split_brain(seed):
    for fencing in (False, True):
        res = simulate_single_leader(cfg(partition_at_ms=400.0, partition_ms=700.0,
                                         fencing=fencing), seed=seed)
        ok = ok_writes(res)
        per_epoch = ok.groupby(ok.version.map(lambda v: epoch_of(int(v))))
        assert (per_epoch.node.nunique() == 1).all()  # one leader per epoch, always
        windows = per_epoch.time.agg(["min", "max"]).sort_index()
        overlap = (windows["max"].shift(1) > windows["min"]).any()
        if fencing:
            assert res.metrics["split_brain_writes"] == 0 and not overlap
        else:
            assert res.metrics["split_brain_writes"] > 0 and overlap
            assert res.metrics["acked_writes_lost"] > 0
            assert res.metrics["external_id_conflicts"] > 0  # ids handed out twice


def test_naive_stonith_can_take_both_leaders_down_epoch_stonith_cannot():
    both_down = []
    for seed in range(6):
        for mode in ("naive", "epoch"):
            res = simulate_single_leader(cfg(partition_at_ms=400.0, partition_ms=700.0,
                                             fencing=False, stonith=mode), seed=seed)
            ev = res.events
            shot = set(ev[ev.kind == "crash"].node)
            leaders = set(ev[(ev.kind == "leader") & (ev.time < 1100)].node)
            if mode == "naive" and leaders <= shot:
                both_down.append(seed)
            if mode == "epoch":  # only ever the stale (first) leader is shot
                assert shot <= {0}
    assert both_down


def test_failover_timeout_trade_off():
    short = simulate_single_leader(cfg(failover_timeout_ms=120.0, spike_rate=2.0,
                                       spike_ms=200.0), seed=2)
    long = simulate_single_leader(cfg(failover_timeout_ms=800.0, spike_rate=2.0,
                                      spike_ms=200.0), seed=2)
    assert short.metrics["unnecessary_failovers"] > long.metrics["unnecessary_failovers"] == 0
    fast = simulate_single_leader(cfg(failover_timeout_ms=120.0, leader_crash_at_ms=500.0), seed=2)
    slow = simulate_single_leader(cfg(failover_timeout_ms=800.0, leader_crash_at_ms=500.0), seed=2)
    assert fast.metrics["unavailable_ms"] < slow.metrics["unavailable_ms"]


# ----------------------------------------------------------------------------- results
def test_result_frames_and_metrics():
    res = simulate_single_leader(cfg(leader_crash_at_ms=700.0, trace_messages=True), seed=0)
    assert list(res.lag.columns) == LAG_COLUMNS
    assert list(res.events.columns) == EVENT_COLUMNS
    assert {"message", "crash", "failover_start", "elect", "leader"} <= set(res.events.kind)
    for key in ("acked_writes_lost", "write_availability", "max_lag_ms", "failovers",
                "unnecessary_failovers", "read_p50_ms", "read_p99_ms", "write_p50_ms",
                "write_p99_ms", "write_availability_ci_low", "write_availability_ci_high"):
        assert key in res.metrics
    m = res.metrics
    assert m["write_availability_ci_low"] <= m["write_availability"] <= \
        m["write_availability_ci_high"]
    assert m["max_lag_ms"] == res.lag[res.lag.up].time_behind_ms.max() > 0


def test_same_seed_same_history(tmp_path):
    c = cfg(leader_crash_at_ms=700.0, leader_restart_after_ms=200.0, spike_rate=1.0)
    a = history_hash(simulate_single_leader(c, seed=11), tmp_path)
    b = history_hash(simulate_single_leader(c, seed=11), tmp_path)
    d = history_hash(simulate_single_leader(c, seed=12), tmp_path)
    assert a == b != d
    code = (
        "import hashlib, sys, tempfile, os\n"
        "from replab.models import SingleLeaderConfig, simulate_single_leader\n"
        "c = SingleLeaderConfig(duration_ms=1500.0, write_rate=300.0, read_rate=100.0,"
        " leader_crash_at_ms=700.0, leader_restart_after_ms=200.0, spike_rate=1.0)\n"
        "p = os.path.join(tempfile.mkdtemp(), 'h.jsonl')\n"
        "simulate_single_leader(c, seed=11).history.to_jsonl(p)\n"
        "print(hashlib.sha256(open(p, 'rb').read()).hexdigest())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123", "PATH": "",
                                          "PYTHONPATH": str(__import__("pathlib").Path(
                                              __file__).resolve().parents[1])})
    assert out.stdout.strip() == a


@pytest.mark.parametrize(("kw", "msg"), [
    (dict(mode="quorum"), "The 'mode' parameter of SingleLeaderConfig must be one of "
                          "'async', 'sync', 'semi-sync'. Got 'quorum' instead."),
    (dict(followers=2, sync_followers=3), "The 'sync_followers' parameter of "
     "SingleLeaderConfig must be an int in [1, followers=2]. Got 3 instead."),
    (dict(lag="exp:-1"), "The 'lag' parameter of SingleLeaderConfig must be a latency spec"),
    (dict(failover_timeout_ms=0), "The 'failover_timeout_ms' parameter of SingleLeaderConfig "
     "must be a finite number in (0, inf). Got 0 instead."),
    (dict(stonith="maybe"), "The 'stonith' parameter of SingleLeaderConfig must be one of"),
    (dict(faults=((1, "explode", {}),)), "The 'faults' parameter of SingleLeaderConfig"),
])
def test_config_validation(kw, msg):
    with pytest.raises(ConfigError, match=re.escape(msg)):
        SingleLeaderConfig(**kw)


def test_config_is_frozen_and_keyword_only():
    with pytest.raises(TypeError):
        SingleLeaderConfig("sync")  # type: ignore[misc]
    c = SingleLeaderConfig()
    with pytest.raises(AttributeError):
        c.mode = "sync"  # type: ignore[misc]


# --- issue 12 item 6: a write below a snapshot's base is kept only if its epoch matches --


def _acked(*writes):
    from replab.history import History

    h = History()
    for i, (key, value, version) in enumerate(writes):
        h.record(time=float(2 * i), process=i, type="invoke", f="write", key=key,
                 value=value)
        h.record(time=float(2 * i + 1), process=i, type="ok", f="write", key=key,
                 value=value, version=version)
    return h


def test_write_below_snapshot_base_of_another_epoch_is_lost():
    from replab.models.single_leader.log import Entry, ReplicatedLog, version_of
    from replab.models.single_leader.metrics import lost_writes

    # The promoted node was bootstrapped from a snapshot at lsn 5 whose history is
    # epoch 1 for lsn 1-3, then epoch 2 from lsn 4: epoch 1's own lsn 4 was truncated.
    log = ReplicatedLog()
    log.install_snapshot(5, 2, {"a": ("x5", version_of(2, 5))}, ((1, 1), (2, 4)))
    log.append(Entry(3, 6, "a", "x6", 0.0))
    h = _acked(("a", "x3", version_of(1, 3)), ("a", "old4", version_of(1, 4)),
               ("a", "x4", version_of(2, 4)), ("a", "x6", version_of(3, 6)),
               ("a", "ghost6", version_of(2, 6)))
    lost = lost_writes(h, log)
    assert sorted(lost.value) == ["ghost6", "old4"]


def test_snapshot_carries_its_epoch_runs():
    cluster = build_single_leader(cfg(add_follower_at_ms=600.0, snapshot_ms_per_key=20.0),
                                  seed=6)
    cluster.run()
    joined = cluster.replicas[3].log
    leader = cluster.replicas[cluster.controller.leader].log
    assert joined.base_runs and joined.base_runs[0][1] == 1
    assert joined.lineage() == leader.lineage()
    assert all(joined.holds(e.epoch, e.lsn) for e in leader.entries)
