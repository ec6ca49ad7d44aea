"""Leader-based replication with failover (DDIA chapter 5, "Leaders and Followers").

One leader takes the writes and streams its log to the followers, which apply it in
order. Modes: ``async`` (acknowledge once the leader has the write), ``sync`` (once every
member follower has it) and ``semi-sync`` (once ``sync_followers`` followers have it; a
synchronous follower that is down or slow is swapped for the best asynchronous one).

A controller (:mod:`replab.models.single_leader.controller`) watches heartbeats and fails over
to the most up-to-date follower under a new epoch; clients are redirected; a deposed
leader rejoins as a follower, truncating what the new leader never had. With
``fencing`` every message carries its epoch and a leader only serves under a lease, so
two leaders never accept writes at the same time; without it a partitioned or paused
leader keeps acknowledging writes that are later thrown away (split brain). ``stonith``
shoots the other leader when two meet: ``naive`` can take both down, ``epoch`` only the
stale one.

>>> res = simulate_single_leader(SingleLeaderConfig(duration_ms=300.0), seed=1)
>>> res.metrics["acked_writes_lost"], res.metrics["failovers"]
(0, 0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from replab.models.final_reads import final_read_phase
from replab.models.single_leader.config import SingleLeaderConfig, SingleLeaderResult
from replab.models.single_leader.controller import Controller
from replab.models.single_leader.metrics import (
    LagSampler,
    lost_writes,
    summarize,
)
from replab.models.single_leader.replica import CONTROLLER, Replica
from replab.rng import SeedLike, spawn
from replab.sim import (
    ClientPool,
    Fault,
    Network,
    Session,
    Simulation,
    Workload,
    apply_faults,
    as_distribution,
    as_faults,
    random_faults,
)
from replab.validate import fail

__all__ = ["Cluster", "build_single_leader", "simulate_single_leader"]


class Cluster:
    """A built (not yet run) single-leader system; tests and notebooks may poke at it."""

    def __init__(self, config: SingleLeaderConfig, seed: SeedLike = None) -> None:
        if not isinstance(config, SingleLeaderConfig):
            raise fail("config", "simulate_single_leader", "a SingleLeaderConfig", config)
        self.config = cfg = config
        net_rng, client_rng, self.rng, fault_rng = spawn(seed, 4)
        self.sim = Simulation(seed=self.rng)
        self.network = Network(self.sim, delay=as_distribution(cfg.net_delay), loss=cfg.loss,
                               fifo=cfg.fifo, rng=net_rng, trace=cfg.trace_messages,
                               lose_in_flight=True)
        self.lease_ms = cfg.lease_ms if cfg.lease_ms is not None else 0.75 * cfg.failover_timeout_ms
        self.replica_ids = list(range(cfg.followers + 1))
        n = cfg.followers + 1 + (cfg.add_follower_at_ms is not None)
        self.replicas = [self.make_replica(i, joined=i <= cfg.followers) for i in range(n)]
        lag = as_distribution(cfg.lag)
        for a in range(n):
            for b in range(n):
                if a != b:
                    self.network.set_link(a, b, delay=lag)
        self.controller = Controller(self)
        self.split_brain_writes = self.unnecessary_failovers = 0
        self.max_epoch = 1
        self.promotions: list[tuple[float, int, int]] = []
        self.accepts: dict[int, list[float]] = {}  # epoch -> [first, last, node]
        self.catch_up_ms: list[float] = []
        self.truncated: list[tuple[float, int, Any]] = []
        self.leader_crash_time: float | None = None
        for f in self.replica_ids[1:]:
            self.replicas[f].leader, self.replicas[f].synced = 0, True
        self.replicas[0].become_leader(1, tuple(self.replica_ids[1:]))
        self.replicas[0].lease_until = self.lease_ms
        workload = Workload(write_rate=cfg.write_rate, read_rate=cfg.read_rate, keys=cfg.keys,
                            key_dist=cfg.key_dist, users=cfg.sessions,
                            devices_per_user=cfg.devices_per_user,
                            timeout_ms=cfg.client_timeout_ms, stop_ms=cfg.duration_ms)
        self.pool = self.make_pool(workload, client_rng)
        apply_faults(self.network, self.fault_schedule(fault_rng))
        if cfg.add_follower_at_ms is not None:
            self.sim.schedule_at(cfg.add_follower_at_ms, self._add_follower)
        self.sampler = LagSampler(self, cfg.sample_interval_ms)

    # -- wiring ---------------------------------------------------------------------------
    def make_replica(self, node_id: int, *, joined: bool) -> Replica:
        """Build one replica (a hook: models built on this one swap in a subclass)."""
        return Replica(self, node_id, joined=joined)

    def make_pool(self, workload: Workload, rng: Any) -> ClientPool:
        """Build the client sessions (a hook, like :meth:`make_replica`)."""
        return ClientPool(self.network, workload, self.route, rng=rng)

    def peers(self, node: int) -> list[int]:
        return [r for r in self.replica_ids if r != node]

    def route(self, session: Session, f: str, key: str) -> Any:
        rf = self.config.read_from
        if f == "read" and rf == "sticky":
            return self.replica_ids[int(session.id[1:]) % len(self.replica_ids)]
        if f == "read" and rf == "random":
            return self.replica_ids[int(self.rng.integers(len(self.replica_ids)))]
        return session.hint if session.hint is not None else self.controller.route()

    def fault_schedule(self, rng: Any) -> list[Fault]:
        """The config's scenario as fault data (plus ``config.faults``)."""
        cfg, out = self.config, list(as_faults(self.config.faults))
        if cfg.leader_crash_at_ms is not None:
            out.append(Fault(cfg.leader_crash_at_ms, "crash", {"node": 0}))
            self.sim.schedule_at(cfg.leader_crash_at_ms, self._note_leader_crash)
            if cfg.leader_restart_after_ms is not None:
                t = cfg.leader_crash_at_ms + cfg.leader_restart_after_ms
                out.append(Fault(t, "restart", {"node": 0}))
        if cfg.follower_crash_at_ms is not None:
            out.append(Fault(cfg.follower_crash_at_ms, "crash", {"node": 1}))
            if cfg.follower_restart_after_ms is not None:
                t = cfg.follower_crash_at_ms + cfg.follower_restart_after_ms
                out.append(Fault(t, "restart", {"node": 1}))
        if cfg.partition_at_ms is not None:
            ids = self.pool.ids  # half of the clients stay with the old leader
            side = [0, *ids[::2]]
            rest = [*self.replica_ids[1:], CONTROLLER, *ids[1::2]]
            out.append(Fault(cfg.partition_at_ms, "partition",
                             {"groups": [side, rest], "duration_ms": cfg.partition_ms,
                              "name": "leader-cut-off"}))
        if cfg.pause_leader_at_ms is not None:
            out.append(Fault(cfg.pause_leader_at_ms, "pause",
                             {"node": 0, "duration_ms": cfg.pause_ms}))
        if cfg.spike_rate > 0:
            out += random_faults(self.replica_ids, cfg.duration_ms, seed=rng,
                                 slow_rate=cfg.spike_rate, slow_extra_ms=cfg.spike_ms,
                                 mean_slow_ms=cfg.spike_duration_ms)
        return as_faults(out)

    def _note_leader_crash(self) -> None:
        if self.leader_crash_time is None:
            self.leader_crash_time = self.sim.now

    def _add_follower(self) -> None:
        new = len(self.replica_ids)
        self.replica_ids.append(new)
        self.network.record("join", new)
        self.replicas[new].join()

    # -- statistics the replicas report -------------------------------------------------
    def note_promotion(self, node: int, epoch: int) -> None:
        if epoch > self.max_epoch or not self.promotions:
            self.max_epoch = max(self.max_epoch, epoch)
            self.promotions.append((self.sim.now, epoch, node))
            self.network.record("leader", node, epoch=epoch)

    def note_ack(self, node: int, epoch: int, lsn: int) -> None:
        if epoch < self.max_epoch:
            self.split_brain_writes += 1
        window = self.accepts.setdefault(epoch, [self.sim.now, self.sim.now, node])
        window[1] = self.sim.now

    def note_failover(self, old: int, new: int, epoch: int, votes: dict) -> None:
        needless = self.replicas[old].up
        self.unnecessary_failovers += needless
        self.network.record("elect", new, peer=old, epoch=epoch,
                            detail=f"votes {votes}" + (" (unnecessary)" if needless else ""))

    def note_truncation(self, node: int, dropped: list) -> None:
        for e in dropped:
            self.truncated.append((self.sim.now, node, e))
        self.network.record("truncate", node, detail=f"{len(dropped)} entries dropped")

    def note_caught_up(self, node: int, ms: float) -> None:
        self.catch_up_ms.append(ms)

    def node(self, node_id: int) -> Replica:
        return self.replicas[node_id]

    # -- derived numbers -------------------------------------------------------------------
    def failover_ms(self) -> float:
        """From the first leader's crash to the next promotion (NaN if none)."""
        t0 = self.leader_crash_time
        later = [t for t, e, _ in self.promotions if t0 is not None and t >= t0 and e > 1]
        return later[0] - t0 if later and t0 is not None else math.nan

    def unavailable_ms(self, lat: pd.DataFrame) -> float:
        """From the leader's crash to the first write acknowledged after it (NaN if none)."""
        t0 = self.leader_crash_time
        if t0 is None:
            return math.nan
        done = lat[(lat.f == "write") & (lat.type == "ok")]
        ends = (done.start + done.latency_ms)
        ends = ends[ends > t0]
        return float(ends.min() - t0) if len(ends) else math.nan

    def run(self, final_reads: bool = True) -> SingleLeaderResult:
        """Run to the end: arrivals stop at ``duration_ms``; every operation then completes
        (a queued one starts within the client timeout or is abandoned, and a started
        one ends within it), so the history has no pending operation. The metrics are
        taken then; with ``final_reads`` the history ends with :meth:`final_reads`."""
        self.pool.start()
        self.sim.run(until=self.config.duration_ms + 2 * self.config.client_timeout_ms + 1.0)
        lag = self.sampler.frame()
        final = self.replicas[self.controller.leader].log
        result = SingleLeaderResult(
            config=self.config, history=self.pool.history, metrics=summarize(self, lag),
            lag=lag, events=self.network.events_frame(),
            lost=lost_writes(self.pool.history, final),
        )
        if final_reads:  # after the metrics, which keep their meaning
            self.final_reads()
        return result

    def final_reads(self) -> float:
        """End the history as Jepsen's end: heal, settle, read every key on every replica
        that is up (:func:`~replab.models.final_reads.final_read_phase`)."""
        return final_read_phase(self.pool.history, self.sim, self.network,
                                [(i, r, _reader(r)) for i, r in enumerate(self.replicas)
                                 if i in self.replica_ids])


def _reader(replica: Replica) -> Callable[[str], tuple[Any, int] | None]:
    """Reads the replica's data as it is when called (``data`` is replaced on truncation)."""
    return lambda key: replica.data.get(key)


def build_single_leader(config: SingleLeaderConfig, *, seed: SeedLike = None) -> Cluster:
    """Build the system without running it (to schedule probes, inspect nodes, ...)."""
    return Cluster(config, seed)


def simulate_single_leader(
    config: SingleLeaderConfig | None = None, *, seed: SeedLike = None
) -> SingleLeaderResult:
    """Run one single-leader simulation; same config and seed -> identical result."""
    return Cluster(SingleLeaderConfig() if config is None else config, seed).run()
