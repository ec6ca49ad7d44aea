"""Clients of the lab: writers on the primary, readers routed by the chapter's rules.

Each client is a thread with its own autocommit connections and its own random stream; it
is a session (``process`` in the history) and a user owning the keys ``k{i}`` with
``i % clients == process``. Writes are ``UPDATE ... RETURNING version``, so every ok write
carries the database's own version; reads return ``value`` and ``version`` and name the
server that answered (``node``). A lost connection makes the outcome unknown (``info``); a
server error is a ``fail``.

Routing of reads (``ROUTINGS``):

``standby``              a random standby.
``primary``              the primary.
``own-writes-primary``   the primary for ``recent_window_ms`` after the client's last
                         acknowledged write, else a random standby.
``wait-lsn``             a random standby, once it has replayed the client's last commit
                         (``pg_current_wal_lsn()`` after the commit against the standby's
                         ``pg_last_wal_replay_lsn()``); after ``max_wait_ms`` the primary.
``sticky``               always the same standby for a user (``process % standbys``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import numpy as np
import psycopg

from replab.history import History
from replab.real.postgres.cluster import KEYS_TABLE
from replab.real.postgres.names import ROUTINGS
from replab.real.postgres.servers import PgServer

__all__ = ["ROUTINGS", "Recorder", "Client", "Gate"]

_WRITE = (f"UPDATE {KEYS_TABLE} SET value = %s, version = version + 1 WHERE key = %s "
          "RETURNING version")
_READ = f"SELECT value, version FROM {KEYS_TABLE} WHERE key = %s"


class Recorder:
    """The history under construction; appends are serialised, so the order of the
    operations is their real-time order (an invoke is appended before the request goes
    out, a completion after the answer came back)."""

    def __init__(self) -> None:
        self.history = History()
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def now_ms(self) -> float:
        return (time.monotonic() - self.t0) * 1000.0

    def add(self, process: int | str, type: str, f: str, key: str, value: Any = None,
            *, version: int | None = None, node: str | None = None) -> int:
        with self.lock:
            return self.history.record(round(self.now_ms(), 3), process, type, f, key, value,
                                       version=version, node=node)


class Gate:
    """Where the nemesis holds clients: between operations they wait while it is closed
    (bounded: ``hold_s`` at most), so a crash finds no write in flight that it did not
    have to (a write already waiting for a synchronous standby stays in flight)."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.open.set()
        self.idle = threading.Semaphore(0)

    def wait(self, hold_s: float) -> None:
        if not self.open.is_set():
            self.idle.release()
            self.open.wait(hold_s)


def _outcome(conn: psycopg.Connection[Any] | None) -> str:
    """``info`` when the connection broke (the server may have done it), else ``fail``."""
    return "info" if conn is None or conn.broken or conn.closed else "fail"


class Client(threading.Thread):
    """One session: a loop of reads and writes until the deadline or the stop event."""

    def __init__(self, process: int, lab: Any, rng: np.random.Generator) -> None:
        super().__init__(name=f"replab-pg-client-{process}", daemon=True)
        self.process = process
        self.lab = lab
        self.cfg = lab.config
        self.rng = rng
        self.conns: dict[str, psycopg.Connection[Any]] = {}
        self.own = [f"k{i}" for i in range(self.cfg.keys) if i % self.cfg.clients == process]
        self.seq = 0
        self.last_write_ms = -np.inf
        self.last_lsn: str | None = None
        self.write_started: float | None = None  # monotonic time, while in a write
        self.waited = self.redirected = self.reads_ok = self.reads_on_primary = 0

    # -- connections -------------------------------------------------------------------
    def conn(self, server: PgServer) -> psycopg.Connection[Any]:
        c = self.conns.get(server.name)
        if c is not None and c.info.port != server.port:
            c.close()  # the server came back elsewhere (a rewound old primary)
            c = None
        if c is None or c.closed or c.broken:
            c = server.connect(timeout_s=2.0)
            self.conns[server.name] = c
        return c

    def close(self) -> None:
        for c in self.conns.values():
            with contextlib.suppress(Exception):
                c.close()

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> None:
        lab, cfg = self.lab, self.cfg
        try:
            while not lab.stop.is_set() and lab.take_op():
                lab.gate.wait(cfg.stall_s + 10.0)
                if lab.stop.is_set():
                    break
                if lab.writes_allowed() and self.rng.random() < cfg.write_fraction:
                    self.write(self.pick(cfg.own_writes))
                else:
                    self.read(self.pick(cfg.own_reads))
                if cfg.think_ms > 0:  # exponential: each session a Poisson source
                    time.sleep(self.rng.exponential(cfg.think_ms) / 1000.0)
        finally:
            self.close()

    def pick(self, own_share: float) -> str:
        """One of the user's own keys with probability ``own_share``, else any key."""
        if self.own and self.rng.random() < own_share:
            return self.own[int(self.rng.integers(len(self.own)))]
        return f"k{int(self.rng.integers(self.cfg.keys))}"

    def write(self, key: str) -> None:
        self.seq += 1
        value = self.process * 1_000_000 + self.seq  # unique: a read names its write
        rec = self.lab.recorder
        primary = self.lab.cluster.get_primary()
        rec.add(self.process, "invoke", "write", key, value)
        conn = None
        self.write_started = time.monotonic()
        try:
            conn = self.conn(primary)
            version = conn.execute(_WRITE, (value, key)).fetchone()[0]  # type: ignore[index]
            if self.cfg.routing == "wait-lsn":
                # after the commit: a position at or past the commit record
                lsn = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()[0]  # type: ignore[index]
        except psycopg.Error:
            rec.add(self.process, _outcome(conn), "write", key, value, node=primary.name)
            return
        finally:
            self.write_started = None
        rec.add(self.process, "ok", "write", key, value, version=int(version),
                node=primary.name)
        self.last_write_ms = rec.now_ms()
        if self.cfg.routing == "wait-lsn":
            self.last_lsn = lsn

    def read(self, key: str, server: PgServer | None = None) -> None:
        rec = self.lab.recorder
        rec.add(self.process, "invoke", "read", key, None)
        conn = None
        try:
            server = server or self.route()
            if self.cfg.routing == "wait-lsn":
                server = self.wait_replayed(server)
            conn = self.conn(server)
            row = conn.execute(_READ, (key,)).fetchone()
        except psycopg.Error:
            rec.add(self.process, _outcome(conn), "read", key, None,
                    node=None if server is None else server.name)
            return
        value, version = (None, None) if row is None else row
        rec.add(self.process, "ok", "read", key, value,
                version=None if version is None else int(version), node=server.name)
        self.reads_ok += 1
        self.reads_on_primary += server is self.lab.cluster.get_primary()

    def route(self) -> PgServer:
        cluster, cfg = self.lab.cluster, self.cfg
        with cluster.lock:
            primary, standbys = cluster.get_primary(), list(cluster.standbys)
        if cfg.routing == "primary" or not standbys:
            return primary
        if cfg.routing == "own-writes-primary" and \
                self.lab.recorder.now_ms() - self.last_write_ms < cfg.recent_window_ms:
            return primary
        if cfg.routing == "sticky":
            return standbys[self.process % len(standbys)]
        return standbys[int(self.rng.integers(len(standbys)))]

    def wait_replayed(self, server: PgServer) -> PgServer:
        """Wait (bounded) until ``server`` has replayed our last commit; else the primary."""
        primary = self.lab.cluster.get_primary()
        if self.last_lsn is None or server is primary:
            return server
        conn = self.conn(server)
        deadline = time.monotonic() + self.cfg.max_wait_ms / 1000.0
        first = True
        while True:
            done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                (self.last_lsn,)).fetchone()[0]  # type: ignore[index]
            if done:
                return server
            if first:
                self.waited, first = self.waited + 1, False
            if time.monotonic() > deadline:
                self.redirected += 1
                return primary
            time.sleep(0.002)
