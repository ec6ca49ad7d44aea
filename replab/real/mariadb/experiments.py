"""Experiments built from :func:`~replab.real.mariadb.run_mariadb`, each one table.

* :func:`compare_binlog_formats`: STATEMENT / MIXED / ROW on the nondeterministic
  workload, beside replab's SQLite model of the same hazards
  (:func:`replab.replog.simulate_replog`, kinds ``statement``, ``statement-fixed``,
  ``logical``).
* :func:`compare_semi_sync`: async vs semi-sync under the same fault.
* :func:`ring_write_once`: one write on db1 of a ring, counted on every server.
* :func:`conflicting_updates`: two leaders update one row at once; who keeps what.
"""

from __future__ import annotations

import contextlib
import dataclasses

import pandas as pd

from replab.real.mariadb import MariaDBConfig, MariaDBResult, run_mariadb, start_lab
from replab.real.mariadb.server import Server
from replab.real.mariadb.topology import (
    BINLOG_FORMATS,
    gtid_pos,
    slave_status,
    wait_converged,
)
from replab.replog import ReplogConfig, simulate_replog
from replab.rng import SeedLike, as_generator

__all__ = ["FORMAT_COLUMNS", "compare_binlog_formats", "compare_semi_sync", "ring_write_once",
           "conflicting_updates"]

FORMAT_COLUMNS = ["system", "log", "workload", "writes", "compared_rows", "divergent_rows",
                  "divergent_fraction", "ci_low", "ci_high", "unsafe_warnings"]
# The SQLite model's closest kind to each MariaDB binlog format.
_MODEL_KINDS = (("statement", "SQL text, re-evaluated"),
                ("statement-fixed", "SQL text, time and random() pinned (like STATEMENT)"),
                ("logical", "row images (like ROW)"))


def _seed_int(seed: SeedLike) -> int:
    return seed if isinstance(seed, int) else int(as_generator(seed).integers(0, 2**31))


def compare_binlog_formats(config: MariaDBConfig | None = None, *, seed: SeedLike = None,
                           formats: tuple[str, ...] = BINLOG_FORMATS,
                           model_transactions: int = 200,
                           runs: dict[str, MariaDBResult] | None = None) -> pd.DataFrame:
    """One row per log: MariaDB's binlog formats, then the SQLite model's kinds.

    Every MariaDB run uses ``config`` (workload forced to ``nondeterministic``) with
    the same seed; the model runs its ``nondeterministic`` and ``triggers`` workloads
    (random(), the clock, a trigger) with ``model_transactions`` transactions.
    Columns: ``FORMAT_COLUMNS``; ``divergent_fraction`` is of the rows compared between
    the leader and its followers, with Wilson 95 % ``ci_low``/``ci_high``. Pass a dict as
    ``runs`` to keep each MariaDB run's full result, keyed by format.
    """
    config = MariaDBConfig(workload="nondeterministic") if config is None else \
        dataclasses.replace(config, workload="nondeterministic")
    seed = _seed_int(seed)
    rows = []
    for fmt in formats:
        result = run_mariadb(dataclasses.replace(config, binlog=fmt), seed=seed)
        if runs is not None:
            runs[fmt] = result
        m = result.metrics
        rows.append({"system": "MariaDB", "log": f"binlog_format={fmt.upper()}",
                     "workload": "nondeterministic", **{k: m[k] for k in FORMAT_COLUMNS[3:]}})
    for workload in ("nondeterministic", "triggers"):
        for kind, what in _MODEL_KINDS:
            m = simulate_replog(ReplogConfig(kind=kind, workload=workload,
                                             transactions=model_transactions,
                                             followers=config.servers - 1, join_at=None),
                                seed=seed).metrics
            rows.append({"system": "SQLite model", "log": f"{kind}: {what}",
                         "workload": workload, "writes": m["writes"],
                         "compared_rows": m["leader_rows"] * m["followers"],
                         "divergent_rows": m["divergent_rows"],
                         "divergent_fraction": m["divergent_fraction"],
                         "ci_low": m["ci_low"], "ci_high": m["ci_high"],
                         "unsafe_warnings": None})  # SQLite has no such warning
    return pd.DataFrame(rows, columns=FORMAT_COLUMNS).astype({"unsafe_warnings": "Int64"})


SEMI_SYNC_COLUMNS = ["semi_sync", "semi_sync_timeout_ms", "fault", "acked_writes",
                     "unknown_writes", "acked_writes_lost", "acked_writes_lost_ci_low",
                     "acked_writes_lost_ci_high", "write_latency_p50_ms",
                     "write_latency_p99_ms", "semi_sync_fallbacks",
                     "semi_sync_unacked_commits"]


def compare_semi_sync(config: MariaDBConfig | None = None, *, seed: SeedLike = None,
                      timeouts_ms: tuple[int, ...] = (100,),
                      runs: dict[str, MariaDBResult] | None = None) -> pd.DataFrame:
    """Async, semi-sync with a timeout longer than the run, and semi-sync with each of
    ``timeouts_ms``, all under ``config.fault`` (default ``crash``) on leader-follower.

    Columns: ``SEMI_SYNC_COLUMNS``. Pass a dict as ``runs`` to keep each run's full
    result, keyed ``"async"``, ``"semi-sync"`` and ``"semi-sync, timeout T ms"``.
    """
    base = MariaDBConfig(fault="crash") if config is None else config
    base = dataclasses.replace(base, topology="leader-follower")
    seed = _seed_int(seed)
    patient = int(1000 * base.duration_s + base.stall_ms + 5000)
    variants = [dataclasses.replace(base, semi_sync=False),
                dataclasses.replace(base, semi_sync=True, semi_sync_timeout_ms=patient)]
    variants += [dataclasses.replace(base, semi_sync=True, semi_sync_timeout_ms=t)
                 for t in timeouts_ms]
    rows = []
    for i, cfg in enumerate(variants):
        result = run_mariadb(cfg, seed=seed)
        m = result.metrics
        if runs is not None:
            runs[("async", "semi-sync")[i] if i < 2
                 else f"semi-sync, timeout {cfg.semi_sync_timeout_ms} ms"] = result
        rows.append({"semi_sync": cfg.semi_sync, "semi_sync_timeout_ms":
                     cfg.semi_sync_timeout_ms if cfg.semi_sync else None, **{
                         k: m[k] for k in SEMI_SYNC_COLUMNS[2:]}})
    return pd.DataFrame(rows, columns=SEMI_SYNC_COLUMNS).astype(
        {"semi_sync_timeout_ms": "Int64"})


RING_COLUMNS = ["server", "counter", "events_rows", "gtid_binlog_pos", "origin_copies"]


def ring_write_once(binlog: str = "statement", topology: str = "circular",
                    servers: int = 3) -> pd.DataFrame:
    """One write on db1 (``n = n + 1`` and one ``events`` row), counted on every server.

    Returns one row a server: the counter's value (1 if the write was applied exactly
    once; a write going round again would make it 2), the ``events`` rows, the server's
    ``@@gtid_binlog_pos`` and ``origin_copies``: how many events of db1's GTID domain its
    binary log holds (1: logged once on the way round, never re-logged at db1).
    """
    config = MariaDBConfig(binlog=binlog, topology=topology, servers=servers, keys=1)
    with start_lab(config) as lab:
        with contextlib.closing(lab[0].connect()) as conn, conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("UPDATE counters SET n = n + 1, v = 1, writer = 1 WHERE k = 'k0'")
            cur.execute("INSERT INTO events (origin, seq, k) VALUES (1, 1, 'k0')")
            cur.execute("COMMIT")
            cur.execute("SELECT @@last_gtid")
            gtid = cur.fetchone()[0]
        wait_converged(lab.servers, timeout=10.0)
        rows = []
        for s in lab.servers:
            with contextlib.closing(s.connect()) as conn, conn.cursor() as cur:
                cur.execute("SELECT n FROM counters WHERE k = 'k0'")
                n = int(cur.fetchone()[0])
                cur.execute("SELECT COUNT(*) FROM events")
                events = int(cur.fetchone()[0])
                cur.execute("SHOW BINLOG EVENTS IN 'binlog.000001'")
                info = [r[5] for r in cur.fetchall() if r[2] == "Gtid"]
                copies = sum(1 for i in info if gtid in i.split())
                pos = gtid_pos(conn)
            rows.append((s.name, n, events, ",".join(f"{d}-{o}-{q}" for d, (o, q) in
                                                     sorted(pos.items())), copies))
    return pd.DataFrame(rows, columns=RING_COLUMNS)


CONFLICT_COLUMNS = ["server", "n", "v", "writer", "events_rows", "events_ids",
                    "link_errors"]


def conflicting_updates(binlog: str = "row", topology: str = "circular", *, servers: int = 3,
                        auto_increment_offsets: bool = True) -> pd.DataFrame:
    """Two leaders update one row (and append one ``events`` row each) at the same time.

    Replication on every server is stopped first (``STOP ALL SLAVES``), so each leader
    commits before it sees the other's write, as during a partition or a lagging link;
    then every link starts again and the servers settle. Each leader runs
    ``n = n + 1, v = <its id>`` on row ``k0`` and inserts an ``events`` row with an
    AUTO_INCREMENT key.

    Returns
    -------
    DataFrame
        One row a server: the final ``n`` (2 if both increments survived), ``v`` and
        ``writer`` (whose value it kept), the ``events`` rows and their keys, and the
        replication errors on its links (e.g. 1062, a duplicate key from colliding
        AUTO_INCREMENT values when ``auto_increment_offsets`` is False).
    """
    config = MariaDBConfig(binlog=binlog, topology=topology, servers=servers, keys=1,
                           auto_increment_offsets=auto_increment_offsets)
    with start_lab(config) as lab:
        for s in lab.servers:
            _run(s, "STOP ALL SLAVES")
        for origin in (1, 2):
            _run(lab[origin - 1], "BEGIN",
                 f"UPDATE counters SET n = n + 1, v = {origin}, writer = {origin} "
                 "WHERE k = 'k0'",
                 f"INSERT INTO events (origin, seq, k) VALUES ({origin}, 1, 'k0')", "COMMIT")
        for s in lab.servers:
            _run(s, "START ALL SLAVES")
        # A clash stops a link for good: 1.5 s without progress is the answer
        wait_converged(lab.servers, timeout=10.0, quiet=1.5)
        errors = slave_status(lab.servers)
        rows = []
        for s in lab.servers:
            with contextlib.closing(s.connect()) as conn, conn.cursor() as cur:
                cur.execute("SELECT n, v, writer FROM counters WHERE k = 'k0'")
                n, v, writer = cur.fetchone()
                cur.execute("SELECT id FROM events ORDER BY id")
                ids = [int(r[0]) for r in cur.fetchall()]
            mine = errors[(errors["server"] == s.name) & (errors["last_sql_errno"] > 0)]
            rows.append((s.name, int(n), v, writer, len(ids), ",".join(map(str, ids)),
                         "; ".join(f"from {r.link}: {r.last_sql_errno}"
                                   for r in mine.itertuples())))
    return pd.DataFrame(rows, columns=CONFLICT_COLUMNS)


def _run(server: Server, *sql: str) -> None:
    with contextlib.closing(server.connect()) as conn, conn.cursor() as cur:
        for s in sql:
            cur.execute(s)
