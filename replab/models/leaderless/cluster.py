"""Leaderless replication (Dynamo, Riak, Cassandra, Voldemort), message by message.

Clients send each operation to a coordinator, which sends it to all ``n`` home replicas
of the key (a consistent-hashing ring with virtual nodes) and answers after ``w`` acks
or ``r`` responses, or fails at its timeout. Strict or sloppy quorums with hinted
handoff, read repair and Merkle-tree anti-entropy, several datacenters with local
quorums, last-write-wins on skewed clocks or version vectors with siblings. The ``pbs``
workload runs the WARS experiment (one write, one read ``read_delay`` ms after it
commits, fresh keys) and is cross-checked against :func:`replab.quorum.staleness`.

>>> res = simulate_leaderless(LeaderlessConfig(duration_ms=300.0), seed=1)
>>> res.metrics["stale_reads"], res.metrics["write_availability"]
(0, 1.0)
>>> pbs = simulate_leaderless(LeaderlessConfig(workload="pbs", trials=200, r=1, w=1), seed=1)
>>> pbs.metrics["trials"], 0.0 <= pbs.metrics["stale_read_rate"] <= 1.0
(200, True)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from replab.latency import as_wars
from replab.models.final_reads import final_read_phase
from replab.models.leaderless.attempts import FirstAttempts, ProbedPool, probe_quorum
from replab.models.leaderless.book import Draws, WriteMeta
from replab.models.leaderless.config import LeaderlessConfig
from replab.models.leaderless.coord import Op
from replab.models.leaderless.metrics import LeaderlessResult
from replab.models.leaderless.monitor import StalenessMonitor
from replab.models.leaderless.pbs import PbsDriver
from replab.models.leaderless.replica import Replica
from replab.models.leaderless.ring import Ring
from replab.models.leaderless.summary import finish_clients
from replab.models.leaderless.versions import (
    Version,
    Versions,
    merger,
    read_value,
)
from replab.rng import SeedLike, spawn
from replab.sim import (
    ClientPool,
    Fault,
    Network,
    PhysicalClock,
    Session,
    Simulation,
    VersionVector,
    Workload,
    apply_faults,
    as_distribution,
    as_faults,
    random_faults,
)
from replab.sim.node import Node
from replab.validate import fail

__all__ = ["Cluster", "build_leaderless", "simulate_leaderless", "leaderless_metrics"]

class Cluster:
    """A built (not yet run) leaderless system; tests and scenarios may poke at it."""

    def __init__(self, config: LeaderlessConfig, seed: SeedLike = None) -> None:
        if not isinstance(config, LeaderlessConfig):
            raise fail("config", "simulate_leaderless", "a LeaderlessConfig", config)
        self.config = cfg = config
        net_rng, client_rng, self.rng, fault_rng, delay_rng, clock_rng = spawn(seed, 6)
        self.sim = Simulation(seed=self.rng)
        self.network = Network(self.sim, delay=as_distribution(cfg.client_delay), loss=cfg.loss,
                               rng=net_rng, trace=cfg.trace_messages)
        self.pbs = cfg.workload == "pbs"
        self.resolution = cfg.resolution
        self.merge = merger(cfg.resolution)
        self.n, self.r, self.w = cfg.n, cfg.r, cfg.w
        self.request_timeout: float | None = None if self.pbs else cfg.request_timeout_ms
        wars = as_wars(cfg.latency)
        self._draw = {k: Draws(getattr(wars, k), delay_rng) for k in "WARS"}
        self._build_rings()
        self._init_state()
        self.replicas = [Replica(self, i, i // cfg.nodes) for i in self.replicas_ids]
        self._wire_links()
        self._skew_clocks(clock_rng, self.replicas)
        self.pools: list[ClientPool] = []
        self.session_dc: dict[Any, int] = {}
        self.monitor: StalenessMonitor | None = None
        self.driver: PbsDriver | None = None
        if self.pbs:
            self.driver = PbsDriver(self, client_rng, wars)
            self._skew_clocks(clock_rng, self.driver.coordinators)
        else:
            self.add_clients(Workload(
                write_rate=cfg.write_rate, read_rate=cfg.read_rate, keys=cfg.keys,
                key_dist=cfg.key_dist, zipf_s=cfg.zipf_s, users=cfg.sessions,
                timeout_ms=cfg.client_timeout_ms, stop_ms=cfg.duration_ms), rng=client_rng)
            apply_faults(self.network, self.fault_schedule(fault_rng))
            self.monitor = StalenessMonitor(self, cfg.sample_interval_ms)

    # -- construction ---------------------------------------------------------------------
    def _build_rings(self) -> None:
        cfg = self.config
        self.replicas_ids = list(range(cfg.nodes * cfg.datacenters))
        self.rings = [Ring(self.replicas_ids[d * cfg.nodes:(d + 1) * cfg.nodes], cfg.vnodes)
                      for d in range(cfg.datacenters)]
        self._homes: dict[str, tuple] = {}

    def _init_state(self) -> None:
        self.op_ids = self.ae_round_ids = 0
        self.writes: list[WriteMeta] = []
        self.key_writes: dict[str, list[WriteMeta]] = {}
        self.value_ids: dict[tuple[str, Any], int] = {}
        self.actor_counts: dict[tuple[Any, Any], int] = {}  # (actor, key or None) -> dots
        self.hinted: list[tuple[Any, Any, str, Version]] = []  # (fallback, home, key, version)
        self.read_repairs = self.hinted_handoffs = 0
        self.read_repair_bytes = 0  # what read repair wrote back (version_bytes)
        self.ae_rounds: list[tuple] = []
        self.ae_sent: dict[int, list[Any]] = {}  # round -> [messages, bytes, node, peer]
        self.pbs_down: set[tuple[int, str]] = set()
        self.attempts = FirstAttempts()

    def _wire_links(self) -> None:
        cfg = self.config
        zero = as_distribution(0.0)
        wan = as_distribution(cfg.wan_delay_ms)
        for a in self.replicas_ids:
            for b in self.replicas_ids:
                same = a // cfg.nodes == b // cfg.nodes
                self.network.set_link(a, b, delay=zero if same else wan)

    def _skew_clocks(self, rng: np.random.Generator, nodes: Iterable[Node]) -> None:
        s = self.config.clock_skew_ms
        for node in nodes:
            offset = float(rng.uniform(-s / 2, s / 2)) if s > 0 else 0.0
            node.clock = PhysicalClock(self.sim, offset_ms=offset)

    def add_clients(self, workload: Workload, *, rng: np.random.Generator | None = None,
                    prefix: str = "c") -> ClientPool:
        """Attach a pool of client sessions (session ``i`` lives in datacenter ``i % dcs``)."""
        history = self.pools[0].history if self.pools else None
        pool = ProbedPool(self.network, workload, self.route,
                          rng=self.rng if rng is None else rng, history=history, prefix=prefix)
        pool.probe = self.probe_first_attempt
        for session in pool.sessions:
            session.with_context = self.resolution == "siblings"  # type: ignore[attr-defined]
        for i, s in enumerate(pool.sessions):
            self.session_dc[s.id] = i % self.config.datacenters
        self.pools.append(pool)
        return pool

    def probe_first_attempt(self, session: Session, f: str, key: str) -> None:
        """At an arrival: could a coordinator form this operation's quorum right now?"""
        probe_quorum(self, session, f, key)

    def fault_schedule(self, rng: np.random.Generator) -> list[Fault]:
        """``config.faults`` plus random crashes for ``p_fail``."""
        cfg, out = self.config, list(as_faults(self.config.faults))
        if cfg.p_fail > 0:
            uptime = cfg.mean_downtime_ms * (1 - cfg.p_fail) / cfg.p_fail
            out += random_faults(self.replicas_ids, cfg.duration_ms, seed=rng,
                                 crash_rate=1000.0 / uptime,
                                 mean_downtime_ms=cfg.mean_downtime_ms)
        return as_faults(out)

    # -- placement and routing --------------------------------------------------------------
    def dc_of(self, node: Any) -> int:
        return node // self.config.nodes if isinstance(node, int) else 0

    def home_all(self, key: str) -> tuple:
        """The key's home replicas in every datacenter."""
        homes = self._homes.get(key)
        if homes is None:
            homes = tuple(x for ring in self.rings for x in ring.home(key, self.n))
            if len(self._homes) < 200_000:
                self._homes[key] = homes
        return homes

    def walk_all(self, key: str) -> tuple:
        """Every node in ring order from the key, datacenter by datacenter."""
        return tuple(x for ring in self.rings for x in ring.walk(key))

    def healthy(self, src: Any, dst: Any) -> bool:
        """The failure detector (an oracle): ``dst`` is up and reachable both ways."""
        node = self.network.nodes.get(dst)
        if node is None or not node.up:
            return False
        net = self.network
        return not (net.blocked(src, dst) or net.blocked(dst, src))

    def _targets(self, coord: Any, key: str, rings: list[Ring]) -> list[tuple[Any, Any]]:
        n = self.n
        if not self.config.sloppy:
            if len(rings) == len(self.rings):
                return [(h, None) for h in self.home_all(key)]
            return [(h, None) for ring in rings for h in ring.home(key, n)]
        out: list[tuple[Any, Any]] = []
        for ring in rings:
            walk = ring.walk(key)
            spare = [x for x in walk[n:] if self.healthy(coord, x)]
            for h in walk[:n]:
                if self.healthy(coord, h):
                    out.append((h, None))
                elif spare:
                    out.append((spare.pop(0), h))
        return out

    def write_targets(self, coord: Any, key: str) -> list[tuple[Any, Any]]:
        """(node, hint) pairs a write goes to: the home replicas of every datacenter."""
        return self._targets(coord, key, self.rings)

    def read_targets(self, coord: Any, key: str) -> list[tuple[Any, Any]]:
        """(node, hint) pairs a read asks: local datacenter only with local quorums."""
        if self.config.local_quorum and len(self.rings) > 1:
            return self._targets(coord, key, [self.rings[self.dc_of(coord)]])
        return self._targets(coord, key, self.rings)

    def counted(self, coord: Any, targets: list[tuple[Any, Any]]) -> frozenset:
        """The targets whose answers count towards the quorum."""
        if self.config.local_quorum and len(self.rings) > 1:
            dc = self.dc_of(coord)
            return frozenset(t for t, _ in targets if self.dc_of(t) == dc)
        return frozenset(t for t, _ in targets)

    def route(self, session: Session, f: str, key: str) -> Any:
        """The coordinator a client session sends this operation to (None: none reachable)."""
        dc = self.session_dc[session.id]
        ring = self.rings[dc]
        per_replica = self.resolution == "siblings" and self.config.version_vectors == "replica"
        if self.config.coordinator == "preference" or (f == "write" and per_replica):
            # Riak: a write is coordinated by a replica of the key (its dot's actor)
            return next((x for x in ring.walk(key) if self.healthy(session.id, x)), None)
        up = [x for x in ring.nodes if self.healthy(session.id, x)]
        return up[int(self.rng.integers(len(up)))] if up else None

    def transmit(self, node: Node, dst: Any, msg: Any, kind: str) -> None:
        """Send with the delay of the message's WARS kind (links add only WAN delays)."""
        if self.pbs:
            node.send(dst, msg)  # the pbs links carry their kind's delay themselves
        else:
            node.set_timer(self._draw[kind](), node.send, dst, msg)

    def draw_read_repair(self) -> bool:
        p = self.config.read_repair_chance
        return p >= 1.0 or (p > 0.0 and float(self.rng.random()) < p)

    # -- versions and bookkeeping -----------------------------------------------------------
    def new_version(self, coord: Node, actor: Any, key: str, value: Any,
                    context: VersionVector | None = None,
                    min_ts: float = float("-inf")) -> Version:
        """The version a coordinator gives a new write: a timestamp, or the client's
        ``context`` plus a new dot -- ``(coordinator, counter)`` with one counter per
        replica and key (dotted version vectors, Riak 2.0), or ``(client, counter)``
        with ``version_vectors="client"``. The timestamp is at least ``min_ts`` (a write
        that read first); ties go to the newer write id."""
        wid = len(self.writes) + 1
        vv = dot = past = None
        if self.resolution == "siblings":
            slot = (actor, None) if self.config.version_vectors == "client" else (coord.id, key)
            count = self.actor_counts.get(slot, 0) + 1
            self.actor_counts[slot] = count
            dot = (slot[0], count)
            past = context or VersionVector()
            vv = past.merge({slot[0]: count})
        v = Version(wid, value, max(coord.clock.now(), min_ts), vv, dot, past)
        self.writes.append(WriteMeta(v, key, actor, coord.id, self.sim.now))
        self.value_ids[(key, value)] = wid
        return v

    def note_stored(self, key: str, versions: Versions) -> None:
        for v in versions:
            meta = self.writes[v.write_id - 1]
            if meta.first_stored is None:
                meta.first_stored = self.sim.now
                if not self.pbs:
                    self.key_writes.setdefault(key, []).append(meta)

    def note_hint(self, fallback: Any, home: Any, key: str, versions: Versions) -> None:
        for v in versions:
            self.hinted.append((fallback, home, key, v))

    def note_ae_message(self, round_id: int, nbytes: int, node: Any, peer: Any) -> None:
        """Count one anti-entropy message of a round (and its bytes)."""
        sent = self.ae_sent.setdefault(round_id, [0, 0, node, peer])
        sent[0] += 1
        sent[1] += nbytes

    def end_ae_round(self, round_id: int, node: Any, peer: Any, leaves: int,
                     keys: int) -> None:
        """A round is over: record what it cost (a SyncData reply is already counted)."""
        messages, nbytes, _, _ = self.ae_sent.pop(round_id, [0, 0, node, peer])
        self.ae_rounds.append((self.sim.now, node, peer, leaves, keys, nbytes, messages))

    def flush_ae_rounds(self) -> None:
        """Rounds cut short (a crash, a lost message) still cost what they sent."""
        for messages, nbytes, node, peer in self.ae_sent.values():
            self.ae_rounds.append((self.sim.now, node, peer, 0, 0, nbytes, messages))
        self.ae_sent.clear()

    def client_value(self, op: Op, versions: Versions) -> Any:
        return read_value(versions) if op.f == "read" else None

    # -- state of the data ------------------------------------------------------------------
    def held(self, node: int, key: str) -> Versions:
        return self.replicas[node].store.get(key, ())

    def final_state(self, key: str) -> Versions:
        """Everything any node holds for ``key`` (its data and its hints), merged."""
        out: Versions = ()
        for rep in self.replicas:
            out = self.merge(out, rep.store.get(key, ()))
            for held in rep.hints.values():
                out = self.merge(out, held.get(key, ()))
        return out

    def hints_pending(self) -> int:
        return sum(len(h) for rep in self.replicas for h in rep.hints.values())

    @property
    def end_time(self) -> float:
        cfg = self.config
        return cfg.duration_ms + cfg.client_timeout_ms + cfg.settle_ms

    def run(self) -> LeaderlessResult:
        """Run to the end and collect the result."""
        if self.driver is not None:
            return self.driver.run()
        for pool in self.pools:
            pool.start()
        self.sim.run(until=self.end_time)
        result = finish_clients(self)
        if self.pools:  # after the metrics, which keep their meaning
            final_read_phase(self.pools[0].history, self.sim, self.network,
                             [(rep.id, rep, self._final_reader(rep)) for rep in self.replicas],
                             settle_ms=None)  # the run ended with the config's settle_ms
        return result

    def _final_reader(self, rep: Replica) -> Any:
        """What ``rep`` holds for a key (its data and its hints), read when called."""
        def read(key: str) -> tuple[Any, None] | None:
            held = rep.store.get(key, ())
            for hinted in rep.hints.values():
                held = self.merge(held, hinted.get(key, ()))
            return (read_value(held), None) if held else None
        return read


def build_leaderless(config: LeaderlessConfig, *, seed: SeedLike = None) -> Cluster:
    """Build the system without running it (to add clients, faults, probes, ...)."""
    return Cluster(config, seed)


def simulate_leaderless(
    config: LeaderlessConfig | None = None, *, seed: SeedLike = None
) -> LeaderlessResult:
    """Run one leaderless simulation; same config and seed -> identical result.

    Returns a :class:`LeaderlessResult` with ``history``, flat ``metrics`` and tidy frames
    (``staleness``, ``writes``, ``anti_entropy``, ``trials`` for pbs, ``events``).
    """
    return Cluster(LeaderlessConfig() if config is None else config, seed).run()


def leaderless_metrics(*, seed: SeedLike = None, **settings: Any) -> dict[str, Any]:
    """The metrics of one run configured by keyword settings (handy for ``replab.sweep``).

    >>> from replab.sweep import sweep
    >>> df = sweep(leaderless_metrics, {"p_fail": [0.0], "duration_ms": [200.0]}, seed=1)
    >>> float(df.write_availability.iloc[0])
    1.0
    """
    return simulate_leaderless(LeaderlessConfig(**settings), seed=seed).metrics
