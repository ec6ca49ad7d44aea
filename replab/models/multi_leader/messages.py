"""The messages multi-leader nodes exchange (one NamedTuple each), and the write a leader
builds for a client; see :mod:`~replab.models.multi_leader.node` for the protocol."""

from __future__ import annotations

from typing import Any, NamedTuple

from replab.models.collab.conflicts import Write
from replab.sim import VersionVector

__all__ = [
    "Change", "Replicate", "Ack", "SyncRequest", "SyncState", "Confirm", "RepairRequest",
    "Repair", "Heartbeat", "FollowerUpdate", "SnapshotRequest", "Snapshot", "read_value",
    "ORCHESTRATOR",
]

ORCHESTRATOR = "orch"


class Change(NamedTuple):
    """One accepted write on its way through the topology."""

    write: Write  # id "<origin>:<seq>", value, timestamp (origin clock), replica, key
    seq: int  # the origin's sequence number, 1, 2, ...
    kind: str  # "insert" (no row at the origin) or "update"
    deps: VersionVector  # what the origin had applied when it accepted the write
    accepted_at: float  # true time of acceptance (for measurements only)
    path: tuple[str, ...]  # leaders passed, origin first


class Replicate(NamedTuple):
    epoch: int
    seq: int
    change: Change


class Ack(NamedTuple):
    epoch: int
    upto: int  # entries [0, upto) of the stream arrived


class SyncRequest(NamedTuple):
    epoch: int


class SyncState(NamedTuple):
    epoch: int
    seen: frozenset[str]


class Confirm(NamedTuple):
    write_id: str
    conflict: bool


class RepairRequest(NamedTuple):
    vv: dict[str, int]  # what the requester has applied, per origin, without a gap


class Repair(NamedTuple):
    changes: tuple[Change, ...]


class Heartbeat(NamedTuple):
    node: str


class FollowerUpdate(NamedTuple):
    key: str
    value: Any


class SnapshotRequest(NamedTuple):
    node: str


class Snapshot(NamedTuple):
    values: dict[str, Any]


def read_value(value: Any) -> Any:
    """What a read returns for a record value (siblings as a list)."""
    return list(value) if isinstance(value, tuple) else value


def _write(wid: str, value: Any, timestamp: float, replica: str, key: str,
           supersedes: frozenset[str]) -> Write:
    """A Write built without re-validating fields the leader made itself (the hot path)."""
    write = object.__new__(Write)
    for name, v in (("id", wid), ("value", value), ("timestamp", float(timestamp)),
                    ("replica", replica), ("key", key), ("supersedes", supersedes)):
        object.__setattr__(write, name, v)
    return write
