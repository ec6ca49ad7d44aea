"""The chapter's quorum edge cases, and stale cold keys, as runnable scenarios.

Each scenario builds a small cluster (constant 1 ms message delays, so every run is the
same), scripts a few client operations and faults, runs, and reports what the clients
saw (``ops``) and the facts that make the point (``facts``). In every one of them
``w + r > n``: quorums alone do not guarantee fresh reads.

>>> s = scenario_failed_write_visible()
>>> s.facts["write_outcome"], s.facts["later_read"]
('fail', 1)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from replab.models.leaderless.cluster import build_leaderless
from replab.models.leaderless.config import LeaderlessConfig
from replab.models.leaderless.metrics import LeaderlessResult
from replab.rng import SeedLike, spawn, spawn_seeds
from replab.sim import PhysicalClock, Workload

__all__ = [
    "ScenarioResult",
    "scenario_read_during_write",
    "scenario_failed_write_visible",
    "scenario_restore_from_stale",
    "scenario_sloppy_stale_read",
    "scenario_rarely_read_keys",
    "repair_comparison",
    "REPAIRS",
    "COLD_RESTART_MS",
    "quorum_edge_cases",
    "scenario_lww_concurrent",
    "scenario_shopping_cart",
    "ops_frame",
]

_KEY = "x"


@dataclass(frozen=True)
class ScenarioResult:
    """What a scenario showed: ``ops`` (one row per client operation) and ``facts``."""

    name: str
    description: str
    facts: dict[str, Any]
    ops: pd.DataFrame
    result: LeaderlessResult = field(repr=False)


def ops_frame(history: Any) -> pd.DataFrame:
    """One row per completed operation: process, f, key, value, type, invoke/complete ms."""
    rows, pending = [], {}
    for op in history:
        if op["type"] == "invoke":
            pending[op["process"]] = op
            continue
        inv = pending.pop(op["process"], None)
        if inv is None:
            continue
        value = op["value"] if op["f"] == "read" else inv["value"]
        rows.append((op["process"], op["f"], op["key"], value, op["type"], inv["time"],
                     op["time"], op["node"]))
    df = pd.DataFrame(rows, columns=["process", "f", "key", "value", "type", "invoke_ms",
                                     "complete_ms", "node"])
    df["value"] = pd.Series([v for *_, v, _, _, _, _ in rows], dtype=object)
    return df.sort_values("invoke_ms", kind="stable", ignore_index=True)


def _cluster(sessions: int, **kw: Any) -> Any:
    base: dict[str, Any] = dict(n=3, r=2, w=2, nodes=5, latency="const:1", client_delay=0.5,
                                write_rate=0.0, read_rate=0.0, sessions=sessions,
                                duration_ms=600.0, settle_ms=300.0)
    return build_leaderless(LeaderlessConfig(**{**base, **kw}), seed=0)


def _script(cluster: Any, plan: list[tuple[float, int, str, Any]]) -> None:
    """Schedule ``(time, session, f, value)`` operations on the scenario key."""
    sessions = cluster.pools[0].sessions
    for t, s, f, value in plan:
        cluster.sim.schedule_at(t, sessions[s].submit, f, _KEY, value)


def _fix_routes(cluster: Any, coordinators: list[Any]) -> None:
    """Session ``i`` always uses coordinator ``coordinators[i]``."""
    pool = cluster.pools[0]
    by_id = {s.id: c for s, c in zip(pool.sessions, coordinators, strict=True)}
    pool.route = lambda session, f, key: by_id[session.id]


def _done(cluster: Any, name: str, description: str,
          facts: Callable[[pd.DataFrame], dict[str, Any]]) -> ScenarioResult:
    res = cluster.run()
    ops = ops_frame(res.history)
    return ScenarioResult(name, " ".join(description.split()), facts(ops), ops, res)


def _set_delay(net: Any, src: Any, dst: Any, ms: float) -> None:
    net.set_link(src, dst, delay=ms)


def _value(ops: pd.DataFrame, i: int) -> Any:
    return ops.value.iloc[i]


def scenario_read_during_write() -> ScenarioResult:
    """Two reads during one write: the first sees the new value, the later one the old.

    The write of 2 reaches home replica h0 at once but h1 and h2 only 100 ms later (slow
    links while it is sent). Reader A (same coordinator) asks h0 and h1 and gets the new
    value; reader B, starting after A has finished, cannot reach h0 and gets 1 from h1
    and h2. The write itself is still in progress: quorums are not linearizable.
    """
    c = _cluster(3)
    h0, h1, h2 = c.home_all(_KEY)
    x, y = [i for i in c.replicas_ids if i not in (h0, h1, h2)]
    _fix_routes(c, [x, x, y])
    net = c.network
    _script(c, [(0.0, 0, "write", 1), (20.0, 0, "write", 2), (24.0, 1, "read", None),
                (35.0, 2, "read", None)])
    for h in (h1, h2):  # the write to h1 and h2 is slow; afterwards only x -> h2 stays slow
        c.sim.schedule_at(20.0, _set_delay, net, x, h, 100.0)
    c.sim.schedule_at(22.0, _set_delay, net, x, h1, 0.0)
    net.partition_oneway([y], [h0])

    def facts(ops: pd.DataFrame) -> dict[str, Any]:
        w2, ra, rb = ops.iloc[1], ops.iloc[2], ops.iloc[3]  # in invocation order
        return {"read_a": ra.value, "read_b": rb.value, "write_outcome": w2.type,
                "read_b_after_read_a": bool(rb.invoke_ms > ra.complete_ms),
                "both_during_write": bool(rb.complete_ms < w2.complete_ms),
                "new_then_old": bool(ra.value == 2 and rb.value == 1)}

    return _done(c, "read during write", scenario_read_during_write.__doc__ or "", facts)


def scenario_failed_write_visible() -> ScenarioResult:
    """A write acknowledged by fewer than w replicas is reported failed but stays.

    h1 and h2 are down when 1 is written, so only h0 stores it and the coordinator
    answers ``fail`` after its timeout. Nothing rolls h0 back: when h1 and h2 are back, a
    read (w = r = 2) returns the "failed" value and read repair spreads it.
    """
    c = _cluster(2, read_repair=True)
    h0, h1, h2 = c.home_all(_KEY)
    x = next(i for i in c.replicas_ids if i not in (h0, h1, h2))
    _fix_routes(c, [x, x])
    for h in (h1, h2):
        c.sim.schedule_at(5.0, c.replicas[h].crash)
        c.sim.schedule_at(300.0, c.replicas[h].restart)
    _script(c, [(10.0, 0, "write", 1), (400.0, 1, "read", None)])

    def facts(ops: pd.DataFrame) -> dict[str, Any]:
        return {"write_outcome": ops.type.iloc[0], "later_read": _value(ops, 1),
                "replicas_holding_it": int(sum(bool(c.held(h, _KEY)) for h in (h0, h1, h2)))}

    return _done(c, "failed write later visible", scenario_failed_write_visible.__doc__ or "",
                 facts)


def scenario_restore_from_stale() -> ScenarioResult:
    """A node holding the new value fails and is rebuilt from a stale replica.

    2 is written to h0 and h1 (h2 is unreachable then; w = 2 is met). h0 then loses its
    disk and is restored from h2, which still has 1: the new value now lives on one
    replica only, fewer than w, and a read that hears from h0 and h2 returns 1.
    """
    c = _cluster(2)
    h0, h1, h2 = c.home_all(_KEY)
    x = next(i for i in c.replicas_ids if i not in (h0, h1, h2))
    _fix_routes(c, [x, x])
    net = c.network
    _script(c, [(0.0, 0, "write", 1), (50.0, 0, "write", 2), (300.0, 1, "read", None)])
    c.sim.schedule_at(45.0, net.partition_oneway, [x], [h2], "cut-h2")
    c.sim.schedule_at(100.0, net.heal, "cut-h2")
    c.sim.schedule_at(150.0, c.replicas[h0].crash)
    c.sim.schedule_at(200.0, c.replicas[h0].restart)
    c.sim.schedule_at(200.0, c.replicas[h0].restore_from, c.replicas[h2])
    c.sim.schedule_at(290.0, _set_delay, net, x, h1, 50.0)  # h1 answers last

    def facts(ops: pd.DataFrame) -> dict[str, Any]:
        return {"write_outcome": ops.type.iloc[1], "read": _value(ops, 2),
                "replicas_with_new_value": int(sum(
                    any(v.value == 2 for v in c.held(h, _KEY)) for h in (h0, h1, h2)))}

    return _done(c, "restored from a stale replica", scenario_restore_from_stale.__doc__ or "",
                 facts)


def scenario_sloppy_stale_read() -> ScenarioResult:
    """With a sloppy quorum, w + r > n does not make reads overlap writes.

    A partition leaves the writer with h2 and the two fallback nodes, the reader with h0
    and h1. The write succeeds on h2 plus two fallbacks holding hints; the read asks h0
    and h1 and returns the old value. After the partition heals, hinted handoff brings
    the value home and a later read sees it.
    """
    c = _cluster(2, sloppy=True)
    h0, h1, h2 = c.home_all(_KEY)
    f0, f1 = [i for i in c.walk_all(_KEY) if i not in (h0, h1, h2)]
    _fix_routes(c, [f0, h0])
    net = c.network
    _script(c, [(0.0, 0, "write", 1), (20.0, 0, "write", 2), (40.0, 1, "read", None),
                (400.0, 1, "read", None)])
    sessions = [s.id for s in c.pools[0].sessions]
    c.sim.schedule_at(10.0, net.partition, [[sessions[0], f0, f1, h2], [sessions[1], h0, h1]],
                      "split")
    c.sim.schedule_at(200.0, net.heal, "split")

    def facts(ops: pd.DataFrame) -> dict[str, Any]:
        return {"write_outcome": ops.type.iloc[1], "read_during_partition": _value(ops, 2),
                "read_after_heal": _value(ops, 3),
                "hinted_writes": len(c.hinted), "hinted_handoffs": c.hinted_handoffs}

    return _done(c, "sloppy quorum stale read", scenario_sloppy_stale_read.__doc__ or "", facts)


def scenario_lww_concurrent(*, skew_ms: float = 0.0) -> ScenarioResult:
    """Last write wins: two acknowledged writes, one silently discarded.

    Client A writes 1 through coordinator x; client B writes 2 through coordinator y,
    whose clock runs ``skew_ms`` behind. With ``skew_ms=0`` the writes are concurrent
    (both sent at once) and the larger timestamp wins; with a skew, B writes 2 only after
    A's write was acknowledged, yet 2 gets the smaller timestamp and loses. Both clients
    are told ``ok``; a later read returns only the survivor.
    """
    c = _cluster(3)
    h0, h1, h2 = c.home_all(_KEY)
    x, y = [i for i in c.replicas_ids if i not in (h0, h1, h2)]
    _fix_routes(c, [x, y, x])
    if skew_ms:
        c.replicas[y].clock = PhysicalClock(c.sim, offset_ms=-float(skew_ms))
    b_at = 20.0 if skew_ms else 0.0
    _script(c, [(0.0, 0, "write", 1), (b_at, 1, "write", 2), (100.0, 2, "read", None)])

    def facts(ops: pd.DataFrame) -> dict[str, Any]:
        writes = ops[ops.f == "write"]
        return {"writes_ok": int((writes.type == "ok").sum()), "read": _value(ops, 2),
                "concurrent": bool(writes.invoke_ms.max() < writes.complete_ms.min())}

    name = "LWW concurrent writes" if not skew_ms else "LWW write lost to clock skew"
    return _done(c, name, scenario_lww_concurrent.__doc__ or "", facts)


def scenario_shopping_cart() -> ScenarioResult:
    """Version vectors keep concurrent writes as siblings, and the client merges them.

    Two clients add to one cart at the same moment, neither having seen the other: A
    writes ``milk``, B writes ``eggs``. Both are kept (siblings). A reads both, and its
    next write (``milk+eggs+flour``, carrying what it read) supersedes them; B's later read
    returns that one value.
    """
    c = _cluster(2, resolution="siblings")
    h0, h1, h2 = c.home_all(_KEY)
    x, y = [i for i in c.replicas_ids if i not in (h0, h1, h2)]
    _fix_routes(c, [x, y])
    _script(c, [(0.0, 0, "write", "milk"), (0.0, 1, "write", "eggs"),
                (30.0, 0, "read", None), (60.0, 0, "write", "milk+eggs+flour"),
                (120.0, 1, "read", None)])

    def facts(ops: pd.DataFrame) -> dict[str, Any]:
        return {"siblings_read": _value(ops, 2), "merged_read": _value(ops, 4),
                "writes_ok": int(((ops.f == "write") & (ops.type == "ok")).sum())}

    return _done(c, "shopping cart with siblings", scenario_shopping_cart.__doc__ or "",
                 facts)


def quorum_edge_cases() -> pd.DataFrame:
    """Run the four edge cases; one row each: ``scenario, anomaly, facts``."""
    out = []
    checks = [
        (scenario_read_during_write, lambda f: f["new_then_old"]),
        (scenario_failed_write_visible,
         lambda f: f["write_outcome"] == "fail" and f["later_read"] == 1),
        (scenario_restore_from_stale, lambda f: f["write_outcome"] == "ok" and f["read"] == 1),
        (scenario_sloppy_stale_read,
         lambda f: f["write_outcome"] == "ok" and f["read_during_partition"] == 1),
    ]
    for fn, anomaly in checks:
        s = fn()
        out.append((s.name, bool(anomaly(s.facts)), s.facts))
    return pd.DataFrame(out, columns=["scenario", "anomaly", "facts"])


def _cold_keys_run(*, read_repair: bool, anti_entropy_interval_ms: float | None, keys: int,
                   seed: SeedLike) -> LeaderlessResult:
    """Node 0 is down while every key is written (0-1000 ms, back at 1100 ms); from
    1200 ms to 3000 ms clients only read, with Zipf popularity."""
    cfg = LeaderlessConfig(write_rate=0.0, read_rate=0.0, keys=keys, duration_ms=3000.0,
                           read_repair=read_repair,
                           anti_entropy_interval_ms=anti_entropy_interval_ms,
                           settle_ms=200.0, sample_interval_ms=100.0,
                           faults=((0.0, "crash", {"node": 0}), (COLD_RESTART_MS, "restart",
                                                                  {"node": 0})))
    root, w_rng, r_rng = spawn(seed, 3)
    c = build_leaderless(cfg, seed=root)
    c.add_clients(Workload(write_rate=300.0, read_rate=0.0, keys=keys, users=4,
                           stop_ms=1000.0), rng=w_rng, prefix="w")
    c.add_clients(Workload(write_rate=0.0, read_rate=60.0, keys=keys, key_dist="zipf",
                           zipf_s=1.2, users=4, start_ms=1200.0, stop_ms=3000.0),
                  rng=r_rng, prefix="r")
    result: LeaderlessResult = c.run()
    return result


#: When node 0 comes back in :func:`scenario_rarely_read_keys` and :func:`repair_comparison`.
COLD_RESTART_MS = 1100.0


def scenario_rarely_read_keys(
    *, anti_entropy_interval_ms: float | None = None, keys: int = 30,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """Voldemort-like: read repair but no anti-entropy leaves rarely read keys stale.

    Node 0 is down while every key is written; afterwards clients only read, with Zipf
    popularity, and read repair fixes what they read. Returns one row per key: ``key,
    reads, stale_replicas`` (home replicas still behind at the end) and ``on_node_0``
    (node 0 is one of the key's home replicas).
    """
    res = _cold_keys_run(read_repair=True, anti_entropy_interval_ms=anti_entropy_interval_ms,
                         keys=keys, seed=seed)
    lag = res.final_lag
    per_key = lag.groupby("key").agg(reads=("reads", "first"),
                                     stale_replicas=("versions_behind", lambda s: int((s > 0)
                                                                                     .sum())))
    per_key["on_node_0"] = per_key.index.isin(lag.key[lag.node == 0])
    return per_key.reset_index().sort_values(["reads", "key"], ascending=[False, True],
                                             ignore_index=True)


#: The repair strategies :func:`repair_comparison` runs: (read repair, anti-entropy ms).
REPAIRS: dict[str, tuple[bool, float | None]] = {
    "read repair only": (True, None),
    "anti-entropy only (every 100 ms)": (False, 100.0),
    "both": (True, 100.0),
}


def repair_comparison(*, runs: int = 3, keys: int = 30,
                      seed: SeedLike = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read repair against anti-entropy after node 0 missed every write (the scenario of
    :func:`scenario_rarely_read_keys`), ``runs`` runs per strategy of :data:`REPAIRS`;
    run ``j`` of every strategy uses the same seed (the same writes, reads and delays).

    Returns ``(timeline, totals)``. ``timeline``: ``strategy, run, time, stale_pairs``
    ((key, home replica) pairs behind, sampled every 100 ms). ``totals``: one row per
    strategy and run with ``stale_pairs_end``, ``repair_bytes`` (read-repair write-backs
    plus anti-entropy exchanges), ``read_repair_bytes``, ``anti_entropy_bytes`` and
    ``converged``.
    """
    timeline, totals = [], []
    for run, s in enumerate(spawn_seeds(seed, runs)):
        for name, (rr, ae) in REPAIRS.items():
            res = _cold_keys_run(read_repair=rr, anti_entropy_interval_ms=ae, keys=keys,
                                 seed=s)
            behind = (res.staleness.versions_behind > 0).groupby(res.staleness.time).sum()
            timeline.append(pd.DataFrame({"strategy": name, "run": run, "time": behind.index,
                                          "stale_pairs": behind.to_numpy()}))
            m = res.metrics
            totals.append({"strategy": name, "run": run,
                           "stale_pairs_end": int((res.final_lag.versions_behind > 0).sum()),
                           "repair_bytes": m["read_repair_bytes"] + m["anti_entropy_bytes"],
                           "read_repair_bytes": m["read_repair_bytes"],
                           "anti_entropy_bytes": m["anti_entropy_bytes"],
                           "converged": m["converged"]})
    return pd.concat(timeline, ignore_index=True), pd.DataFrame(totals)
