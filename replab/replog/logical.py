"""Logical (row-based) replication with SQLite's session extension, through apsw.

For every leader transaction an :class:`apsw.Session` records the row images it produced
(inserted rows with every column, deleted rows with their old values, updated rows with
the key, the old values of the changed columns and the new values). The changeset is the
log record; its boundary is the commit marker. A follower applies it with
:meth:`apsw.Changeset.apply` and a conflict handler. Row images carry the values, so
``random()``, the time, AUTOINCREMENT and triggers are evaluated once, on the leader.

Because a changeset names tables and columns, its consumer need not be the same kind of
store: :class:`FrameFollower` keeps pandas DataFrames up to date from the same stream
(change data capture), and a SQLite follower on a newer schema version (extra columns
with defaults) applies it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import apsw
import numpy as np
import pandas as pd

from replab.replog._base import POLICIES, ApplyStats, LogRecord, SqlFollower
from replab.replog._node import INTERNAL_TABLES, Node, drop_triggers, table_frame, user_tables
from replab.replog.workload import Txn
from replab.validate import check_choice

__all__ = ["LogicalReplicator", "LogicalFollower", "FrameFollower", "changeset_rows"]

_OMIT = apsw.SQLITE_CHANGESET_OMIT
_REPLACE = apsw.SQLITE_CHANGESET_REPLACE
_DATA, _NOTFOUND, _CONFLICT = (
    apsw.SQLITE_CHANGESET_DATA, apsw.SQLITE_CHANGESET_NOTFOUND, apsw.SQLITE_CHANGESET_CONFLICT
)


class LogicalReplicator:
    """Captures each leader transaction as a changeset (optionally of some tables only)."""

    kind = "logical"
    order_sensitive = False

    def __init__(self, *, tables: tuple[str, ...] = ()) -> None:
        self.tables = tables

    def prepare(self, leader: Node) -> None:
        """Nothing to install: the session extension records changes in memory."""

    def commit(self, leader: Node, txn: Txn, lsn: int) -> LogRecord:
        """Run ``txn`` on the leader under a session; the changeset is the record."""
        session = apsw.Session(leader.conn, "main")
        if self.tables:
            for table in self.tables:
                session.attach(table)
        else:
            session.table_filter(lambda name: name not in INTERNAL_TABLES)
            session.attach()
        with leader.conn:
            for sql in txn.statements:
                leader.execute(sql)
        changeset = session.changeset()
        session.close()
        return LogRecord(lsn, txn.round, txn.client, changeset, len(changeset),
                         len(txn.statements))

    def follower(
        self, path: Path, *, name: str, rng: np.random.Generator, policy: str = "leader-wins"
    ) -> LogicalFollower:
        """A SQLite follower on the snapshot at ``path``; its triggers are dropped."""
        return LogicalFollower(Node(path, name=name, rng=rng), policy=policy)


class LogicalFollower(SqlFollower):
    """Applies changesets; conflicts (rows changed locally) are settled by ``policy``.

    ``policy`` is ``'leader-wins'`` (replace the local row), ``'follower-wins'`` (keep
    it) or ``'latest'`` (keep whichever row has the larger ``updated_at``).
    """

    def __init__(self, node: Node, *, policy: str = "leader-wins") -> None:
        super().__init__(node)
        check_choice(policy, "policy", "LogicalFollower", POLICIES)
        self.policy = policy
        drop_triggers(node.conn)  # their effects arrive as row images

    def _handler(self, stats: ApplyStats) -> Callable[[int, apsw.TableChange], int]:
        def handle(reason: int, change: apsw.TableChange) -> int:
            stats.conflicts += 1
            if reason not in (_DATA, _CONFLICT):
                return _OMIT  # a missing row or a constraint: the change cannot apply
            if self.policy == "leader-wins":
                return _REPLACE
            if self.policy == "follower-wins":
                return _OMIT
            return _REPLACE if self._leader_is_later(change) else _OMIT

        return handle

    def _leader_is_later(self, change: apsw.TableChange) -> bool:
        cols = [r[1] for r in self.node.execute(f'PRAGMA table_info("{change.name}")')]
        if "updated_at" not in cols or change.conflict is None or change.new is None:
            return True
        i = cols.index("updated_at")
        mine: Any = change.conflict[i]
        theirs: Any = change.new[i]
        if theirs is apsw.no_change or theirs is None or mine is None:
            return True
        return bool(theirs >= mine)

    def apply(self, record: LogRecord) -> ApplyStats:
        stats = ApplyStats()
        if record.payload:
            stats.changes = sum(1 for _ in apsw.Changeset.iter(record.payload))
            apsw.Changeset.apply(record.payload, self.node.conn, conflict=self._handler(stats))
        return stats


def changeset_rows(changeset: bytes) -> list[dict[str, Any]]:
    """The changes in a changeset as plain dicts: ``table, op, key, old, new``.

    ``old`` and ``new`` map column positions to values and hold only what the change
    carries (an UPDATE has the key and the changed columns; an INSERT has no ``old``, a
    DELETE no ``new``).
    """
    out = []
    for ch in apsw.Changeset.iter(changeset):
        pk = sorted(ch.pk_columns)
        image: Any = ch.new if ch.op == "INSERT" else ch.old
        key = tuple(image[i] for i in pk)
        old, new = (
            None if row is None
            else {i: v for i, v in enumerate(row) if v is not apsw.no_change}
            for row in (ch.old, ch.new)
        )
        out.append({"table": ch.name, "op": ch.op, "key": key, "old": old, "new": new,
                    "pk": pk})
    return out


class FrameFollower:
    """A non-SQLite follower: pandas DataFrames fed by the changeset stream (CDC).

    It starts from the tables of a snapshot and applies INSERT / UPDATE / DELETE row
    images by primary key; ``frame(table)`` is the current table.
    """

    def __init__(self, snapshot: Path, *, name: str) -> None:
        self.name = name
        self.clock_ms = 0.0
        conn = apsw.Connection(str(snapshot))
        try:
            self._cols: dict[str, list[str]] = {}
            self._keys: dict[str, list[str]] = {}
            self._rows: dict[str, dict[tuple[Any, ...], list[Any]]] = {}
            for t in user_tables(conn):
                frame = table_frame(conn, t)
                self._keys[t] = [str(n) for n in frame.index.names]
                self._cols[t] = [*self._keys[t], *frame.columns]
                flat = frame.reset_index()
                self._rows[t] = {
                    tuple(r[: len(self._keys[t])]): list(r)
                    for r in flat.itertuples(index=False, name=None)
                }
        finally:
            conn.close()

    def apply(self, record: LogRecord) -> ApplyStats:
        stats = ApplyStats()
        for change in changeset_rows(record.payload) if record.payload else []:
            rows = self._rows.setdefault(change["table"], {})
            key, op = change["key"], change["op"]
            stats.changes += 1
            if op == "INSERT":
                new = change["new"]
                rows[key] = [new[i] for i in range(len(new))]
            elif key not in rows:  # the row is not here: nothing to delete or update
                stats.conflicts += 1
            elif op == "DELETE":
                del rows[key]
            else:
                row = rows.pop(key)
                for i, v in change["new"].items():
                    row[i] = v
                rows[tuple(row[i] for i in change["pk"])] = row
        return stats

    def frame(self, table: str) -> pd.DataFrame:
        """The table as a DataFrame indexed by its primary key (as ``table_frame``)."""
        frame = pd.DataFrame(list(self._rows[table].values()), columns=self._cols[table],
                             dtype=object)
        return frame.set_index(self._keys[table]).sort_index()

    def tables(self, names: list[str]) -> dict[str, pd.DataFrame]:
        return {t: self.frame(t) for t in names if t in self._rows}

    def local_write(self, sql: str) -> None:
        raise NotImplementedError("a DataFrame follower takes no local SQL writes")

    def close(self) -> None:
        """Nothing to release."""
