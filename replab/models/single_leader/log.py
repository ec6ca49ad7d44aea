"""The replicated log of the single-leader model, and the messages its nodes exchange.

A log is a sequence of :class:`Entry` numbered by ``lsn`` (1, 2, ...), possibly starting
after a snapshot taken at ``base``. Epochs never decrease along a log, so a log is
summarised by its *epoch runs* ``[(epoch, first_lsn), ...]``; comparing runs finds where
two logs diverge (Kafka's leader-epoch truncation, Raft's log matching).
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["Entry", "ReplicatedLog", "VERSION_EPOCH", "version_of", "lsn_of", "epoch_of"]

#: A write's ``version`` is ``epoch * VERSION_EPOCH + lsn``: epochs order first.
VERSION_EPOCH = 10**9


def version_of(epoch: int, lsn: int) -> int:
    return epoch * VERSION_EPOCH + lsn


def lsn_of(version: int) -> int:
    """The log position (also the auto-increment id) encoded in a version."""
    return version % VERSION_EPOCH


def epoch_of(version: int) -> int:
    return version // VERSION_EPOCH


class Entry(NamedTuple):
    epoch: int
    lsn: int
    key: str
    value: Any
    time: float  # when the leader appended it (true time)


class ReplicatedLog:
    """A node's durable log (plus the snapshot it may start from)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.base = 0  # lsn covered by the snapshot
        self.base_epoch = 0
        self.snapshot: dict[str, tuple[Any, int]] = {}
        # The epoch runs of the history the snapshot summarises: which epoch wrote each
        # lsn <= base, so a write below the base can still be checked against it.
        self.base_runs: list[tuple[int, int]] = []

    @property
    def end(self) -> int:
        """The last lsn held (``base`` when empty)."""
        return self.base + len(self.entries)

    @property
    def last_epoch(self) -> int:
        return self.entries[-1].epoch if self.entries else self.base_epoch

    def position(self) -> tuple[int, int]:
        """(last epoch, last lsn): the 'most up-to-date' order of failover."""
        return (self.last_epoch, self.end)

    def entry(self, lsn: int) -> Entry:
        return self.entries[lsn - self.base - 1]

    def slice(self, first: int, last: int) -> tuple[Entry, ...]:
        """Entries ``first..last`` (inclusive), clipped to what is held."""
        lo = max(first, self.base + 1) - self.base - 1
        return tuple(self.entries[lo:max(lo, last - self.base)])

    def append(self, entry: Entry) -> None:
        self.entries.append(entry)

    def truncate(self, keep_until: int) -> list[Entry]:
        """Drop every entry after ``keep_until``; return the dropped ones."""
        cut = max(keep_until, self.base) - self.base
        dropped = self.entries[cut:]
        del self.entries[cut:]
        return dropped

    def install_snapshot(self, base: int, base_epoch: int,
                         data: dict[str, tuple[Any, int]],
                         runs: tuple[tuple[int, int], ...] = ()) -> None:
        """Start from a snapshot at ``base``; ``runs`` are its history's epoch runs."""
        self.entries = []
        self.base, self.base_epoch, self.snapshot = base, base_epoch, dict(data)
        self.base_runs = [(e, s) for e, s in runs if s <= base]

    def lineage(self) -> list[tuple[int, int]]:
        """Epoch runs of the whole history: the snapshot's, then the held entries'."""
        out = list(self.base_runs)
        for e in self.entries:
            if not out or out[-1][0] != e.epoch:
                out.append((e.epoch, e.lsn))
        return out

    def holds(self, epoch: int, lsn: int) -> bool:
        """True if the write ``(epoch, lsn)`` is part of this log's history (log matching:
        the same epoch at the same lsn is the same entry)."""
        if lsn > self.base:
            return lsn <= self.end and self.entry(lsn).epoch == epoch
        return _epoch_at(self.base_runs, lsn) == epoch

    def runs(self) -> list[tuple[int, int]]:
        """``[(epoch, first lsn), ...]`` for the held entries (the base run first)."""
        out = [(self.base_epoch, self.base)] if self.base else []
        for e in self.entries:
            if not out or out[-1][0] != e.epoch:
                out.append((e.epoch, e.lsn))
        return out

    def divergence(self, leader_runs: list[tuple[int, int]], leader_end: int) -> int:
        """The last lsn this log shares with a leader's log given by its runs and end."""
        mine = self.runs()
        points = sorted({s for _, s in mine} | {s for _, s in leader_runs} | {self.base + 1})
        limit = min(self.end, leader_end)
        for p in points:
            if p > limit:
                break
            if p > self.base and _epoch_at(mine, p) != _epoch_at(leader_runs, p):
                return p - 1
        return limit

    def state(self) -> dict[str, tuple[Any, int]]:
        """Key -> (value, version) after applying the whole log to the snapshot."""
        data = dict(self.snapshot)
        for e in self.entries:
            data[e.key] = (e.value, version_of(e.epoch, e.lsn))
        return data

    def state_at(self, lsn: int) -> dict[str, tuple[Any, int]]:
        """The state after applying entries up to ``lsn`` only."""
        data = dict(self.snapshot)
        for e in self.entries[: max(0, lsn - self.base)]:
            data[e.key] = (e.value, version_of(e.epoch, e.lsn))
        return data


def _epoch_at(runs: list[tuple[int, int]], lsn: int) -> int | None:
    found = None
    for epoch, start in runs:
        if start > lsn:
            break
        found = epoch
    return found


# ----------------------------------------------------------------------------- messages
class Append(NamedTuple):
    """Leader -> follower: entries after ``prev`` (an empty batch is a probe)."""

    epoch: int
    leader: int
    prev: int
    entries: tuple[Entry, ...]


class AppendAck(NamedTuple):
    """Follower -> leader: my log ends at ``match`` (``ok`` False: resend from there)."""

    epoch: int
    match: int
    ok: bool


class Heartbeat(NamedTuple):
    """Leader -> everyone (and the controller): I lead ``epoch``; my log ends at ``end``."""

    epoch: int
    leader: int
    end: int
    sent_local: float  # the leader's clock when sent (lease start)
    sync_set: tuple[int, ...]


class HeartbeatAck(NamedTuple):
    """Controller -> leader: lease granted from ``sent_local`` (if still the leader)."""

    epoch: int
    leader: int
    sent_local: float


class Topology(NamedTuple):
    """Controller -> replicas: the current leader and epoch."""

    epoch: int
    leader: int
    members: tuple[int, ...]


class Query(NamedTuple):
    """Controller -> followers: report your position for the election of ``epoch``."""

    epoch: int


class Status(NamedTuple):
    epoch: int
    position: tuple[int, int]


class Hello(NamedTuple):
    """A restarted or joining replica asks the controller who leads."""


class EpochQuery(NamedTuple):
    """New follower -> leader: send me your epoch runs so I can truncate."""

    epoch: int


class EpochRuns(NamedTuple):
    epoch: int
    runs: tuple[tuple[int, int], ...]
    end: int


class SnapshotRequest(NamedTuple):
    """A new replica asks the leader for a consistent snapshot."""


class Snapshot(NamedTuple):
    epoch: int
    base: int
    base_epoch: int
    data: dict
    runs: tuple = ()  # the epoch runs of the history up to base


class Shoot(NamedTuple):
    """STONITH: power the receiver off."""

    epoch: int
