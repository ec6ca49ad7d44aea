"""The network: per-link delay, loss, duplication, FIFO, partitions and slow links.

Every link ``(src, dst)`` takes its delay from a :mod:`replab.latency` distribution (the
network default unless :meth:`Network.set_link` overrides it), drops a message with
probability ``loss``, delivers a second copy with probability ``duplicate``, and with
``fifo=True`` never lets a message overtake an earlier one on the same link.

Partitions are named sets of blocked directed pairs: :meth:`Network.partition` cuts
between groups both ways, :meth:`Network.partition_oneway` only from ``src`` to ``dst``;
:meth:`Network.heal` removes one partition or all. A message is dropped if its link is
blocked when it is sent or when it would arrive. :meth:`Network.slow` adds a fixed extra
delay to every message to or from some nodes (a delay spike).

The network is also the run's event log: :meth:`record` keeps crashes, partitions and
whatever the models note (elections, ...), and with ``trace=True`` every message, for
timeline diagrams (:meth:`events_frame`).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from replab.latency import Constant, Distribution, parse_spec
from replab.validate import check_bool, check_prob

if TYPE_CHECKING:
    from replab.sim.kernel import Simulation

__all__ = ["Network", "Link", "EVENT_COLUMNS", "as_distribution"]

NodeId = Hashable


class Endpoint(Protocol):
    """What the network needs of a node (:class:`~replab.sim.node.Node` is one); a
    protocol, so that the network does not import the node module that imports it."""

    id: Any
    up: bool
    incarnation: int

    def deliver(self, src: NodeId, msg: Any) -> None: ...

#: Columns of :meth:`Network.events_frame`.
EVENT_COLUMNS = ["time", "end_time", "kind", "node", "peer", "epoch", "detail"]

_BATCH = 1024


def as_distribution(delay: str | float | Distribution, owner: str = "Network") -> Distribution:
    """A spec string (``"exp:0.1"``), a number of ms, or a Distribution -> Distribution."""
    if isinstance(delay, str):
        return parse_spec(delay)
    if isinstance(delay, int | float) and not isinstance(delay, bool):
        return Constant(float(delay))
    if isinstance(delay, Distribution):
        return delay
    from replab.validate import fail

    raise fail("delay", owner, "a latency spec, a number of ms or a Distribution", delay)


class _Draws:
    """Buffered draws from one distribution (numpy per call would dominate the run)."""

    __slots__ = ("dist", "rng", "buf", "i")

    def __init__(self, dist: Distribution, rng: np.random.Generator) -> None:
        self.dist, self.rng = dist, rng
        self.buf: list[float] = []
        self.i = 0

    def __call__(self) -> float:
        if self.i == len(self.buf):
            self.buf = self.dist.sample(self.rng, _BATCH).tolist()
            self.i = 0
        v = self.buf[self.i]
        self.i += 1
        return v


@dataclass(frozen=True)
class Link:
    """How one directed link behaves."""

    delay: Distribution
    loss: float = 0.0
    duplicate: float = 0.0
    fifo: bool = False

    def __post_init__(self) -> None:
        check_prob(self.loss, "loss", "Link")
        check_prob(self.duplicate, "duplicate", "Link")
        check_bool(self.fifo, "fifo", "Link")


class Network:
    """Connects :class:`~replab.sim.node.Node` objects of one simulation.

    Parameters
    ----------
    sim : Simulation
    delay : spec string, float (ms) or Distribution
        Default one-way delay of every link.
    loss, duplicate : float
        Default probabilities of dropping / duplicating a message.
    fifo : bool
        Default: keep per-link order.
    rng : Generator, optional
        Stream for delays, loss and duplication (default: ``sim.rng``). Give the
        network its own stream so that changing the workload does not shift delays.
    trace : bool
        Record every message (send time, arrival time, outcome) for timelines.
    lose_in_flight : bool
        When a node crashes, the messages it sent that have not arrived yet are lost
        too (they were still in its send buffers). Off: they arrive as sent.
    """

    def __init__(
        self,
        sim: Simulation,
        *,
        delay: str | float | Distribution = 1.0,
        loss: float = 0.0,
        duplicate: float = 0.0,
        fifo: bool = False,
        rng: np.random.Generator | None = None,
        trace: bool = False,
        lose_in_flight: bool = False,
    ) -> None:
        self.sim = sim
        self.lose_in_flight = check_bool(lose_in_flight, "lose_in_flight", "Network")
        self.rng = sim.rng if rng is None else rng
        self.nodes: dict[NodeId, Endpoint] = {}
        self.trace = check_bool(trace, "trace", "Network")
        self._draws: dict[int, _Draws] = {}
        self._uniform = _Draws(_Unit(), self.rng)
        self._default = self._compile(Link(as_distribution(delay), loss, duplicate, fifo))
        self._links: dict[tuple[NodeId, NodeId], tuple] = {}
        self._last_arrival: dict[tuple[NodeId, NodeId], float] = {}
        self._partitions: dict[str, frozenset[tuple[NodeId, NodeId]]] = {}
        self._blocked: frozenset[tuple[NodeId, NodeId]] = frozenset()
        self._slow: dict[str, tuple[frozenset[NodeId], float]] = {}
        self._names = 0
        self.sent = self.delivered = self.dropped = 0
        self._events: list[tuple] = []

    # -- topology ---------------------------------------------------------------------
    def add(self, node: Endpoint) -> None:
        """Register ``node`` (done by ``Node.__init__``)."""
        if node.id in self.nodes:
            raise ValueError(f"a node with id {node.id!r} is already on this network")
        self.nodes[node.id] = node

    def _compile(self, link: Link) -> tuple:
        key = id(link.delay)
        if key not in self._draws:
            self._draws[key] = _Draws(link.delay, self.rng)
        return (self._draws[key], link.loss, link.duplicate, link.fifo, link)

    def set_link(
        self,
        src: NodeId,
        dst: NodeId,
        *,
        delay: str | float | Distribution | None = None,
        loss: float | None = None,
        duplicate: float | None = None,
        fifo: bool | None = None,
        both_ways: bool = False,
    ) -> None:
        """Override some properties of the link ``src -> dst`` (and back if ``both_ways``)."""
        old: Link = self.link(src, dst)
        new = Link(
            old.delay if delay is None else as_distribution(delay),
            old.loss if loss is None else loss,
            old.duplicate if duplicate is None else duplicate,
            old.fifo if fifo is None else fifo,
        )
        self._links[(src, dst)] = self._compile(new)
        if both_ways:
            self.set_link(dst, src, delay=delay, loss=loss, duplicate=duplicate, fifo=fifo)

    def link(self, src: NodeId, dst: NodeId) -> Link:
        """The properties of ``src -> dst``."""
        link: Link = self._links.get((src, dst), self._default)[4]
        return link

    # -- partitions and spikes ----------------------------------------------------------
    def _name(self, name: str | None, prefix: str) -> str:
        if name is None:
            self._names += 1
            name = f"{prefix}{self._names}"
        return name

    def partition(self, groups: Iterable[Iterable[NodeId]], name: str | None = None) -> str:
        """Cut all links between different ``groups`` (both ways); return its name.

        Nodes in no group keep talking to everyone.
        """
        sets = [list(g) for g in groups]
        pairs = {(a, b) for i, ga in enumerate(sets) for j, gb in enumerate(sets) if i != j
                 for a in ga for b in gb}
        name = self._name(name, "p")
        self._set_partition(name, pairs, f"{sets}")
        return name

    def partition_oneway(
        self, src: Iterable[NodeId], dst: Iterable[NodeId], name: str | None = None
    ) -> str:
        """Drop messages from any of ``src`` to any of ``dst`` (not the reverse)."""
        s, d = list(src), list(dst)
        name = self._name(name, "p")
        self._set_partition(name, {(a, b) for a in s for b in d if a != b}, f"{s} -> {d}")
        return name

    def _set_partition(self, name: str, pairs: set, detail: str) -> None:
        self._partitions[name] = frozenset(pairs)
        self._blocked = frozenset().union(*self._partitions.values())
        self.record("partition", None, detail=f"{name}: {detail}")

    def heal(self, name: str | None = None) -> None:
        """Remove the partition ``name`` (every partition when None)."""
        names = list(self._partitions) if name is None else [name]
        for n in names:
            if self._partitions.pop(n, None) is not None:
                self.record("heal", None, detail=n)
        self._blocked = frozenset().union(*self._partitions.values())

    def blocked(self, src: NodeId, dst: NodeId) -> bool:
        """True if a partition currently cuts ``src -> dst``."""
        return (src, dst) in self._blocked

    def slow(self, nodes: Iterable[NodeId], extra_ms: float, name: str | None = None) -> str:
        """Add ``extra_ms`` to every message sent to or from ``nodes`` until :meth:`unslow`."""
        name = self._name(name, "s")
        self._slow[name] = (frozenset(nodes), float(extra_ms))
        self.record("slow", None, detail=f"{name}: {sorted(nodes, key=repr)} +{extra_ms:g} ms")
        return name

    def unslow(self, name: str | None = None) -> None:
        """End the delay spike ``name`` (all when None)."""
        for n in list(self._slow) if name is None else [name]:
            if self._slow.pop(n, None) is not None:
                self.record("unslow", None, detail=n)

    # -- messages -----------------------------------------------------------------------
    def send(self, src: NodeId, dst: NodeId, msg: Any) -> None:
        """Put ``msg`` on the link ``src -> dst`` (normally via ``Node.send``)."""
        self.sent += 1
        draw, loss, dup, fifo, _ = self._links.get((src, dst), self._default)
        if self._blocked and (src, dst) in self._blocked:
            self._drop(src, dst, msg, "partitioned")
            return
        if loss and self._uniform() < loss:
            self._drop(src, dst, msg, "lost")
            return
        self._put(src, dst, msg, draw(), fifo)
        if dup and self._uniform() < dup:
            self._put(src, dst, msg, draw(), fifo)

    def _put(self, src: NodeId, dst: NodeId, msg: Any, delay: float, fifo: bool) -> None:
        now = self.sim.now
        if self._slow:
            for nodes, extra in self._slow.values():
                if src in nodes or dst in nodes:
                    delay += extra
        arrival = now + delay
        incarnation = 0
        if self.lose_in_flight:
            sender = self.nodes.get(src)
            incarnation = sender.incarnation if sender is not None else 0
        if fifo:
            last = self._last_arrival.get((src, dst), 0.0)
            if arrival < last:
                arrival = last  # equal times keep scheduling order, hence FIFO
            self._last_arrival[(src, dst)] = arrival
        self.sim.schedule_at(arrival, self._arrive, src, dst, msg, now, incarnation)

    def _arrive(self, src: NodeId, dst: NodeId, msg: Any, sent_at: float,
                incarnation: int) -> None:
        node = self.nodes.get(dst)
        if self.lose_in_flight and incarnation != self.nodes[src].incarnation:
            self._drop(src, dst, msg, "sender crashed", sent_at)
            return
        if self._blocked and (src, dst) in self._blocked:
            self._drop(src, dst, msg, "partitioned", sent_at)
            return
        if node is None or not node.up:
            self._drop(src, dst, msg, "down", sent_at)
            return
        self.delivered += 1
        if self.trace:
            self._events.append((sent_at, self.sim.now, "message", src, dst, None,
                                 type(msg).__name__))
        node.deliver(src, msg)

    def _drop(self, src: NodeId, dst: NodeId, msg: Any, why: str,
              sent_at: float | None = None) -> None:
        self.dropped += 1
        if self.trace:
            t = self.sim.now if sent_at is None else sent_at
            self._events.append((t, math.nan, "dropped", src, dst, None,
                                 f"{type(msg).__name__} ({why})"))

    # -- the event log ------------------------------------------------------------------
    def record(self, kind: str, node: NodeId | None, *, peer: NodeId | None = None,
               epoch: int | None = None, detail: str = "", end_time: float = math.nan) -> None:
        """Note an event (crash, election, ...) at the current time."""
        self._events.append((self.sim.now, end_time, kind, node, peer, epoch, detail))

    def events_frame(self) -> pd.DataFrame:
        """The event log: columns :data:`EVENT_COLUMNS`, sorted by time (stable)."""
        df = pd.DataFrame(self._events, columns=EVENT_COLUMNS)
        df["end_time"] = df["end_time"].astype(float)
        df["epoch"] = df["epoch"].astype("Int64")
        return df.sort_values("time", kind="stable", ignore_index=True)


@dataclass(frozen=True)
class _Unit:
    """Uniform on [0, 1), for loss and duplication draws."""

    def sample(self, rng: np.random.Generator, shape: Any) -> np.ndarray:
        return rng.random(shape)

    @property
    def mean(self) -> float:
        return 0.5
