"""Statement-based replication: ship the SQL text, replay it on every follower.

``StatementReplicator(fixed=False)`` logs each statement as the client sent it, so every
follower re-evaluates ``random()``, the current time, AUTOINCREMENT, triggers and user
functions itself. ``fixed=True`` is the usual mitigation (MySQL's statement log carries
the timestamp and random seed): before executing, the leader substitutes literal values
for the nondeterministic calls visible in the statement text, and logs the rewritten
statement. It still misses what is not in the text: calls inside trigger bodies, user
functions with side effects (``ticket()``) and keys assigned in apply order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import apsw
import numpy as np

from replab.replog._base import ApplyError, ApplyStats, LogRecord, SqlFollower
from replab.replog._node import Node
from replab.replog.workload import Txn

__all__ = ["rewrite_nondeterministic", "StatementReplicator", "StatementFollower"]

_TOKEN = re.compile(
    r"""(?P<str>'(?:[^']|'')*')
    |(?P<ident>"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\])
    |(?P<comment>--[^\n]*|/\*.*?\*/)
    |(?P<call>\brandom\s*\(\s*\))
    |(?P<word>[A-Za-z_][A-Za-z_0-9$]*)
    |(?P<other>.)""",
    re.X | re.S | re.I,
)
_TIME_KEYWORDS = {
    "CURRENT_TIMESTAMP": "%Y-%m-%d %H:%M:%S",
    "CURRENT_DATE": "%Y-%m-%d",
    "CURRENT_TIME": "%H:%M:%S",
}


def _time_text(now_ms: int, fmt: str, *, millis: bool = False) -> str:
    text = datetime.fromtimestamp(now_ms // 1000, tz=UTC).strftime(fmt)
    return f"{text}.{now_ms % 1000:03d}" if millis else text


def rewrite_nondeterministic(
    sql: str, *, draw: Callable[[], int], now_ms: int
) -> tuple[str, int]:
    """Replace ``random()``, ``'now'`` and ``CURRENT_*`` in ``sql`` by literal values.

    Parameters
    ----------
    sql : str
        One or more SQL statements.
    draw : callable
        Returns the integer a ``random()`` call stands for (the leader's own draw).
    now_ms : int
        The leader's clock, ms since the Unix epoch.

    Returns
    -------
    (str, int)
        The rewritten text and the number of substitutions made. String literals,
        quoted identifiers and comments are left alone.

    Examples
    --------
    >>> rewrite_nondeterministic("SELECT random(), 'random()', datetime('now')",
    ...                          draw=lambda: 7, now_ms=1_704_067_200_123)
    ("SELECT 7, 'random()', datetime('2024-01-01 00:00:00.123')", 2)
    """
    out: list[str] = []
    count = 0
    for m in _TOKEN.finditer(sql):
        text, kind = m.group(), m.lastgroup
        if kind == "call":
            text, count = str(draw()), count + 1
        elif kind == "str" and text.lower() == "'now'":
            stamp = _time_text(now_ms, "%Y-%m-%d %H:%M:%S", millis=True)
            text, count = f"'{stamp}'", count + 1
        elif kind == "word" and text.upper() in _TIME_KEYWORDS:
            text, count = f"'{_time_text(now_ms, _TIME_KEYWORDS[text.upper()])}'", count + 1
        out.append(text)
    return "".join(out), count


class StatementReplicator:
    """Logs SQL text; with ``fixed=True`` the leader first pins nondeterministic calls."""

    order_sensitive = False  # replaying overlapping transactions in another order is allowed

    def __init__(self, *, fixed: bool = False) -> None:
        self.fixed = fixed
        self.kind = "statement-fixed" if fixed else "statement"
        self.substitutions = 0

    def prepare(self, leader: Node) -> None:
        """Nothing to install: the log is the statements themselves."""

    def commit(self, leader: Node, txn: Txn, lsn: int) -> LogRecord:
        """Run ``txn`` on the leader and return the statements as logged."""
        logged = []
        for sql in txn.statements:
            if self.fixed:
                sql, n = rewrite_nondeterministic(
                    sql, draw=leader.random_int, now_ms=int(leader.clock_ms)
                )
                self.substitutions += n
            logged.append(sql)
        with leader.conn:
            for sql in logged:
                leader.execute(sql)
        nbytes = sum(len(s.encode()) for s in logged)
        return LogRecord(lsn, txn.round, txn.client, tuple(logged), nbytes, len(logged))

    def follower(self, path: Path, *, name: str, rng: np.random.Generator) -> StatementFollower:
        """A follower replaying statements on the snapshot at ``path`` (triggers kept)."""
        return StatementFollower(Node(path, name=name, rng=rng))


class StatementFollower(SqlFollower):
    """Replays each transaction's statements; a failing transaction is rolled back."""

    def apply(self, record: LogRecord) -> ApplyStats:
        try:
            with self.node.conn:
                for sql in record.payload:
                    self.node.execute(sql)
        except apsw.Error as e:
            raise ApplyError(
                f"{self.name} could not replay transaction {record.lsn}: {e}"
            ) from e
        return ApplyStats(changes=len(record.payload))
