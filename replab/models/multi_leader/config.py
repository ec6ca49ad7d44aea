"""What a multi-leader run takes and gives: the configuration, validated on construction, and
the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import networkx as nx
import pandas as pd

from replab.history import History
from replab.latency import Distribution
from replab.models.collab.conflicts import STRATEGIES, CustomHandler, Resolution, Write
from replab.models.multi_leader.topology import as_topology
from replab.sim import as_distribution, as_faults
from replab.validate import check_bool, check_choice, check_float, check_int, check_prob, fail

__all__ = ["MultiLeaderConfig", "MultiLeaderResult", "RESOLUTIONS", "ROUTINGS", "MODEL_ACTIONS",
           "strategy_of", "split_faults"]

_OWNER = "MultiLeaderConfig"
#: Names accepted by ``resolution`` (``custom``: a CustomHandler keeping the max value).
RESOLUTIONS = (*STRATEGIES, "custom")
#: Where clients send writes: their own datacenter, the record's home, or dc0 only.
ROUTINGS = ("local", "home", "single")
#: Fault-schedule actions the model handles itself (the others go to replab.sim.faults):
#: ``reconfigure`` with ``bypass`` (a leader id) or ``restore`` (a leader id or "all");
#: ``move_home`` with ``from`` and ``to`` (leader ids: the records homed at one move).
MODEL_ACTIONS = {"reconfigure": ("bypass", "restore"), "move_home": ("from", "to")}


def strategy_of(resolution: str | Resolution) -> Resolution:
    """A resolution name (see :data:`RESOLUTIONS`) or a Resolution object -> the object."""
    if isinstance(resolution, Resolution):
        return resolution
    check_choice(resolution, "resolution", _OWNER, RESOLUTIONS)
    return CustomHandler() if resolution == "custom" else STRATEGIES[resolution]


def split_faults(faults: Sequence[Any], leaders: Sequence[str]) -> tuple[list, list]:
    """A schedule -> (simulator faults, model actions ``(time, action, args)``)."""
    sim_faults, model = [], []
    for item in faults:
        action = item[1] if isinstance(item, Sequence) and len(item) >= 2 else None
        if action not in MODEL_ACTIONS:
            sim_faults.append(item)
            continue
        args = item[2] if len(item) == 3 else {}
        check_float(item[0], "time", f"Fault({action!r})", low=0.0)
        names = MODEL_ACTIONS[str(action)]
        ok = isinstance(args, dict) and (
            set(args) == set(names) if action == "move_home" else len(args) == 1
            and set(args) <= set(names))
        values = list(args.values()) if isinstance(args, dict) else []
        if not ok or any(v not in leaders and v != "all" for v in values):
            want = " and ".join(names) if action == "move_home" else " or ".join(names)
            raise fail("args", f"Fault({action!r})", f"a dict with {want} naming leaders "
                       f"among {list(leaders)}", args)
        model.append((float(item[0]), str(action), dict(args)))
    return as_faults(sim_faults), sorted(model, key=lambda f: f[0])


def _check_offline(offline: Any, leaders: list[str]) -> None:
    allowed = f"a list of (leader, start_ms, end_ms) windows, leaders among {leaders}"
    if isinstance(offline, str) or not isinstance(offline, Sequence):
        raise fail("offline", _OWNER, allowed, offline)
    for window in offline:
        if (isinstance(window, str) or not isinstance(window, Sequence) or len(window) != 3
                or window[0] not in leaders):
            raise fail("offline", _OWNER, allowed, window)
        start = check_float(window[1], "offline start_ms", _OWNER, low=0.0)
        check_float(window[2], "offline end_ms", _OWNER, low=start, low_open=True)


def _check_links(links: Any, leaders: list[str]) -> None:
    allowed = f"a list of (leader, leader, delay spec) overrides, leaders among {leaders}"
    if isinstance(links, str) or not isinstance(links, Sequence):
        raise fail("link_delays", _OWNER, allowed, links)
    for link in links:
        if (isinstance(link, str) or not isinstance(link, Sequence) or len(link) != 3
                or link[0] not in leaders or link[1] not in leaders or link[0] == link[1]):
            raise fail("link_delays", _OWNER, allowed, link)
        try:
            as_distribution(link[2], _OWNER)
        except ValueError as e:
            raise fail("link_delays", _OWNER, allowed, link) from e


@dataclass(frozen=True, kw_only=True)
class MultiLeaderConfig:
    """Every knob of a multi-leader run (times in ms, rates per second).

    Leaders are the topology's nodes (``dc0`` ... for the named topologies), each with
    ``followers_per_dc`` read replicas ``dc0.f1`` ...; client session ``c{i}`` lives in
    datacenter ``i % datacenters``. Knobs that are ``None`` are off.

    * Network: ``wan_delay`` between datacenters, ``local_delay`` inside one;
      ``link_delays`` overrides single leader-to-leader links, one way, e.g.
      ``(("dc0", "dc2", "const:300"),)``; ``loss``, ``fifo``.
    * Replication: ``topology`` (a name or any networkx graph, whose nodes then are the
      datacenters), ``flood`` (relay to every successor, not only where the graph needs
      it), ``causal`` (version-vector delivery), ``retry_ms``/``retry_max_ms`` (stream
      retransmission and its exponential backoff), ``clock_skew_ms`` (each leader's clock
      offset is uniform in +-skew: last-write-wins timestamps).
    * Conflicts: ``resolution`` (a name of :data:`RESOLUTIONS` or a Resolution object);
      ``detection`` ``async`` (ack at once, conflicts found later) or ``sync`` (ack once
      every leader has applied the write and said whether it conflicted).
    * Routing of writes: ``local`` (your datacenter's leader), ``home`` (the record's home:
      ``k{i}`` lives at leader ``i % datacenters``) or ``single`` (the first leader only:
      the single-leader baseline). Reads go to the local leader or, with
      ``read_from="follower"``, a local follower.
    * Failures: ``fail_node`` crashes a leader and its followers at ``fail_at_ms`` (default
      a quarter of the run) for ``fail_for_ms`` (None: for good); ``reconfigure_after_ms``
      reconfigures the topology around it by hand that long after the crash (and restores
      it when it is back); ``auto_reroute`` runs an orchestrator that bypasses a leader
      whose heartbeats stop for ``detect_ms``, moves its clients (and, with home routing,
      its records) to the next leader, and restores it when heartbeats resume.
      ``partition_at_ms`` cuts the first half of the datacenters from the rest for
      ``partition_ms``. ``offline`` lists ``(leader, start_ms, end_ms)`` windows in which a
      leader (a device) and its clients are cut off. ``faults`` is any extra schedule:
      simulator faults and the model actions of :data:`MODEL_ACTIONS`.
    * Run: writes arrive for ``duration_ms``, then replication settles for ``settle_ms``.
    """

    #: command-line names (``--set wan=...``) for fields with longer names
    SETTING_ALIASES: ClassVar[dict[str, str]] = {"wan": "wan_delay"}

    topology: str | nx.Graph = "all-to-all"
    datacenters: int = 3
    followers_per_dc: int = 1
    flood: bool = False
    resolution: str | Resolution = "lww"
    causal: bool = True
    detection: str = "async"
    routing: str = "local"
    read_from: str = "leader"
    duration_ms: float = 2000.0
    settle_ms: float = 3000.0
    write_rate: float = 100.0
    read_rate: float = 100.0
    keys: int = 10
    key_dist: str = "uniform"
    sessions: int = 6
    wan_delay: str | Distribution = "20+exp:0.05"
    local_delay: str | Distribution = "0.2+exp:2"
    link_delays: tuple = ()
    loss: float = 0.0
    fifo: bool = True
    clock_skew_ms: float = 0.0
    client_timeout_ms: float = 1000.0
    retry_ms: float = 500.0
    retry_max_ms: float = 5000.0
    fail_node: str | None = None
    fail_at_ms: float | None = None
    fail_for_ms: float | None = None
    reconfigure_after_ms: float | None = None
    auto_reroute: bool = False
    heartbeat_ms: float = 50.0
    detect_ms: float = 300.0
    partition_at_ms: float | None = None
    partition_ms: float = 1000.0
    offline: tuple = ()
    faults: tuple = ()
    trace_messages: bool = False

    def __post_init__(self) -> None:
        o = _OWNER
        check_int(self.datacenters, "datacenters", o, low=1, high=64)
        leaders = list(as_topology(self.topology, self.datacenters, o).nodes)
        check_int(self.followers_per_dc, "followers_per_dc", o, low=0, high=16)
        for name in ("flood", "causal", "auto_reroute", "fifo", "trace_messages"):
            check_bool(getattr(self, name), name, o)
        strategy_of(self.resolution)
        check_choice(self.detection, "detection", o, ("async", "sync"))
        check_choice(self.routing, "routing", o, ROUTINGS)
        check_choice(self.read_from, "read_from", o, ("leader", "follower"))
        check_float(self.duration_ms, "duration_ms", o, low=0.0, low_open=True)
        for name in ("settle_ms", "write_rate", "read_rate", "clock_skew_ms", "partition_ms"):
            check_float(getattr(self, name), name, o, low=0.0)
        check_int(self.keys, "keys", o, low=1)
        check_choice(self.key_dist, "key_dist", o, ("uniform", "zipf"))
        check_int(self.sessions, "sessions", o, low=1)
        for name in ("wan_delay", "local_delay"):
            try:
                as_distribution(getattr(self, name), o)
            except ValueError as e:
                raise fail(name, o, "a latency spec such as '20+exp:0.05', a number of ms "
                           "or a Distribution", getattr(self, name)) from e
        check_prob(self.loss, "loss", o)
        for name in ("client_timeout_ms", "retry_ms", "heartbeat_ms", "detect_ms"):
            check_float(getattr(self, name), name, o, low=0.0, low_open=True)
        check_float(self.retry_max_ms, "retry_max_ms", o, low=float(self.retry_ms))
        self._check_scenario(leaders)

    def _check_scenario(self, leaders: list[str]) -> None:
        o = _OWNER
        if self.fail_node is not None:
            check_choice(self.fail_node, "fail_node", o, leaders)
        for name in ("fail_at_ms", "fail_for_ms", "reconfigure_after_ms", "partition_at_ms"):
            if getattr(self, name) is not None:
                check_float(getattr(self, name), name, o, low=0.0)
        _check_offline(self.offline, leaders)
        _check_links(self.link_delays, leaders)
        try:
            split_faults(self.faults, leaders)
        except ValueError as e:
            raise fail("faults", o, "a list of (time, action, args) faults", self.faults) from e

    def leader_ids(self) -> list[str]:
        """The leaders, in the topology's node order."""
        return list(as_topology(self.topology, self.datacenters).nodes)


@dataclass(frozen=True)
class MultiLeaderResult:
    """What a run produced.

    Attributes
    ----------
    config : MultiLeaderConfig
    history : History -- every client operation (``node`` = the serving replica; no
        ``version``: multi-leader writes have no single order; an ok write carries the
        accepting leader's timestamp as ``ts``).
    metrics : dict -- flat: ``converged``, ``divergent_keys``, ``conflicts`` (writes
        concurrent with another write of their key), ``conflicts_detected`` (pairs a leader
        noticed), ``lost_writes`` (at the worst leader, including writes ``lww`` discarded
        for a concurrent or clock-favoured one), ``stale_reads`` and
        ``read_your_writes_violations`` (judged in real time; NaN for merging
        resolutions), ``writes_not_propagated``
        (accepted writes some leader that is up at the end never applied),
        ``overtaking_anomalies`` (updates that found no row and were dropped),
        ``causality_violations`` (changes applied before a write they depend on),
        latency percentiles ``write_p50_ms`` ..., ``messages``, ``change_messages`` ...
    propagation : DataFrame -- :data:`PROPAGATION_COLUMNS`, one row per (write, leader).
    staleness : DataFrame -- :data:`STALENESS_COLUMNS`, per leader over time.
    records : DataFrame -- :data:`RECORD_COLUMNS`, the final record per (leader, key).
    conflicts : DataFrame -- :data:`CONFLICT_COLUMNS`, the concurrent pairs detected.
    events : DataFrame -- crashes, partitions, reconfigurations, home moves (and messages
        with ``trace_messages``), columns of :data:`replab.sim.EVENT_COLUMNS`.
    topology : networkx.DiGraph -- the replication topology at the end of the run.
    apply_orders : dict -- leader -> ids of the writes it applied, in order.
    writes : tuple of Write -- every accepted write.
    """

    config: MultiLeaderConfig
    history: History
    metrics: dict[str, Any]
    propagation: pd.DataFrame
    staleness: pd.DataFrame
    records: pd.DataFrame
    conflicts: pd.DataFrame
    events: pd.DataFrame
    topology: nx.DiGraph
    apply_orders: dict[str, tuple[str, ...]]
    writes: tuple[Write, ...]
