"""The Patroni lab's clients and watchers: writers that follow the leader, a monitor of
every node's role, and a reader of every node's rows.

A :class:`Writer` inserts one row a write (``client``, ``seq``) into the node it believes
leads and records it as a write of its own key ``c{client}-{seq}`` (``version``: the row id
from ``RETURNING``). It keeps its connection until it breaks, as a driver's pool does; then
it finds the leader again through Patroni's REST API (``GET /primary`` on every node,
200 on the leader) or, when no API answers, by trying every node's PostgreSQL
(``pg_is_in_recovery()``). A write waits ``op_timeout_s`` at most (a watchdog shuts the
socket down: a frozen server never answers): then it is ``info``, its outcome unknown.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from typing import Any

import psycopg

from replab.history import History
from replab.real.patroni.cluster import KEYS_TABLE, Node, PatroniCluster

__all__ = ["Recorder", "Writer", "Monitor", "RowWatcher", "key_of", "ROLE_COLUMNS"]

ROLE_COLUMNS = ["time_s", "node", "role", "state", "replication", "timeline"]


def key_of(client: int, seq: int) -> str:
    return f"c{client}-{seq}"


class Recorder:
    """The history under construction; appends are serialised in real-time order."""

    def __init__(self) -> None:
        self.history = History()
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def now_s(self) -> float:
        return time.monotonic() - self.t0

    def add(self, process: int | str, type: str, f: str, key: str | None, value: Any = None,
            *, version: int | None = None, node: str | None = None,
            final: bool = False) -> None:
        with self.lock:
            self.history.record(round(self.now_s() * 1000.0, 3), process, type, f,
                                key, value, version=version, node=node)  # type: ignore[arg-type]
            if final:  # a final read, after the cluster settled (lost-write's evidence)
                self.history.ops[-1]["final"] = True


class _Watchdog:
    """Shuts a connection's socket down after ``timeout_s`` unless cancelled (a frozen
    server keeps the TCP connection open and never answers)."""

    def __init__(self, conn: psycopg.Connection[Any], timeout_s: float) -> None:
        self.timer = threading.Timer(timeout_s, self._fire, args=(conn,))
        self.timer.daemon = True
        self.fired = False
        self.timer.start()

    def _fire(self, conn: psycopg.Connection[Any]) -> None:
        self.fired = True
        with contextlib.suppress(Exception):
            sock = socket.socket(fileno=os.dup(conn.pgconn.socket))
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cancel(self) -> None:
        self.timer.cancel()


class Writer(threading.Thread):
    """One client session writing until ``stop`` is set (see the module docstring)."""

    def __init__(self, client: int, cluster: PatroniCluster, recorder: Recorder,
                 stop: threading.Event, *, think_s: float, op_timeout_s: float,
                 rng: Any) -> None:
        super().__init__(name=f"replab-patroni-writer-{client}", daemon=True)
        self.client, self.cluster, self.recorder, self.halt = client, cluster, recorder, stop
        self.think_s, self.op_timeout_s, self.rng = think_s, op_timeout_s, rng
        self.node: Node | None = None
        self.conn: psycopg.Connection[Any] | None = None
        self.seq = 0

    def run(self) -> None:
        try:
            while not self.halt.is_set():
                if self.conn is None and not self._find_leader():
                    self.halt.wait(0.1)
                    continue
                self._write()
                if self.think_s > 0:
                    self.halt.wait(float(self.rng.exponential(self.think_s)))
        finally:
            self._drop()

    def _find_leader(self) -> bool:
        """Connect to the node whose REST API says it leads, else any writable node."""
        order = list(self.cluster.nodes)
        start = self.client % len(order)
        order = order[start:] + order[:start]
        candidates = [n for n in order if n.api("/primary", timeout_s=0.5)[0] == 200]
        for node in candidates or order:
            with contextlib.suppress(psycopg.Error, OSError):
                conn = node.connect(timeout_s=1.0)
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                if row is not None and not row[0]:
                    self.node, self.conn = node, conn
                    return True
                conn.close()
        return False

    def _write(self) -> None:
        assert self.conn is not None and self.node is not None
        self.seq += 1
        key, node = key_of(self.client, self.seq), self.node.name
        self.recorder.add(self.client, "invoke", "write", key, self.seq, node=node)
        dog = _Watchdog(self.conn, self.op_timeout_s)
        try:
            row = self.conn.execute(f"INSERT INTO {KEYS_TABLE} (client, seq) VALUES (%s, %s) "
                                    "RETURNING id", (self.client, self.seq)).fetchone()
        except psycopg.Error as e:
            dog.cancel()
            broken = dog.fired or self.conn.broken or isinstance(e, psycopg.OperationalError)
            # a broken connection may have committed (info); a server's error did not (fail)
            self.recorder.add(self.client, "info" if broken else "fail", "write", key,
                              self.seq, node=node)
            self._drop()
            return
        dog.cancel()
        version = int(row[0]) if row is not None else None
        self.recorder.add(self.client, "ok", "write", key, self.seq, version=version, node=node)

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn, self.node = None, None


class Monitor(threading.Thread):
    """Every ``every_s``: each node's own view (``GET /patroni``) and the DCS leader, as
    rows of :data:`ROLE_COLUMNS` (node ``dcs``: the lock holder's name as its role). A
    frozen node is not asked."""

    def __init__(self, cluster: PatroniCluster, recorder: Recorder, every_s: float = 0.1):
        super().__init__(name="replab-patroni-monitor", daemon=True)
        self.cluster, self.recorder, self.every_s = cluster, recorder, every_s
        self.rows: list[dict[str, Any]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            for node in self.cluster.nodes:
                if node.frozen:
                    continue
                status, body = node.api("/patroni", timeout_s=0.5)
                if status == 0 or not isinstance(body, dict):
                    continue
                self.rows.append({"time_s": self.recorder.now_s(), "node": node.name,
                                  "role": body.get("role"), "state": body.get("state"),
                                  "replication": body.get("replication_state"),
                                  "timeline": body.get("timeline")})
            leader = None
            with contextlib.suppress(Exception):
                leader = self.cluster.leader()
            self.rows.append({"time_s": self.recorder.now_s(), "node": "dcs", "role": leader,
                              "state": None, "replication": None, "timeline": None})
            self.halt.wait(self.every_s)


class RowWatcher(threading.Thread):
    """Reads every node's rows every ``every_s`` and keeps, per node, each ``(client,
    seq)`` it ever held: what an old leader held is seen before pg_rewind erases it."""

    def __init__(self, cluster: PatroniCluster, every_s: float = 0.2):
        super().__init__(name="replab-patroni-rows", daemon=True)
        self.cluster, self.every_s = cluster, every_s
        self.seen: dict[str, set[tuple[int, int]]] = {n.name: set() for n in cluster.nodes}
        self.high: dict[str, int] = {n.name: 0 for n in cluster.nodes}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            for node in self.cluster.nodes:
                if not node.frozen:
                    self.poll(node)
            self.halt.wait(self.every_s)

    def poll(self, node: Node, *, everything: bool = False) -> set[tuple[int, int]]:
        """The node's rows (those above its last high id less a margin, or all)."""
        since = 0 if everything else max(0, self.high[node.name] - 1000)
        rows: list[Any] = []
        with contextlib.suppress(psycopg.Error, OSError), node.connect(timeout_s=1.0) as conn:
            conn.execute("SET statement_timeout = '2s'")
            rows = conn.execute(f"SELECT id, client, seq FROM {KEYS_TABLE} WHERE id > %s",
                                (since,)).fetchall()
        got = {(int(c), int(s)) for _, c, s in rows}
        if rows:
            self.high[node.name] = max(self.high[node.name], max(int(r[0]) for r in rows))
        self.seen[node.name] |= got
        return got
