"""The nodes of a multi-leader system: leaders, their local followers, an orchestrator.

A :class:`Leader` accepts writes from clients, applies every change it receives through
the record's conflict resolution (:mod:`replab.models.collab.conflicts`), and ships what it
applied to its successors in the replication topology over one stream per edge:

* a stream numbers its entries; the receiver takes them in order (go-back-N), acks
  them (coalesced), and the sender resends from the last ack after ``retry_ms`` without
  progress, backing off exponentially to ``retry_max_ms`` -- so a change waits out a
  crash, a partition or an offline device and is delivered once the link is back;
* a new edge (a reconfiguration) starts a new stream epoch: the receiver sends the ids
  it has seen and the sender streams every change of its log the receiver lacks;
* a change carries the ids of the nodes it has passed (``path``); it is never shipped
  to a node on its path and a node ignores a change it has seen (duplicates, two paths);
* with ``causal`` delivery a change waits in a buffer until the version vector of its
  origin (``deps``) is covered and it is the origin's next change; without it, an update
  that overtakes the insert of its row finds no row and is dropped (the DDIA anomaly);
* a leader learns from the ``deps`` it receives which changes exist; if one has not
  arrived ``retry_ms`` later (its origin crashed after reaching only some leaders, and
  the others do not relay it), it asks its upstream leaders, which send what it lacks
  (gap repair; without it causal delivery could wait forever).

The log, the records, the seen set, the buffer and the stream positions are durable (the
database and its relay logs); a crash loses timers, coalesced acks and the clients'
waiting synchronous writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from replab.models.collab.conflicts import RecordState, Write
from replab.models.multi_leader.messages import (
    ORCHESTRATOR,
    Ack,
    Change,
    Confirm,
    FollowerUpdate,
    Heartbeat,
    Repair,
    RepairRequest,
    Replicate,
    Snapshot,
    SnapshotRequest,
    SyncRequest,
    SyncState,
    _write,
    read_value,
)
from replab.models.multi_leader.topology import forward_targets
from replab.sim import Node, Request, Response, VersionVector

if TYPE_CHECKING:
    from replab.models.multi_leader.view import ClusterView

__all__ = ["Leader"]

_WINDOW = 256  # stream entries in flight per edge
_ACK_DELAY_MS = 2.0


class _OutEdge:
    __slots__ = ("dst", "epoch", "live", "stream", "sent", "acked", "timer", "backoff")

    def __init__(self, dst: str, epoch: int, live: bool, backoff: float) -> None:
        self.dst, self.epoch, self.live = dst, epoch, live
        self.stream: list[int] = []  # log indices shipped on this edge, in order
        self.sent = self.acked = 0
        self.timer: Any = None
        self.backoff = backoff


class Leader(Node):
    """The leader of one datacenter (or one offline device)."""

    def __init__(self, cluster: ClusterView, node_id: str, followers: list[str]) -> None:
        super().__init__(cluster.network, node_id)
        self.cluster = cluster
        self.followers = followers
        self.log: list[Change] = []
        self.seen: set[str] = set()
        self.records: dict[str, RecordState] = {}
        self.vv: dict[str, int] = {}  # per origin: changes applied without a gap
        self._ahead: dict[str, set[int]] = {}  # per origin: seqs applied past a gap
        self.pending: list[Change] = []
        self._pending_ids: set[str] = set()
        self.out: dict[str, _OutEdge] = {}
        self._epochs: dict[str, int] = {}
        self.inbound: dict[str, list[int]] = {}  # src -> [epoch, next expected seq]
        self._ack_timers: dict[str, Any] = {}
        self._waiting: dict[str, list[Any]] = {}  # sync writes: id -> [src, op, left, conflict]
        self.known: dict[str, int] = {}  # per origin: the highest seq heard of (via deps)
        self._repair_timer: Any = None
        self._repair_backoff = cluster.config.retry_ms
        self.seq = 0

    # -- topology -----------------------------------------------------------------------
    def start_edge(self, dst: str) -> None:
        """An edge of the initial topology: both ends start empty, no sync needed."""
        self.out[dst] = _OutEdge(dst, 0, True, self.cluster.config.retry_ms)
        self._epochs[dst] = 0

    def open_edge(self, dst: str) -> None:
        """A new edge after a reconfiguration: ask ``dst`` what it has, then stream."""
        epoch = self._epochs.get(dst, -1) + 1
        self._epochs[dst] = epoch
        self.close_edge(dst)
        edge = self.out[dst] = _OutEdge(dst, epoch, False, self.cluster.config.retry_ms)
        self.send(dst, SyncRequest(epoch))
        self._arm(edge)

    def close_edge(self, dst: str) -> None:
        edge = self.out.pop(dst, None)
        if edge is not None:
            self.cancel_timer(edge.timer)

    # -- clients ------------------------------------------------------------------------
    def on_Request(self, src: Any, msg: Request) -> None:
        if msg.f == "read":
            state = self.records.get(msg.key)
            value = read_value(state.value) if state is not None else None
            self.send(src, Response(msg.op_id, "ok", value=value, node=self.id))
            return
        change = self._accept(msg.key, msg.value)
        others = set(self.cluster.leader_ids) - {self.id}
        if self.cluster.config.detection == "sync" and others:
            self._waiting[change.write.id] = [src, msg.op_id, others, False]
        else:
            self.send(src, Response(msg.op_id, "ok", node=self.id))

    def _accept(self, key: str, value: Any) -> Change:
        self.seq += 1
        state = self.records.get(key)
        write = _write(f"{self.id}:{self.seq}", value, self.clock.now(), self.id, key,
                       state.seen if state is not None else frozenset())
        kind = "update" if state is not None and state.kept else "insert"
        change = Change(write, self.seq, kind, VersionVector(self.vv), self.sim.now, ())
        self.cluster.note_accept(change)
        self._apply(change)
        return change

    def on_Confirm(self, src: Any, msg: Confirm) -> None:
        entry = self._waiting.get(msg.write_id)
        if entry is None:
            return
        entry[2].discard(src)
        entry[3] = entry[3] or msg.conflict
        if not entry[2]:
            del self._waiting[msg.write_id]
            self.cluster.note_sync_ack(msg.write_id, entry[3])
            self.send(entry[0], Response(entry[1], "ok", node=self.id))

    # -- applying changes ---------------------------------------------------------------
    def _receive(self, change: Change) -> None:
        wid = change.write.id
        if wid in self.seen or wid in self._pending_ids or self.id in change.path:
            self.cluster.duplicates += 1
            return
        self._learn(change)
        if self.cluster.config.causal and not self._deliverable(change):
            self.pending.append(change)
            self._pending_ids.add(wid)
            self.cluster.buffered += 1
            return
        self._apply(change)
        if self.pending:
            self._drain()

    # -- gap repair: ask upstream for changes others depend on that never came -----------
    def _learn(self, change: Change) -> None:
        known = self.known
        for origin, n in (*change.deps.items(), (change.write.replica, change.seq)):
            if n > known.get(origin, 0):
                known[origin] = n
        if self._repair_timer is None and self._lacking():
            self._repair_timer = self.set_timer(self._repair_backoff, self._repair)

    def _lacking(self) -> bool:
        return any(n > self.vv.get(o, 0) for o, n in self.known.items())

    def _repair(self) -> None:
        self._repair_timer = None
        if not self._lacking():
            self._repair_backoff = self.cluster.config.retry_ms
            return
        for src in self.cluster.topology.predecessors(self.id):
            self.send(src, RepairRequest(dict(self.vv)))
            self.cluster.repair_requests += 1
        self._repair_backoff = min(2 * self._repair_backoff, self.cluster.config.retry_max_ms)
        self._repair_timer = self.set_timer(self._repair_backoff, self._repair)

    def on_RepairRequest(self, src: Any, msg: RepairRequest) -> None:
        have = msg.vv
        changes = tuple(ch for ch in self.log if ch.seq > have.get(ch.write.replica, 0)
                        and src not in ch.path)
        if changes:
            self.send(src, Repair(changes))

    def on_Repair(self, src: Any, msg: Repair) -> None:
        for change in msg.changes:
            self._receive(change)

    def _deliverable(self, change: Change) -> bool:
        origin = change.write.replica
        if self.vv.get(origin, 0) != change.seq - 1:
            return False
        return all(self.vv.get(x, 0) >= n for x, n in change.deps.items() if x != origin)

    def _drain(self) -> None:
        progress = True
        while progress:
            progress = False
            for change in list(self.pending):
                if self._deliverable(change):
                    self.pending.remove(change)
                    self._pending_ids.discard(change.write.id)
                    self._apply(change)
                    progress = True

    def _advance(self, origin: str, seq: int) -> None:
        ahead = self._ahead.setdefault(origin, set())
        ahead.add(seq)
        n = self.vv.get(origin, 0)
        while n + 1 in ahead:
            n += 1
            ahead.discard(n)
        self.vv[origin] = n

    def _apply(self, change: Change) -> None:
        w, c = change.write, self.cluster
        self.seen.add(w.id)
        self._advance(w.replica, change.seq)
        state = self.records.get(w.key) or RecordState()
        remote = w.replica != self.id
        if remote and not w.supersedes <= self.seen:
            c.note_violation(self.id, change)
        dropped = remote and change.kind == "update" and not state.kept
        concurrent: list[Write] = []
        if dropped:
            c.note_missing_row(self.id, change)
        else:
            concurrent = [k for k in state.kept if k.id not in w.supersedes
                          and w.id not in state.superseded]
            new = c.strategy.apply(state, w)
            self.records[w.key] = new
            if concurrent:
                c.note_conflict(self.id, w, concurrent)
            for f in self.followers:
                self.send(f, FollowerUpdate(w.key, new.value))
        entry = change._replace(path=(*change.path, self.id))
        self.log.append(entry)
        c.note_apply(self.id, entry, dropped)
        if remote and c.config.detection == "sync":
            self.send(w.replica, Confirm(w.id, bool(concurrent)))
        index = len(self.log) - 1
        for dst in forward_targets(c.topology, entry.path, flood=c.config.flood):
            edge = self.out.get(dst)
            if edge is not None:
                edge.stream.append(index)
                if edge.live:
                    self._pump(edge)

    # -- streams: sender side -----------------------------------------------------------
    def _pump(self, edge: _OutEdge) -> None:
        while edge.sent < len(edge.stream) and edge.sent - edge.acked < _WINDOW:
            self.send(edge.dst, Replicate(edge.epoch, edge.sent, self.log[edge.stream[edge.sent]]))
            self.cluster.change_messages += 1
            edge.sent += 1
        self._arm(edge)

    def _arm(self, edge: _OutEdge) -> None:
        if edge.timer is None and (edge.sent > edge.acked or not edge.live):
            edge.timer = self.set_timer(edge.backoff, self._retry, edge.dst, edge.epoch)

    def _retry(self, dst: str, epoch: int) -> None:
        edge = self.out.get(dst)
        if edge is None or edge.epoch != epoch:
            return
        edge.timer = None
        edge.backoff = min(2 * edge.backoff, self.cluster.config.retry_max_ms)
        if not edge.live:
            self.send(dst, SyncRequest(epoch))
            self._arm(edge)
            return
        self.cluster.retransmissions += 1
        edge.sent = edge.acked
        self._pump(edge)

    def on_Ack(self, src: Any, msg: Ack) -> None:
        edge = self.out.get(src)
        if edge is None or msg.epoch != edge.epoch or msg.upto <= edge.acked:
            return
        edge.acked = msg.upto
        edge.sent = max(edge.sent, edge.acked)
        self.cancel_timer(edge.timer)
        edge.timer = None
        edge.backoff = self.cluster.config.retry_ms
        self._pump(edge)

    def on_SyncState(self, src: Any, msg: SyncState) -> None:
        edge = self.out.get(src)
        if edge is None or edge.epoch != msg.epoch or edge.live:
            return
        edge.live = True
        edge.stream = [i for i, ch in enumerate(self.log)
                       if ch.write.id not in msg.seen and src not in ch.path]
        self.cancel_timer(edge.timer)
        edge.timer = None
        edge.backoff = self.cluster.config.retry_ms
        self._pump(edge)

    # -- streams: receiver side ---------------------------------------------------------
    def start_inbound(self, src: str) -> None:
        self.inbound[src] = [0, 0]

    def on_SyncRequest(self, src: Any, msg: SyncRequest) -> None:
        state = self.inbound.get(src)
        if state is not None and msg.epoch < state[0]:
            return
        if state is None or msg.epoch > state[0]:
            self.inbound[src] = [msg.epoch, 0]
        self.send(src, SyncState(msg.epoch, frozenset(self.seen)))

    def on_Replicate(self, src: Any, msg: Replicate) -> None:
        state = self.inbound.get(src)
        if state is None or msg.epoch != state[0]:
            return
        if msg.seq == state[1]:
            state[1] += 1
            self._receive(msg.change)
        if src not in self._ack_timers:
            self._ack_timers[src] = self.set_timer(_ACK_DELAY_MS, self._send_ack, src)

    def _send_ack(self, src: str) -> None:
        self._ack_timers.pop(src, None)
        state = self.inbound.get(src)
        if state is not None:
            self.send(src, Ack(state[0], state[1]))

    # -- followers, heartbeats, failures ------------------------------------------------
    def on_SnapshotRequest(self, src: Any, msg: SnapshotRequest) -> None:
        self.send(src, Snapshot({k: s.value for k, s in self.records.items()}))

    def heartbeat(self) -> None:
        self.send(ORCHESTRATOR, Heartbeat(self.id))
        self.set_timer(self.cluster.config.heartbeat_ms, self.heartbeat)

    def on_crash(self) -> None:
        self._waiting.clear()
        self._ack_timers.clear()
        self._repair_timer = None
        for edge in self.out.values():
            edge.timer = None

    def on_restart(self) -> None:
        for edge in self.out.values():
            if not edge.live:
                self.send(edge.dst, SyncRequest(edge.epoch))
            self._arm(edge)
        for src in self.inbound:  # tell upstream where we are, so it resends at once
            self._send_ack(src)
        snapshot = Snapshot({k: s.value for k, s in self.records.items()})
        for f in self.followers:
            self.send(f, snapshot)
        if self.cluster.orchestrator is not None:
            self.heartbeat()
        if self._lacking():
            self._repair_timer = self.set_timer(self._repair_backoff, self._repair)
