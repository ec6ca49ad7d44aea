"""Trigger-based replication: triggers fill a changelog table, a shipper copies it on.

:func:`install_capture` adds AFTER INSERT / UPDATE / DELETE triggers to the chosen
tables; each writes the old and new row as JSON into ``_changelog`` inside the client's
transaction (that extra write is the overhead, paid by the leader). A separate
:class:`TriggerShipper` reads the committed changelog rows after a position, keeps
those that pass an optional row filter (an SQL expression over the row's columns),
sends them as JSON lines and purges them. :class:`TriggerFollower` applies them by
column name, with a custom conflict handler when a row was changed on the follower, as
Bucardo does: ``leader_wins``, ``follower_wins`` or ``latest(column)``, or any callable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw
import numpy as np

from replab.errors import ConfigError
from replab.replog._base import POLICIES, ApplyStats, LogRecord, SqlFollower
from replab.replog._node import (
    Node,
    columns,
    drop_triggers,
    primary_key,
    query,
    user_tables,
)
from replab.replog.workload import Txn
from replab.validate import check_choice

__all__ = [
    "Conflict",
    "ConflictHandler",
    "leader_wins",
    "follower_wins",
    "latest",
    "handler_for",
    "install_capture",
    "filter_applies",
    "keep_filtered",
    "TriggerShipper",
    "TriggerReplicator",
    "TriggerFollower",
]


@dataclass(frozen=True)
class Conflict:
    """A change that does not fit the follower's row: ``current`` is what is there."""

    table: str
    op: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    current: dict[str, Any] | None


ConflictHandler = Callable[[Conflict], dict[str, Any] | None]


def leader_wins(c: Conflict) -> dict[str, Any] | None:
    """The incoming change wins (a delete removes the row)."""
    return c.new


def follower_wins(c: Conflict) -> dict[str, Any] | None:
    """The follower's row stays as it is."""
    return c.current


def latest(column: str = "updated_at") -> ConflictHandler:
    """The row with the larger ``column`` wins; the leader wins ties and missing values."""

    def handle(c: Conflict) -> dict[str, Any] | None:
        mine = (c.current or {}).get(column)
        theirs = (c.new or {}).get(column)
        if mine is not None and theirs is not None and mine > theirs:
            return c.current
        return c.new

    return handle


def handler_for(policy: str) -> ConflictHandler:
    """The handler for a policy name (``'leader-wins'``, ``'follower-wins'``, ``'latest'``)."""
    check_choice(policy, "policy", "handler_for", POLICIES)
    return {"leader-wins": leader_wins, "follower-wins": follower_wins}.get(policy) or latest()


def install_capture(conn: apsw.Connection, tables: tuple[str, ...] = ()) -> list[str]:
    """Create ``_changelog`` and capture triggers on ``tables`` (all user tables if empty)."""
    chosen = list(tables) or user_tables(conn)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _changelog (id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "tbl TEXT NOT NULL, op TEXT NOT NULL, old TEXT, new TEXT)"
    )
    for t in chosen:
        cols = columns(conn, t)

        def image(alias: str, cols: list[str] = cols) -> str:
            return "json_object(" + ", ".join(f"'{c}', {alias}.\"{c}\"" for c in cols) + ")"

        for op, when, old, new in (("I", "INSERT", "NULL", image("NEW")),
                                   ("U", "UPDATE", image("OLD"), image("NEW")),
                                   ("D", "DELETE", image("OLD"), "NULL")):
            conn.execute(
                f'CREATE TRIGGER "_capture_{t}_{op}" AFTER {when} ON "{t}" BEGIN '
                f"INSERT INTO _changelog (tbl, op, old, new) VALUES ('{t}', '{op}', {old}, "
                f"{new}); END"
            )
    return chosen


def filter_applies(conn: apsw.Connection, table: str, row_filter: str) -> bool:
    """True when ``row_filter`` is an expression over ``table``'s columns."""
    try:
        conn.execute(f'SELECT 1 FROM "{table}" WHERE ({row_filter}) LIMIT 0').fetchall()
    except apsw.SQLError:
        return False
    return bool(row_filter)


def keep_filtered(conn: apsw.Connection, tables: list[str], row_filter: str) -> int:
    """Delete the rows a filtered follower must not hold; return how many went."""
    gone = 0
    with conn:
        for t in tables:
            if filter_applies(conn, t, row_filter):
                conn.execute(f'DELETE FROM "{t}" WHERE NOT coalesce(({row_filter}), 0)')
                gone += conn.changes()
    return gone


class TriggerShipper:
    """Reads committed changelog rows after ``position``, filters, ships and purges them."""

    def __init__(self, conn: apsw.Connection, row_filter: str = "") -> None:
        self.conn = conn
        self.position = 0
        self.row_filter = row_filter
        self._filters: dict[str, str | None] = {}

    def _filter_sql(self, table: str) -> str | None:
        """``SELECT (filter) FROM (row as columns)`` for tables the filter applies to."""
        if table not in self._filters:
            sql = None
            if filter_applies(self.conn, table, self.row_filter):
                as_cols = ", ".join(f"json_extract(:row, '$.\"{c}\"') AS \"{c}\""
                                    for c in columns(self.conn, table))
                sql = f"SELECT coalesce(({self.row_filter}), 0) FROM (SELECT {as_cols})"
            self._filters[table] = sql
        return self._filters[table]

    def _keep(self, table: str, row: str | None) -> bool:
        sql = self._filter_sql(table)
        if sql is None:
            return True
        if row is None:
            return False
        return bool(query(self.conn, sql, {"row": row})[0][0])

    def _line(self, tbl: str, op: str, old: str | None, new: str | None) -> str | None:
        keep_old, keep_new = self._keep(tbl, old), self._keep(tbl, new)
        if op == "U" and keep_old and not keep_new:
            op, new = "D", None  # the row left the replicated subset
        elif op == "U" and keep_new and not keep_old:
            op = "I"  # the row entered it (an upsert on the follower)
        elif not (keep_new if op != "D" else keep_old):
            return None
        return json.dumps({"t": tbl, "op": op, "old": old and json.loads(old),
                           "new": new and json.loads(new)}, separators=(",", ":"))

    def ship(self) -> str:
        """JSON lines for every change committed since the last call."""
        rows = query(
            self.conn,
            "SELECT id, tbl, op, old, new FROM _changelog WHERE id > ? ORDER BY id",
            (self.position,),
        )
        lines = [line for _, *r in rows if (line := self._line(*r)) is not None]
        if rows:
            self.position = rows[-1][0]
            with self.conn:
                self.conn.execute("DELETE FROM _changelog WHERE id <= ?", (self.position,))
        return "".join(line + "\n" for line in lines)


class TriggerReplicator:
    """Capture triggers on the leader plus a shipper run after every commit."""

    kind = "trigger"
    order_sensitive = False

    def __init__(self, *, tables: tuple[str, ...] = (), row_filter: str = "") -> None:
        self.tables = tables
        self.row_filter = row_filter
        self.shipper: TriggerShipper | None = None

    def prepare(self, leader: Node) -> None:
        with leader.conn:
            install_capture(leader.conn, self.tables)
        self.shipper = TriggerShipper(leader.conn, self.row_filter)
        chosen = list(self.tables) or user_tables(leader.conn)
        if self.row_filter and not any(
            filter_applies(leader.conn, t, self.row_filter) for t in chosen
        ):
            raise ConfigError(
                "The 'row_filter' parameter of ReplogConfig must be an SQL expression over "
                f"the columns of a replicated table. Got {self.row_filter!r} instead."
            )

    def commit(self, leader: Node, txn: Txn, lsn: int) -> LogRecord:
        assert self.shipper is not None, "prepare() first"
        with leader.conn:
            for sql in txn.statements:
                leader.execute(sql)
        payload = self.shipper.ship()
        return LogRecord(lsn, txn.round, txn.client, payload, len(payload.encode()),
                         len(txn.statements))

    def follower(
        self, path: Path, *, name: str, rng: np.random.Generator, policy: str = "leader-wins"
    ) -> TriggerFollower:
        return TriggerFollower(Node(path, name=name, rng=rng), handler=handler_for(policy))


class TriggerFollower(SqlFollower):
    """Applies changelog lines by column name; conflicts go to ``handler``."""

    def __init__(self, node: Node, *, handler: ConflictHandler = leader_wins) -> None:
        super().__init__(node)
        self.handler = handler
        drop_triggers(node.conn)
        node.execute("DROP TABLE IF EXISTS _changelog")

    def _current(self, table: str, where: dict[str, Any]) -> dict[str, Any] | None:
        cond = " AND ".join(f'"{k}" IS ?' for k in where)
        cur = self.node.conn.execute(f'SELECT * FROM "{table}" WHERE {cond}', tuple(where.values()))
        row = cur.fetchone()
        return None if row is None else dict(zip([d[0] for d in cur.description], row,
                                                  strict=True))

    def _write(self, table: str, key: dict[str, Any], row: dict[str, Any] | None) -> None:
        cond = " AND ".join(f'"{k}" IS ?' for k in key)
        self.node.execute(f'DELETE FROM "{table}" WHERE {cond}', tuple(key.values()))
        if row is not None:
            names = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("?" for _ in row)
            self.node.execute(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                              tuple(row.values()))

    def _apply_change(self, change: dict[str, Any], stats: ApplyStats) -> None:
        table, old, new = change["t"], change["old"], change["new"]
        pk = primary_key(self.node.conn, table)
        key = {k: (old or new)[k] for k in pk}
        current = self._current(table, key)
        expected = old if change["op"] != "I" else None
        mine = None if current is None else {k: current.get(k) for k in (old or new)}
        if mine != expected:
            stats.conflicts += 1
            new = self.handler(Conflict(table, change["op"], old, new, current))
            if new is current:
                return
        if new is not None and current is not None:
            new = {**current, **new}  # keep columns the leader does not have
        self._write(table, key, new)

    def apply(self, record: LogRecord) -> ApplyStats:
        stats = ApplyStats()
        with self.node.conn:
            for line in record.payload.splitlines():
                self._apply_change(json.loads(line), stats)
                stats.changes += 1
        return stats
