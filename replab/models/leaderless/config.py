"""The configuration of a leaderless run, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from replab.latency import Distribution, WanLatency, WarsLatency, as_wars
from replab.sim import as_distribution, as_faults
from replab.validate import check_bool, check_choice, check_float, check_int, check_prob, fail

__all__ = ["LeaderlessConfig", "WORKLOADS", "RESOLUTIONS", "COORDINATORS", "VERSION_VECTORS"]

WORKLOADS = ("clients", "pbs")
RESOLUTIONS = ("lww", "siblings")
VERSION_VECTORS = ("replica", "client")
COORDINATORS = ("any", "preference")
_O = "LeaderlessConfig"


@dataclass(frozen=True, kw_only=True)
class LeaderlessConfig:
    """Every knob of a leaderless (Dynamo-style) run; times in ms, rates per second.

    Topology: ``datacenters`` of ``nodes`` storage nodes each (ids ``0 ..``, datacenter
    ``i // nodes``), each with its own ring of ``vnodes`` tokens per node; every key has
    ``n`` home replicas in every datacenter. A write goes to all of them; it succeeds on
    ``w`` acks and a read on ``r`` responses -- counted in the coordinator's datacenter
    only with ``local_quorum`` (Cassandra's LOCAL_QUORUM), else anywhere. Messages
    between datacenters take ``wan_delay_ms`` more each way.

    Delays: ``latency`` (a profile such as ``"LNKD-DISK"`` or a spec such as ``"exp:1"``)
    gives the WARS delays by message kind: a write or repair to a replica W, its ack A,
    a read request R, the response S. ``client_delay`` is each way between a client and
    its coordinator.

    ``workload="clients"``: ``sessions`` client sessions issue Poisson reads and writes
    for ``duration_ms`` to coordinators in their datacenter (``coordinator="any"``: a
    random reachable node; ``"preference"``: the first reachable home replica).
    ``workload="pbs"``: ``trials`` independent trials of one write then one read
    ``read_delay`` ms after the write commits, each on a fresh key, through client-side
    coordinators, with no timeouts and no repair (the WARS model); ``p_fail`` is then the
    chance that a replica is down for a whole trial.

    Repair: ``read_repair`` is the probability (or True/False) that a read writes the
    newest versions back to stale responders, after answering. ``write_back`` makes every
    read *block*: before it answers, it writes what it will return back to the replicas
    and waits for ``w`` acks (ABD's second phase). ``write_reads_first`` makes every
    write first read a quorum and take a timestamp above the highest it saw (ABD's
    multi-writer form), so the version order respects real time whatever the clocks say
    (``lww`` only). ``anti_entropy_interval_ms`` (None = off)
    runs Merkle-tree exchanges. ``sloppy`` quorums send to the next reachable nodes on the
    ring with a hint when home nodes are unreachable (hinted handoff every
    ``handoff_interval_ms``). Conflicts: ``resolution="lww"`` (node clocks skewed by up
    to ``clock_skew_ms``) or ``"siblings"`` (version vectors): with
    ``version_vectors="replica"`` (the default; dotted version vectors as in Riak 2.0)
    each write's dot is ``(coordinating node, counter)``, so a vector has at most one
    entry per node; ``"client"`` gives every client session its own entry (vectors grow
    with the clients). The client's causal context travels only in requests and
    responses. Failures (clients
    workload): each node is down a fraction ``p_fail`` of the time (exponential downtimes
    of mean ``mean_downtime_ms``), plus any ``faults`` schedule.
    """

    n: int = 3
    r: int = 2
    w: int = 2
    nodes: int = 5
    vnodes: int = 16
    datacenters: int = 1
    local_quorum: bool = True
    wan_delay_ms: float = 50.0
    latency: str | Distribution | WarsLatency = "LNKD-SSD"
    client_delay: str | float | Distribution = 0.5
    workload: str = "clients"
    trials: int = 10_000
    read_delay: float = 0.0
    trial_spacing_ms: float = 1.0
    duration_ms: float = 2000.0
    write_rate: float = 100.0
    read_rate: float = 100.0
    keys: int = 10
    key_dist: str = "uniform"
    zipf_s: float = 1.0
    sessions: int = 4
    client_timeout_ms: float = 500.0
    request_timeout_ms: float = 250.0
    coordinator: str = "any"
    sloppy: bool = False
    handoff_interval_ms: float = 50.0
    read_repair: bool | float = False
    write_back: bool = False
    write_reads_first: bool = False
    anti_entropy_interval_ms: float | None = None
    merkle_leaves: int = 64
    resolution: str = "lww"
    version_vectors: str = "replica"
    clock_skew_ms: float = 0.0
    p_fail: float = 0.0
    mean_downtime_ms: float = 200.0
    faults: tuple = ()
    settle_ms: float = 1000.0
    sample_interval_ms: float = 20.0
    loss: float = 0.0
    trace_messages: bool = False

    def __post_init__(self) -> None:
        self._check_topology()
        self._check_delays()
        self._check_workload()
        self._check_repair()

    @property
    def quorum_size_limit(self) -> int:
        """The largest valid r or w: n, or n per datacenter times datacenters if global."""
        return self.n if self.local_quorum or self.datacenters == 1 else self.n * self.datacenters

    @property
    def read_repair_chance(self) -> float:
        return float(self.read_repair)

    def _check_topology(self) -> None:
        check_int(self.nodes, "nodes", _O, low=1, high=256)
        check_int(self.n, "n", _O, low=1, high=self.nodes, high_label=f"nodes={self.nodes}")
        check_int(self.datacenters, "datacenters", _O, low=1, high=16)
        check_bool(self.local_quorum, "local_quorum", _O)
        hi = self.quorum_size_limit
        label = f"n={self.n}" if hi == self.n else f"n*datacenters={hi}"
        check_int(self.r, "r", _O, low=1, high=hi, high_label=label)
        check_int(self.w, "w", _O, low=1, high=hi, high_label=label)
        check_int(self.vnodes, "vnodes", _O, low=1, high=1024)
        check_float(self.wan_delay_ms, "wan_delay_ms", _O, low=0.0)

    def _check_delays(self) -> None:
        allowed = ("a latency profile other than 'WAN' (use datacenters and wan_delay_ms), "
                   "a spec such as 'exp:1', a Distribution or a WarsLatency")
        try:
            wars = as_wars(self.latency)
        except (ValueError, TypeError) as e:
            raise fail("latency", _O, allowed, self.latency) from e
        if isinstance(wars, WanLatency):
            raise fail("latency", _O, allowed, self.latency)
        try:
            as_distribution(self.client_delay, _O)
        except ValueError as e:
            raise fail("client_delay", _O, "a latency spec, a number of ms or a Distribution",
                       self.client_delay) from e

    def _check_workload(self) -> None:
        check_choice(self.workload, "workload", _O, WORKLOADS)
        check_int(self.trials, "trials", _O, low=1, high=10_000_000)
        check_float(self.read_delay, "read_delay", _O, low=0.0)
        check_float(self.trial_spacing_ms, "trial_spacing_ms", _O, low=0.0)
        check_float(self.duration_ms, "duration_ms", _O, low=0.0, low_open=True)
        check_float(self.write_rate, "write_rate", _O, low=0.0)
        check_float(self.read_rate, "read_rate", _O, low=0.0)
        check_int(self.keys, "keys", _O, low=1)
        check_choice(self.key_dist, "key_dist", _O, ("uniform", "zipf"))
        check_float(self.zipf_s, "zipf_s", _O, low=0.0)
        check_int(self.sessions, "sessions", _O, low=1)
        check_choice(self.coordinator, "coordinator", _O, COORDINATORS)
        for name in ("client_timeout_ms", "request_timeout_ms", "handoff_interval_ms",
                     "mean_downtime_ms", "sample_interval_ms"):
            check_float(getattr(self, name), name, _O, low=0.0, low_open=True)
        check_float(self.settle_ms, "settle_ms", _O, low=0.0)
        check_float(self.p_fail, "p_fail", _O, low=0.0, high=1.0, high_open=True)
        check_prob(self.loss, "loss", _O)
        check_bool(self.trace_messages, "trace_messages", _O)
        try:
            as_faults(self.faults)
        except ValueError as e:
            raise fail("faults", _O, "a list of (time, action, args) faults", self.faults) from e

    def _check_repair(self) -> None:
        check_bool(self.sloppy, "sloppy", _O)
        check_bool(self.write_back, "write_back", _O)
        check_bool(self.write_reads_first, "write_reads_first", _O)
        if not isinstance(self.read_repair, bool):
            check_prob(self.read_repair, "read_repair", _O)
        if self.anti_entropy_interval_ms is not None:
            check_float(self.anti_entropy_interval_ms, "anti_entropy_interval_ms", _O,
                        low=0.0, low_open=True)
        check_int(self.merkle_leaves, "merkle_leaves", _O, low=1, high=1 << 16)
        if self.merkle_leaves & (self.merkle_leaves - 1):
            raise fail("merkle_leaves", _O, "a power of two in [1, 65536]", self.merkle_leaves)
        check_choice(self.resolution, "resolution", _O, RESOLUTIONS)
        if self.write_reads_first and self.resolution != "lww":
            raise fail("write_reads_first", _O, "False with resolution='siblings'",
                       self.write_reads_first)
        check_choice(self.version_vectors, "version_vectors", _O, VERSION_VECTORS)
        check_float(self.clock_skew_ms, "clock_skew_ms", _O, low=0.0)
        if self.workload == "pbs":
            self._check_pbs()

    def _check_pbs(self) -> None:
        """The pbs workload is the WARS model: one datacenter, strict quorums, no repair."""
        off: dict[str, Any] = {"sloppy": False, "read_repair": False, "write_back": False,
                               "write_reads_first": False,
                               "anti_entropy_interval_ms": None, "datacenters": 1,
                               "faults": (), "loss": 0.0}
        for name, want in off.items():
            value = getattr(self, name)
            if value != want or (name == "read_repair" and float(value) != 0.0):
                raise fail(name, _O, f"{want!r} with workload='pbs'", value)
