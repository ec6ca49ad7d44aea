"""Clients: sessions issuing reads and writes, every operation recorded in a History.

A :class:`ClientPool` owns ``users * devices_per_user`` sessions, each a network node
(ids ``"c0"``, ``"c1"``, ...). Operations arrive as one Poisson stream at
``write_rate + read_rate`` per second; each goes to a session chosen uniformly, is a read
with probability ``read_rate / (write_rate + read_rate)`` and picks its key uniformly or
from a Zipf law. A session runs one operation at a time (Jepsen's single-threaded
process); arrivals while it is busy wait in its queue, and one that has waited
longer than ``timeout_ms`` is abandoned without being sent (counted in
:attr:`ClientPool.abandoned`, not in the history).

The contract with a model is two message types. A session sends :class:`Request` to the
node that ``route(session, f, key)`` names; the model answers with :class:`Response`
(``ok`` or ``fail``; ``hint`` tells where to go next time, e.g. the leader). Without an
answer within ``timeout_ms`` a read is recorded as ``fail`` and a write as ``info``
(outcome unknown); after an ``info`` the session continues under a fresh process id, as
in Jepsen. Write values are unique integers (1, 2, ...).

History ``process`` ids are ints; :attr:`ClientPool.process_user` maps each to its user
(several devices of one user are different processes of the same user).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from replab.history import History
from replab.sim.node import Node
from replab.validate import check_choice, check_float, check_int

if TYPE_CHECKING:
    from replab.sim.network import Network

__all__ = ["Request", "Response", "Workload", "Session", "ClientPool", "key_probabilities"]

NodeId = Hashable
_BATCH = 512


class Request(NamedTuple):
    """A client operation sent to a server node."""

    op_id: int
    f: str  # "read" or "write"
    key: str
    value: Any  # the value to write (None for reads)


class Response(NamedTuple):
    """A server's answer to a :class:`Request`."""

    op_id: int
    type: str  # "ok" or "fail"
    value: Any = None  # the value read (reads)
    version: int | None = None  # the write's place in the key's version order
    node: Any = None  # the node that served it
    hint: Any = None  # where the session should send its next operations


@dataclass(frozen=True, kw_only=True)
class Workload:
    """What the clients do.

    Parameters
    ----------
    write_rate, read_rate : float
        Operations per second over all sessions.
    keys : int
        Key space size; keys are ``"k0"`` ... ``"k{keys-1}"``.
    key_dist : {"uniform", "zipf"}
    zipf_s : float
        Zipf exponent (``P(k_i) ~ 1 / (i+1)**s``).
    users, devices_per_user : int
        Sessions are ``users * devices_per_user``.
    timeout_ms : float
        Give up on an operation after this long.
    start_ms, stop_ms : float
        Operations arrive in ``[start_ms, stop_ms)``.
    """

    write_rate: float = 100.0
    read_rate: float = 100.0
    keys: int = 10
    key_dist: str = "uniform"
    zipf_s: float = 1.0
    users: int = 4
    devices_per_user: int = 1
    timeout_ms: float = 500.0
    start_ms: float = 0.0
    stop_ms: float = 1000.0

    def __post_init__(self) -> None:
        o = "Workload"
        check_float(self.write_rate, "write_rate", o, low=0.0)
        check_float(self.read_rate, "read_rate", o, low=0.0)
        check_int(self.keys, "keys", o, low=1)
        check_choice(self.key_dist, "key_dist", o, ("uniform", "zipf"))
        check_float(self.zipf_s, "zipf_s", o, low=0.0)
        check_int(self.users, "users", o, low=1)
        check_int(self.devices_per_user, "devices_per_user", o, low=1)
        check_float(self.timeout_ms, "timeout_ms", o, low=0.0, low_open=True)
        check_float(self.start_ms, "start_ms", o, low=0.0)
        check_float(self.stop_ms, "stop_ms", o, low=float(self.start_ms))


def key_probabilities(keys: int, key_dist: str = "uniform", zipf_s: float = 1.0) -> np.ndarray:
    """P(key i) for i in range(keys).

    >>> key_probabilities(3, "zipf", 1.0).round(4).tolist()
    [0.5455, 0.2727, 0.1818]
    """
    if key_dist == "uniform":
        return np.full(keys, 1.0 / keys)
    w = 1.0 / np.arange(1, keys + 1, dtype=float) ** zipf_s
    return w / w.sum()


class Session(Node):
    """One client session (a device of a user): one operation at a time.

    Attributes
    ----------
    user, device : int
    process : int -- the current history process id.
    hint : the server to use next (set from responses, cleared on timeout), or None.
    """

    def __init__(self, pool: ClientPool, index: int, user: int, device: int) -> None:
        super().__init__(pool.network, f"{pool.prefix}{index}")
        self.pool = pool
        self.user, self.device = user, device
        self.process = index
        self.hint: Any = None
        self.queue: deque[tuple[str, str, Any, float]] = deque()
        self.current: tuple[int, str, str, Any] | None = None
        self._timer: Any = None

    def submit(self, f: str, key: str, value: Any) -> None:
        """Queue an operation; start it at once if the session is idle."""
        self.queue.append((f, key, value, self.sim.now))
        if self.current is None:
            self._next()

    def _next(self) -> None:
        pool = self.pool
        oldest = self.sim.now - pool.workload.timeout_ms
        while self.queue and self.queue[0][3] < oldest:
            pool.abandoned[self.queue.popleft()[0]] += 1
        if not self.queue:
            return
        f, key, value, _ = self.queue.popleft()
        pool._op_ids += 1
        op_id = pool._op_ids
        self.current = (op_id, f, key, value)
        pool.history.record(self.sim.now, self.process, "invoke", f, key, value)
        target = pool.route(self, f, key)
        if target is None:  # no server known: fail at once
            self._complete("fail", None, None, None)
            return
        self._timer = self.set_timer(pool.workload.timeout_ms, self._timeout, op_id)
        self.send(target, Request(op_id, f, key, value))

    def on_Response(self, src: NodeId, msg: Response) -> None:
        if msg.hint is not None:
            self.hint = msg.hint
        if self.current is None or msg.op_id != self.current[0]:
            return  # late answer to an operation that already timed out
        self.cancel_timer(self._timer)
        if msg.type == "fail" and msg.hint is None:
            self.hint = None
        value = msg.value if self.current[1] == "read" else self.current[3]
        self._complete(msg.type, value, msg.version, msg.node)

    def _timeout(self, op_id: int) -> None:
        if self.current is None or self.current[0] != op_id:
            return
        self.hint = None
        if self.current[1] == "write":
            self._complete("info", self.current[3], None, None, retire=True)
        else:
            self._complete("fail", None, None, None)

    def _complete(self, type_: str, value: Any, version: int | None, node: Any,
                  retire: bool = False) -> None:
        assert self.current is not None
        _, f, key, _ = self.current
        self.pool.history.record(self.sim.now, self.process, type_, f, key, value,
                                 version=version, node=node)
        self.current = None
        if retire:  # an unknown outcome ends the process (Jepsen); a new one continues
            self.process = self.pool._new_process(self.user)
        self._next()


class ClientPool:
    """The sessions of a run and the arrival process that feeds them.

    Parameters
    ----------
    network : Network
    workload : Workload
    route : callable ``(session, f, key) -> node id or None``
        The model's routing: where this session sends this operation.
    rng : Generator
        Stream for arrivals, sessions, kinds and keys.
    history : History, optional
        Where operations are recorded (a new one by default).
    prefix : str
        Session node ids are ``prefix + index``.

    Attributes
    ----------
    session_class : type
        The class of the sessions (a subclass of :class:`Session` may add client-side
        state, e.g. the position of the session's last write).
    """

    session_class: type[Session] = Session

    def __init__(
        self,
        network: Network,
        workload: Workload,
        route: Callable[[Session, str, str], Any],
        *,
        rng: np.random.Generator,
        history: History | None = None,
        prefix: str = "c",
    ) -> None:
        self.network, self.workload, self.route, self.rng = network, workload, route, rng
        self.history = History() if history is None else history
        self.prefix = prefix
        self.sessions = [
            self.session_class(self, u * workload.devices_per_user + d, u, d)
            for u in range(workload.users) for d in range(workload.devices_per_user)
        ]
        self.process_user: dict[int, int] = {s.process: s.user for s in self.sessions}
        self._op_ids = 0
        self._values = 0
        self._cdf = np.cumsum(key_probabilities(workload.keys, workload.key_dist,
                                                workload.zipf_s))
        self._batch: list[tuple[float, int, bool, int]] = []
        #: Operations given up while still queued in their session, by ``f``.
        self.abandoned = {"read": 0, "write": 0}

    @property
    def ids(self) -> list[str]:
        """Network ids of the sessions."""
        return [str(s.id) for s in self.sessions]

    def start(self) -> None:
        """Schedule the arrival stream (call once, before running the simulation)."""
        w = self.workload
        if w.write_rate + w.read_rate > 0 and w.stop_ms > w.start_ms:
            self._schedule_next(w.start_ms)

    def _new_process(self, user: int) -> int:
        process = len(self.process_user)
        self.process_user[process] = user
        return process

    def _draw(self) -> None:
        w, rng, n = self.workload, self.rng, _BATCH
        gaps = rng.exponential(1000.0 / (w.write_rate + w.read_rate), n)
        sessions = rng.integers(0, len(self.sessions), n)
        reads = rng.random(n) < w.read_rate / (w.write_rate + w.read_rate)
        keys = np.minimum(np.searchsorted(self._cdf, rng.random(n), side="right"), w.keys - 1)
        self._batch = list(zip(gaps.tolist(), sessions.tolist(), reads.tolist(),
                               keys.tolist(), strict=True))
        self._batch.reverse()

    def _schedule_next(self, after: float) -> None:
        if not self._batch:
            self._draw()
        gap, s, is_read, k = self._batch.pop()
        t = after + gap
        if t < self.workload.stop_ms:
            self.network.sim.schedule_at(t, self._arrive, s, is_read, k)

    def _arrive(self, s: int, is_read: bool, k: int) -> None:
        key = f"k{k}"
        if is_read:
            self.sessions[s].submit("read", key, None)
        else:
            self._values += 1
            self.sessions[s].submit("write", key, self._values)
        self._schedule_next(self.network.sim.now)
