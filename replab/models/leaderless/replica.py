"""A storage node: its data, the hints it keeps for others, hinted handoff, anti-entropy.

``store`` (key -> versions) and ``hints`` (home node -> key -> versions) are durable: they
survive a crash. A fallback node that accepted a write for an unreachable home node (a
sloppy quorum) keeps it as a hint and, every ``handoff_interval_ms``, offers it to the
home node once that node is reachable; the hint is dropped when the home node confirms.

Anti-entropy: every ``anti_entropy_interval_ms`` a node picks the next peer (round robin)
and they compare Merkle trees over the keys both are home to, one level a message: the
initiator sends its root hash; each side answers with its own hashes of the children of
the nodes that differed, descending one level per message (so ``log2(leaves) + 1``
messages reach the leaves); the side that finds differing leaves sends its data in them,
and the other merges it and sends back what it holds that differs. Every message is
counted with the bytes it carries (hashes, node indices, data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from replab.models.leaderless.client import ContextRequest, ContextResponse
from replab.models.leaderless.coord import Coordinating, Get, GetReply, Put, PutAck
from replab.models.leaderless.merkle import INDEX_BYTES, bucket_of, leaf_hashes, tree_levels
from replab.models.leaderless.versions import (
    HASH_BYTES,
    Versions,
    context_of,
    version_bytes,
)
from replab.sim import Request, Response

if TYPE_CHECKING:
    from replab.models.leaderless.coord import Op
    from replab.models.leaderless.view import ClusterView

__all__ = ["Replica", "Handoff", "HandoffAck", "MerkleLevel", "MerkleDiff", "SyncData"]


class Handoff(NamedTuple):
    key: str
    versions: Versions


class HandoffAck(NamedTuple):
    key: str
    ids: frozenset


class MerkleLevel(NamedTuple):
    """The sender's hashes of ``nodes`` (indices) at ``level`` of its tree (0 = leaves)."""

    round: int
    level: int
    nodes: tuple
    hashes: tuple


class MerkleDiff(NamedTuple):
    """The leaves found to differ, and the sender's data in them."""

    round: int
    buckets: tuple
    data: tuple  # ((key, versions), ...)


class SyncData(NamedTuple):
    data: tuple


class Replica(Coordinating):
    """One storage node; it also coordinates the client requests sent to it."""

    def __init__(self, cluster: ClusterView, node_id: int, dc: int) -> None:
        super().__init__(cluster.network, node_id)
        self.init_coordinator(cluster)
        self.dc = dc
        self.store: dict[str, Versions] = {}
        self.hints: dict[Any, dict[str, Versions]] = {}
        self.durable["store"], self.durable["hints"] = self.store, self.hints
        self._peer = 0
        self._arm_timers(first=True)

    # -- background processes -----------------------------------------------------------
    def _arm_timers(self, first: bool = False) -> None:
        c = self.cluster
        stagger = (self.id + 1) / (len(c.replicas_ids) + 1)
        if c.config.sloppy:
            self.set_timer(c.config.handoff_interval_ms * (stagger if first else 1.0),
                           self._handoff)
        ae = c.config.anti_entropy_interval_ms
        if ae is not None:
            self.set_timer(ae * (stagger if first else 1.0), self._anti_entropy)

    def on_restart(self) -> None:
        self._arm_timers()

    # -- client requests and replication --------------------------------------------------
    def on_Request(self, src: Any, msg: Request, context: Any = None,
                   with_context: bool = False) -> None:
        def reply(op: Op, outcome: str, versions: Versions) -> None:
            value = self.cluster.client_value(op, versions) if outcome == "ok" else None
            response = Response(msg.op_id, outcome, value, None, self.id)
            if with_context:  # a write answers with the context of the object it made
                held = op.merged if op.f == "write" else versions
                ctx = context_of(held) if outcome == "ok" and held else None
                self.send(src, ContextResponse(response, ctx))
            else:
                self.send(src, response)

        if msg.f == "write":
            self.start_write(msg.key, msg.value, src, reply, context)
        else:
            self.start_read(msg.key, reply)

    def on_ContextRequest(self, src: Any, msg: ContextRequest) -> None:
        self.on_Request(src, msg.request, msg.context, with_context=True)

    def on_Put(self, src: Any, msg: Put) -> None:
        c = self.cluster
        if c.pbs_down and (self.id, msg.key) in c.pbs_down:
            return
        if msg.hint is None:
            self.store[msg.key] = c.merge(self.store.get(msg.key, ()), msg.versions)
        else:
            held = self.hints.setdefault(msg.hint, {})
            held[msg.key] = c.merge(held.get(msg.key, ()), msg.versions)
            c.note_hint(self.id, msg.hint, msg.key, msg.versions)
        c.note_stored(msg.key, msg.versions)
        if msg.op >= 0:
            c.transmit(self, src, PutAck(msg.op), "A")

    def on_Get(self, src: Any, msg: Get) -> None:
        c = self.cluster
        if c.pbs_down and (self.id, msg.key) in c.pbs_down:
            return
        if msg.hint is None:
            held = self.store.get(msg.key, ())
        else:  # a fallback answers with every hint it keeps for the key, whoever's it is
            held = ()
            for hinted in self.hints.values():
                held = c.merge(held, hinted.get(msg.key, ()))
        c.transmit(self, src, GetReply(msg.op, held), "S")

    # -- hinted handoff -------------------------------------------------------------------
    def _handoff(self) -> None:
        c = self.cluster
        for home, held in self.hints.items():
            if held and c.healthy(self.id, home):
                for key, versions in held.items():
                    c.transmit(self, home, Handoff(key, versions), "W")
        self.set_timer(c.config.handoff_interval_ms, self._handoff)

    def on_Handoff(self, src: Any, msg: Handoff) -> None:
        c = self.cluster
        self.store[msg.key] = c.merge(self.store.get(msg.key, ()), msg.versions)
        c.note_stored(msg.key, msg.versions)
        ids = frozenset(v.write_id for v in msg.versions)
        c.transmit(self, src, HandoffAck(msg.key, ids), "A")

    def on_HandoffAck(self, src: Any, msg: HandoffAck) -> None:
        held = self.hints.get(src)
        if not held or msg.key not in held:
            return
        if frozenset(v.write_id for v in held[msg.key]) == msg.ids:  # nothing newer since
            del held[msg.key]
            self.cluster.hinted_handoffs += 1
            if not held:
                del self.hints[src]

    # -- anti-entropy ---------------------------------------------------------------------
    def _shared(self, peer: Any, buckets: set[int] | None = None) -> dict[str, Versions]:
        """What this node holds of the keys ``peer`` is also home to (in ``buckets``)."""
        c, leaves = self.cluster, self.cluster.config.merkle_leaves
        out = {}
        for key, held in self.store.items():
            if peer in c.home_all(key) and (buckets is None or bucket_of(key, leaves) in buckets):
                out[key] = held
        return out

    def _levels(self, peer: Any) -> list[list[int]]:
        held = {k: [v.write_id for v in vs] for k, vs in self._shared(peer).items()}
        return tree_levels(leaf_hashes(held, self.cluster.config.merkle_leaves))

    def _anti_entropy(self) -> None:
        c = self.cluster
        peers = [p for p in c.replicas_ids if p != self.id]
        for _ in range(len(peers)):
            peer = peers[self._peer % len(peers)]
            self._peer += 1
            if c.healthy(self.id, peer):
                c.ae_round_ids += 1
                levels = self._levels(peer)
                top = len(levels) - 1
                self._ship(peer, MerkleLevel(c.ae_round_ids, top, (0,), (levels[top][0],)),
                           "R", c.ae_round_ids)
                break
        self.set_timer(c.config.anti_entropy_interval_ms, self._anti_entropy)  # type: ignore[arg-type]

    def _ship(self, peer: Any, msg: Any, kind: str, round_id: int, nbytes: int = 0) -> None:
        """Send one anti-entropy message and count it (hashes, indices and data bytes)."""
        if isinstance(msg, MerkleLevel):
            nbytes += len(msg.hashes) * HASH_BYTES + len(msg.nodes) * INDEX_BYTES
        self.cluster.note_ae_message(round_id, nbytes, self.id, peer)
        self.cluster.transmit(self, peer, msg, kind)

    def on_MerkleLevel(self, src: Any, msg: MerkleLevel) -> None:
        """Compare the peer's hashes with mine; answer with mine one level down, or with
        the data of the differing leaves; the exchange ends where nothing differs."""
        c = self.cluster
        mine = self._levels(src)
        differing = [i for i, h in zip(msg.nodes, msg.hashes, strict=True)
                     if mine[msg.level][i] != h]
        kind = "S" if msg.level % 2 == (len(mine) - 1) % 2 else "R"  # alternate directions
        if not differing:
            c.end_ae_round(msg.round, self.id, src, 0, 0)
        elif msg.level > 0:
            nodes = tuple(j for i in differing for j in (2 * i, 2 * i + 1))
            hashes = tuple(mine[msg.level - 1][j] for j in nodes)
            self._ship(src, MerkleLevel(msg.round, msg.level - 1, nodes, hashes), kind,
                       msg.round)
        else:
            data = tuple(self._shared(src, set(differing)).items())
            nbytes = len(differing) * INDEX_BYTES + sum(version_bytes(k, v) for k, v in data)
            self._ship(src, MerkleDiff(msg.round, tuple(differing), data), kind, msg.round,
                       nbytes)

    def on_MerkleDiff(self, src: Any, msg: MerkleDiff) -> None:
        c = self.cluster
        theirs = dict(msg.data)
        for key, versions in msg.data:
            if self.id in c.home_all(key):
                self.store[key] = c.merge(self.store.get(key, ()), versions)
                c.note_stored(key, versions)
        mine = self._shared(src, set(msg.buckets))
        back = tuple((k, vs) for k, vs in mine.items() if theirs.get(k) != vs)
        if back:
            self._ship(src, SyncData(back), "W", msg.round,
                       sum(version_bytes(k, vs) for k, vs in back))
        keys = len({k for k, _ in msg.data} | {k for k, _ in back})
        c.end_ae_round(msg.round, self.id, src, len(msg.buckets), keys)

    def on_SyncData(self, src: Any, msg: SyncData) -> None:
        c = self.cluster
        for key, versions in msg.data:
            self.store[key] = c.merge(self.store.get(key, ()), versions)
            c.note_stored(key, versions)

    # -- operator actions -----------------------------------------------------------------
    def restore_from(self, other: Replica) -> None:
        """Replace this node's data by a copy of ``other``'s for the keys both are home to.

        Models rebuilding a failed node's disk from another replica.
        """
        c = self.cluster
        self.store.clear()
        for key, held in other.store.items():
            if self.id in c.home_all(key):
                self.store[key] = held
        c.network.record("restore", self.id, peer=other.id)
