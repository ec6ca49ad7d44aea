"""The other nodes of a multi-leader system: local followers and the orchestrator.

A :class:`Follower` mirrors its leader's record values (it receives every new value, and
a snapshot after either of them restarts) and serves reads. The :class:`Orchestrator`
(``auto_reroute``) watches the leaders' heartbeats, has the cluster bypass a leader that
went silent for ``detect_ms`` and restore it when heartbeats resume.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from replab.models.multi_leader.messages import (
    ORCHESTRATOR,
    FollowerUpdate,
    Heartbeat,
    Snapshot,
    SnapshotRequest,
    read_value,
)
from replab.sim import Node, Request, Response

if TYPE_CHECKING:
    from replab.models.multi_leader.view import ClusterView

__all__ = ["Follower", "Orchestrator"]


class Follower(Node):
    """A read replica in its leader's datacenter: it mirrors the leader's record values."""

    def __init__(self, cluster: ClusterView, node_id: str, leader: str) -> None:
        super().__init__(cluster.network, node_id)
        self.cluster, self.leader = cluster, leader
        self.values: dict[str, Any] = {}
        self.synced = True

    def on_FollowerUpdate(self, src: Any, msg: FollowerUpdate) -> None:
        self.values[msg.key] = msg.value

    def on_Snapshot(self, src: Any, msg: Snapshot) -> None:
        self.values = dict(msg.values)
        self.synced = True

    def on_Request(self, src: Any, msg: Request) -> None:
        if msg.f != "read":
            self.send(src, Response(msg.op_id, "fail", node=self.id))
            return
        self.send(src, Response(msg.op_id, "ok", value=read_value(self.values.get(msg.key)),
                                node=self.id))

    def on_restart(self) -> None:
        self.synced = False
        self._ask()

    def _ask(self) -> None:
        if not self.synced:
            self.send(self.leader, SnapshotRequest(self.id))
            self.set_timer(self.cluster.config.retry_ms, self._ask)


class Orchestrator(Node):
    """Watches the leaders' heartbeats; bypasses a silent leader and restores it later."""

    def __init__(self, cluster: ClusterView) -> None:
        super().__init__(cluster.network, ORCHESTRATOR)
        self.cluster = cluster
        self.last = {leader: 0.0 for leader in cluster.leader_ids}
        self.down: set[str] = set()
        self.set_timer(cluster.config.heartbeat_ms, self._check)

    def on_Heartbeat(self, src: Any, msg: Heartbeat) -> None:
        self.last[msg.node] = self.sim.now
        if msg.node in self.down:
            self.down.discard(msg.node)
            self.cluster.leader_back(msg.node, "orchestrator")

    def _check(self) -> None:
        limit = self.sim.now - self.cluster.config.detect_ms
        for leader, seen in self.last.items():
            if leader not in self.down and seen < limit:
                self.down.add(leader)
                self.cluster.leader_gone(leader, "orchestrator")
        self.set_timer(self.cluster.config.heartbeat_ms, self._check)
