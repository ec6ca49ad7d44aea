"""Versions of a value and the two ways replicas reconcile them.

A :class:`Version` is one write: its unique ``write_id``, the value, the coordinator's
physical timestamp ``ts`` and, with version vectors, ``vv`` and the write's *dot*
``(actor, counter)``: the client ``actor``'s ``counter``-th write. A replica stores per key
a tuple of versions:

* ``lww`` -- at most one: the one with the largest ``(ts, write_id)`` wins, whatever
  happened in real time (Cassandra's last write wins).
* ``siblings`` -- every version not dominated by another (Riak's siblings). The client
  sends the context it read; the new version's vector is that context plus its own dot,
  so it replaces exactly what the client had seen. Because a client's context always
  includes its own earlier writes of the key, ``a`` dominates ``b`` iff ``a.vv`` covers
  ``b``'s dot, a constant-time test.

>>> from replab.sim import VersionVector
>>> a = Version(1, "x", 5.0, VersionVector({"c0": 1}), ("c0", 1))
>>> b = Version(2, "y", 4.0, VersionVector({"c1": 1}), ("c1", 1))
>>> [v.value for v in merge_lww((a,), (b,))], [v.value for v in merge_siblings((a,), (b,))]
(['x'], ['x', 'y'])
>>> c = Version(3, "z", 6.0, VersionVector({"c0": 1, "c1": 1, "c2": 1}), ("c2", 1))
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
    """One write as stored on a replica."""

    write_id: int
    value: Any
    ts: float
    vv: VersionVector | None = None
    dot: tuple[Any, int] | None = None


Versions = tuple[Version, ...]


def merge_lww(a: Versions, b: Versions) -> Versions:
    """Keep the single version with the largest ``(ts, write_id)``."""
    if not a:
        return b
    if not b or a[0] is b[0]:
        return a
    x, y = a[0], b[0]
    return a if (x.ts, x.write_id) >= (y.ts, y.write_id) else b


def _dominated(v: Version, others: Any) -> bool:
    actor, counter = v.dot  # type: ignore[misc]
    return any(o.write_id != v.write_id and o.vv[actor] >= counter for o in others)


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
    return any(h.vv[actor] >= counter for h in held)  # type: ignore[index]


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
