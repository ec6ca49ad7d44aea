"""A replica of the single-leader model: leader or follower of the current epoch.

Durable (survives crashes): the log, the highest epoch seen. Volatile: the role, who leads,
the data (rebuilt from the log on restart), and as leader the followers' progress, the
writes waiting for acknowledgement, the synchronous set and the lease.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from replab.models.single_leader.log import (
    Append,
    AppendAck,
    Entry,
    EpochQuery,
    EpochRuns,
    Heartbeat,
    HeartbeatAck,
    Hello,
    Query,
    ReplicatedLog,
    Shoot,
    Snapshot,
    SnapshotRequest,
    Status,
    Topology,
    version_of,
)
from replab.sim.clients import Request, Response
from replab.sim.node import Node

if TYPE_CHECKING:
    from replab.models.single_leader.view import ClusterView

__all__ = ["Replica", "CONTROLLER"]

CONTROLLER = "ctl"
_BATCH = 64


class Replica(Node):
    """One database node. ``cluster`` gives the configuration and collects statistics."""

    def __init__(self, cluster: ClusterView, node_id: int, *, joined: bool = True) -> None:
        super().__init__(cluster.network, node_id)
        self.cluster, self.cfg = cluster, cluster.config
        self.durable["log"] = ReplicatedLog()
        self.durable["epoch"] = 1
        self.joined = joined
        self._reset()
        phase = float(cluster.rng.uniform(0.0, self.cfg.heartbeat_interval_ms))
        self.set_timer(phase, self._tick)

    @property
    def log(self) -> ReplicatedLog:
        return self.durable["log"]  # type: ignore[no-any-return]

    @property
    def epoch(self) -> int:
        return int(self.durable["epoch"])

    def _reset(self) -> None:
        self.role = "follower"
        self.leader: int | None = None
        self.synced = False  # follower: log checked against the leader's
        self.data = self.log.state()
        self.match: dict[int, int] = {}
        self.sent: dict[int, int] = {}
        self.last_heard: dict[int, float] = {}
        self.catching_up: dict[int, float] = {}
        self.pending: deque[tuple[int, Any, int, int]] = deque()
        self.sync_set: list[int] = []
        self.members: set[int] = set()
        self.lease_until = -float("inf")

    # -- failures ---------------------------------------------------------------------
    def on_crash(self) -> None:
        self._reset()

    def on_restart(self) -> None:
        self._reset()
        self.set_timer(0.0, self._tick)
        self.send(CONTROLLER, Hello())

    # -- roles --------------------------------------------------------------------------
    def _adopt_epoch(self, epoch: int) -> None:
        if epoch > self.epoch:
            self.durable["epoch"] = epoch

    def become_leader(self, epoch: int, members: tuple[int, ...]) -> None:
        self._adopt_epoch(epoch)
        self.role, self.leader, self.synced = "leader", self.id, True
        peers = self.cluster.peers(self.id)
        now = self.sim.now
        self.match = {f: 0 for f in peers}
        self.sent = {}
        self.last_heard = {f: now for f in peers}
        self.members = {m for m in members if m != self.id}
        self.catching_up = {}
        self._choose_sync_set()
        self.lease_until = -float("inf")
        self.cluster.note_promotion(self.id, epoch)
        for f in peers:  # probe: followers answer with their log end
            self.send(f, Append(self.epoch, self.id, self.log.end, ()))

    def follow(self, leader: int | None, epoch: int) -> None:
        if self.role == "leader":
            self.network.record("demote", self.id, epoch=self.epoch,
                                detail=f"now follows {leader} (epoch {epoch})")
        self._adopt_epoch(epoch)
        self.role, self.leader, self.synced = "follower", leader, False
        self.pending.clear()
        if leader is not None and leader != self.id:
            self.send(leader, EpochQuery(self.epoch))

    def _stale(self, epoch: int) -> bool:
        """With fencing, a message from an older epoch is refused."""
        return self.cfg.fencing and epoch < self.epoch

    # -- ticks: heartbeats, semi-sync watchdog --------------------------------------------
    def _tick(self) -> None:
        self.set_timer(self.cfg.heartbeat_interval_ms, self._tick)
        if self.role != "leader":
            return
        hb = Heartbeat(self.epoch, self.id, self.log.end, self.clock.now(), tuple(self.sync_set))
        self.send(CONTROLLER, hb)
        self.broadcast(self.cluster.peers(self.id), hb)
        if self.cfg.mode == "semi-sync":
            self._check_sync_set()

    def _responsive(self, f: int) -> bool:
        return self.sim.now - self.last_heard.get(f, -float("inf")) <= self.cfg.sync_timeout_ms

    def _choose_sync_set(self) -> None:
        if self.cfg.mode == "sync":
            self.sync_set = sorted(self.members)
        elif self.cfg.mode == "semi-sync":
            ranked = sorted(self.members, key=lambda f: (-self.match.get(f, 0), f))
            self.sync_set = ranked[: self.cfg.sync_followers]
        else:
            self.sync_set = []

    def _check_sync_set(self) -> None:
        now = self.sim.now
        for f in list(self.sync_set):
            m = self.match.get(f, 0)
            late = m < self.log.end and now - self.log.entry(m + 1).time > self.cfg.sync_timeout_ms
            if not (late or not self._responsive(f)):
                continue
            spare = [g for g in self.members if g not in self.sync_set and self._responsive(g)]
            if not spare:
                continue
            best = max(spare, key=lambda g: (self.match.get(g, 0), -g))
            self.sync_set[self.sync_set.index(f)] = best
            self.network.record("sync_swap", self.id, peer=best, epoch=self.epoch,
                                detail=f"{f} -> async, {best} -> sync")
        self._advance_commit()

    # -- client requests --------------------------------------------------------------------
    def on_Request(self, src: Any, req: Request) -> None:
        cfg = self.cfg
        serving = self.role == "leader" and (not cfg.fencing or self.clock.now() < self.lease_until)
        if req.f == "read":
            if serving or (cfg.read_from != "leader" and self.role == "follower"):
                value = self.data.get(req.key)
                self.send(src, Response(req.op_id, "ok", None if value is None else value[0],
                                        node=self.id))
            else:
                self.send(src, Response(req.op_id, "fail", node=self.id, hint=self._hint()))
            return
        if not serving:
            self.send(src, Response(req.op_id, "fail", node=self.id, hint=self._hint()))
            return
        lsn = self.log.end + 1
        entry = Entry(self.epoch, lsn, req.key, req.value, self.sim.now)
        self.log.append(entry)
        version = version_of(self.epoch, lsn)
        self.data[req.key] = (req.value, version)
        self.pending.append((lsn, src, req.op_id, version))
        for f in self.cluster.peers(self.id):
            if self.sent.get(f) == lsn - 1:  # streaming: the follower has been sent it all
                self.sent[f] = lsn
                self.send(f, Append(self.epoch, self.id, lsn - 1, (entry,)))
        self._advance_commit()

    def _hint(self) -> int | None:
        return self.leader if self.leader != self.id else None

    def _advance_commit(self) -> None:
        sync = self.sync_set
        commit = min(self.match.get(f, 0) for f in sync) if sync else self.log.end
        while self.pending and self.pending[0][0] <= commit:
            lsn, client, op_id, version = self.pending.popleft()
            self.cluster.note_ack(self.id, self.epoch, lsn)
            self.send(client, Response(op_id, "ok", version=version, node=self.id,
                                       hint=self.id))

    # -- replication: follower side ---------------------------------------------------------
    def on_Append(self, src: int, msg: Append) -> None:
        if self._stale(msg.epoch):
            self.send(src, AppendAck(self.epoch, self.log.end, False))
            return
        if msg.leader != self.leader or msg.epoch > self.epoch:
            if not self.cfg.fencing or msg.epoch <= self.epoch:
                return  # not my leader; without fencing only the controller changes that
            self.follow(msg.leader, msg.epoch)
            return
        if self.role != "follower" or not self.synced:
            return
        log = self.log
        ok = msg.prev <= log.end
        if ok:
            for e in msg.entries:
                if e.lsn <= log.end:
                    if e.lsn > log.base and log.entry(e.lsn).epoch != e.epoch:
                        self._truncate(e.lsn - 1)
                    else:
                        continue
                log.append(e)
                self.data[e.key] = (e.value, version_of(e.epoch, e.lsn))
        self.send(src, AppendAck(self.epoch, log.end, ok))

    def _truncate(self, keep_until: int) -> None:
        dropped = self.log.truncate(keep_until)
        if dropped:
            self.data = self.log.state()
            self.cluster.note_truncation(self.id, dropped)

    def on_EpochRuns(self, src: int, msg: EpochRuns) -> None:
        if src != self.leader or self.role != "follower":
            return
        self._truncate(self.log.divergence(list(msg.runs), msg.end))
        self.synced = True
        self.send(src, AppendAck(self.epoch, self.log.end, False))

    def on_Snapshot(self, src: int, msg: Snapshot) -> None:
        self.log.install_snapshot(msg.base, msg.base_epoch, msg.data, msg.runs)
        self.data = self.log.state()
        self.joined, self.leader, self.synced = True, src, True
        self._adopt_epoch(msg.epoch)
        self.network.record("snapshot_installed", self.id, peer=src, epoch=msg.epoch,
                            detail=f"base lsn {msg.base}")
        self.send(src, AppendAck(self.epoch, self.log.end, False))

    # -- replication: leader side -------------------------------------------------------------
    def on_AppendAck(self, src: int, msg: AppendAck) -> None:
        if msg.epoch > self.epoch and self.cfg.fencing:
            self.network.record("fenced", self.id, peer=src, epoch=self.epoch,
                                detail=f"saw epoch {msg.epoch}")
            self.follow_unknown(msg.epoch)
            return
        if self.role != "leader":
            return
        self.last_heard[src] = self.sim.now
        if msg.match > self.match.get(src, 0) or not msg.ok:
            self.match[src] = msg.match
        end = self.log.end
        if msg.match < end:
            if not msg.ok or msg.match >= self.sent.get(src, -1):
                self._send_from(src, msg.match)
        else:
            self.sent[src] = end  # it has everything: stream new writes to it
            if src in self.catching_up:
                since = self.catching_up.pop(src)
                self.members.add(src)
                self.network.record("caught_up", src, peer=self.id, epoch=self.epoch,
                                    detail=f"{self.sim.now - since:.6g} ms")
                self.cluster.note_caught_up(src, self.sim.now - since)
                self._choose_sync_set_if_needed()
        self._advance_commit()

    def _choose_sync_set_if_needed(self) -> None:
        if self.cfg.mode == "sync" or len(self.sync_set) < self.cfg.sync_followers:
            self._choose_sync_set()

    def _send_from(self, f: int, match: int) -> None:
        log = self.log
        if match < log.base:  # the follower needs entries we only have in a snapshot
            self.send(f, Snapshot(self.epoch, log.base, log.base_epoch, log.snapshot,
                                  tuple(log.base_runs)))
            return
        batch = log.slice(match + 1, match + _BATCH)
        self.sent[f] = match + len(batch)
        self.send(f, Append(self.epoch, self.id, match, batch))

    def follow_unknown(self, epoch: int) -> None:
        self.follow(None, epoch)

    def on_EpochQuery(self, src: int, msg: EpochQuery) -> None:
        if self.role != "leader":
            return
        self.catching_up.setdefault(src, self.sim.now)
        self.send(src, EpochRuns(self.epoch, tuple(self.log.runs()), self.log.end))

    def on_SnapshotRequest(self, src: int, msg: SnapshotRequest) -> None:
        if self.role != "leader":
            return
        log = self.log
        data = dict(self.data)
        self.catching_up[src] = self.sim.now
        self.match[src] = log.end
        self.sent[src] = -1  # nothing streams until the snapshot is installed
        self.last_heard[src] = self.sim.now
        self.network.record("snapshot", self.id, peer=src, epoch=self.epoch,
                            detail=f"at lsn {log.end}, {len(data)} keys")
        copy_ms = self.cfg.snapshot_ms_per_key * len(data)
        self.set_timer(copy_ms, self.send, src,
                       Snapshot(self.epoch, log.end, log.last_epoch, data,
                                tuple(log.lineage())))

    # -- heartbeats, the controller, STONITH ---------------------------------------------------
    def on_Heartbeat(self, src: int, msg: Heartbeat) -> None:
        if self.role == "leader" and src != self.id:
            self._other_leader(src, msg.epoch)
            return
        if self._stale(msg.epoch):
            return
        if self.cfg.fencing and (msg.epoch > self.epoch or self.leader is None):
            self.follow(msg.leader, msg.epoch)
        elif msg.leader == self.leader and self.synced and msg.end > self.log.end:
            self.send(src, AppendAck(self.epoch, self.log.end, False))

    def _other_leader(self, src: int, epoch: int) -> None:
        stonith = self.cfg.stonith
        if stonith == "naive" or (stonith == "epoch" and epoch < self.epoch):
            self.network.record("stonith", self.id, peer=src, epoch=self.epoch)
            self.send(src, Shoot(self.epoch))
        elif self.cfg.fencing and epoch > self.epoch:
            self.follow(src, epoch)

    def on_Shoot(self, src: int, msg: Shoot) -> None:
        # Powering a machine off takes a while; until then it still acts (and may shoot).
        self.set_timer(self.cfg.stonith_delay_ms, self.crash)

    def on_HeartbeatAck(self, src: Any, msg: HeartbeatAck) -> None:
        if self.role == "leader" and msg.leader == self.id and msg.epoch == self.epoch:
            self.lease_until = max(self.lease_until, msg.sent_local + self.cluster.lease_ms)

    def on_Topology(self, src: Any, msg: Topology) -> None:
        if self._stale(msg.epoch) or not self.joined:
            return
        if msg.leader == self.id:
            if self.role != "leader":
                self.become_leader(msg.epoch, msg.members)
        elif self.role == "leader" or self.leader != msg.leader or msg.epoch > self.epoch:
            self.follow(msg.leader, msg.epoch)

    def on_Query(self, src: Any, msg: Query) -> None:
        if self._stale(msg.epoch) or not self.joined:
            return
        if self.cfg.fencing:
            self._adopt_epoch(msg.epoch)  # a promise: no appends from older epochs
        self.send(src, Status(msg.epoch, self.log.position()))

    def join(self) -> None:
        """A new replica asks the current leader for a snapshot."""
        leader = self.cluster.controller.leader
        self.leader = leader
        self.send(leader, SnapshotRequest())
