"""The coordinator: fan a write or a read out to the replicas and wait for a quorum.

Any node can coordinate (Riak, Cassandra); the ``pbs`` workload uses two client-side
coordinators instead (Voldemort's client routing). A write is sent to every target and
succeeds on the ``w``-th acknowledgement from a node that counts (with ``LOCAL_QUORUM``,
only the coordinator's datacenter counts); a read merges the first ``r`` counting
responses. Without a quorum before the request timeout the operation fails -- and a
failed write is *not* rolled back on the replicas that did store it.

After answering a read, the coordinator may repair (read repair): it waits for the other
responses until the timeout and writes the merged versions back to every replica whose
answer lacked something. With ``write_back`` the repair comes *before* the answer: the
read writes what it will return to every target and answers only after ``w`` of them
acknowledged (ABD's second phase), so no later read can return anything older. With
``write_reads_first`` a write first reads a quorum and takes a timestamp above the
newest it saw (ABD's multi-writer form).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from replab.models.leaderless.versions import Version, Versions, version_bytes
from replab.sim import Node

if TYPE_CHECKING:
    from replab.models.leaderless.view import ClusterView

__all__ = ["Put", "PutAck", "Get", "GetReply", "Op", "Coordinating"]


class Put(NamedTuple):
    """Store ``versions`` of ``key`` (as a hint for ``hint`` when not None); ack if op >= 0."""

    op: int
    key: str
    versions: Versions
    hint: Any = None


class PutAck(NamedTuple):
    op: int


class Get(NamedTuple):
    """Send back what is held for ``key`` (a fallback standing in for ``hint``: its hints)."""

    op: int
    key: str
    hint: Any = None


class GetReply(NamedTuple):
    op: int
    versions: Versions


class Op:
    """A write or read in progress at a coordinator."""

    __slots__ = ("id", "f", "key", "hints", "counted", "need", "got", "merged", "responses",
                 "done", "repair", "version", "on_done", "timer", "start", "writing_back")

    def __init__(self, op_id: int, f: str, key: str, targets: list[tuple[Any, Any]],
                 counted: frozenset, need: int, on_done: Callable[..., Any],
                 start: float) -> None:
        self.id, self.f, self.key = op_id, f, key
        self.hints = dict(targets)  # target -> the home node it stands in for (or None)
        self.counted, self.need = counted, need
        self.got = 0
        self.merged: Versions = ()
        self.responses: dict[Any, Versions] = {}
        self.done = False
        self.repair = False
        self.version: Version | None = None
        self.on_done = on_done
        self.timer: Any = None
        self.start = start
        self.writing_back: bool | None = None  # None: a read that may still write back


class Coordinating(Node):
    """A node that coordinates operations (mixed into replicas and client-side routers)."""

    cluster: ClusterView

    def init_coordinator(self, cluster: ClusterView) -> None:
        self.cluster = cluster
        self.pending: dict[int, Op] = {}

    def _open(self, f: str, key: str, targets: list, need: int,
              on_done: Callable[..., Any]) -> Op:
        c = self.cluster
        c.op_ids += 1
        op = Op(c.op_ids, f, key, targets, c.counted(self.id, targets), need, on_done,
                self.sim.now)
        self.pending[op.id] = op
        if c.request_timeout is not None:
            op.timer = self.set_timer(c.request_timeout, self._timeout, op.id)
        return op

    def start_write(self, key: str, value: Any, actor: Any,
                    on_done: Callable[[Op, str, Versions], Any], context: Any = None) -> Op:
        """Write ``value`` with the client's causal ``context`` (version vectors);
        ``on_done(op, "ok" | "fail", versions)`` reports the outcome."""
        c = self.cluster
        if c.config.write_reads_first:
            def then_write(read: Op, outcome: str, seen: Versions) -> None:
                if outcome != "ok":
                    on_done(read, "fail", ())
                    return
                floor = max((v.ts for v in seen), default=float("-inf"))
                self._write(key, value, actor, on_done, context, floor)
            return self.start_read(key, then_write, internal=True)
        return self._write(key, value, actor, on_done, context)

    def _write(self, key: str, value: Any, actor: Any, on_done: Callable[..., Any],
               context: Any = None, floor: float = float("-inf")) -> Op:
        c = self.cluster
        version = c.new_version(self, actor, key, value, context, min_ts=floor)
        targets = c.write_targets(self.id, key)
        op = self._open("write", key, targets, c.w, on_done)
        op.version = version
        shipped = op.merged = self._local_object(key, version)
        for dst, hint in targets:
            c.transmit(self, dst, Put(op.id, key, shipped, hint), "W")
        return op

    def _local_object(self, key: str, version: Version) -> Versions:
        """With version vectors, a coordinator that is a replica of the key stores the new
        version at once and ships the whole object (every sibling) with it, so that no
        replica holds a dot without the dots its coordinator issued before (Riak)."""
        store = getattr(self, "store", None)
        c = self.cluster
        if (version.vv is None or c.config.version_vectors != "replica" or store is None
                or self.id not in c.home_all(key)):
            return (version,)
        merged = c.merge(store.get(key, ()), (version,))
        store[key] = merged
        c.note_stored(key, merged)
        return merged

    def start_read(self, key: str, on_done: Callable[[Op, str, Versions], Any],
                   internal: bool = False) -> Op:
        """Read ``key``; ``on_done(op, "ok" | "fail", merged versions)``. An ``internal``
        read (a write's first phase) neither repairs nor writes back."""
        c = self.cluster
        targets = c.read_targets(self.id, key)
        op = self._open("read", key, targets, c.r, on_done)
        op.repair = not internal and c.draw_read_repair()
        if internal:
            op.writing_back = False
        for dst, hint in targets:
            c.transmit(self, dst, Get(op.id, key, hint), "R")
        return op

    def on_PutAck(self, src: Any, msg: PutAck) -> None:
        op = self.pending.get(msg.op)
        if op is None or op.done or src not in op.counted:
            return
        op.got += 1
        if op.got >= op.need:
            done = op.merged if op.f == "read" else (op.version,)
            self._finish(op, "ok", done)  # type: ignore[arg-type]

    def on_GetReply(self, src: Any, msg: GetReply) -> None:
        op = self.pending.get(msg.op)
        if op is None:
            return
        op.responses[src] = msg.versions
        if op.writing_back:
            return  # the answer is fixed; only acks of the write-back count now
        if not op.done and src in op.counted:
            op.got += 1
            op.merged = self.cluster.merge(op.merged, msg.versions)
            if op.got >= op.need:
                if op.writing_back is None and self.cluster.config.write_back and op.merged:
                    self._write_back(op)
                else:
                    self._finish(op, "ok", op.merged)
                return
        if op.done and len(op.responses) == len(op.hints):
            self._repair(op)

    def _write_back(self, op: Op) -> None:
        """ABD's second phase: store what the read will return on ``w`` replicas first."""
        c = self.cluster
        op.writing_back, op.got, op.need = True, 0, c.w
        for dst, hint in op.hints.items():
            c.transmit(self, dst, Put(op.id, op.key, op.merged, hint), "W")

    def _finish(self, op: Op, outcome: str, versions: Versions) -> None:
        op.done = True
        op.on_done(op, outcome, versions)
        if op.repair and outcome == "ok":
            if len(op.responses) == len(op.hints):
                self._repair(op)
            return  # keep waiting (until the timeout) for the other responses
        self._close(op)

    def _close(self, op: Op) -> None:
        self.pending.pop(op.id, None)
        self.cancel_timer(op.timer)

    def _timeout(self, op_id: int) -> None:
        op = self.pending.get(op_id)
        if op is None:
            return
        if not op.done:
            self._finish(op, "fail", ())
            self._close(op)
        else:
            self._repair(op)

    def _repair(self, op: Op) -> None:
        """Write the newest versions back to every responder that lacked some."""
        self._close(op)
        c = self.cluster
        best: Versions = ()
        for held in op.responses.values():
            best = c.merge(best, held)
        if not best:
            return
        ids = {v.write_id for v in best}
        for node, held in op.responses.items():
            if {v.write_id for v in held} != ids:
                c.read_repairs += 1
                c.read_repair_bytes += version_bytes(op.key, best)
                c.transmit(self, node, Put(-1, op.key, best, op.hints[node]), "W")

    def on_crash(self) -> None:
        self.pending = {}  # operations in progress die with the coordinator
