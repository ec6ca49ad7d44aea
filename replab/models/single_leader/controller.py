"""The controller of the single-leader model: failure detector and failover coordinator.

Like an orchestrator or a Patroni/etcd pair, it watches the leader's heartbeats; after
``failover_timeout_ms`` without one it asks the followers for their log positions,
waits ``election_window_ms`` for answers, promotes the most up-to-date one (in
synchronous mode only a member of the leader's synchronous set can be chosen, so no
acknowledged write can be lost) under a new epoch, and tells everyone. It answers the
leader's heartbeats with lease grants and tells every replica the topology each tick.
The controller itself does not crash, but partitions can cut it off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from replab.models.single_leader.log import (
    Heartbeat,
    HeartbeatAck,
    Hello,
    Query,
    Status,
    Topology,
)
from replab.models.single_leader.replica import CONTROLLER
from replab.sim.node import Node

if TYPE_CHECKING:
    from replab.models.single_leader.view import ClusterView

__all__ = ["Controller"]


class Controller(Node):
    """Detects a dead leader and runs the failover (see the module docstring)."""

    def __init__(self, cluster: ClusterView) -> None:
        super().__init__(cluster.network, CONTROLLER)
        self.cluster, self.cfg = cluster, cluster.config
        self.leader = 0
        self.epoch = 1
        self.next_epoch = 2
        self.last_heartbeat = 0.0
        self.eligible: tuple[int, ...] = tuple(cluster.peers(0))
        self.members: tuple[int, ...] = self.eligible  # of the current leader's sync duty
        self.election: dict[int, tuple[int, int]] | None = None
        self.failovers = 0
        phase = float(cluster.rng.uniform(0.0, self.cfg.heartbeat_interval_ms))
        self.set_timer(phase, self._tick)

    def _tick(self) -> None:
        self.set_timer(self.cfg.heartbeat_interval_ms, self._tick)
        late = self.sim.now - self.last_heartbeat > self.cfg.failover_timeout_ms
        if late and self.election is None:
            self._start_failover()
        self.broadcast(self.cluster.replica_ids, self._topology())

    def _topology(self) -> Topology:
        return Topology(self.epoch, self.leader, self.members)

    def on_Heartbeat(self, src: int, msg: Heartbeat) -> None:
        if src == self.leader and msg.epoch == self.epoch:
            self.last_heartbeat = self.sim.now
            self.eligible = msg.sync_set
            self.send(src, HeartbeatAck(self.epoch, src, msg.sent_local))
        else:  # a deposed leader: tell it who leads now
            self.send(src, self._topology())

    def on_Hello(self, src: int, msg: Hello) -> None:
        self.send(src, self._topology())

    def _start_failover(self) -> None:
        epoch = self.next_epoch
        self.next_epoch += 1
        self.election = {}
        self.network.record("failover_start", self.leader, epoch=epoch,
                            detail=f"no heartbeat for {self.sim.now - self.last_heartbeat:.6g} ms")
        others = [r for r in self.cluster.replica_ids if r != self.leader]
        self.broadcast(others, Query(epoch))
        self.set_timer(self.cfg.election_window_ms, self._decide, epoch)

    def on_Status(self, src: int, msg: Status) -> None:
        if self.election is not None and msg.epoch == self.next_epoch - 1:
            self.election[src] = msg.position

    def _decide(self, epoch: int) -> None:
        votes, self.election = self.election or {}, None
        if self.cfg.mode == "sync":
            votes = {n: p for n, p in votes.items() if n in self.eligible}
        if not votes:
            self.network.record("failover_failed", None, epoch=epoch,
                                detail="no eligible follower answered")
            return
        winner = max(votes, key=lambda n: (votes[n], -n))
        old = self.leader
        self.leader, self.epoch = winner, epoch
        self.last_heartbeat = self.sim.now
        self.failovers += 1
        # The suspected old leader is no member: it must rejoin and catch up first.
        pool = self.eligible if self.cfg.mode == "sync" else self.cluster.replica_ids
        self.members = tuple(sorted(m for m in pool if m not in (winner, old)))
        self.eligible = self.members
        self.cluster.note_failover(old, winner, epoch, votes)
        self.broadcast(self.cluster.replica_ids, self._topology())

    def route(self) -> Any:
        """The leader clients are sent to when they have no better idea."""
        return self.leader
