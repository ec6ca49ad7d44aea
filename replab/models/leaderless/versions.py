"""Versions of a value and the two ways replicas reconcile them.

A :class:`Version` is one write: its unique ``write_id``, the value, the coordinator's
physical timestamp ``ts`` and, with version vectors, ``vv`` and the write's *dot*
``(actor, counter)``: the client ``actor``'s ``counter``-th write. A replica stores per key
a tuple of versions:

* ``lww`` -- at most one: the one with the largest ``(ts, write_id)`` wins, whatever
  happened in real time (Cassandra's last write wins).
* ``siblings`` -- every version not dominated by another (Riak's siblings). The client
  sends the context it read (its ``past``); the new version's vector ``vv`` is that
  context plus its own dot, so it replaces exactly what the client had seen: ``a``
  dominates ``b`` iff ``a.past`` covers ``b``'s dot, a constant-time test (dotted
  version vectors). Contexts stay exact as vectors because a coordinator ships the
  whole object it holds (every sibling) with a new version, as Riak does.

>>> from replab.sim import VersionVector
>>> a = Version(1, "x", 5.0, VersionVector({"n0": 1}), ("n0", 1), VersionVector())
>>> b = Version(2, "y", 4.0, VersionVector({"n0": 2}), ("n0", 2), VersionVector())
>>> [v.value for v in merge_lww((a,), (b,))], [v.value for v in merge_siblings((a,), (b,))]
(['x'], ['x', 'y'])
>>> c = Version(3, "z", 6.0, VersionVector({"n0": 2, "n1": 1}), ("n1", 1),
...             VersionVector({"n0": 2}))
>>> [v.value for v in merge_siblings(merge_siblings((a,), (b,)), (c,))]
['z']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from replab.sim import VersionVector

__all__ = [
    "Version",
    "Versions",
    "merge_lww",
    "merge_siblings",
    "merger",
    "covers",
    "read_value",
    "context_of",
    "version_bytes",
    "HASH_BYTES",
]

#: Bytes of one Merkle-tree hash (an MD5 digest).
HASH_BYTES = 16


class Version(NamedTuple):
    """One write as stored on a replica.

    ``past`` is the causal context the write was made with (what its client had seen);
    ``vv`` is ``past`` plus the write's own ``dot``. A version supersedes another iff its
    ``past`` holds the other's dot (dotted version vectors): two writes coordinated by
    the same replica stay concurrent unless one's client had seen the other.
    """

    write_id: int
    value: Any
    ts: float
    vv: VersionVector | None = None
    dot: tuple[Any, int] | None = None
    past: VersionVector | None = None


Versions = tuple[Version, ...]


def merge_lww(a: Versions, b: Versions) -> Versions:
    """Keep the single version with the largest ``(ts, write_id)``."""
    if not a:
        return b
    if not b or a[0] is b[0]:
        return a
    x, y = a[0], b[0]
    return a if (x.ts, x.write_id) >= (y.ts, y.write_id) else b


def _past(v: Version) -> VersionVector:
    return v.past if v.past is not None else v.vv  # type: ignore[return-value]


def _dominated(v: Version, others: Any) -> bool:
    actor, counter = v.dot  # type: ignore[misc]
    return any(o.write_id != v.write_id and _past(o)[actor] >= counter for o in others)


def merge_siblings(a: Versions, b: Versions) -> Versions:
    """Keep every version that no other version dominates (sorted by write id)."""
    if not a:
        return b
    if not b or a == b:
        return a
    pool = {v.write_id: v for v in a}
    for v in b:
        pool.setdefault(v.write_id, v)
    vals = list(pool.values())
    return tuple(sorted((v for v in vals if not _dominated(v, vals)),
                        key=lambda v: v.write_id))


def merger(resolution: str) -> Callable[[Versions, Versions], Versions]:
    """The merge function of a resolution (``lww`` or ``siblings``)."""
    return merge_lww if resolution == "lww" else merge_siblings


def covers(held: Versions, v: Version, resolution: str) -> bool:
    """True if a replica holding ``held`` has ``v`` or something that supersedes it."""
    if resolution == "lww":
        return bool(held) and (held[0].ts, held[0].write_id) >= (v.ts, v.write_id)
    actor, counter = v.dot  # type: ignore[misc]
    return any(h.write_id == v.write_id or _past(h)[actor] >= counter for h in held)


def read_value(held: Versions) -> Any:
    """What a read returns: None, the value, or a sorted list of sibling values."""
    if not held:
        return None
    if len(held) == 1:
        return held[0].value
    return sorted(v.value for v in held)


def context_of(held: Versions, base: VersionVector | None = None) -> VersionVector:
    """The causal context a client gets from a read: the merge of the siblings' vectors
    (and of ``base``, what the client knew before)."""
    counts: dict[Any, int] = {}
    for vv in [base, *(v.vv for v in held)]:
        if vv is None:
            continue
        for actor in vv:
            c = vv[actor]
            if c > counts.get(actor, 0):
                counts[actor] = c
    return VersionVector(counts)


def version_bytes(key: str, held: Versions) -> int:
    """Estimated bytes to ship ``held`` for ``key``: key, 8-byte values, clocks.

    A timestamp is 16 bytes (time and tie-breaker); a version vector 12 bytes an entry.
    """
    total = len(key)
    for v in held:
        total += 8 + (16 if v.vv is None else 12 * max(len(v.vv), 1))
    return total
