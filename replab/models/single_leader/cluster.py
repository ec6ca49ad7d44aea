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
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from replab.history import History
from replab.latency import Distribution
from replab.models.single_leader.controller import Controller
from replab.models.single_leader.log import VERSION_EPOCH, epoch_of, lsn_of, version_of
from replab.models.single_leader.metrics import (
    LAG_COLUMNS,
    LagSampler,
    lost_writes,
    op_latencies,
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
from replab.validate import check_bool, check_choice, check_float, check_int, check_prob, fail

__all__ = [
    "SingleLeaderConfig",
    "SingleLeaderResult",
    "Cluster",
    "build_single_leader",
    "simulate_single_leader",
    "MODES",
    "LAG_COLUMNS",
    "VERSION_EPOCH",
    "version_of",
    "lsn_of",
    "epoch_of",
    "lost_writes",
    "op_latencies",
]

MODES = ("async", "sync", "semi-sync")
_OWNER = "SingleLeaderConfig"


def _opt_time(value: Any, name: str) -> None:
    if value is not None:
        check_float(value, name, _OWNER, low=0.0)


@dataclass(frozen=True, kw_only=True)
class SingleLeaderConfig:
    """Every knob of a single-leader run (times in ms, rates per second).

    Replicas are ``0`` (the first leader) to ``followers``; the controller is ``"ctl"``;
    client sessions are ``"c0"``, ``"c1"``, ... Scenario knobs that are ``None`` are off.
    ``lag`` is the delay of replica-to-replica messages, ``net_delay`` of all others; what
    a node sent and is still on its way when it crashes is lost (it was in its buffers).
    ``read_from``: ``leader``, ``sticky`` (each session always reads the same replica)
    or ``random`` (any replica per read). ``lease_ms`` defaults to 0.75 *
    ``failover_timeout_ms``. ``partition_at_ms`` cuts the first leader and the even
    client sessions off from the other replicas, the controller and the odd sessions
    for ``partition_ms``.
    ``spike_rate`` is delay spikes per second per replica, each adding an exponential
    extra delay (mean ``spike_ms``) for an exponential time (mean ``spike_duration_ms``).
    ``faults`` is any extra schedule of ``(time, action, args)``.
    """

    mode: str = "async"
    followers: int = 2
    sync_followers: int = 1
    duration_ms: float = 2000.0
    write_rate: float = 100.0
    read_rate: float = 100.0
    read_from: str = "leader"
    keys: int = 10
    key_dist: str = "uniform"
    sessions: int = 8
    devices_per_user: int = 1
    lag: str | Distribution = "2+exp:0.2"
    net_delay: str | Distribution = "0.5+exp:2"
    loss: float = 0.0
    fifo: bool = True
    client_timeout_ms: float = 500.0
    heartbeat_interval_ms: float = 50.0
    failover_timeout_ms: float = 300.0
    election_window_ms: float = 20.0
    lease_ms: float | None = None
    sync_timeout_ms: float = 200.0
    leader_crash_at_ms: float | None = None
    leader_restart_after_ms: float | None = None
    follower_crash_at_ms: float | None = None
    follower_restart_after_ms: float | None = 300.0
    add_follower_at_ms: float | None = None
    snapshot_ms_per_key: float = 1.0
    partition_at_ms: float | None = None
    partition_ms: float = 1000.0
    pause_leader_at_ms: float | None = None
    pause_ms: float = 1000.0
    fencing: bool = True
    stonith: str = "off"
    stonith_delay_ms: float = 100.0
    spike_rate: float = 0.0
    spike_ms: float = 300.0
    spike_duration_ms: float = 100.0
    faults: tuple = ()
    sample_interval_ms: float = 10.0
    trace_messages: bool = False

    def __post_init__(self) -> None:
        o = _OWNER
        check_choice(self.mode, "mode", o, MODES)
        check_int(self.followers, "followers", o, low=0, high=64)
        hi = max(self.followers, 1)
        check_int(self.sync_followers, "sync_followers", o, low=1, high=hi,
                  high_label=f"followers={self.followers}")
        if self.mode == "semi-sync" and self.followers == 0:
            raise fail("followers", o, "an int in [1, 64] in semi-sync mode", self.followers)
        check_float(self.duration_ms, "duration_ms", o, low=0.0, low_open=True)
        check_float(self.write_rate, "write_rate", o, low=0.0)
        check_float(self.read_rate, "read_rate", o, low=0.0)
        check_choice(self.read_from, "read_from", o, ("leader", "sticky", "random"))
        check_int(self.keys, "keys", o, low=1)
        check_choice(self.key_dist, "key_dist", o, ("uniform", "zipf"))
        check_int(self.sessions, "sessions", o, low=1)
        check_int(self.devices_per_user, "devices_per_user", o, low=1)
        for name in ("lag", "net_delay"):
            try:
                as_distribution(getattr(self, name), o)
            except ValueError as e:
                raise fail(name, o, "a latency spec such as '2+exp:0.2', a number of ms or "
                           "a Distribution", getattr(self, name)) from e
        check_prob(self.loss, "loss", o)
        check_bool(self.fifo, "fifo", o)
        for name in ("client_timeout_ms", "heartbeat_interval_ms", "failover_timeout_ms",
                     "sync_timeout_ms", "sample_interval_ms"):
            check_float(getattr(self, name), name, o, low=0.0, low_open=True)
        for name in ("election_window_ms", "snapshot_ms_per_key", "partition_ms", "pause_ms",
                     "stonith_delay_ms", "spike_rate", "spike_ms", "spike_duration_ms"):
            check_float(getattr(self, name), name, o, low=0.0)
        if self.lease_ms is not None:
            check_float(self.lease_ms, "lease_ms", o, low=0.0, low_open=True)
        for name in ("leader_crash_at_ms", "leader_restart_after_ms", "follower_crash_at_ms",
                     "follower_restart_after_ms", "add_follower_at_ms", "partition_at_ms",
                     "pause_leader_at_ms"):
            _opt_time(getattr(self, name), name)
        if self.follower_crash_at_ms is not None and self.followers == 0:
            raise fail("follower_crash_at_ms", o, "None when there are no followers",
                       self.follower_crash_at_ms)
        check_bool(self.fencing, "fencing", o)
        check_choice(self.stonith, "stonith", o, ("off", "naive", "epoch"))
        check_bool(self.trace_messages, "trace_messages", o)
        try:
            as_faults(self.faults)
        except ValueError as e:
            raise fail("faults", o, "a list of (time, action, args) faults", self.faults) from e


@dataclass(frozen=True)
class SingleLeaderResult:
    """What a run produced.

    Attributes
    ----------
    config : SingleLeaderConfig
    history : History -- every client operation (``version = epoch * 10**9 + lsn``;
        the lsn doubles as the row's auto-increment id).
    metrics : dict -- flat: counts, ``write_availability`` (acknowledged writes over
        writes requested, including those abandoned in a session queue; + Wilson CI),
        ``acked_writes_lost``, lag, failovers, ``split_brain_writes``,
        ``external_id_conflicts``, latency percentiles ``write_p50_ms`` ...
    lag : DataFrame -- columns :data:`LAG_COLUMNS`, one row per follower per sample.
    events : DataFrame -- the event log (crashes, partitions, elections, truncations,
        catch-ups; messages too with ``trace_messages``), columns ``time, end_time,
        kind, node, peer, epoch, detail``.
    lost : DataFrame -- the history rows of acknowledged writes that were lost.
    """

    config: SingleLeaderConfig
    history: History
    metrics: dict[str, Any]
    lag: pd.DataFrame
    events: pd.DataFrame
    lost: pd.DataFrame


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

    def run(self) -> SingleLeaderResult:
        """Run to the end: arrivals stop at ``duration_ms``; every operation then completes
        (a queued one starts within the client timeout or is abandoned, and a started
        one ends within it), so the history has no pending operation."""
        self.pool.start()
        self.sim.run(until=self.config.duration_ms + 2 * self.config.client_timeout_ms + 1.0)
        lag = self.sampler.frame()
        final = self.replicas[self.controller.leader].log
        return SingleLeaderResult(
            config=self.config, history=self.pool.history, metrics=summarize(self, lag),
            lag=lag, events=self.network.events_frame(),
            lost=lost_writes(self.pool.history, final),
        )


def build_single_leader(config: SingleLeaderConfig, *, seed: SeedLike = None) -> Cluster:
    """Build the system without running it (to schedule probes, inspect nodes, ...)."""
    return Cluster(config, seed)


def simulate_single_leader(
    config: SingleLeaderConfig | None = None, *, seed: SeedLike = None
) -> SingleLeaderResult:
    """Run one single-leader simulation; same config and seed -> identical result."""
    return Cluster(SingleLeaderConfig() if config is None else config, seed).run()


def config_fields() -> list[str]:
    return [f.name for f in fields(SingleLeaderConfig)]
