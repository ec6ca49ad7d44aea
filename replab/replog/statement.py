"""Statement-based replication: ship the SQL text, replay it on every follower.

``StatementReplicator(fixed=False)`` logs each statement as the client sent it, so every
follower re-evaluates ``random()``, the current time, AUTOINCREMENT, triggers and user
functions itself. ``fixed=True`` is the usual mitigation (MySQL's statement log carries
the timestamp and random seed): before executing, the leader substitutes literal values
for every nondeterministic SQLite call visible in the statement text (``random()``,
``randomblob(N)``, ``'now'``, date and time functions without a time value,
``CURRENT_*``), and logs the rewritten statement. It still misses what is not in the
text: calls inside trigger bodies, user functions with side effects (``ticket()``) and
keys assigned in apply order.
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
    |(?P<word>[A-Za-z_][A-Za-z_0-9$]*)
    |(?P<number>\d+)
    |(?P<other>.)""",
    re.X | re.S | re.I,
)
_TIME_KEYWORDS = {
    "CURRENT_TIMESTAMP": "%Y-%m-%d %H:%M:%S",
    "CURRENT_DATE": "%Y-%m-%d",
    "CURRENT_TIME": "%H:%M:%S",
}
# Date and time functions that read the clock when called without a time value
# (strftime after its format argument).
_TIME_FUNCTIONS = {"date", "time", "datetime", "julianday", "unixepoch", "strftime"}
_NOW_LITERALS = {"'now'", '"now"'}  # SQLite also takes a double-quoted string literal


def _time_text(now_ms: int, fmt: str, *, millis: bool = False) -> str:
    text = datetime.fromtimestamp(now_ms // 1000, tz=UTC).strftime(fmt)
    return f"{text}.{now_ms % 1000:03d}" if millis else text


def _blob_from(draw: Callable[[], int], nbytes: int) -> str:
    """A blob literal of ``nbytes`` bytes made of the leader's ``draw()`` integers."""
    raw = b"".join((draw() % 2**64).to_bytes(8, "little") for _ in range(-(-nbytes // 8)))
    return f"X'{raw[:nbytes].hex().upper()}'"


def _call_args(tokens: list[tuple[str, str]], i: int) -> tuple[int, int, list[int]] | None:
    """For a function name at ``i``: (open paren, close paren, top-level commas) or None."""
    j = i + 1
    while j < len(tokens) and tokens[j][1].isspace():
        j += 1
    if j == len(tokens) or tokens[j][1] != "(":
        return None
    depth, commas = 0, list[int]()
    for k in range(j, len(tokens)):
        text = tokens[k][1] if tokens[k][0] == "other" else ""
        depth += (text == "(") - (text == ")")
        if depth == 0:
            return j, k, commas
        if depth == 1 and text == ",":
            commas.append(k)
    return None


def _is_blank(tokens: list[tuple[str, str]], lo: int, hi: int) -> bool:
    return all(tokens[k][1].isspace() for k in range(lo, hi))


def _pin_calls(tokens: list[tuple[str, str]], stamp: str,
               draw: Callable[[], int]) -> tuple[dict[int, str], dict[int, int]]:
    """Edits for calls: text inserted before a token, calls replaced by a literal."""
    insert: dict[int, str] = {}
    replace: dict[int, int] = {}  # first token -> last token of a call replaced whole
    for i, (kind, text) in enumerate(tokens):
        name = text.lower() if kind == "word" else ""
        if name not in _TIME_FUNCTIONS and name not in ("random", "randomblob"):
            continue
        call = _call_args(tokens, i)
        if call is None:
            continue
        lo, hi, commas = call
        if name == "random" and _is_blank(tokens, lo + 1, hi):
            replace[i] = hi
            insert[i] = str(draw())
        elif name == "randomblob":
            args = [t for t in tokens[lo + 1:hi] if not t[1].isspace()]
            if len(args) == 1 and args[0][0] == "number":
                replace[i] = hi
                insert[i] = _blob_from(draw, max(int(args[0][1]), 1))
        elif name == "strftime" and not commas and not _is_blank(tokens, lo + 1, hi):
            insert[hi] = f", '{stamp}'"
        elif name in _TIME_FUNCTIONS and name != "strftime" and _is_blank(tokens, lo + 1, hi):
            insert[hi] = f"'{stamp}'"
    return insert, replace


def rewrite_nondeterministic(
    sql: str, *, draw: Callable[[], int], now_ms: int
) -> tuple[str, int]:
    """Replace every nondeterministic SQLite call in ``sql`` by literal values.

    Pinned: ``random()``; ``randomblob(N)`` for a literal ``N`` (by a blob literal);
    the time value ``'now'`` (or ``"now"``) wherever it appears; date and time
    functions called without a time value (``datetime()``, ``date()``, ``time()``,
    ``julianday()``, ``unixepoch()``, ``strftime(fmt)``), which read the clock; and
    ``CURRENT_TIMESTAMP``, ``CURRENT_DATE``, ``CURRENT_TIME``.

    Parameters
    ----------
    sql : str
        One or more SQL statements.
    draw : callable
        Returns the integer a ``random()`` call stands for (the leader's own draw);
        ``randomblob(N)`` takes its bytes from successive draws.
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
    >>> rewrite_nondeterministic("SELECT unixepoch(), randomblob(2)",
    ...                          draw=lambda: 255, now_ms=1_704_067_200_000)
    ("SELECT unixepoch('2024-01-01 00:00:00.000'), X'FF00'", 2)
    """
    tokens = [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(sql)]
    stamp = _time_text(now_ms, "%Y-%m-%d %H:%M:%S", millis=True)
    insert, replace = _pin_calls(tokens, stamp, draw)
    out: list[str] = []
    count = len(insert)
    skip_to = -1
    for i, (kind, text) in enumerate(tokens):
        if i <= skip_to:
            continue
        if i in replace:
            out.append(insert[i])
            skip_to = replace[i]
            continue
        out.append(insert.get(i, ""))
        if kind in ("str", "ident") and text.lower() in _NOW_LITERALS:
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
