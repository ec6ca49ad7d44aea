"""The MariaDB lab: binlog formats, semi-sync and multi-leader rings on real servers.

:func:`run_mariadb` starts ``config.servers`` MariaDB servers in a temporary directory
(127.0.0.1, free ports, every PID stopped on exit), wires them into ``config.topology``,
lets clients write for ``config.duration_s`` while a nemesis injects ``config.fault``,
and reports what replication did: rows that differ between servers, acknowledged writes
that did not survive, the server's own unsafe-statement warnings, the state of every
link, and GTID positions over time. The history is in replab's JSONL format, so
``replab check`` judges it.

See also :mod:`replab.real.mariadb.experiments` (format comparison with the SQLite model,
a ring write, conflicting updates).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from replab.errors import ReplabError
from replab.history import History
from replab.real.mariadb.config import FAULTS, MariaDBConfig
from replab.real.mariadb.report import (
    FUNCTION_TABLE_COLUMNS,
    divergence,
    function_divergence,
    lost_writes,
    positions_frame,
    reach,
    read_tables,
    writes_frame,
)
from replab.real.mariadb.run import (
    UNSAFE_CODE,
    Nemesis,
    Recorder,
    Sampler,
    open_clients,
    write_phase,
)
from replab.real.mariadb.server import Server, ServerSet
from replab.real.mariadb.topology import (
    BINLOG_FORMATS,
    TOPOLOGIES,
    drain_relay_log,
    gtid_pos,
    repoint,
    server_options,
    setup_replication,
    slave_status,
    wait_converged,
    wait_semi_sync_clients,
)
from replab.real.mariadb.workload import WORKLOADS, schema_sql
from replab.rng import SeedLike, as_generator
from replab.stats import wilson

__all__ = ["MariaDBConfig", "MariaDBResult", "run_mariadb", "start_lab", "FAULTS",
           "BINLOG_FORMATS", "TOPOLOGIES", "WORKLOADS"]


@dataclass(frozen=True, eq=False)
class MariaDBResult:
    """The outcome of :func:`run_mariadb`.

    Attributes
    ----------
    config : MariaDBConfig
    metrics : dict
        Flat metrics (see :func:`run_mariadb`).
    history : History
        Client writes, final reads of every counter on every surviving server (process
        ``"final"``, ``counters`` workload) and the nemesis' ``info`` ops.
    writes : DataFrame
        One row a transaction: ``txn, client, server, key, value, invoke_ms, status,
        latency_ms, gtid, error``.
    positions : DataFrame
        ``time_ms, server, domain, origin_server_id, seq_no, semi_sync_on``: each server's
        ``@@gtid_binlog_pos`` sampled every ``sample_ms`` (no row while a server is down
        or frozen).
    divergence : DataFrame
        Rows that differ from the reference server (db1, or the promoted db2 after a
        crash): ``follower, table, key, status, columns``.
    functions : DataFrame
        ``nondeterministic`` workload: divergent rows per nondeterministic source and
        replica, and the unsafe warnings on the statement carrying it (``source, table,
        column, replica, divergent_rows, rows, unsafe_warnings``).
    warnings : DataFrame
        The server's warnings on the client's statements (``txn, statement, level, code,
        message``); code 1592 is "unsafe statement written to the binary log".
    links : DataFrame
        ``SHOW ALL SLAVES STATUS`` at the end, one row a link.
    reach : DataFrame
        Per surviving server and origin: acknowledged writes present / missing.
    """

    config: MariaDBConfig
    metrics: dict[str, Any]
    history: History
    writes: pd.DataFrame
    positions: pd.DataFrame
    divergence: pd.DataFrame
    functions: pd.DataFrame
    warnings: pd.DataFrame
    links: pd.DataFrame
    reach: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)

    def save(self, out: str | Path) -> Path:
        """Write ``history.jsonl``, ``metrics.json`` and one CSV a frame into ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.history.to_jsonl(out / "history.jsonl")
        (out / "metrics.json").write_text(json.dumps(self.metrics, indent=2, default=str))
        for name in ("writes", "positions", "divergence", "functions", "warnings", "links",
                     "reach"):
            getattr(self, name).to_csv(out / f"{name}.csv", index=False)
        return out


def start_lab(config: MariaDBConfig, *, keep: bool = False) -> ServerSet:
    """Start and wire the servers of ``config`` (the caller closes the returned set)."""
    lab = ServerSet(config.servers, keep=keep)
    try:
        lab.start([server_options(i, config.servers, topology=config.topology,
                                  binlog=config.binlog, semi_sync=config.semi_sync,
                                  semi_sync_timeout_ms=config.semi_sync_timeout_ms,
                                  auto_increment_offsets=config.auto_increment_offsets)
                   for i in range(config.servers)])
        setup_replication(lab.servers, config.topology)
        if config.semi_sync:
            wait_semi_sync_clients(lab.servers, config.topology, timeout=10.0)
        conn = lab[0].connect()
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE lab")
            cur.execute("USE lab")
            for sql in schema_sql(config.workload, config.keys):
                cur.execute(sql)
        conn.close()
        if not wait_converged(lab.servers, timeout=30.0, quiet=10.0):
            raise ReplabError("the servers did not replicate the schema within 30 s")
        for s in lab.servers:
            s.database = "lab"
    except BaseException:
        lab.close()
        raise
    return lab


def run_mariadb(config: MariaDBConfig | None = None, *, seed: SeedLike = None,
                out: str | Path | None = None, keep: bool = False) -> MariaDBResult:
    """Run ``config`` on real MariaDB servers and report what replication did.

    Parameters
    ----------
    config : MariaDBConfig, optional
    seed : int, Generator or None
        Draws the transactions and which client issues each. Timing, and so what
        diverges, is the real servers' and varies from run to run.
    out : path, optional
        Directory to save the history and frames in (:meth:`MariaDBResult.save`).
    keep : bool
        Keep the servers' temporary directory (datadirs, error logs).

    Returns
    -------
    MariaDBResult
        ``metrics`` holds ``binlog, workload, topology, servers, semi_sync, fault``;
        ``writes, acked_writes, failed_writes, unknown_writes`` (``info``);
        ``write_latency_p50_ms, write_latency_p99_ms``; ``acked_writes_lost`` (acknowledged
        writes the reference server lacks at the end, judged by GTID; in multi-leader
        topologies, those no surviving server holds) and
        ``acked_writes_lost_ci_low/high`` (Wilson 95 % on the fraction);
        ``unreplicated_writes`` (acknowledged writes some surviving server lacks);
        ``divergent_rows`` (rows differing from the reference, over all servers),
        ``compared_rows``, ``divergent_fraction`` with ``ci_low``/``ci_high``;
        ``unsafe_warnings`` (code 1592); ``replication_errors`` (links whose SQL thread
        stopped on an error) and ``first_replication_error``; ``converged``;
        ``semi_sync_fallbacks`` (times db1 switched semi-sync off after the timeout,
        ``Rpl_semi_sync_master_no_times``) and ``semi_sync_unacked_commits`` (commits it
        acknowledged without a replica's ack, ``Rpl_semi_sync_master_no_tx``), both as last
        sampled;
        ``reference`` (the server compared against); and, with ``break-link``,
        ``unreplicated_before_heal`` and ``heal_catch_up_ms``.
    """
    config = MariaDBConfig() if config is None else config
    rng = as_generator(seed)
    with start_lab(config, keep=keep) as lab:
        result = _run_on(lab, config, rng)
    if out is not None:
        result.save(out)
    return result


def _run_on(lab: ServerSet, config: MariaDBConfig, rng: np.random.Generator) -> MariaDBResult:
    clients = open_clients(config, lab.servers)
    rec = Recorder()
    sampler = Sampler(lab.servers, rec, config.sample_ms / 1000)
    nemesis = Nemesis(config, lab.servers, rec)
    sampler.start()
    nemesis.start()
    try:
        write_phase(config, clients, rec, nemesis, rng)
    except BaseException:
        sampler.halt.set()  # the lab closes next: stop polling servers about to go away
        raise
    finally:
        nemesis.halt.set()
        nemesis.join(config.stall_ms / 1000 + 10)
    extra = _after_writes(lab, config, rec, nemesis)
    sampler.stop()
    return _collect(lab, config, rec, sampler, extra)


def _after_writes(lab: ServerSet, config: MariaDBConfig, rec: Recorder, nemesis: Nemesis
                  ) -> dict[str, Any]:
    """Failover after a crash, heal a broken link, and let the survivors settle."""
    alive = [s for s in lab.servers if s.running]
    extra: dict[str, Any] = {"reference": alive[0].name}
    if nemesis.crashed:
        nemesis.broken = []  # links out of a dead server: nothing left to heal
    if nemesis.crashed and not config.multi_leader:
        extra["reference"] = _fail_over(alive, config, rec).name
    if nemesis.broken:  # the cut link is known: a short quiet period shows the stall
        wait_converged(alive, timeout=config.settle_s, quiet=1.0)
        extra["before_heal"] = {s.name: _pos(s) for s in alive}
        t = rec.now_ms()
        nemesis.heal()
        wait_converged(alive, timeout=config.settle_s)
        extra["heal_catch_up_ms"] = rec.now_ms() - t
    extra["converged"] = wait_converged(alive, timeout=config.settle_s)
    return extra


def _fail_over(replicas: list[Server], config: MariaDBConfig, rec: Recorder) -> Server:
    """Every replica applies what it received; the most advanced one becomes primary and
    the others replicate from it (a semi-sync ack may have come from any replica)."""
    for s in replicas:
        drain_relay_log(s, timeout=config.settle_s + 5)
    seqs = [_pos(s).get(0, (0, 0))[1] for s in replicas]
    primary = replicas[int(np.argmax(seqs))]
    rec.nemesis("promote", primary.name, f"most advanced replica, GTID seq_no {max(seqs)}")
    for s in replicas:
        if s is not primary:
            repoint(s, primary)
    return primary


def _pos(server: Server) -> dict[int, tuple[int, int]]:
    conn = server.connect()
    try:
        return gtid_pos(conn)
    finally:
        conn.close()


def _final_reads(lab: ServerSet, rec: Recorder, reference: str, workload: str
                 ) -> dict[str, dict[str, pd.DataFrame]]:
    """Read every compared table on every live server; the reference server last. With
    ``counters``, each register read is recorded as a final read (``final: true``, process
    ``"final"``), so lost-write judges the history; the shop's rows are not registers."""
    alive = [s for s in lab.servers if s.running]
    alive.sort(key=lambda s: s.name == reference)
    tables = {}
    for s in alive:
        t0 = rec.now_ms()
        tables[s.name] = read_tables(s, workload)
        if workload == "counters":
            for k, v in tables[s.name]["counters"]["v"].items():
                value = None if pd.isna(v) else int(v)
                rec.op("final", "invoke", "read", str(k), None, s.name, t0, final=True)
                rec.op("final", "ok", "read", str(k), value, s.name, final=True)
    return tables


def _collect(lab: ServerSet, config: MariaDBConfig, rec: Recorder, sampler: Sampler,
             extra: dict[str, Any]) -> MariaDBResult:
    reference = extra["reference"]
    tables = _final_reads(lab, rec, reference, config.workload)
    diff = divergence(reference, tables)
    warnings = pd.DataFrame(rec.warnings,
                            columns=["txn", "statement", "level", "code", "message"])
    functions = (function_divergence(diff, tables, reference, warnings)
                 if config.workload == "nondeterministic" else
                 pd.DataFrame(columns=FUNCTION_TABLE_COLUMNS))
    writes = writes_frame(rec.writes)
    final = extra["final_pos"] = {s.name: _pos(s) for s in lab.servers if s.running}
    reached = reach(writes, final)
    links = slave_status(lab.servers)
    positions = positions_frame(sampler.rows)
    metrics = _metrics(config, writes, tables, diff, warnings, links, positions, reached,
                       extra)
    return MariaDBResult(config, metrics, rec.history, writes, positions, diff, functions,
                         warnings, links, reached, extra)


def _metrics(config: MariaDBConfig, writes: pd.DataFrame, tables: dict[str, Any],
             diff: pd.DataFrame, warnings: pd.DataFrame, links: pd.DataFrame,
             positions: pd.DataFrame, reached: pd.DataFrame, extra: dict[str, Any]
             ) -> dict[str, Any]:
    reference = extra["reference"]
    acked = writes[writes["status"] == "ok"]
    lat = acked["latency_ms"].to_numpy(dtype=float)
    # Single leader: what the (new) primary lacks is gone. Multi-leader: a write still on
    # some surviving leader is unreplicated, not lost.
    holders = list(extra["final_pos"]) if config.multi_leader else [reference]
    lost = lost_writes(writes, extra["final_pos"], holders)
    lo, hi = wilson(lost, len(acked)) if len(acked) else (0.0, 1.0)
    rows = sum(len(t) for t in tables[reference].values())
    compared = rows * (len(tables) - 1)
    divergent = len(diff)
    dlo, dhi = wilson(min(divergent, compared), compared) if compared else (0.0, 1.0)
    errors = links[links["last_sql_errno"] > 0]
    semi = positions[positions["server"] == "db1"]
    metrics: dict[str, Any] = {
        "binlog": config.binlog, "workload": config.workload, "topology": config.topology,
        "servers": config.servers, "semi_sync": config.semi_sync, "fault": config.fault,
        "writes": len(writes), "acked_writes": len(acked),
        "failed_writes": int((writes["status"] == "fail").sum()),
        "unknown_writes": int((writes["status"] == "info").sum()),
        "write_latency_p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "write_latency_p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
        "acked_writes_lost": lost, "acked_writes_lost_ci_low": float(lo),
        "acked_writes_lost_ci_high": float(hi),
        "unreplicated_writes": int(reached.groupby("server")["missing"].sum().max())
        if len(reached) else 0,
        "divergent_rows": divergent, "compared_rows": compared,
        "divergent_fraction": divergent / compared if compared else 0.0,
        "ci_low": float(dlo), "ci_high": float(dhi),
        "unsafe_warnings": int((warnings["code"] == UNSAFE_CODE).sum()),
        "replication_errors": len(errors),
        "first_replication_error": str(errors["last_error"].iloc[0]) if len(errors) else "",
        "converged": bool(extra["converged"]),
        "semi_sync_fallbacks": int(semi["semi_sync_off_times"].max()) if len(semi) else 0,
        "semi_sync_unacked_commits": int(semi["semi_sync_unacked_commits"].max())
        if len(semi) else 0,
        "reference": reference,
    }
    if "before_heal" in extra:
        before = reach(writes, extra["before_heal"])
        metrics["unreplicated_before_heal"] = int(before["missing"].sum())
        metrics["heal_catch_up_ms"] = float(extra["heal_catch_up_ms"])
    return metrics
