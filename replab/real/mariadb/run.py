"""The write phase of a MariaDB lab run: clients, the nemesis and the GTID sampler.

Clients issue one transaction at a time, in an order drawn from the seed, and record each
in the history (``invoke`` then ``ok``, ``fail``, or ``info`` when the connection died and
the outcome is unknown). After each commit the client reads ``@@last_gtid``, the position
the server gave its transaction, so acknowledged-write loss is judged by replication
position. The nemesis runs on its own thread, on a wall-clock schedule, so a client
blocked in a semi-synchronous commit does not delay the fault; every fault it injects is
an ``info`` op of process ``"nemesis"``.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pymysql

from replab.history import History
from replab.real.mariadb.config import MariaDBConfig
from replab.real.mariadb.server import Server
from replab.real.mariadb.topology import links, set_link
from replab.real.mariadb.workload import Txn, next_txn

__all__ = ["Recorder", "Sampler", "Nemesis", "open_clients", "write_phase", "UNSAFE_CODE"]

UNSAFE_CODE = 1592  # ER_BINLOG_UNSAFE_STATEMENT


class Recorder:
    """The history, written by clients and the nemesis from several threads."""

    def __init__(self) -> None:
        self.history = History()
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self.writes: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []

    def now_ms(self) -> float:
        return 1000.0 * (time.monotonic() - self.t0)

    def op(self, process: int | str, type: str, f: str, key: str, value: Any = None,
           node: str | None = None, time_ms: float | None = None, *, final: bool = False
           ) -> float:
        """Record one op; ``final`` marks it as part of the final-read phase."""
        t = self.now_ms() if time_ms is None else time_ms
        with self._lock:
            self.history.record(round(t, 3), process, type, f, key, value, node=node)
            if final:
                self.history.ops[-1]["final"] = True
        return t

    def nemesis(self, f: str, key: str, value: Any = None) -> None:
        self.op("nemesis", "info", f, key, value)


_SAMPLE = ("SELECT @@global.gtid_binlog_pos, {} FROM information_schema.GLOBAL_STATUS "
           "WHERE VARIABLE_NAME LIKE 'RPL_SEMI_SYNC_MASTER_%'").format(", ".join(
               f"MAX(IF(VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_{v}', VARIABLE_VALUE, NULL))"
               for v in ("STATUS", "NO_TIMES", "NO_TX")))


class Sampler:
    """Polls each server's GTID position and semi-sync state every ``period_s``.

    One thread a server, so a frozen or dead server leaves gaps in its own series only.
    """

    def __init__(self, servers: list[Server], rec: Recorder, period_s: float) -> None:
        self.servers, self.rec, self.period = servers, rec, period_s
        self.rows: list[dict[str, Any]] = []
        self.halt = threading.Event()
        self._threads = [threading.Thread(target=self._loop, args=(s,), daemon=True,
                                          name=f"replab-gtid-{s.name}") for s in servers]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self.halt.set()
        for t in self._threads:
            t.join(5)
        for s in self.servers:
            if s.running:
                self._sample(s, None)

    def _loop(self, s: Server) -> None:
        conn = None
        while not self.halt.is_set():
            conn = self._sample(s, conn)
            self.halt.wait(self.period)
        with contextlib.suppress(Exception):
            conn.close()  # type: ignore[union-attr]

    def _sample(self, s: Server, conn: Any) -> Any:
        try:
            if conn is None:
                conn = s.connect(connect_timeout=0.5, read_timeout=0.5)
            with conn.cursor() as cur:
                cur.execute(_SAMPLE)
                pos, semi, off_times, unacked = cur.fetchone()
        except (pymysql.err.MySQLError, OSError, TypeError):
            return None  # down or frozen: no sample, which the frame shows as a gap
        self.rows.append({"time_ms": self.rec.now_ms(), "server": s.name, "gtid_pos": pos,
                          "semi_sync_on": semi == "ON", "semi_sync_off_times": int(off_times),
                          "semi_sync_unacked_commits": int(unacked)})
        return conn


class Nemesis(threading.Thread):
    """Injects ``config.fault`` at ``fault_at * duration_s`` on its own thread."""

    def __init__(self, config: MariaDBConfig, servers: list[Server], rec: Recorder) -> None:
        super().__init__(daemon=True, name="replab-nemesis")
        self.config, self.servers, self.rec = config, servers, rec
        self.frozen: set[str] = set()
        self.crashed: set[str] = set()
        self.broken: list[tuple[Server, Server]] = []
        self.halt = threading.Event()

    def _at(self, seconds: float) -> bool:
        """Sleep until ``seconds`` after the start; False if the run ended first."""
        return not self.halt.wait(max(0.0, seconds - (time.monotonic() - self.rec.t0)))

    def run(self) -> None:
        cfg = self.config
        strike = cfg.fault_at * cfg.duration_s
        others = self.servers[1:]
        if cfg.fault == "crash":
            if cfg.stall_ms and self._at(strike - cfg.stall_ms / 1000):
                self._cut_primary()
            if self._at(strike):
                self.servers[0].crash()
                self.crashed.add(self.servers[0].name)
                self.rec.nemesis("crash", self.servers[0].name, "SIGKILL")
        elif cfg.fault == "stall" and self._at(strike):
            self._freeze(others)
            self._at(strike + cfg.stall_ms / 1000)  # thaw even when the run ended early
            self._thaw(others)
        elif cfg.fault == "break-link" and self._at(strike):
            self.break_link(self.servers[0], self.servers[1])

    def _cut_primary(self) -> None:
        """Stop every link out of db1: its replicas fall behind, as over a partition.

        (Freezing the replicas with SIGSTOP would not do: the kernel keeps receiving into
        their socket buffers, and they read the whole backlog once resumed.)
        """
        n = len(self.servers)
        targets = [self.servers[dst] for src, dst in links(self.config.topology, n) if src == 0]
        # All at once: one STOP SLAVE can take 100 ms on a loaded machine, and the
        # window before the crash should be the same for every replica.
        with ThreadPoolExecutor(len(targets)) as pool:
            list(pool.map(lambda t: self.break_link(self.servers[0], t), targets))

    def break_link(self, source: Server, target: Server) -> None:
        set_link(target, source, up=False)
        self.broken.append((source, target))
        self.rec.nemesis("break-link", f"{source.name}->{target.name}")

    def heal(self) -> None:
        for source, target in self.broken:
            set_link(target, source, up=True)
            self.rec.nemesis("heal-link", f"{source.name}->{target.name}")
        self.broken = []

    def _freeze(self, servers: list[Server]) -> None:
        for s in servers:
            s.signal(signal.SIGSTOP)
            self.frozen.add(s.name)
            self.rec.nemesis("stall", s.name, "SIGSTOP")

    def _thaw(self, servers: list[Server]) -> None:
        for s in servers:
            if s.name in self.frozen:
                s.signal(signal.SIGCONT)
                self.frozen.discard(s.name)
                self.rec.nemesis("resume", s.name, "SIGCONT")


class _Client:
    """One session: a connection to its server, reopened after an error."""

    def __init__(self, index: int, server: Server, read_timeout: float) -> None:
        self.index, self.server, self.read_timeout = index, server, read_timeout
        self.conn: Any = None

    def cursor(self) -> Any:
        if self.conn is None:
            self.conn = self.server.connect(connect_timeout=1, read_timeout=self.read_timeout)
        return self.conn.cursor()

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()
        self.conn = None


def _run_txn(client: _Client, txn: Txn, rec: Recorder, want_warnings: bool) -> None:
    node = client.server.name
    t_inv = rec.op(client.index, "invoke", "write", txn.key, txn.value, node)
    row = {"txn": txn.id, "client": client.index, "server": node, "key": txn.key,
           "value": txn.value, "invoke_ms": t_inv, "status": "info", "latency_ms": np.nan,
           "gtid": ""}
    rec.writes.append(row)
    try:
        _commit(client, txn, rec, want_warnings)
    except (pymysql.err.OperationalError, pymysql.err.InterfaceError, OSError) as e:
        client.drop()  # the connection died: the write may or may not have committed
        rec.op(client.index, "info", "write", txn.key, txn.value, node)
        row["error"] = str(e)[:200]
        return
    except pymysql.err.MySQLError as e:
        client.drop()  # the server refused it; a new session rolls the rest back
        rec.op(client.index, "fail", "write", txn.key, txn.value, node)
        row.update(status="fail", error=str(e)[:200])
        return
    t_ok = rec.op(client.index, "ok", "write", txn.key, txn.value, node)
    row.update(status="ok", latency_ms=t_ok - t_inv)
    try:
        with client.cursor() as cur:
            cur.execute("SELECT @@last_gtid")
            row["gtid"] = cur.fetchone()[0]
    except (pymysql.err.MySQLError, OSError) as e:
        # Acknowledged, but the server died before telling its position: the write
        # stays ``ok`` with gtid "" and is left out of the loss count (unknowable).
        client.drop()
        row["error"] = str(e)[:200]


def _commit(client: _Client, txn: Txn, rec: Recorder, want_warnings: bool) -> None:
    with client.cursor() as cur:
        many = len(txn.statements) > 1
        if many:
            cur.execute("BEGIN")
        for sql in txn.statements:
            cur.execute(sql)
            if want_warnings:
                _collect_warnings(cur, txn, sql, rec)
        if many:
            cur.execute("COMMIT")


def _collect_warnings(cur: Any, txn: Txn, sql: str, rec: Recorder) -> None:
    cur.execute("SHOW WARNINGS")
    for level, code, message in cur.fetchall():
        rec.warnings.append({"txn": txn.id, "statement": sql, "level": level,
                             "code": int(code), "message": message})


def open_clients(config: MariaDBConfig, servers: list[Server]) -> list[_Client]:
    """One connected session a client, opened before the clock starts (a connection
    handshake is not a write's latency). Client ``c`` writes to ``servers[c mod n]``
    in multi-leader topologies, to db1 otherwise."""
    n = len(servers)
    read_timeout = max(5.0, config.semi_sync_timeout_ms / 1000 + config.stall_ms / 1000 + 5)
    clients = [_Client(c, servers[c % n] if config.multi_leader else servers[0], read_timeout)
               for c in range(config.clients)]
    for c in clients:
        c.cursor().close()
    return clients


def write_phase(config: MariaDBConfig, clients: list[_Client], rec: Recorder,
                nemesis: Nemesis, rng: np.random.Generator) -> None:
    """Clients write for ``duration_s``; those of a crashed or frozen server sit it out."""
    homes = [c.server for c in clients]
    origin_of = [h.server_id for h in homes]
    i = 0
    while rec.now_ms() / 1000 < config.duration_s:
        txn = next_txn(config.workload, i, clients=config.clients, origin_of=origin_of,
                       keys=config.keys, rng=rng)
        i += 1
        home = homes[txn.client].name
        if home in nemesis.crashed or home in nemesis.frozen:
            if all(h.name in nemesis.crashed for h in homes):
                break  # nobody left to write to: the failover happens after the phase
            time.sleep(0.002)
            continue
        _run_txn(clients[txn.client], txn, rec, config.workload == "nondeterministic")
    for c in clients:
        c.drop()
