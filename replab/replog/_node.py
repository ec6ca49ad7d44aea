"""SQLite nodes with their own clock and their own sources of nondeterminism.

Every node is a real SQLite database opened through apsw. What would make two machines
disagree is made explicit and seeded, so a run is reproducible:

* the current time (``'now'``, ``CURRENT_TIMESTAMP``) comes from the node's simulated
  clock, through a VFS whose ``xCurrentTimeInt64`` reads it;
* ``random()`` and ``randomblob(N)`` draw from the node's own generator (application
  functions override the built-in ones, which would otherwise read the operating
  system's entropy);
* ``ticket()`` is a user function with a side effect outside the database (a per-node
  counter starting at a node-specific offset), like a sequence service or a UUID maker.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, cast

import apsw
import numpy as np
import pandas as pd

__all__ = [
    "EPOCH_MS",
    "Node",
    "user_tables",
    "table_frame",
    "primary_key",
    "read_only",
    "drop_triggers",
    "query",
]

EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z, the start of every simulated clock
_JULIAN_UNIX_MS = 210_866_760_000_000  # the Julian day number of 1970-01-01 in ms
_names = itertools.count()
INTERNAL_TABLES = ("_changelog",)


class _ClockVFS(apsw.VFS):
    """The default VFS, except that the current time is the owning node's clock."""

    def __init__(self, name: str, node: Node) -> None:
        self.node = node
        super().__init__(name, base="")

    def xCurrentTimeInt64(self) -> int:  # noqa: N802 (SQLite's name)
        return _JULIAN_UNIX_MS + int(self.node.clock_ms)


class Node:
    """One SQLite database with a simulated clock, seeded ``random()`` and ``ticket()``.

    Parameters
    ----------
    path : path-like
        The database file (created if missing).
    name : str
        Shown in reports.
    rng : numpy.random.Generator
        The node's own entropy: ``random()`` and the ``ticket()`` offset draw from it.
    page_size : int or None
        Set before the first table is created (ignored for an existing file).
    wal : bool
        Put the database in WAL mode with automatic checkpoints off, so the WAL holds
        every page image written since the last explicit checkpoint.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        name: str,
        rng: np.random.Generator,
        page_size: int | None = None,
        wal: bool = True,
    ) -> None:
        self.path = Path(path)
        self.name = name
        self.rng = rng
        self.clock_ms = float(EPOCH_MS)
        self._vfs_name = f"replab-{os.getpid()}-{next(_names)}"
        self._vfs = _ClockVFS(self._vfs_name, self)
        self.conn = apsw.Connection(str(self.path), vfs=self._vfs_name)
        if page_size is not None:
            self.conn.execute(f"PRAGMA page_size={int(page_size)}")
        self.conn.execute("PRAGMA synchronous=OFF")  # a simulation: no fsync per commit
        if wal:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA wal_autocheckpoint=0")
        self._ticket = itertools.count(int(rng.integers(1, 1000)) * 1000)
        self.conn.create_scalar_function("random", self.random_int, 0, deterministic=False)
        self.conn.create_scalar_function("randomblob", self.random_blob, 1,
                                         deterministic=False)
        self.conn.create_scalar_function("ticket", self._next_ticket, 0, deterministic=False)

    def random_int(self, *_: Any) -> int:
        """What this node's ``random()`` returns next (a signed 64-bit integer)."""
        return int(self.rng.integers(-(2**63), 2**63 - 1, dtype=np.int64))

    def random_blob(self, *args: Any) -> Any:
        """What this node's ``randomblob(N)`` returns (N < 1 gives one byte, as SQLite)."""
        size = args[0] if args else 1
        n = max(int(size), 1) if isinstance(size, int | float) else 1
        return self.rng.bytes(n)

    def _next_ticket(self, *_: Any) -> int:
        return next(self._ticket)

    def execute(self, sql: str, bindings: Any = None) -> list[tuple[Any, ...]]:
        """Run ``sql`` (one or more statements); return the rows of the last one."""
        return query(self.conn, sql, bindings)

    def close(self) -> None:
        """Close the connection and unregister the node's VFS."""
        self.conn.close()
        self._vfs.unregister()


def query(conn: apsw.Connection, sql: str, bindings: Any = None) -> list[tuple[Any, ...]]:
    """All rows of ``sql`` (values typed as Any: SQLite columns are dynamically typed)."""
    return cast(list[tuple[Any, ...]], conn.execute(sql, bindings).fetchall())


def read_only(path: str | os.PathLike[str]) -> apsw.Connection:
    """Open a database file that nothing else writes through SQLite (``immutable=1``)."""
    flags = apsw.SQLITE_OPEN_URI | apsw.SQLITE_OPEN_READONLY
    return apsw.Connection(f"file:{Path(path)}?immutable=1", flags=flags)


def user_tables(conn: apsw.Connection) -> list[str]:
    """Application tables, sorted: no ``sqlite_*`` tables, no replication bookkeeping."""
    rows = query(
        conn,
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name",
    )
    return [r[0] for r in rows if r[0] not in INTERNAL_TABLES]


def primary_key(conn: apsw.Connection, table: str) -> list[str]:
    """The primary-key columns of ``table`` in key order (``rowid`` when there are none)."""
    info = query(conn, f'PRAGMA table_info("{table}")')
    pk = sorted((r[5], r[1]) for r in info if r[5] > 0)
    return [name for _, name in pk] or ["rowid"]


def columns(conn: apsw.Connection, table: str) -> list[str]:
    """The columns of ``table`` in declaration order."""
    return [r[1] for r in query(conn, f'PRAGMA table_info("{table}")')]


def table_frame(
    conn: apsw.Connection, table: str, where: str | None = None
) -> pd.DataFrame:
    """All rows of ``table`` (optionally filtered) as a DataFrame indexed by primary key."""
    cols = columns(conn, table)
    key = primary_key(conn, table)
    select = ", ".join(f'"{c}"' for c in (cols if key != ["rowid"] else ["rowid", *cols]))
    sql = f'SELECT {select} FROM "{table}"' + (f" WHERE {where}" if where else "")
    rows = query(conn, sql)
    names = cols if key != ["rowid"] else ["rowid", *cols]
    frame = pd.DataFrame(rows, columns=names, dtype=object)
    return frame.set_index(key).sort_index()


def drop_triggers(conn: apsw.Connection) -> int:
    """Drop every trigger (a replica applying row images must not re-run them)."""
    names = [r[0] for r in query(conn, "SELECT name FROM sqlite_schema WHERE type='trigger'")]
    for name in names:
        conn.execute(f'DROP TRIGGER "{name}"')
    return len(names)
