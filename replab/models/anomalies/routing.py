"""Where reads go when followers lag: the pieces of :mod:`replab.models.anomalies.lag`.

The single-leader cluster is reused as it is; these pieces plug into its hooks:

* :class:`MemorySession` remembers, client side, when its last write was acknowledged
  and at which log position, in a :class:`ClientMemory` kept per device or shared by a
  user's devices (a central place).
* :class:`OwnedKeysPool` gives every user keys of its own (``k{i}`` belongs to user
  ``i % users``): a profile, a settings page. Writes and reads favour the user's own keys.
* :class:`LagMonitor` samples each follower's lag and liveness every interval; routing
  decisions use its latest sample, however old (stale monitoring).
* :class:`RoutedReplica` serves reads that carry a required log position: it waits until
  it has applied the position (or gives up after a while), or redirects the client to
  the leader (an answer of type ``redirect``; the client asks the leader, same deadline).
* :class:`Router` picks the replica of every read, one policy per mitigation.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from replab.models.single_leader.log import lsn_of
from replab.models.single_leader.metrics import LagSampler
from replab.models.single_leader.replica import Replica
from replab.sim.clients import ClientPool, Request, Response, Session, Workload

if TYPE_CHECKING:
    from replab.models.single_leader import Cluster
    from replab.sim.network import Network

__all__ = [
    "MITIGATIONS",
    "READ_YOUR_WRITES_MITIGATIONS",
    "MONOTONIC_MITIGATIONS",
    "ClientMemory",
    "LastWrite",
    "MemorySession",
    "OwnedKeysPool",
    "LagMonitor",
    "ReadStats",
    "RoutedReplica",
    "REDIRECT",
    "Router",
    "rendezvous",
    "owner_of",
]

#: Mitigations of read-your-writes: (a) own data from the leader; (b) the leader for a
#: window after the last write; (c) (b) plus refusing followers that lag more than a
#: threshold; (d) a required log position, waiting for it or redirecting to the leader.
READ_YOUR_WRITES_MITIGATIONS = ("own-data-leader", "recent-write-leader", "lag-threshold",
                                "position-wait", "position-redirect")
#: Mitigation of monotonic reads: each user sticks to one replica (a hash of the user).
MONOTONIC_MITIGATIONS = ("sticky-user",)
MITIGATIONS = ("none", *READ_YOUR_WRITES_MITIGATIONS, *MONOTONIC_MITIGATIONS)
#: The ``type`` of a :class:`Response` that sends the client elsewhere (``hint``).
REDIRECT = "redirect"


class LastWrite(NamedTuple):
    time: float  # when the client received the acknowledgement
    lsn: int  # the write's position in the leader's log


class ClientMemory:
    """The last acknowledged write of each device (``shared=False``) or of each user.

    Shared memory models a central place all of a user's devices read and update (a
    user-session service); it is taken to be instantaneous and consistent.
    """

    def __init__(self, *, shared: bool) -> None:
        self.shared = shared
        self._last: dict[Any, LastWrite] = {}

    def _owner(self, session: Session) -> Any:
        return session.user if self.shared else session.id

    def note(self, session: Session, time: float, version: int) -> None:
        owner = self._owner(session)
        old = self._last.get(owner)
        lsn = lsn_of(version)
        if old is not None:  # two devices may report out of order: keep the newest
            time, lsn = max(time, old.time), max(lsn, old.lsn)
        self._last[owner] = LastWrite(time, lsn)

    def last(self, session: Session) -> LastWrite | None:
        return self._last.get(self._owner(session))


class MemorySession(Session):
    """A session that tells its pool's :class:`ClientMemory` about acknowledged writes,
    and follows redirects (a ``redirect`` answer names the node to ask instead)."""

    def on_Response(self, src: Any, msg: Response) -> None:
        cur = self.current
        if msg.type == REDIRECT:
            if cur is not None and msg.op_id == cur[0]:  # same operation, same deadline
                self.send(msg.hint, Request(cur[0], cur[1], cur[2], cur[3]))
            return
        if (cur is not None and msg.op_id == cur[0] and cur[1] == "write"
                and msg.type == "ok" and msg.version is not None):
            memory: ClientMemory = self.pool.memory  # type: ignore[attr-defined]
            memory.note(self, self.sim.now, msg.version)
        super().on_Response(src, msg)


def owner_of(key: str, users: int) -> int:
    """The user that owns key ``k{i}``: ``i % users``."""
    return int(key[1:]) % users


class OwnedKeysPool(ClientPool):
    """Clients whose users own keys: a write goes to one of the user's own keys with
    probability ``own_writes`` (else to any key), a read with probability ``own_reads``."""

    session_class = MemorySession

    def __init__(self, network: Network, workload: Workload,
                 route: Callable[[Session, str, str], Any], *, rng: np.random.Generator,
                 memory: ClientMemory, own_reads: float, own_writes: float,
                 key_rng: np.random.Generator) -> None:
        super().__init__(network, workload, route, rng=rng)
        self.memory = memory
        self.own = {True: own_reads, False: own_writes}
        self.key_rng = key_rng

    def _arrive(self, s: int, is_read: bool, k: int) -> None:
        p = self.own[is_read]
        if p > 0.0 and self.key_rng.random() < p:
            users, keys = self.workload.users, self.workload.keys
            u = self.sessions[s].user
            owned = (keys - 1 - u) // users + 1  # keys u, u + users, u + 2 users, ...
            k = u + users * int(self.key_rng.integers(owned))
        super()._arrive(s, is_read, k)


class LagMonitor:
    """Every ``interval`` ms, each follower's lag (ms behind the leader) and liveness."""

    def __init__(self, cluster: Cluster, interval: float) -> None:
        self.sampler = LagSampler(cluster, interval)

    def view(self) -> dict[int, tuple[float, bool]]:
        """The latest sample: follower -> (time behind in ms, up)."""
        rows = self.sampler.rows
        out: dict[int, tuple[float, bool]] = {}
        i = len(rows) - 1
        while i >= 0 and rows[i][0] == rows[-1][0]:
            out[rows[i][1]] = (rows[i][7], rows[i][8])
            i -= 1
        return out


@dataclass
class ReadStats:
    """What the replicas did with reads that carried a required position."""

    waited: int = 0  # reads a follower held until it had applied the position
    wait_failed: int = 0  # of those, reads it gave up on (answered ``fail``)
    redirected: int = 0  # reads a follower sent on to the leader
    wait_ms: list[float] = field(default_factory=list)  # of the waits that were served


class RoutedReplica(Replica):
    """A replica that honours a read's required log position (``cluster.required``)."""

    def __init__(self, cluster: Cluster, node_id: int, *, joined: bool = True) -> None:
        super().__init__(cluster, node_id, joined=joined)
        self.waiting: list[tuple[int, Any, Request, float]] = []

    def on_Request(self, src: Any, req: Request) -> None:
        c: Any = self.cluster
        need = c.required.pop(req.op_id, None) if req.f == "read" else None
        if need is None or self.role != "follower" or self.log.end >= need:
            super().on_Request(src, req)
        elif c.redirect:
            if self.leader is None:
                self.send(src, Response(req.op_id, "fail", node=self.id))
                return
            c.read_stats.redirected += 1
            self.send(src, Response(req.op_id, REDIRECT, node=self.id, hint=self.leader))
        else:
            c.read_stats.waited += 1
            self.waiting.append((need, src, req, self.sim.now))
            self.set_timer(c.max_wait_ms, self._give_up, req.op_id)

    def on_Append(self, src: int, msg: Any) -> None:
        super().on_Append(src, msg)
        if self.waiting:
            self._release()

    def _release(self) -> None:
        end, keep = self.log.end, []
        stats: ReadStats = self.cluster.read_stats  # type: ignore[attr-defined]
        for item in self.waiting:
            if item[0] <= end:
                stats.wait_ms.append(self.sim.now - item[3])
                Replica.on_Request(self, item[1], item[2])
            else:
                keep.append(item)
        self.waiting = keep

    def _give_up(self, op_id: int) -> None:
        for i, (_, src, req, _) in enumerate(self.waiting):
            if req.op_id == op_id:
                del self.waiting[i]
                self.cluster.read_stats.wait_failed += 1  # type: ignore[attr-defined]
                self.send(src, Response(op_id, "fail", node=self.id))
                return

    def on_crash(self) -> None:
        super().on_crash()
        self.waiting = []


def rendezvous(user: int, replicas: list[int]) -> int | None:
    """The replica with the highest hash of (user, replica): a user's replica moves only
    when that replica leaves the candidates (rendezvous hashing)."""
    if not replicas:
        return None
    return max(replicas, key=lambda r: (zlib.crc32(f"user{user}/replica{r}".encode()), r))


class Router:
    """Chooses the replica of each read (writes always go to the leader).

    ``read_target`` returns ``(replica, required lsn or None)``.
    """

    def __init__(self, cluster: Cluster, config: Any, monitor: LagMonitor,
                 memory: ClientMemory, rng: np.random.Generator) -> None:
        self.cluster, self.cfg, self.monitor = cluster, config, monitor
        self.memory, self.rng = memory, rng
        self.threshold = config.window_ms if config.max_lag_ms is None else config.max_lag_ms

    def read_target(self, session: Session, key: str) -> tuple[Any, int | None]:
        m, leader = self.cfg.mitigation, self.cluster.controller.route()
        view = self.monitor.view()
        live = [f for f, (_, up) in sorted(view.items()) if up]
        if m == "own-data-leader" and owner_of(key, self.cfg.users) == session.user:
            return leader, None
        if m in ("recent-write-leader", "lag-threshold"):
            last = self.memory.last(session)
            if last is not None and self.cluster.sim.now - last.time < self.cfg.window_ms:
                return leader, None
            if m == "lag-threshold":
                live = [f for f in live if view[f][0] <= self.threshold]
        if m == "sticky-user":
            chosen = rendezvous(session.user, live)
            return (leader if chosen is None else chosen), None
        target = live[int(self.rng.integers(len(live)))] if live else leader
        if m in ("position-wait", "position-redirect"):
            last = self.memory.last(session)
            return target, (None if last is None else last.lsn)
        return target, None
