"""What a MariaDB lab run measured: tables compared between servers, positions, loss.

All functions here take plain data (frames, rows read from the servers) and return tidy
DataFrames; :mod:`replab.real.mariadb` calls them once the servers have settled.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import pandas as pd

from replab.real.mariadb.server import Server
from replab.real.mariadb.topology import parse_gtids
from replab.real.mariadb.workload import FUNCTION_COLUMNS, TABLE_KEYS, statement_shape
from replab.replog.compare import DIFF_COLUMNS, diff_tables

__all__ = ["read_tables", "divergence", "function_divergence", "positions_frame",
           "writes_frame", "reach", "POSITION_COLUMNS", "WRITE_COLUMNS", "FUNCTION_TABLE_COLUMNS",
           "REACH_COLUMNS", "unsafe_reasons", "lost_writes"]

POSITION_COLUMNS = ["time_ms", "server", "domain", "origin_server_id", "seq_no",
                    "semi_sync_on", "semi_sync_off_times", "semi_sync_unacked_commits"]
WRITE_COLUMNS = ["txn", "client", "server", "key", "value", "invoke_ms", "status",
                 "latency_ms", "gtid", "error"]
FUNCTION_TABLE_COLUMNS = ["source", "table", "column", "replica", "divergent_rows", "rows",
                          "unsafe_warnings"]
REACH_COLUMNS = ["server", "origin", "acked_writes", "present", "missing"]


def read_tables(server: Server, workload: str) -> dict[str, pd.DataFrame]:
    """Every compared table of ``workload`` on ``server``, indexed by primary key."""
    out = {}
    with contextlib.closing(server.connect(read_timeout=30)) as conn, conn.cursor() as cur:
        for table, key in TABLE_KEYS[workload].items():
            cur.execute(f"SELECT * FROM {table} ORDER BY {key}")
            cols = [d[0] for d in cur.description]
            # object dtype keeps NULL as None: a float column would turn it into NaN,
            # and NaN != NaN would count identical rows as divergent
            frame = pd.DataFrame(list(cur.fetchall()), columns=cols, dtype=object)
            out[table] = frame.set_index(key)
    return out


def divergence(reference: str, tables: dict[str, dict[str, pd.DataFrame]]) -> pd.DataFrame:
    """Rows that differ from server ``reference``'s: ``follower, table, key, status, columns``
    (``follower`` names the other server)."""
    parts = [diff_tables(tables[reference], t, name=name)
             for name, t in tables.items() if name != reference]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=DIFF_COLUMNS)


def function_divergence(diff: pd.DataFrame, tables: dict[str, dict[str, pd.DataFrame]],
                        reference: str, warnings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per nondeterministic source and replica: the rows whose column for it differs, and
    the server's unsafe-statement warnings on the statement that carries the source.

    A row missing or extra on the replica counts for every column of its table.
    """
    shapes = (warnings[warnings["code"] == 1592]["statement"].map(statement_shape)
              if warnings is not None and len(warnings) else pd.Series(dtype=object))
    rows = []
    for replica in (name for name in tables if name != reference):
        mine = diff[diff["follower"] == replica]
        for source, table, column, statement in FUNCTION_COLUMNS:
            t = mine[mine["table"] == table]
            changed = t["columns"].map(lambda cols, c=column: c in cols.split(",")).astype(bool)
            count = int(changed.sum() + (t["status"] != "changed").sum())
            total = len(tables[reference].get(table, ()))
            unsafe = int((shapes == statement_shape(statement)).sum())
            rows.append((source, table, column, replica, count, total, unsafe))
    return pd.DataFrame(rows, columns=FUNCTION_TABLE_COLUMNS)


def positions_frame(samples: list[dict[str, Any]]) -> pd.DataFrame:
    """Sampled ``@@gtid_binlog_pos`` as one row per (time, server, GTID domain)."""
    rows = []
    for s in sorted(samples, key=lambda s: s["time_ms"]):
        semi = (s["semi_sync_on"], s["semi_sync_off_times"], s["semi_sync_unacked_commits"])
        pos = parse_gtids(s["gtid_pos"]) or {0: (0, 0)}
        for domain, (origin, seq) in sorted(pos.items()):
            rows.append((s["time_ms"], s["server"], domain, origin, seq, *semi))
    return pd.DataFrame(rows, columns=POSITION_COLUMNS)


def writes_frame(writes: list[dict[str, Any]]) -> pd.DataFrame:
    """Every client transaction: outcome, latency (ms, ``ok`` only) and its GTID."""
    frame = pd.DataFrame(writes).reindex(columns=WRITE_COLUMNS)
    frame["error"] = frame["error"].astype(object).fillna("")
    frame["gtid"] = frame["gtid"].astype(object).fillna("")
    return frame


def _present(gtid: str, pos: dict[int, tuple[int, int]]) -> bool:
    """Is the GTID ``d-s-n`` within a position (domains apply in order)?"""
    if not gtid:
        return False
    domain, _, seq = (int(x) for x in gtid.split("-"))
    return domain in pos and pos[domain][1] >= seq


def reach(writes: pd.DataFrame, final_pos: dict[str, dict[int, tuple[int, int]]]
          ) -> pd.DataFrame:
    """Per surviving server and origin: how many acknowledged writes it holds (those whose
    GTID the client learnt; one acknowledged just before a crash may lack it)."""
    acked = writes[(writes["status"] == "ok") & (writes["gtid"] != "")]
    rows = []
    for server, pos in final_pos.items():
        for origin, group in acked.groupby("server", sort=True):
            present = int(np.sum([_present(g, pos) for g in group["gtid"]]))
            rows.append((server, origin, len(group), present, len(group) - present))
    return pd.DataFrame(rows, columns=REACH_COLUMNS)


_UNSAFE_PREFIX = ("Unsafe statement written to the binary log using statement format since "
                  "BINLOG_FORMAT = STATEMENT. ")


def unsafe_reasons(warnings: pd.DataFrame) -> pd.DataFrame:
    """The server's unsafe-statement warnings counted per kind of statement and reason.

    Columns ``statement`` (its shape: literals replaced by ``?``), ``reason`` (the
    server's text after its common prefix) and ``statements``.
    """
    unsafe = warnings[warnings["code"] == 1592]
    frame = pd.DataFrame({
        "statement": unsafe["statement"].map(statement_shape),
        "reason": unsafe["message"].str.replace(_UNSAFE_PREFIX, "", regex=False),
    })
    counted = frame.groupby(["statement", "reason"]).size().rename("statements")
    return counted.reset_index().sort_values("statements", ascending=False,
                                             ignore_index=True)


def lost_writes(writes: pd.DataFrame, final_pos: dict[str, dict[int, tuple[int, int]]],
                within: list[str]) -> int:
    """Acknowledged writes that no server in ``within`` holds (judged by GTID)."""
    acked = writes[(writes["status"] == "ok") & (writes["gtid"] != "")]["gtid"]
    return int(sum(not any(_present(g, final_pos[s]) for s in within) for g in acked))

