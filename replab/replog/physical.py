"""Physical replication: ship the page images the leader writes to its WAL.

The leader runs in WAL mode with automatic checkpoints off, so after each commit its
``-wal`` file ends with the frames (a 24-byte header plus one page image each) of that
transaction. :class:`WalShipper` cuts the new frames up to the last commit frame into a
segment; :class:`PhysicalFollower` writes each page image into its database file at
``(page - 1) * page_size`` and truncates the file to the size the commit frame names:
byte for byte, no SQL, no schema knowledge. That is why the follower's storage format
must equal the leader's: a follower with another page size, text encoding or schema
format cannot apply the segment (:class:`PhysicalFormatError`), so changing the storage
format (an upgrade) means downtime or a rebuild from a logical dump.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import apsw
import numpy as np
import pandas as pd

from replab.replog._base import ApplyError, ApplyStats, LogRecord
from replab.replog._node import Node, read_only, table_frame, user_tables
from replab.replog.workload import Txn

__all__ = [
    "StorageFormat",
    "storage_format",
    "PhysicalFormatError",
    "WalShipper",
    "PhysicalReplicator",
    "PhysicalFollower",
    "apply_segment",
]

_WAL_HEADER = 32
_FRAME_HEADER = 24
_FORMAT = struct.Struct(">IBBB")  # page size, reserved bytes, text encoding, schema format
_ENCODINGS = {1: "UTF-8", 2: "UTF-16le", 3: "UTF-16be"}


@dataclass(frozen=True)
class StorageFormat:
    """The parts of SQLite's file header that fix how a page image is laid out."""

    page_size: int
    reserved_bytes: int
    text_encoding: int
    schema_format: int

    def describe(self) -> str:
        enc = _ENCODINGS.get(self.text_encoding, str(self.text_encoding))
        return (f"page size {self.page_size}, {self.reserved_bytes} reserved bytes, "
                f"{enc}, schema format {self.schema_format}")

    def pack(self) -> bytes:
        return _FORMAT.pack(self.page_size, self.reserved_bytes, self.text_encoding,
                            self.schema_format)


def storage_format(header: bytes) -> StorageFormat:
    """Read the storage format from the first 100 bytes of a database file."""
    page_size = struct.unpack_from(">H", header, 16)[0]
    return StorageFormat(
        page_size=65536 if page_size == 1 else page_size,
        reserved_bytes=header[20],
        text_encoding=struct.unpack_from(">I", header, 56)[0],
        schema_format=struct.unpack_from(">I", header, 44)[0],
    )


class PhysicalFormatError(ApplyError):
    """A follower's storage format differs from the one the page images were cut for."""


class WalShipper:
    """Reads the frames appended to a WAL since the last call, up to the last commit."""

    def __init__(self, wal_path: Path) -> None:
        self.wal_path = wal_path
        self.offset = _WAL_HEADER
        self.salt = b""

    def ship(self) -> tuple[bytes, int]:
        """Return ``(WAL header + new committed frames, number of frames)``."""
        if not self.wal_path.exists():
            return b"", 0
        with open(self.wal_path, "rb") as f:
            header = f.read(_WAL_HEADER)
            if len(header) < _WAL_HEADER:
                return b"", 0
            if header[16:24] != self.salt:  # a new WAL generation restarts at frame one
                self.salt, self.offset = header[16:24], _WAL_HEADER
            f.seek(self.offset)
            data = f.read()
        page_size = struct.unpack_from(">I", header, 8)[0]
        frame, pos, end = _FRAME_HEADER + page_size, 0, 0
        while pos + frame <= len(data) and data[pos + 8 : pos + 16] == self.salt:
            pos += frame
            if struct.unpack_from(">I", data, pos - frame + 4)[0]:  # a commit frame
                end = pos
        self.offset += end
        return (header + data[:end], end // frame) if end else (b"", 0)


def apply_segment(path: Path, segment: bytes, expected: StorageFormat, name: str) -> int:
    """Write a segment's page images into the database file at ``path``; return pages."""
    if not segment:
        return 0
    with open(path, "r+b") as f:
        own = storage_format(f.read(100))
        if own != expected:
            raise PhysicalFormatError(
                f"{name} cannot apply the physical log: the page images were cut for "
                f"{expected.describe()}, but the follower's file has {own.describe()}. "
                "Page images only apply to an identical storage format; changing it "
                "needs downtime (rebuild the follower from a logical dump)."
            )
        page_size = struct.unpack_from(">I", segment, 8)[0]
        pages = 0
        for pos in range(_WAL_HEADER, len(segment), _FRAME_HEADER + page_size):
            pgno, commit_size = struct.unpack_from(">II", segment, pos)
            f.seek((pgno - 1) * page_size)
            f.write(segment[pos + _FRAME_HEADER : pos + _FRAME_HEADER + page_size])
            pages += 1
            if commit_size:
                f.truncate(commit_size * page_size)
    return pages


class PhysicalReplicator:
    """Ships WAL page images after every leader commit."""

    kind = "physical"
    order_sensitive = True  # page images only make sense applied in log order

    def __init__(self) -> None:
        self.shipper: WalShipper | None = None
        self.format: StorageFormat | None = None

    def prepare(self, leader: Node) -> None:
        """Checkpoint the leader so its file is the base and its WAL starts empty."""
        leader.conn.wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_TRUNCATE)
        self.format = storage_format(leader.path.read_bytes()[:100])
        self.shipper = WalShipper(Path(str(leader.path) + "-wal"))

    def commit(self, leader: Node, txn: Txn, lsn: int) -> LogRecord:
        """Run ``txn`` on the leader and cut the frames it wrote."""
        assert self.shipper is not None and self.format is not None, "prepare() first"
        with leader.conn:
            for sql in txn.statements:
                leader.execute(sql)
        segment, _ = self.shipper.ship()
        payload = self.format.pack() + segment if segment else b""
        n = len(txn.statements)
        return LogRecord(lsn, txn.round, txn.client, payload, len(payload), n)

    def follower(self, path: Path, *, name: str, rng: np.random.Generator) -> PhysicalFollower:
        return PhysicalFollower(path, name=name)


class PhysicalFollower:
    """A database file that only ever changes by having page images written into it."""

    def __init__(self, path: Path, *, name: str) -> None:
        self.path = Path(path)
        self.name = name
        self.clock_ms = 0.0

    def apply(self, record: LogRecord) -> ApplyStats:
        if not record.payload:
            return ApplyStats()
        expected = StorageFormat(*_FORMAT.unpack_from(record.payload))
        pages = apply_segment(self.path, record.payload[_FORMAT.size :], expected, self.name)
        return ApplyStats(changes=pages)

    def tables(self, names: list[str]) -> dict[str, pd.DataFrame]:
        conn = read_only(self.path)
        try:
            present = set(user_tables(conn))
            return {t: table_frame(conn, t) for t in names if t in present}
        finally:
            conn.close()

    def local_write(self, sql: str) -> None:
        raise ApplyError(f"{self.name} is a physical follower: it is read-only.")

    def close(self) -> None:
        """Nothing is held open between applies."""
