"""What every replication-log kind shares: log records, apply counters, followers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from replab.errors import ReplabError
from replab.replog._node import Node, table_frame, user_tables

__all__ = ["LogRecord", "ApplyStats", "ApplyError", "Follower", "SqlFollower", "POLICIES"]

POLICIES = ("leader-wins", "follower-wins", "latest")


@dataclass(frozen=True)
class LogRecord:
    """One committed leader transaction as it travels to the followers.

    Attributes
    ----------
    lsn : int
        Log sequence number: the transaction's place in the leader's commit order (1, 2, ...).
    round, client : int
        Which round of overlapping transactions it belongs to and which client sent it.
    payload : object
        What is shipped (SQL text, page images, a changeset, changelog lines).
    nbytes : int
        Size of the payload on the wire (bytes; framing not counted).
    writes : int
        Client write statements the transaction contained.
    """

    lsn: int
    round: int
    client: int
    payload: Any
    nbytes: int
    writes: int


@dataclass
class ApplyStats:
    """What applying records to one follower did."""

    changes: int = 0
    conflicts: int = 0

    def __iadd__(self, other: ApplyStats) -> ApplyStats:
        self.changes += other.changes
        self.conflicts += other.conflicts
        return self


class ApplyError(ReplabError):
    """A follower refused a log record (it stays where it was)."""


class Follower(Protocol):
    name: str
    clock_ms: float

    def apply(self, record: LogRecord) -> ApplyStats: ...

    def tables(self, names: list[str]) -> dict[str, pd.DataFrame]: ...

    def local_write(self, sql: str) -> None: ...

    def close(self) -> None: ...


class SqlFollower:
    """A follower that is itself a SQLite node; subclasses define ``apply``."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.name = node.name

    @property
    def clock_ms(self) -> float:
        return self.node.clock_ms

    @clock_ms.setter
    def clock_ms(self, value: float) -> None:
        self.node.clock_ms = value

    def apply(self, record: LogRecord) -> ApplyStats:  # pragma: no cover - abstract
        raise NotImplementedError

    def tables(self, names: list[str]) -> dict[str, pd.DataFrame]:
        present = set(user_tables(self.node.conn))
        return {t: table_frame(self.node.conn, t) for t in names if t in present}

    def local_write(self, sql: str) -> None:
        with self.node.conn:
            self.node.execute(sql)

    def close(self) -> None:
        self.node.close()
