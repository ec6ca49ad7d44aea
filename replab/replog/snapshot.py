"""A new follower from a snapshot at a known log position, taken while writes continue.

:class:`Snapshot` opens a read transaction on the leader's file. In WAL mode that pins
one consistent version of the database: the one after log position ``lsn``, however
many transactions the leader commits meanwhile. SQLite's online backup API then copies
the pinned pages a few at a time (:meth:`Snapshot.step`), interleaved with the leader's
commits. The follower built from it applies the backlog (every record after ``lsn``)
and then keeps up. A follower with another page size cannot be a page copy; it gets a
logical copy (schema, rows, AUTOINCREMENT counters), as a dump and restore would.
"""

from __future__ import annotations

import os
from pathlib import Path

import apsw

from replab.replog._node import query

__all__ = ["Snapshot", "logical_copy"]


def logical_copy(src: apsw.Connection, dest: Path, *, page_size: int) -> None:
    """Copy schema and rows from ``src`` into a new database with ``page_size``."""
    dst = apsw.Connection(str(dest))
    try:
        dst.execute(f"PRAGMA page_size={int(page_size)}")
        dst.execute("PRAGMA journal_mode=WAL")
        objects = query(
            src,
            "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'trigger', rowid",
        )
        with dst:
            for kind, name, sql in objects:
                if kind == "trigger":  # after the rows, so copying does not fire them
                    continue
                dst.execute(sql)
                if kind == "table":
                    rows = query(src, f'SELECT * FROM "{name}"')
                    if rows:
                        marks = ", ".join("?" for _ in rows[0])
                        dst.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
            if query(src, "SELECT count(*) FROM sqlite_schema "
                     "WHERE name = 'sqlite_sequence'")[0][0]:
                dst.execute("DELETE FROM sqlite_sequence")  # explicit keys bumped it
                seq = query(src, "SELECT name, seq FROM sqlite_sequence")
                dst.executemany("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", seq)
            for kind, _, sql in objects:
                if kind == "trigger":
                    dst.execute(sql)
    finally:
        dst.close()


class Snapshot:
    """A copy of the leader as of log position ``lsn``, made in steps.

    Parameters
    ----------
    leader_path : Path
        The leader's database file (in WAL mode).
    dest : Path
        Where the copy goes (must not exist).
    lsn : int
        The leader's log position when the snapshot starts (the caller knows it).
    page_size : int or None
        The copy's page size; ``None`` or the leader's size means a page-for-page
        backup, anything else a logical copy.
    step_pages : int
        Pages copied per :meth:`step`.
    method : str
        ``'backup'``: SQLite's online backup API (it bumps the copy's change counter and
        schema cookie, as it must for other readers of the copy); ``'pages'``: the
        pinned pages written as they are, byte for byte (a base backup for a physical
        follower, whose file must be the leader's image).
    """

    def __init__(
        self, leader_path: Path, dest: Path, *, lsn: int, page_size: int | None = None,
        step_pages: int = 1, method: str = "backup",
    ) -> None:
        self.dest, self.lsn, self.step_pages = Path(dest), lsn, step_pages
        self.steps = 0
        self.finished = False
        self._reader = apsw.Connection(str(leader_path))
        self._reader.execute("BEGIN")
        query(self._reader, "SELECT count(*) FROM sqlite_schema")  # pins this version
        own = int(query(self._reader, "PRAGMA page_size")[0][0])
        self._dest_conn: apsw.Connection | None = None
        self._backup: apsw.Backup | None = None
        self._image: bytes = b""
        self._written, self._page = 0, own
        if page_size is not None and page_size != own:
            logical_copy(self._reader, self.dest, page_size=page_size)
            return
        if os.path.exists(self.dest):
            raise FileExistsError(self.dest)
        if method == "pages":
            self._image = self._reader.serialize("main") or b""
            self.dest.write_bytes(b"")
        else:
            self._dest_conn = apsw.Connection(str(self.dest))
            self._backup = self._dest_conn.backup("main", self._reader, "main")

    @property
    def done(self) -> bool:
        if self._backup is not None:
            return bool(self._backup.done)
        return self._written >= len(self._image)

    def step(self) -> bool:
        """Copy the next few pages; return True when the copy is complete."""
        if self.done:
            return True
        self.steps += 1
        if self._backup is not None:
            self._backup.step(self.step_pages)
        else:
            end = self._written + self.step_pages * self._page
            with open(self.dest, "r+b") as f:
                f.seek(self._written)
                f.write(self._image[self._written : end])
            self._written = min(end, len(self._image))
        return self.done

    def finish(self) -> Path:
        """Copy what is left, release the leader and return the copy's path."""
        if self.finished:
            return self.dest
        self.finished = True
        while not self.step():
            pass
        if self._backup is not None and self._dest_conn is not None:
            self._backup.finish()
            self._dest_conn.close()
        self._reader.execute("COMMIT")
        self._reader.close()
        return self.dest
