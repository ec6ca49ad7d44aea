"""The editing sites behind :func:`replab.models.collab.edit_session`, one class per method.

A tiny message layer (:class:`Net`) delivers payloads after a random delay, FIFO per
channel where the method needs it. Every class keeps a tagged copy of the text per
replica (``(char, uid)`` pairs, or an RGA whose node ids map to uids) so the session can
check which typed characters survived.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from replab.latency import Distribution
from replab.models.collab.ot import Delete, Insert, OTClient, OTServer, apply_op
from replab.models.collab.sequence import RGA, NodeId

__all__ = ["Edit", "Net", "SITE_TYPES"]

SERVER = "server"
Tagged = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Edit:
    """What a user wants: delete a character or type ``char``; ``u`` in [0, 1) picks where."""

    site: str
    char: str
    delete: bool
    u: float
    t: float = 0.0


@dataclass
class Net:
    """Event queue and message delivery with random one-way delays (mutable)."""

    latency: Distribution
    rng: np.random.Generator
    now: float = 0.0
    queue: list[Any] = field(default_factory=list)
    messages: int = 0
    log: list[tuple[Any, ...]] = field(default_factory=list)
    _seq: Any = field(default_factory=itertools.count)
    _last: dict[tuple[str, str], float] = field(default_factory=dict)

    def at(self, t: float, kind: str, dest: str, payload: Any) -> None:
        """Schedule an event; equal times keep scheduling order."""
        heapq.heappush(self.queue, (t, next(self._seq), kind, dest, payload))

    def send(self, src: str, dst: str, payload: Any, fifo: bool = True) -> None:
        """Deliver ``payload`` to ``dst`` after a random delay (FIFO per channel if asked)."""
        t = self.now + float(self.latency.sample(self.rng, 1)[0])
        if fifo:
            t = max(t, self._last.get((src, dst), 0.0))
            self._last[src, dst] = t
        self.messages += 1
        self.at(t, "deliver", dst, (src, payload))

    def record(self, site: str, kind: str, index: int, char: str, uid: str,
               left: str | None, right: str | None, wait: float) -> None:
        """One row of the edit log (columns as ``collab.LOG_COLUMNS``)."""
        self.log.append((self.now, site, kind, index, char, uid, left, right, wait))


def _initial(text: str) -> Tagged:
    return tuple((c, f"init:{k}") for k, c in enumerate(text))


class _Sites:
    """Shared bookkeeping: names, the net, per-site uid counters."""

    def __init__(self, names: list[str], initial: str, net: Net) -> None:
        self.names, self.net, self.transforms = names, net, 0
        self._count = dict.fromkeys(names, 0)

    def _uid(self, site: str) -> str:
        self._count[site] += 1
        return f"{site}:{self._count[site]}"

    def _local_op(self, doc: Tagged, e: Edit, wait: float = 0.0) -> Insert | Delete:
        """Turn an edit into an op on ``doc`` and log it."""
        n = len(doc)
        if e.delete and n:
            i = min(int(e.u * n), n - 1)
            self.net.record(e.site, "delete", i, doc[i][0], doc[i][1], None, None, wait)
            return Delete(pos=i, site=e.site)
        i, uid = min(int(e.u * (n + 1)), n), self._uid(e.site)
        left, right = (doc[i - 1][1] if i else None), (doc[i][1] if i < n else None)
        self.net.record(e.site, "insert", i, e.char, uid, left, right, wait)
        return Insert(pos=i, char=e.char, site=e.site, uid=uid)

    def edit(self, site: str, e: Edit) -> None:
        raise NotImplementedError

    def receive(self, dest: str, payload: Any) -> None:
        raise NotImplementedError

    def docs(self) -> list[Tagged]:
        raise NotImplementedError

    def texts(self) -> list[str]:
        """Final text per replica."""
        return ["".join(c for c, _ in d) for d in self.docs()]

    def uids(self) -> list[list[str]]:
        """Final character uids per replica."""
        return [[u for _, u in d] for d in self.docs()]


class OTSites(_Sites):
    """Clients plus a central OT server; client-server channels are FIFO."""

    def __init__(self, names: list[str], initial: str, net: Net) -> None:
        super().__init__(names, initial, net)
        self.server = OTServer(doc=_initial(initial))
        self.clients = {n: OTClient(site=n, doc=_initial(initial)) for n in names}

    def edit(self, site: str, e: Edit) -> None:
        client = self.clients[site]
        out = client.local(self._local_op(client.doc, e))
        if out is not None:
            self.net.send(site, SERVER, out)

    def receive(self, dest: str, payload: Any) -> None:
        src, msg = payload
        if dest == SERVER:
            op = self.server.receive(*msg)
            for n in self.names:
                self.net.send(SERVER, n, "ack" if n == src else op)
            return
        client = self.clients[dest]
        if msg == "ack":
            out = client.ack()
            if out is not None:
                self.net.send(dest, SERVER, out)
        else:
            client.remote(msg)

    def docs(self) -> list[Tagged]:
        self.transforms = self.server.transforms + sum(c.transforms
                                                       for c in self.clients.values())
        return [*(self.clients[n].doc for n in self.names), self.server.doc]


class CRDTSites(_Sites):
    """Peers holding RGA replicas; each edit's delta goes to every peer, in any order."""

    def __init__(self, names: list[str], initial: str, net: Net) -> None:
        super().__init__(names, initial, net)
        start = RGA().insert(0, initial, "init") if initial else RGA()
        self.uid_of: dict[NodeId, str] = {
            nid: f"init:{k}" for k, nid in enumerate(start.visible_ids())}
        self.replicas = dict.fromkeys(names, start)

    def _tagged(self, doc: RGA) -> Tagged:
        return tuple((c, self.uid_of[nid]) for c, nid in zip(doc.value(), doc.visible_ids(),
                                                              strict=True))

    def edit(self, site: str, e: Edit) -> None:
        doc = self.replicas[site]
        op = self._local_op(self._tagged(doc), e)
        if isinstance(op, Delete):
            new = doc.delete(op.pos)
        else:
            new = doc.insert(op.pos, op.char, site)
            (node,) = new.nodes - doc.nodes
            self.uid_of[node.id] = op.uid
        self.replicas[site] = new
        delta = new.delta_since(doc)
        for n in self.names:
            if n != site:
                self.net.send(site, n, delta, fifo=False)

    def receive(self, dest: str, payload: Any) -> None:
        self.replicas[dest] = self.replicas[dest].merge(payload[1])

    def docs(self) -> list[Tagged]:
        return [self._tagged(self.replicas[n]) for n in self.names]


class LockSites(_Sites):
    """A lock server grants the document (with its text) to one site at a time."""

    def __init__(self, names: list[str], initial: str, net: Net) -> None:
        super().__init__(names, initial, net)
        self.doc = _initial(initial)
        self.copies = dict.fromkeys(names, self.doc)
        self.pending: dict[str, list[Edit]] = {n: [] for n in names}
        self.holder: str | None = None
        self.waiting: deque[str] = deque()

    def edit(self, site: str, e: Edit) -> None:
        self.pending[site].append(e)
        if len(self.pending[site]) == 1:  # the first pending edit asks for the lock
            self.net.send(site, SERVER, ("request", ()))

    def _grant(self, site: str) -> None:
        self.holder = site
        self.net.send(SERVER, site, ("grant", self.doc))

    def receive(self, dest: str, payload: Any) -> None:
        src, msg = payload
        kind, doc = msg
        if dest == SERVER and kind == "request":
            if self.holder is None:
                self._grant(src)
            else:
                self.waiting.append(src)
        elif dest == SERVER:  # release, with the edited text
            self.doc, self.holder = doc, None
            for n in self.names:
                if n != src:
                    self.net.send(SERVER, n, ("update", doc))
            if self.waiting:
                self._grant(self.waiting.popleft())
        elif kind == "grant":
            for e in self.pending[dest]:
                doc = apply_op(doc, self._local_op(doc, e, wait=self.net.now - e.t))
            self.pending[dest] = []
            self.copies[dest] = doc
            self.net.send(dest, SERVER, ("release", doc))
        else:
            self.copies[dest] = doc

    def docs(self) -> list[Tagged]:
        return [*(self.copies[n] for n in self.names), self.doc]


SITE_TYPES: dict[str, type[_Sites]] = {"ot": OTSites, "crdt": CRDTSites, "lock": LockSites}
