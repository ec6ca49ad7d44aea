"""Network, nodes, faults, clocks and clients of the simulator."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.errors import ConfigError
from replab.latency import Constant, Exponential
from replab.sim import (
    ClientPool,
    Fault,
    LamportClock,
    Network,
    Node,
    PhysicalClock,
    Request,
    Response,
    Simulation,
    VersionVector,
    Workload,
    apply_faults,
    as_faults,
    random_faults,
)


class Recorder(Node):
    """Keeps every message it gets as (time, src, msg)."""

    def __init__(self, net, node_id):
        super().__init__(net, node_id)
        self.got = []
        self.durable["n"] = 0
        self.volatile = 0

    def on_message(self, src, msg):
        self.got.append((self.sim.now, src, msg))
        self.volatile += 1
        self.durable["n"] += 1

    def on_crash(self):
        self.volatile = 0


def make(n=3, **kw):
    sim = Simulation(seed=kw.pop("seed", 0))
    net = Network(sim, **kw)
    nodes = [Recorder(net, i) for i in range(n)]
    return sim, net, nodes


def test_constant_delay_and_dispatch_by_type():
    class Typed(Node):
        def on_int(self, src, msg):
            self.last = (self.sim.now, src, msg)

    sim = Simulation()
    net = Network(sim, delay="const:3")
    a, b = Typed(net, "a"), Typed(net, "b")
    a.send("b", 7)
    sim.run()
    assert b.last == (3.0, "a", 7)
    with pytest.raises(TypeError, match="no handler for str"):
        b.deliver("a", "text")


def test_duplicate_node_id_rejected():
    sim, net, _ = make(1)
    with pytest.raises(ValueError, match="already"):
        Recorder(net, 0)


def test_fifo_link_keeps_order_non_fifo_reorders():
    for fifo in (False, True):
        sim, net, (a, b, _) = make(delay=Exponential(1.0), fifo=fifo, seed=4)
        for i in range(200):
            a.send(1, i)
        sim.run()
        order = [m for _, _, m in b.got]
        assert sorted(order) == list(range(200))
        assert (order == list(range(200))) is fifo


def test_loss_and_duplication_rates():
    sim, net, (a, b, _) = make(loss=0.3, seed=1)
    for i in range(4000):
        a.send(1, i)
    sim.run()
    assert abs(len(b.got) / 4000 - 0.7) < 0.03
    assert net.dropped + net.delivered == net.sent
    sim, net, (a, b, _) = make(duplicate=0.25, seed=2)
    for i in range(4000):
        a.send(1, i)
    sim.run()
    assert abs(len(b.got) / 4000 - 1.25) < 0.03


def test_symmetric_and_one_way_partitions_and_heal():
    sim, net, (a, b, c) = make()
    net.partition([[0], [1, 2]], name="p")
    assert net.blocked(0, 1) and net.blocked(1, 0) and not net.blocked(1, 2)
    net.heal("p")
    net.partition_oneway([0], [1])
    assert net.blocked(0, 1) and not net.blocked(1, 0)
    a.send(1, "x")
    b.send(0, "y")
    sim.run()
    assert b.got == [] and [m for *_, m in a.got] == ["y"]
    net.heal()
    a.send(1, "z")
    sim.run()
    assert [m for *_, m in b.got] == ["z"]


def test_partition_starting_in_flight_drops_message():
    sim, net, (a, b, _) = make(delay=10.0)
    a.send(1, "m")
    sim.schedule(5.0, net.partition, [[0], [1]])
    sim.run()
    assert b.got == []


def test_slow_adds_delay_until_unslow():
    sim, net, (a, b, _) = make(delay=1.0)
    name = net.slow([1], 50.0)
    a.send(1, "slow")
    sim.run()
    net.unslow(name)
    a.send(1, "fast")
    sim.run()
    assert [t for t, *_ in b.got] == [51.0, 52.0]


def test_link_override_both_ways():
    sim, net, (a, b, c) = make(delay=1.0)
    net.set_link(0, 1, delay="const:7", both_ways=True)
    assert net.link(1, 0).delay == Constant(7.0)
    assert net.link(0, 2).delay == Constant(1.0)
    with pytest.raises(ConfigError, match=re.escape("The 'loss' parameter of Link")):
        net.set_link(0, 1, loss=2.0)


def test_lose_in_flight_drops_messages_of_a_crashed_sender():
    for lose in (False, True):
        sim, net, (a, b, _) = make(delay=10.0, lose_in_flight=lose)
        a.send(1, "in flight")
        sim.schedule(5.0, a.crash)
        sim.run()
        assert len(b.got) == (0 if lose else 1)


def test_crash_drops_messages_timers_and_volatile_state():
    sim, net, (a, b, _) = make(delay=1.0)
    fired = []
    b.set_timer(5.0, fired.append, "timer")
    a.send(1, "before")
    sim.run(until=2.0)
    b.crash()
    a.send(1, "while down")
    sim.run(until=4.0)
    b.restart()
    a.send(1, "after")
    sim.run()
    assert [m for *_, m in b.got] == ["before", "after"]
    assert fired == []  # the timer belonged to the previous incarnation
    assert b.durable["n"] == 2 and b.volatile == 1
    kinds = net.events_frame()["kind"].tolist()
    assert kinds == ["crash", "restart"]


def test_pause_holds_messages_and_timers_until_resume():
    sim, net, (a, b, _) = make(delay=1.0)
    fired = []
    b.set_timer(3.0, lambda: fired.append(sim.now))
    b.pause(10.0)
    a.send(1, "held")
    b.send(0, "not sent while paused")
    sim.run()
    assert fired == [10.0]
    assert [(t, m) for t, _, m in b.got] == [(10.0, "held")]
    assert a.got == []
    with pytest.raises(ConfigError, match="duration_ms"):
        b.pause(-1)


def test_fault_schedule_validation_messages():
    with pytest.raises(ConfigError, match=re.escape("The 'action' parameter of Fault must be")):
        as_faults([(1, "explode", {})])
    with pytest.raises(ConfigError, match=re.escape("Fault('crash') must have node")):
        as_faults([(1, "crash", {})])
    with pytest.raises(ConfigError, match=re.escape("The 'time' parameter of Fault")):
        as_faults([(-1, "heal", {})])
    assert [f.time for f in as_faults([(5, "heal"), (1, "heal", {})])] == [1.0, 5.0]


def test_apply_faults_end_to_end():
    sim, net, (a, b, c) = make(delay=1.0)
    apply_faults(net, [
        Fault(10, "crash", {"node": 1}),
        (20, "restart", {"node": 1}),
        (30, "partition", {"groups": [[0], [1]], "duration_ms": 10}),
        (50, "clock", {"node": 2, "step_ms": 5.0, "drift_ppm": 100.0}),
    ])
    for t in (5, 15, 25, 35, 45):
        sim.schedule(t, a.send, 1, t)
    sim.run()
    assert [m for *_, m in b.got] == [5, 25, 45]
    assert c.clock.offset_ms == pytest.approx(5.0)
    kinds = net.events_frame()["kind"].tolist()
    assert kinds == ["crash", "restart", "partition", "heal", "clock"]
    with pytest.raises(ConfigError, match="must be one of"):
        apply_faults(net, [(sim.now, "crash", {"node": 9})])
        sim.run()


def test_random_faults_are_seeded_and_restart_after_crash():
    kw = dict(seed=5, crash_rate=2.0, pause_rate=1.0, partition_rate=1.0, slow_rate=1.0)
    a = random_faults([0, 1, 2], 5000.0, **kw)
    b = random_faults([0, 1, 2], 5000.0, **kw)
    assert a == b and len(a) > 10
    assert {f.action for f in a} == {"crash", "restart", "pause", "partition", "slow"}
    for node in (0, 1, 2):
        seq = [f.action for f in a if f.args.get("node") == node and f.action in
               ("crash", "restart")]
        assert seq == ["crash", "restart"] * (len(seq) // 2)


def test_trace_records_messages():
    sim, net, (a, b, _) = make(delay=2.0, trace=True)
    a.send(1, "m")
    sim.run()
    net.partition([[0], [1]])
    a.send(1, "n")
    sim.run()
    ev = net.events_frame()
    msgs = ev[ev.kind.isin(["message", "dropped"])]
    assert msgs[["time", "end_time", "kind", "node", "peer", "detail"]].values.tolist()[0] == \
        [0.0, 2.0, "message", 0, 1, "str"]
    assert msgs.end_time.isna().tolist() == [False, True]
    assert "partitioned" in msgs.detail.iloc[-1]


# ----------------------------------------------------------------------------- clocks
def test_physical_clock_offset_drift_and_step():
    sim = Simulation()
    clock = PhysicalClock(sim, offset_ms=10.0, drift_ppm=1000.0)
    sim.run(until=1000.0)
    assert clock.now() == pytest.approx(10.0 + 1000.0 * 1.001)
    clock.step(-5.0)
    clock.set_drift(0.0)
    sim.run(until=2000.0)
    assert clock.now() == pytest.approx(1006.0 + 1000.0)
    assert clock.to_true(clock.now() + 10) == pytest.approx(2010.0)
    with pytest.raises(ConfigError, match="drift_ppm"):
        PhysicalClock(sim, drift_ppm=-1e6)


def test_lamport_clock_respects_causality():
    a, b = LamportClock(), LamportClock()
    send = a.tick()
    recv = b.observe(send)
    assert recv > send
    assert b.tick() > recv


vv = st.dictionaries(st.sampled_from("ABCD"), st.integers(0, 4)).map(VersionVector)


@settings(max_examples=80, deadline=None)
@given(vv, vv, vv)
def test_version_vector_merge_is_a_join(a, b, c):
    assert a.merge(b) == b.merge(a)
    assert a.merge(b).merge(c) == a.merge(b.merge(c))
    assert a.merge(a) == a
    assert a <= a.merge(b) and b <= a.merge(b)
    flip = {"before": "after", "after": "before", "equal": "equal", "concurrent": "concurrent"}
    assert b.compare(a) == flip[a.compare(b)]
    assert (a.compare(b) == "equal") == (a == b)


def test_version_vector_basics():
    a = VersionVector({"A": 2, "B": 0})
    assert a == VersionVector({"A": 2}) and a["B"] == 0 and len(a) == 1
    assert hash(a) == hash(VersionVector({"A": 2}))
    assert a.increment("B").compare(a) == "after"
    assert a.increment("B").concurrent(a.increment("C"))
    with pytest.raises(ValueError, match=">= 0"):
        VersionVector({"A": -1})


# ----------------------------------------------------------------------------- clients
class KV(Node):
    """A one-node key-value store answering client requests after `work` ms."""

    def __init__(self, net, node_id, work=1.0):
        super().__init__(net, node_id)
        self.data, self.work = {}, work

    def on_Request(self, src, req):
        self.set_timer(self.work, self._answer, src, req)

    def _answer(self, src, req):
        if req.f == "write":
            self.data[req.key] = req.value
            self.send(src, Response(req.op_id, "ok", node=self.id, hint=self.id))
        else:
            self.send(src, Response(req.op_id, "ok", self.data.get(req.key), node=self.id))


def run_pool(seed=0, work=1.0, **wk):
    sim = Simulation(seed=seed)
    net = Network(sim, delay=0.5)
    KV(net, "s", work=work)
    w = Workload(stop_ms=wk.pop("stop_ms", 2000.0), **wk)
    pool = ClientPool(net, w, lambda s, f, k: "s", rng=np.random.default_rng(seed))
    pool.start()
    sim.run()
    return pool


def test_clients_record_invoke_then_completion_per_session():
    pool = run_pool(write_rate=200, read_rate=100, keys=5)
    df = pool.history.df
    assert set(df.type) == {"invoke", "ok"}
    assert (df.type == "invoke").sum() == (df.type == "ok").sum()
    writes = df[(df.f == "write") & (df.type == "invoke")]
    assert writes.value.is_unique
    assert abs(len(writes) / 2.0 - 200) < 40 and set(df.key) <= {f"k{i}" for i in range(5)}
    for _, ops in df.groupby("process"):  # one operation at a time per process
        assert len(ops) % 2 == 0
        assert (ops.type.values[::2] == "invoke").all() and (ops.type.values[1::2] == "ok").all()
    ok = df[df.type == "ok"]
    assert ok.time.min() >= 2.0  # 0.5 + 1 + 0.5 round trip


def test_clients_timeouts_become_info_and_new_process():
    pool = run_pool(write_rate=20, read_rate=20, timeout_ms=1.0, work=5.0, users=2)
    df = pool.history.df
    assert set(df[df.f == "write"].type) == {"invoke", "info"}
    assert set(df[df.f == "read"].type) == {"invoke", "fail"}
    assert df.process.nunique() > 2
    for _, ops in df.groupby("process"):  # a process ends with its info
        types = ops.type.tolist()
        assert types[::2] == ["invoke"] * (len(types) // 2) and "info" not in types[1:-1]
    busy = run_pool(write_rate=2000, read_rate=0, timeout_ms=1.0, work=5.0, users=2)
    assert busy.abandoned["write"] > 0 and busy.abandoned["read"] == 0  # queued too long
    assert set(pool.process_user.values()) == {0, 1}


def test_zipf_keys_are_skewed_and_devices_share_a_user():
    pool = run_pool(write_rate=500, read_rate=0, keys=20, key_dist="zipf", zipf_s=1.2,
                    users=3, devices_per_user=2)
    counts = pool.history.df.query("type == 'invoke'").key.value_counts()
    assert counts.index[0] == "k0" and counts["k0"] > 4 * counts.get("k19", 0)
    assert len(pool.sessions) == 6 and pool.process_user[1] == 0 and pool.process_user[2] == 1


def test_workload_validation():
    with pytest.raises(ConfigError, match=re.escape(
            "The 'key_dist' parameter of Workload must be one of 'uniform', 'zipf'. "
            "Got 'pareto' instead.")):
        Workload(key_dist="pareto")
    with pytest.raises(ConfigError, match=re.escape("The 'stop_ms' parameter of Workload")):
        Workload(start_ms=10.0, stop_ms=5.0)


def test_clients_are_deterministic():
    a = run_pool(seed=3, write_rate=100, read_rate=100).history.df
    b = run_pool(seed=3, write_rate=100, read_rate=100).history.df
    assert a.equals(b)
    assert isinstance(Request(1, "read", "k", None), tuple)
