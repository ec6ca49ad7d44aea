"""Replication topologies between lab servers: links, GTID positions, convergence.

Every link is a named multi-source connection (``CHANGE MASTER 'db1' TO ...``) using
GTIDs (``MASTER_USE_GTID = slave_pos``), so one server can replicate from several. All
servers log what they apply (``log_slave_updates``), which is what lets a write travel
round a ring; the origin's ``server_id`` in every event is what stops it there: a server
skips events that carry its own id. In multi-leader topologies each server writes its own
GTID domain, and the all-to-all mesh drops a transaction that arrives a second time by
another path (``gtid_ignore_duplicates``).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pandas as pd
import pymysql

from replab.errors import ReplabError
from replab.real.mariadb.server import Server

__all__ = ["TOPOLOGIES", "BINLOG_FORMATS", "links", "server_options", "setup_replication",
           "gtid_pos", "parse_gtids", "wait_converged", "slave_status", "set_link",
           "drain_relay_log", "repoint", "wait_semi_sync_clients"]

TOPOLOGIES = ("leader-follower", "circular", "all-to-all")
BINLOG_FORMATS = ("statement", "row", "mixed")
REPL_USER, REPL_PASSWORD = "repl", "replab-repl"


def links(topology: str, n: int) -> list[tuple[int, int]]:
    """``(source, target)`` server indexes: who replicates from whom.

    Examples
    --------
    >>> links("leader-follower", 3), links("circular", 3)
    ([(0, 1), (0, 2)], [(0, 1), (1, 2), (2, 0)])
    >>> len(links("all-to-all", 3))
    6
    """
    if topology == "leader-follower":
        return [(0, t) for t in range(1, n)]
    if topology == "circular":
        return [(i, (i + 1) % n) for i in range(n)]
    return [(s, t) for t in range(n) for s in range(n) if s != t]


def server_options(i: int, n: int, *, topology: str, binlog: str, semi_sync: bool,
                   semi_sync_timeout_ms: int, auto_increment_offsets: bool) -> list[str]:
    """``mariadbd`` options of server ``i`` (0-based) of ``n``."""
    multi = topology != "leader-follower"
    opts = [
        "--log-bin=binlog", f"--binlog-format={binlog.upper()}", "--log-slave-updates",
        "--skip-slave-start", "--slave-net-timeout=2", f"--gtid-domain-id={i if multi else 0}",
        # A process crash (SIGKILL) keeps what reached the OS; these only spare CI fsyncs.
        "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0",
        "--log-warnings=2",
    ]
    if topology == "all-to-all":
        opts.append("--gtid-ignore-duplicates=ON")
    if multi and auto_increment_offsets:
        opts += [f"--auto-increment-increment={n}", f"--auto-increment-offset={i + 1}"]
    wired = links(topology, n)
    if semi_sync and any(src == i for src, _ in wired):
        # Only servers with replicas: a semi-sync primary with none would make every
        # commit, its replication SQL thread's included, wait out the whole timeout.
        opts += ["--rpl-semi-sync-master-enabled=ON",
                 f"--rpl-semi-sync-master-timeout={semi_sync_timeout_ms}"]
    if semi_sync and any(dst == i for _, dst in wired):
        opts.append("--rpl-semi-sync-slave-enabled=ON")
    return opts


def _exec(conn: Any, *sql: str) -> None:
    with conn.cursor() as cur:
        for s in sql:
            cur.execute(s)


def setup_replication(servers: list[Server], topology: str) -> None:
    """Create the replication user on every server (not logged), then start every link.

    Every server starts with an empty binary log (``RESET MASTER`` only if not: on a
    server just started it waits for InnoDB's once-a-second log flush, ~0.9 s a lab).
    """
    for s in servers:
        conn = s.connect()
        try:
            _exec(conn, "SET SESSION sql_log_bin = 0",
                  f"CREATE USER '{REPL_USER}'@'127.0.0.1' IDENTIFIED BY '{REPL_PASSWORD}'",
                  f"GRANT REPLICATION SLAVE ON *.* TO '{REPL_USER}'@'127.0.0.1'")
            if gtid_pos(conn):
                _exec(conn, "RESET MASTER")
            _exec(conn, "SET GLOBAL gtid_slave_pos = ''")
        finally:
            conn.close()
    for src, dst in links(topology, len(servers)):
        conn = servers[dst].connect()
        try:
            _exec(conn, _change_master(servers[src]), f"START SLAVE '{servers[src].name}'")
        finally:
            conn.close()


def _change_master(source: Server) -> str:
    return (f"CHANGE MASTER '{source.name}' TO MASTER_HOST = '127.0.0.1', "
            f"MASTER_PORT = {source.port}, MASTER_USER = '{REPL_USER}', "
            f"MASTER_PASSWORD = '{REPL_PASSWORD}', MASTER_USE_GTID = slave_pos, "
            "MASTER_CONNECT_RETRY = 1")


def repoint(replica: Server, primary: Server) -> None:
    """After a failover: drop every link of ``replica``, replicate from ``primary``."""
    with contextlib.closing(replica.connect()) as conn:
        _exec(conn, "STOP ALL SLAVES", _change_master(primary),
              f"START SLAVE '{primary.name}'")


def wait_semi_sync_clients(servers: list[Server], topology: str, *, timeout: float) -> None:
    """Wait until every primary has its semi-sync replicas connected. A commit made
    before then would wait out the whole ``rpl_semi_sync_master_timeout``."""
    want = {src: sum(1 for s, _ in links(topology, len(servers)) if s == src)
            for src in range(len(servers))}
    deadline = time.monotonic() + timeout
    for i, server in enumerate(servers):
        with contextlib.closing(server.connect()) as conn:
            while True:
                with conn.cursor() as cur:
                    cur.execute("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'")
                    if int(cur.fetchone()[1]) >= want[i] or time.monotonic() > deadline:
                        break
                time.sleep(0.02)


def set_link(target: Server, source: Server, *, up: bool) -> None:
    """Cut (``up=False``) or restore the link ``source -> target``.

    Only the receiving (IO) thread stops, as when the network between them fails: the
    replica still applies what it already received.
    """
    conn = target.connect()
    try:
        _exec(conn, f"{'START' if up else 'STOP'} SLAVE '{source.name}' IO_THREAD")
    finally:
        conn.close()


def parse_gtids(text: str) -> dict[int, tuple[int, int]]:
    """``'0-1-5,1-2-7'`` -> ``{domain: (server_id, seq_no)}``.

    Examples
    --------
    >>> parse_gtids("0-1-5,1-2-7")
    {0: (1, 5), 1: (2, 7)}
    >>> parse_gtids("")
    {}
    """
    out: dict[int, tuple[int, int]] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        domain, server_id, seq = (int(x) for x in part.split("-"))
        out[domain] = (server_id, seq)
    return out


def gtid_pos(conn: Any, which: str = "binlog") -> dict[int, tuple[int, int]]:
    """A server's ``@@gtid_<which>_pos`` (``binlog``, ``current`` or ``slave``)."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT @@global.gtid_{which}_pos")
        return parse_gtids(cur.fetchone()[0])


def _positions(servers: list[Server]) -> list[dict[int, tuple[int, int]] | None]:
    out: list[dict[int, tuple[int, int]] | None] = []
    for s in servers:
        try:
            conn = s.connect(connect_timeout=1, read_timeout=1)
            try:
                out.append(gtid_pos(conn))
            finally:
                conn.close()
        except pymysql.err.MySQLError:
            out.append(None)
    return out


def wait_converged(servers: list[Server], *, timeout: float, quiet: float = 3.0) -> bool:
    """Wait until every running server has logged the same GTIDs; False if they stop short.

    Returns as soon as the positions agree; gives up when they have not moved for
    ``quiet`` seconds (a broken link or a stopped replica) or after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    last: list[Any] = []
    still_since = time.monotonic()
    while time.monotonic() < deadline:
        pos = [p for p in _positions(servers) if p is not None]
        if pos and all(p == pos[0] for p in pos):
            return True
        if pos != last:
            last, still_since = pos, time.monotonic()
        elif time.monotonic() - still_since > quiet:
            return False
        time.sleep(0.05)
    return False


_STATUS_COLUMNS = ["server", "link", "io_running", "sql_running", "last_io_errno",
                   "last_sql_errno", "last_error", "gtid_io_pos"]


def slave_status(servers: list[Server]) -> pd.DataFrame:
    """One row a link: ``server`` (the replica), ``link`` (its source), thread states and
    the last errors (``SHOW ALL SLAVES STATUS``)."""
    rows = []
    for s in servers:
        if not s.running:
            continue
        with contextlib.closing(s.connect(connect_timeout=2, read_timeout=5)) as conn, \
                conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW ALL SLAVES STATUS")
            for r in cur.fetchall():
                rows.append({
                    "server": s.name, "link": r["Connection_name"],
                    "io_running": r["Slave_IO_Running"], "sql_running": r["Slave_SQL_Running"],
                    "last_io_errno": int(r["Last_IO_Errno"]),
                    "last_sql_errno": int(r["Last_SQL_Errno"]),
                    "last_error": r["Last_SQL_Error"] or r["Last_IO_Error"] or "",
                    "gtid_io_pos": r["Gtid_IO_Pos"]})
    return pd.DataFrame(rows, columns=_STATUS_COLUMNS)


def _caught_up(received: dict[int, tuple[int, int]], applied: dict[int, tuple[int, int]]
               ) -> bool:
    return all(applied.get(d, (0, 0))[1] >= seq for d, (_, seq) in received.items())


def drain_relay_log(server: Server, *, timeout: float) -> None:
    """Stop receiving and wait until the SQL threads applied everything received."""
    with contextlib.closing(server.connect(read_timeout=timeout + 5)) as conn:
        _exec(conn, "STOP ALL SLAVES IO_THREAD")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with conn.cursor(pymysql.cursors.DictCursor) as cur:
                cur.execute("SHOW ALL SLAVES STATUS")
                rows = cur.fetchall()
            applied = gtid_pos(conn, "slave")
            if all(_caught_up(parse_gtids(r["Gtid_IO_Pos"]), applied)
                   or r["Slave_SQL_Running"] != "Yes" for r in rows):
                _exec(conn, "STOP ALL SLAVES")
                return
            time.sleep(0.05)
    raise ReplabError(f"{server.name} did not apply its relay log within {timeout:g} s")
