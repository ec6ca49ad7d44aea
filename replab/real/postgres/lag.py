"""Replication lag over time, sampled from the primary's ``pg_stat_replication``."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pandas as pd
import psycopg

__all__ = ["LagSampler", "LAG_COLUMNS"]

#: Columns of the lag frame: one row per standby per sample. Lags in ms (NaN when the
#: primary has nothing to report: PostgreSQL clears them while idle), distances in bytes of
#: WAL between the primary's current position and what the standby has received/replayed.
LAG_COLUMNS = ("time_ms", "standby", "state", "sync_state", "write_lag_ms", "flush_lag_ms",
               "replay_lag_ms", "sent_distance_bytes", "replay_distance_bytes")
_QUERY = """
SELECT application_name, state, sync_state,
       extract(epoch FROM write_lag) * 1000, extract(epoch FROM flush_lag) * 1000,
       extract(epoch FROM replay_lag) * 1000,
       pg_wal_lsn_diff(pg_current_wal_lsn(), sent_lsn),
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)
FROM pg_stat_replication ORDER BY application_name
"""


class LagSampler(threading.Thread):
    """Polls the current primary every ``interval_ms`` until stopped (reconnecting after
    a failover); ``frame()`` is the tidy result."""

    def __init__(self, lab: Any, interval_ms: float) -> None:
        super().__init__(name="replab-pg-lag", daemon=True)
        self.lab = lab
        self.interval_s = interval_ms / 1000.0
        self.rows: list[tuple[Any, ...]] = []
        self.done = threading.Event()

    def run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        port = None
        try:
            while not self.done.wait(self.interval_s):
                try:
                    primary = self.lab.cluster.get_primary()
                    if conn is None or conn.broken or port != primary.port:
                        conn, port = primary.connect(timeout_s=1.0), primary.port
                    now = self.lab.recorder.now_ms()
                    for r in conn.execute(_QUERY).fetchall():
                        self.rows.append((round(now, 3), *r))
                except psycopg.Error:
                    conn = None  # the primary is down or changing: try the next tick
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=list(LAG_COLUMNS))
        for col in LAG_COLUMNS[4:]:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
        return df
