"""Multi-leader replication across datacenters (DDIA chapter 5, "Multi-Leader Replication").

Each datacenter has a leader that accepts writes and a few local followers; leaders
ship what they apply to each other over a replication topology (a networkx graph:
all-to-all, circular, star, tree or any graph), asynchronously. Concurrent writes of one
record are resolved per record by a strategy of :mod:`replab.models.collab.conflicts` (last
write wins, highest replica id, merge, siblings, a custom handler; arrival order as the
non-convergent foil). The run reports whether every replica converged after the writes
stopped, how many writes were lost, which writes stalled when a node or link failed, the
overtaking anomaly without causal delivery, write latency, and a history for
:mod:`replab.checks`.

Node internals: :mod:`replab.models.multi_leader.node`; topologies:
:mod:`replab.models.multi_leader.topology`; measurements: :mod:`replab.models.multi_leader.metrics`.

>>> res = simulate_multi_leader(MultiLeaderConfig(duration_ms=300.0), seed=1)
>>> res.metrics["converged"], res.metrics["writes_not_propagated"]
(True, 0)
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import pandas as pd

from replab.models.collab.conflicts import Write
from replab.models.final_reads import final_read_phase
from replab.models.multi_leader.config import (
    MODEL_ACTIONS,
    RESOLUTIONS,
    ROUTINGS,
    MultiLeaderConfig,
    MultiLeaderResult,
    split_faults,
    strategy_of,
)
from replab.models.multi_leader.messages import ORCHESTRATOR, Change, read_value
from replab.models.multi_leader.metrics import (
    CONFLICT_COLUMNS,
    PROPAGATION_COLUMNS,
    RECORD_COLUMNS,
    STALENESS_COLUMNS,
    down_intervals,
    propagation_frame,
    record_ts,
    records_frame,
    staleness_frame,
    summarize,
)
from replab.models.multi_leader.node import Leader
from replab.models.multi_leader.peers import Follower, Orchestrator
from replab.models.multi_leader.topology import (
    TOPOLOGIES,
    as_topology,
    bypass,
    forward_targets,
    topology_graph,
)
from replab.rng import SeedLike, spawn
from replab.sim import (
    ClientPool,
    Fault,
    Network,
    PhysicalClock,
    Session,
    Simulation,
    Workload,
    apply_faults,
    as_distribution,
)
from replab.validate import fail

__all__ = [
    "MultiLeaderConfig",
    "MultiLeaderResult",
    "MultiLeaderCluster",
    "build_multi_leader",
    "simulate_multi_leader",
    "TOPOLOGIES",
    "topology_graph",
    "as_topology",
    "bypass",
    "forward_targets",
    "RESOLUTIONS",
    "ROUTINGS",
    "MODEL_ACTIONS",
    "PROPAGATION_COLUMNS",
    "STALENESS_COLUMNS",
    "RECORD_COLUMNS",
    "CONFLICT_COLUMNS",
]


class MultiLeaderCluster:
    """A built (not yet run) multi-leader system; tests and notebooks may poke at it."""

    def __init__(self, config: MultiLeaderConfig, seed: SeedLike = None) -> None:
        if not isinstance(config, MultiLeaderConfig):
            raise fail("config", "simulate_multi_leader", "a MultiLeaderConfig", config)
        self.config = cfg = config
        net_rng, client_rng, self.rng, clock_rng = spawn(seed, 4)
        self.sim = Simulation(seed=self.rng)
        wan, local = as_distribution(cfg.wan_delay), as_distribution(cfg.local_delay)
        self.network = Network(self.sim, delay=wan, loss=cfg.loss, fifo=cfg.fifo, rng=net_rng,
                               trace=cfg.trace_messages, lose_in_flight=True)
        self.base_topology = as_topology(cfg.topology, cfg.datacenters)
        self.topology = self.base_topology.copy()
        self.leader_ids: list[str] = list(self.base_topology.nodes)
        self.strategy = strategy_of(cfg.resolution)
        self._init_counters()
        per_dc = range(1, cfg.followers_per_dc + 1)
        self.leaders = {d: Leader(self, d, [f"{d}.f{j}" for j in per_dc])
                        for d in self.leader_ids}
        self.followers = {f: Follower(self, f, d) for d, ld in self.leaders.items()
                          for f in ld.followers}
        for u, v in self.base_topology.edges:
            self.leaders[u].start_edge(v)
            self.leaders[v].start_inbound(u)
        skews = clock_rng.uniform(-cfg.clock_skew_ms, cfg.clock_skew_ms, len(self.leader_ids))
        for leader, skew in zip(self.leaders.values(), skews, strict=True):
            leader.clock = PhysicalClock(self.sim, offset_ms=float(skew))
        self.orchestrator = Orchestrator(self) if cfg.auto_reroute else None
        workload = Workload(write_rate=cfg.write_rate, read_rate=cfg.read_rate, keys=cfg.keys,
                            key_dist=cfg.key_dist, users=cfg.sessions,
                            timeout_ms=cfg.client_timeout_ms, stop_ms=cfg.duration_ms)
        self.pool = ClientPool(self.network, workload, self.route, rng=client_rng)
        d = len(self.leader_ids)
        self.dc_of = {s.id: self.leader_ids[i % d] for i, s in enumerate(self.pool.sessions)}
        self.home = {f"k{i}": self.leader_ids[i % d] for i in range(cfg.keys)}
        self._home0 = dict(self.home)
        self.moved: dict[str, str] = {}  # a datacenter whose clients were sent elsewhere
        self._set_links(local)
        for a, b, spec in cfg.link_delays:
            self.network.set_link(a, b, delay=as_distribution(spec))
        sim_faults, self.model_actions = split_faults(cfg.faults, self.leader_ids)
        apply_faults(self.network, [*sim_faults, *self._scenario_faults()])
        for t, action, args in self.model_actions:
            self.sim.schedule_at(t, self._model_action, action, args)
        if self.orchestrator is not None:
            for leader in self.leaders.values():
                leader.heartbeat()

    def _init_counters(self) -> None:
        self.accepted: list[tuple[str, str, str, str, float]] = []
        self.writes: dict[str, Write] = {}
        self.applied: list[tuple[str, str, float, bool]] = []
        self.orders: dict[str, list[str]] = defaultdict(list)
        self.detected: dict[frozenset[str], tuple[str, str, str, str, float]] = {}
        self.duplicates = self.buffered = self.missing_rows = self.violations = 0
        self.change_messages = self.retransmissions = self.repair_requests = 0
        self.reconfigurations = self.home_moves = self.conflicts_before_ack = 0
        self.bypassed: set[str] = set()

    # -- wiring ---------------------------------------------------------------------------
    def members(self, dc: str) -> list[str]:
        """Every node of datacenter ``dc``: leader, followers, clients (and orchestrator)."""
        out = [dc, *self.leaders[dc].followers]
        out += [s for s, home in self.dc_of.items() if home == dc]
        if self.orchestrator is not None and dc == self.leader_ids[0]:
            out.append(ORCHESTRATOR)
        return out

    def _set_links(self, local: Any) -> None:
        for dc in self.leader_ids:
            group = self.members(dc)
            for a in group:
                for b in group:
                    if a != b:
                        self.network.set_link(a, b, delay=local)

    def route(self, session: Session, f: str, key: str) -> Any:
        """Where a session sends an operation (the model's routing policy)."""
        cfg = self.config
        dc = self.moved.get(self.dc_of[session.id], self.dc_of[session.id])
        if f == "read":
            n = cfg.followers_per_dc
            if cfg.read_from == "follower" and n:
                return f"{dc}.f{1 + int(session.id[1:]) % n}"
            return dc
        if cfg.routing == "home":
            return self.home[key]
        if cfg.routing == "single":
            return self.leader_ids[0]
        return dc

    def _scenario_faults(self) -> list[Fault]:
        cfg, out = self.config, []
        if cfg.fail_node is not None:
            t = cfg.fail_at_ms if cfg.fail_at_ms is not None else cfg.duration_ms / 4
            nodes = [cfg.fail_node, *self.leaders[cfg.fail_node].followers]
            out += [Fault(t, "crash", {"node": n}) for n in nodes]
            back = None if cfg.fail_for_ms is None else t + cfg.fail_for_ms
            if back is not None:
                out += [Fault(back, "restart", {"node": n}) for n in nodes]
            if cfg.reconfigure_after_ms is not None:
                self.sim.schedule_at(t + cfg.reconfigure_after_ms, self.leader_gone,
                                     cfg.fail_node, "operator")
                if back is not None:
                    self.sim.schedule_at(max(back, t + cfg.reconfigure_after_ms),
                                         self.leader_back, cfg.fail_node, "operator")
        if cfg.partition_at_ms is not None:
            half = max(1, len(self.leader_ids) // 2)
            groups = [[m for dc in part for m in self.members(dc)]
                      for part in (self.leader_ids[:half], self.leader_ids[half:])]
            out.append(Fault(cfg.partition_at_ms, "partition",
                             {"groups": groups, "duration_ms": cfg.partition_ms, "name": "wan"}))
        for i, (dc, start, end) in enumerate(cfg.offline):
            inside = self.members(dc)
            rest = [n for n in self.network.nodes if n not in inside]
            out.append(Fault(float(start), "partition",
                             {"groups": [inside, rest], "duration_ms": float(end) - float(start),
                              "name": f"offline-{dc}-{i}"}))
        return out

    # -- reconfiguration ------------------------------------------------------------------
    def _model_action(self, action: str, args: dict[str, Any]) -> None:
        if action == "move_home":
            self._move_homes(args["from"], args["to"])
        elif "bypass" in args:
            self.leader_gone(args["bypass"], "operator", clients=False)
        else:
            gone = sorted(self.bypassed) if args["restore"] == "all" else [args["restore"]]
            for node in gone:
                self.leader_back(node, "operator", clients=False)

    def _retopologize(self, who: str) -> None:
        new = bypass(self.base_topology, self.bypassed)
        old = set(self.topology.edges)
        self.topology = new
        for u, v in sorted(old - set(new.edges)):
            self.leaders[u].close_edge(v)
        for u, v in sorted(set(new.edges) - old):
            self.leaders[u].open_edge(v)
        self.reconfigurations += 1
        self.network.record("reconfigure", None, detail=f"{who}: bypassing "
                            f"{sorted(self.bypassed)}; edges {sorted(new.edges)}")

    def _next_up(self, dc: str) -> str:
        i = self.leader_ids.index(dc)
        order = self.leader_ids[i + 1:] + self.leader_ids[:i]
        return next((d for d in order if d not in self.bypassed), dc)

    def _move_homes(self, src: str, dst: str) -> None:
        keys = [k for k, h in self.home.items() if h == src]
        for k in keys:
            self.home[k] = dst
        if keys:
            self.home_moves += 1
            self.network.record("home", src, peer=dst, detail=f"{len(keys)} records")

    def leader_gone(self, dc: str, who: str, clients: bool = True) -> None:
        """Bypass ``dc`` in the topology; move its clients (and homes) to the next leader."""
        if dc in self.bypassed:
            return
        self.bypassed.add(dc)
        self._retopologize(who)
        if clients:
            self.moved = {d: self._next_up(d) for d in self.bypassed}
            if self.config.routing == "home":
                self._move_homes(dc, self._next_up(dc))

    def leader_back(self, dc: str, who: str, clients: bool = True) -> None:
        """Restore ``dc``'s place in the topology, its clients and its records."""
        if dc not in self.bypassed:
            return
        self.bypassed.discard(dc)
        self._retopologize(who)
        if clients:
            self.moved = {d: self._next_up(d) for d in self.bypassed}
            if self.config.routing == "home":
                keys = [k for k, h in self._home0.items() if h == dc]
                now = {self.home[k] for k in keys}
                for k in keys:
                    self.home[k] = dc
                if keys and now != {dc}:
                    self.home_moves += 1
                    self.network.record("home", dc, detail=f"{len(keys)} records back")

    # -- what the leaders report ------------------------------------------------------------
    def note_accept(self, change: Change) -> None:
        w = change.write
        self.writes[w.id] = w
        self.accepted.append((w.id, w.replica, w.key, change.kind, self.sim.now))

    def note_apply(self, node: str, change: Change, dropped: bool) -> None:
        self.applied.append((change.write.id, node, self.sim.now, dropped))
        if not dropped:
            self.orders[node].append(change.write.id)

    def note_violation(self, node: str, change: Change) -> None:
        self.violations += 1

    def note_missing_row(self, node: str, change: Change) -> None:
        self.missing_rows += 1

    def note_conflict(self, node: str, write: Write, others: list[Write]) -> None:
        for other in others:
            pair = frozenset((write.id, other.id))
            if pair not in self.detected:
                a, b = sorted(pair)
                self.detected[pair] = (write.key, a, b, node, self.sim.now)

    def note_sync_ack(self, write_id: str, conflict: bool) -> None:
        self.conflicts_before_ack += conflict

    def writes_by_key(self) -> dict[str, list[Write]]:
        out: dict[str, list[Write]] = defaultdict(list)
        for w in self.writes.values():
            out[w.key].append(w)
        return dict(out)

    # -- running ----------------------------------------------------------------------------
    def conflicts_frame(self) -> pd.DataFrame:
        at = {wid: t for wid, _, _, _, t in self.accepted}
        rows = [(key, a, b, node, t, t - max(at[a], at[b]))
                for key, a, b, node, t in self.detected.values()]
        return pd.DataFrame(rows, columns=CONFLICT_COLUMNS)

    def run(self) -> MultiLeaderResult:
        """Run: writes arrive until ``duration_ms``; replication settles for ``settle_ms``."""
        cfg = self.config
        self.pool.start()
        end = cfg.duration_ms + max(cfg.settle_ms, 2 * cfg.client_timeout_ms + 1.0)
        self.sim.run(until=end)
        prop = propagation_frame(self.accepted, self.applied, self.leader_ids)
        events = self.network.events_frame()
        stale = staleness_frame(prop, end, down_intervals(events, math.inf))
        conflicts = self.conflicts_frame()
        record_ts(self)
        result = MultiLeaderResult(
            config=cfg, history=self.pool.history,
            metrics=summarize(self, prop, stale, conflicts), propagation=prop,
            staleness=stale, records=records_frame(self), conflicts=conflicts,
            events=events, topology=self.topology.copy(),
            apply_orders={n: tuple(self.orders[n]) for n in self.leader_ids},
            writes=tuple(self.writes.values()),
        )
        # after the metrics, which keep their meaning; the history ends as Jepsen's do
        final_read_phase(self.pool.history, self.sim, self.network,
                         [*((d, ld, _leader_reader(ld)) for d, ld in self.leaders.items()),
                          *((f, fo, _follower_reader(fo)) for f, fo in self.followers.items())],
                         settle_ms=None)  # the run ended with the config's settle_ms
        return result


def _leader_reader(leader: Leader) -> Any:
    def read(key: str) -> tuple[Any, None] | None:
        state = leader.records.get(key)
        return None if state is None else (read_value(state.value), None)
    return read


def _follower_reader(follower: Follower) -> Any:
    def read(key: str) -> tuple[Any, None] | None:
        value = follower.values.get(key)
        return None if value is None else (read_value(value), None)
    return read


def build_multi_leader(config: MultiLeaderConfig, *, seed: SeedLike = None) -> MultiLeaderCluster:
    """Build the system without running it (to schedule probes, inspect nodes, ...)."""
    return MultiLeaderCluster(config, seed)


def simulate_multi_leader(
    config: MultiLeaderConfig | None = None, *, seed: SeedLike = None
) -> MultiLeaderResult:
    """Run one multi-leader simulation; same config and seed -> identical result.

    Parameters
    ----------
    config : MultiLeaderConfig, optional
        Defaults to three datacenters, all-to-all, last write wins, causal delivery.
    seed : int, Generator or None

    Returns
    -------
    MultiLeaderResult
    """
    return MultiLeaderCluster(MultiLeaderConfig() if config is None else config, seed).run()
