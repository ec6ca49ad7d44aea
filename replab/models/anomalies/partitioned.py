"""A partitioned (sharded) store whose partitions replicate independently: consistent prefix.

DDIA chapter 5's Mr. Poons and Mrs. Cake. Every partition has its own leader and
followers (asynchronous, FIFO, with its own independent replication delays). A
*conversation* ``i`` is a question written to key ``q{i}`` by an asker; an answerer reads
the question (from the leader of its partition) and then writes the answer to ``a{i}``.
Observers read from followers -- the answer, then the question -- each sticking to one
follower per partition. When ``q{i}`` and ``a{i}`` live in different partitions, an
observer can see the answer while the question's partition has not yet delivered the
question: the answer before its question, which the ``consistent-prefix`` checker finds
(the question happened before the answer: the answerer read it, then wrote).

Every conversation has a fresh asker and a fresh answerer session, so conversations are
causally independent of each other. ``mitigation="co-partition"`` places both keys of a
conversation in one partition (partitioning by conversation, not by key): the follower
that has the answer has the question, since the question is earlier in the same log.

>>> res = simulate_partitioned(PartitionedConfig(duration_ms=500.0), seed=1)
>>> res.metrics["conversations"] > 0
True
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from replab.checks import check_history, results_frame
from replab.history import History
from replab.models.anomalies.lag import LAG_DISTS, check_metrics, lag_distribution, p99_ci
from replab.models.final_reads import final_read_phase
from replab.models.single_leader.metrics import op_latencies
from replab.rng import SeedLike, spawn
from replab.sim import ClientPool, Network, Request, Response, Session, Simulation, Workload
from replab.sim.network import as_distribution
from replab.sim.node import Node
from replab.stats import percentile, wilson
from replab.validate import check_choice, check_float, check_int, fail

__all__ = ["PartitionedConfig", "PartitionedResult", "simulate_partitioned",
           "PARTITION_MITIGATIONS", "PARTITION_CHECKS", "partition_of"]

_OWNER = "PartitionedConfig"
PARTITION_MITIGATIONS = ("none", "co-partition")
PARTITION_CHECKS = ("stale-read", "monotonic-reads", "consistent-prefix")


def partition_of(key: str, partitions: int, *, co_partition: bool) -> int:
    """The partition of ``q{i}`` / ``a{i}``: by a hash of the key, or of the conversation."""
    name = f"conversation{key[1:]}" if co_partition else key
    return zlib.crc32(name.encode()) % partitions


@dataclass(frozen=True, kw_only=True)
class PartitionedConfig:
    """One run of the question/answer workload on a partitioned store (ms, per second).

    ``conversation_rate`` conversations start per second; the answerer reads the question
    an exponential ``think_ms`` after the question is acknowledged, and writes the answer
    as soon as it has read it. ``observers`` sessions poll at ``observe_rate`` per second
    in total, each poll reading the answer and then the question of a conversation begun
    in the last ``observe_window_ms``. Replication delays: :func:`lag_distribution`.
    """

    mitigation: str = "none"
    partitions: int = 2
    followers: int = 2
    lag_ms: float = 20.0
    lag_dist: str = "exp"
    net_delay: str = "0.5+exp:2"
    duration_ms: float = 4000.0
    conversation_rate: float = 50.0
    think_ms: float = 2.0
    observers: int = 4
    observe_rate: float = 200.0
    observe_window_ms: float = 300.0
    client_timeout_ms: float = 500.0

    def __post_init__(self) -> None:
        o = _OWNER
        check_choice(self.mitigation, "mitigation", o, PARTITION_MITIGATIONS)
        check_int(self.partitions, "partitions", o, low=1, high=64)
        check_int(self.followers, "followers", o, low=1, high=16)
        check_float(self.lag_ms, "lag_ms", o, low=0.0)
        check_choice(self.lag_dist, "lag_dist", o, LAG_DISTS)
        try:
            as_distribution(self.net_delay, o)
        except ValueError as e:
            raise fail("net_delay", o, "a latency spec such as '0.5+exp:2'",
                       self.net_delay) from e
        for name in ("duration_ms", "observe_window_ms", "client_timeout_ms"):
            check_float(getattr(self, name), name, o, low=0.0, low_open=True)
        for name in ("conversation_rate", "think_ms", "observe_rate"):
            check_float(getattr(self, name), name, o, low=0.0)
        check_int(self.observers, "observers", o, low=1)


@dataclass(frozen=True)
class PartitionedResult:
    """What a run produced.

    Attributes
    ----------
    config : PartitionedConfig
    history : History -- every client operation (``node`` like ``"p1.2"``: partition 1,
        replica 2; replica 0 leads).
    checks : DataFrame -- ``check, count, examined, rate, ci_low, ci_high`` for
        :data:`PARTITION_CHECKS`.
    metrics : dict -- the checks flattened (``consistent_prefix_rate`` ...), and
        ``conversations``, ``answered``, ``split_conversations`` (share of conversations
        whose keys are in two partitions), ``reads``, ``leader_read_share`` (+ CI),
        ``read_p50_ms``, ``read_p99_ms``, ``reads_failed``, ``read_failure_rate``,
        ``partition_write_imbalance`` (most writes on one partition over the mean).
    """

    config: PartitionedConfig
    history: History
    checks: pd.DataFrame
    metrics: dict[str, Any]


class ShardAppend(NamedTuple):
    """Leader -> follower of one partition: apply this write (FIFO links keep order)."""

    lsn: int
    key: str
    value: Any


class ShardReplica(Node):
    """A replica of one partition: replica 0 leads (takes writes), the others follow."""

    def __init__(self, network: Network, partition: int, index: int) -> None:
        super().__init__(network, f"p{partition}.{index}")
        self.leads = index == 0
        self.followers: list[str] = []
        self.data: dict[str, tuple[Any, int]] = {}
        self.lsn = 0
        self.writes = 0

    def on_Request(self, src: Any, req: Request) -> None:
        if req.f == "read":
            got = self.data.get(req.key)
            self.send(src, Response(req.op_id, "ok", None if got is None else got[0],
                                    node=self.id))
        elif not self.leads:
            self.send(src, Response(req.op_id, "fail", node=self.id))
        else:
            self.lsn += 1
            self.writes += 1
            self.data[req.key] = (req.value, self.lsn)
            self.broadcast(self.followers, ShardAppend(self.lsn, req.key, req.value))
            self.send(src, Response(req.op_id, "ok", version=self.lsn, node=self.id))

    def on_ShardAppend(self, src: Any, msg: ShardAppend) -> None:
        self.data[msg.key] = (msg.value, msg.lsn)
        self.lsn = msg.lsn


class Participant(Session):
    """A session that tells the driver when each of its operations completes."""

    role = "observer"
    conversation = -1

    def _complete(self, type_: str, value: Any, version: int | None, node: Any,
                  retire: bool = False) -> None:
        assert self.current is not None
        f = self.current[1]
        super()._complete(type_, value, version, node, retire)
        self.pool.driver.done(self, f, type_, value)  # type: ignore[attr-defined]


class _Store:
    """The partitions, the clients and the conversation driver of one run."""

    def __init__(self, cfg: PartitionedConfig, seed: SeedLike) -> None:
        net_rng, client_rng, self.rng = spawn(seed, 3)
        self.cfg = cfg
        self.sim = Simulation(seed=self.rng)
        self.network = Network(self.sim, delay=as_distribution(cfg.net_delay), rng=net_rng,
                               fifo=True)
        lag = lag_distribution(cfg.lag_ms, cfg.lag_dist)
        self.shards = [[ShardReplica(self.network, p, r) for r in range(cfg.followers + 1)]
                       for p in range(cfg.partitions)]
        for replicas in self.shards:
            replicas[0].followers = [str(f.id) for f in replicas[1:]]
            for f in replicas[1:]:
                self.network.set_link(replicas[0].id, f.id, delay=lag)
        workload = Workload(write_rate=0.0, read_rate=0.0, users=cfg.observers,
                            timeout_ms=cfg.client_timeout_ms, stop_ms=cfg.duration_ms)
        self.pool = _ParticipantPool(self.network, workload, self.route, rng=client_rng)
        self.pool.driver = self
        self.started: list[float] = []  # conversation -> start time
        self.answered = 0
        self.values = 0

    # -- routing ---------------------------------------------------------------------
    def partition(self, key: str) -> int:
        return partition_of(key, self.cfg.partitions,
                            co_partition=self.cfg.mitigation == "co-partition")

    def route(self, session: Session, f: str, key: str) -> Any:
        replicas = self.shards[self.partition(key)]
        if f == "write" or getattr(session, "role", "") == "answerer":
            return replicas[0].id
        ranked = max(range(1, len(replicas)),
                     key=lambda r: (zlib.crc32(f"{session.id}/{replicas[r].id}".encode()), r))
        return replicas[ranked].id

    # -- the workload ------------------------------------------------------------------
    def start(self) -> None:
        if self.cfg.conversation_rate > 0:
            self.sim.schedule(self._gap(self.cfg.conversation_rate), self._converse)
        if self.cfg.observe_rate > 0:
            self.sim.schedule(self._gap(self.cfg.observe_rate), self._observe)

    def _gap(self, rate: float) -> float:
        return float(self.rng.exponential(1000.0 / rate))

    def _participant(self, role: str, conversation: int) -> Participant:
        process = len(self.pool.process_user)
        s = Participant(self.pool, process, process, 0)
        s.role, s.conversation = role, conversation
        self.pool.process_user[process] = process
        return s

    def _value(self) -> int:
        self.values += 1
        return self.values

    def _converse(self) -> None:
        i = len(self.started)
        self.started.append(self.sim.now)
        self._participant("asker", i).submit("write", f"q{i}", self._value())
        nxt = self.sim.now + self._gap(self.cfg.conversation_rate)
        if nxt < self.cfg.duration_ms:
            self.sim.schedule_at(nxt, self._converse)

    def _observe(self) -> None:
        now = self.sim.now
        recent = [i for i in range(len(self.started) - 1, -1, -1)
                  if now - self.started[i] <= self.cfg.observe_window_ms]
        if recent:
            i = recent[int(self.rng.integers(len(recent)))]
            who = self.pool.sessions[int(self.rng.integers(len(self.pool.sessions)))]
            who.submit("read", f"a{i}", None)
            who.submit("read", f"q{i}", None)
        nxt = now + self._gap(self.cfg.observe_rate)
        if nxt < self.cfg.duration_ms:
            self.sim.schedule_at(nxt, self._observe)

    def done(self, s: Participant, f: str, type_: str, value: Any) -> None:
        i = s.conversation
        if s.role == "asker" and type_ == "ok":
            think = float(self.rng.exponential(self.cfg.think_ms)) if self.cfg.think_ms else 0.0
            answerer = self._participant("answerer", i)
            self.sim.schedule(think, answerer.submit, "read", f"q{i}", None)
        elif s.role == "answerer" and f == "read" and type_ == "ok" and value is not None:
            self.answered += 1
            s.submit("write", f"a{i}", self._value())

    def run(self) -> PartitionedResult:
        self.start()
        self.sim.run()  # nothing repeats forever: arrivals stop, every operation ends
        h = self.pool.history
        checks = results_frame(check_history(h, list(PARTITION_CHECKS)))
        metrics = {**check_metrics(checks), **self._metrics(h)}
        # after the metrics, which keep their meaning; the history ends as Jepsen's do
        final_read_phase(h, self.sim, self.network,
                         [(r.id, r, _reader(r)) for replicas in self.shards for r in replicas],
                         settle_ms=None)  # the run went on until nothing was left to do
        return PartitionedResult(config=self.cfg, history=h, checks=checks, metrics=metrics)

    def _metrics(self, h: History) -> dict[str, Any]:
        df, lat = h.df, op_latencies(h)
        n = len(self.started)
        split = sum(self.partition(f"q{i}") != self.partition(f"a{i}") for i in range(n))
        ok = df[(df["type"] == "ok") & (df["f"] == "read")] if len(df) else df
        leaders = {str(r[0].id) for r in self.shards}
        on_leader = int(ok["node"].isin(leaders).sum()) if len(ok) else 0
        lo, hi = wilson(on_leader, len(ok))
        reads = lat[lat.f == "read"]
        latency = reads[reads.type == "ok"].latency_ms.to_numpy()
        failed = int((reads.type != "ok").sum()) + self.pool.abandoned["read"]
        writes = np.array([r[0].writes for r in self.shards], dtype=float)
        return {
            "conversations": n, "answered": self.answered,
            "split_conversations": split / n if n else math.nan,
            "reads": len(reads) + self.pool.abandoned["read"],
            "leader_read_share": on_leader / len(ok) if len(ok) else math.nan,
            "leader_read_share_ci_low": float(lo), "leader_read_share_ci_high": float(hi),
            "read_p50_ms": percentile(latency, 50),
            "read_p99_ms": percentile(latency, 99), **p99_ci(latency),
            "reads_failed": failed,
            "read_failure_rate": failed / len(reads) if len(reads) else math.nan,
            "partition_write_imbalance": float(writes.max() / writes.mean())
            if writes.sum() else math.nan,
        }


def _reader(replica: ShardReplica) -> Any:
    def read(key: str) -> tuple[Any, None] | None:
        got = replica.data.get(key)
        return None if got is None else (got[0], None)
    return read


class _ParticipantPool(ClientPool):
    session_class = Participant
    driver: _Store


def simulate_partitioned(
    config: PartitionedConfig | None = None, *, seed: SeedLike = None
) -> PartitionedResult:
    """Run the question/answer workload once; same config and seed -> same result."""
    config = PartitionedConfig() if config is None else config
    if not isinstance(config, PartitionedConfig):
        raise fail("config", "simulate_partitioned", "a PartitionedConfig", config)
    return _Store(config, seed).run()
