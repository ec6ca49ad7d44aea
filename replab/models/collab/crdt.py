"""State-based CRDTs: counters, sets, registers and a text sequence.

Every CRDT here is an immutable value (a frozen dataclass). An update returns a *new*
state and leaves the old one untouched; ``a.merge(b)`` returns the least upper bound of
two states in the CRDT's lattice, so merge is commutative, associative and idempotent and
replicas that have seen the same updates, in any order and any number of times, hold the
same state. ``a.leq(b)`` is the lattice order (``a.merge(b) == b`` exactly when
``a.leq(b)``).

Replica ids are non-empty strings. An update must be made at the replica it names, on
that replica's current state: the uniqueness of tags, version-vector entries and sequence
ids rests on each replica numbering its own updates.

========================  ==============================================================
:class:`VersionVector`     per-replica counters; the causal order of events
:class:`GCounter`          grow-only counter (a version vector whose sum is the value)
:class:`PNCounter`         two G-Counters: increments minus decrements
:class:`ORSet`             observed-remove set, add wins over a concurrent remove
:class:`LWWRegister`       last writer wins by (timestamp, replica id)
:class:`MVRegister`        multi-value register: keeps every concurrent value
:class:`~replab.models.collab.sequence.RGA`  replicated growable array: a text CRDT
========================  ==============================================================

Examples
--------
>>> from replab.models.collab.crdt import GCounter, ORSet, MVRegister, RGA
>>> a = GCounter().increment("A")
>>> b = GCounter().increment("B", 2)
>>> a.merge(b).value(), a.merge(b) == b.merge(a)
(3, True)
>>> s = ORSet().add("x", "A")
>>> removed = s.remove("x")          # at A
>>> re_added = s.add("x", "B")       # concurrently at B: add wins
>>> sorted(removed.merge(re_added).value())
['x']
>>> r = MVRegister()
>>> sorted(r.assign("tea", "A").merge(r.assign("coffee", "B")).value())
['coffee', 'tea']
>>> doc = RGA().insert(0, "hi", "A")
>>> doc.insert(2, "!", "B").merge(doc.insert(0, ">", "A")).value()
'>hi!'
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any, Protocol, TypeVar

from replab.models.collab.sequence import RGA, RGANode, check_replica
from replab.validate import check_float, check_int

__all__ = [
    "CRDT",
    "VersionVector",
    "GCounter",
    "PNCounter",
    "ORSet",
    "LWWRegister",
    "MVRegister",
    "RGA",
    "RGANode",
    "merge_all",
]

S = TypeVar("S", bound="CRDT")


class CRDT(Protocol):
    """What every state-based CRDT here provides."""

    def merge(self: S, other: S) -> S: ...

    def leq(self: S, other: S) -> bool: ...

    def value(self) -> Any: ...


def merge_all(states: Iterable[S]) -> S:
    """Merge a non-empty iterable of states of one CRDT type (a left fold of ``merge``).

    >>> merge_all([GCounter().increment("A"), GCounter().increment("B")]).value()
    2
    """
    return reduce(lambda a, b: a.merge(b), states)


# ----------------------------------------------------------------------- version vectors

@dataclass(frozen=True)
class VersionVector:
    """A map replica -> counter, stored canonically (sorted, no zero entries).

    >>> v = VersionVector().increment("A").increment("A").increment("B")
    >>> v.as_dict(), v.get("C")
    ({'A': 2, 'B': 1}, 0)
    >>> v.compare(VersionVector.of({"A": 3})), v.compare(v)
    ('concurrent', 'equal')
    """

    entries: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> VersionVector:
        """Build from a mapping; zero entries are dropped."""
        return cls(tuple(sorted((r, int(n)) for r, n in counts.items() if n)))

    def as_dict(self) -> dict[str, int]:
        """The entries as a plain dict."""
        return dict(self.entries)

    def value(self) -> dict[str, int]:
        """The entries as a plain dict (a version vector is itself a CRDT)."""
        return self.as_dict()

    def get(self, replica: str) -> int:
        """The counter of ``replica`` (0 if absent)."""
        return self.as_dict().get(replica, 0)

    def increment(self, replica: str, amount: int = 1) -> VersionVector:
        """A copy with ``replica``'s counter raised by ``amount`` (>= 0)."""
        check_replica(replica, "VersionVector.increment")
        amount = check_int(amount, "amount", "VersionVector.increment", low=0)
        counts = self.as_dict()
        counts[replica] = counts.get(replica, 0) + amount
        return VersionVector.of(counts)

    def merge(self, other: VersionVector) -> VersionVector:
        """Entry-wise maximum."""
        counts = self.as_dict()
        for r, n in other.entries:
            counts[r] = max(counts.get(r, 0), n)
        return VersionVector.of(counts)

    def leq(self, other: VersionVector) -> bool:
        """Every entry of ``self`` is <= the same entry of ``other``."""
        theirs = other.as_dict()
        return all(n <= theirs.get(r, 0) for r, n in self.entries)

    def compare(self, other: VersionVector) -> str:
        """``'equal'``, ``'before'``, ``'after'`` or ``'concurrent'``."""
        le, ge = self.leq(other), other.leq(self)
        if le and ge:
            return "equal"
        if le:
            return "before"
        return "after" if ge else "concurrent"

    def total(self) -> int:
        """Sum of the counters."""
        return sum(n for _, n in self.entries)


# ----------------------------------------------------------------------------- counters

@dataclass(frozen=True)
class GCounter:
    """Grow-only counter: one count per replica, merged by entry-wise maximum.

    >>> c = GCounter().increment("A").increment("A", 4)
    >>> c.value(), c.merge(GCounter().increment("B")).value()
    (5, 6)
    """

    counts: VersionVector = field(default_factory=VersionVector)

    def increment(self, replica: str, amount: int = 1) -> GCounter:
        """Add ``amount`` (an int >= 0) at ``replica``."""
        amount = check_int(amount, "amount", "GCounter.increment", low=0)
        return GCounter(self.counts.increment(replica, amount))

    def value(self) -> int:
        """The sum over replicas."""
        return self.counts.total()

    def merge(self, other: GCounter) -> GCounter:
        """Entry-wise maximum of the per-replica counts."""
        return GCounter(self.counts.merge(other.counts))

    def leq(self, other: GCounter) -> bool:
        """Lattice order."""
        return self.counts.leq(other.counts)


@dataclass(frozen=True)
class PNCounter:
    """Counter with increments and decrements: two G-Counters, ``P - N``.

    >>> c = PNCounter().increment("A", 3).decrement("B", 5)
    >>> c.value()
    -2
    """

    p: GCounter = field(default_factory=GCounter)
    n: GCounter = field(default_factory=GCounter)

    def increment(self, replica: str, amount: int = 1) -> PNCounter:
        """Add ``amount`` (>= 0) at ``replica``."""
        amount = check_int(amount, "amount", "PNCounter.increment", low=0)
        return PNCounter(self.p.increment(replica, amount), self.n)

    def decrement(self, replica: str, amount: int = 1) -> PNCounter:
        """Subtract ``amount`` (>= 0) at ``replica``."""
        amount = check_int(amount, "amount", "PNCounter.decrement", low=0)
        return PNCounter(self.p, self.n.increment(replica, amount))

    def value(self) -> int:
        """Increments minus decrements."""
        return self.p.value() - self.n.value()

    def merge(self, other: PNCounter) -> PNCounter:
        """Merge both halves."""
        return PNCounter(self.p.merge(other.p), self.n.merge(other.n))

    def leq(self, other: PNCounter) -> bool:
        """Lattice order (product order of the halves)."""
        return self.p.leq(other.p) and self.n.leq(other.n)


# --------------------------------------------------------------------------------- sets

Tag = tuple[str, int]


@dataclass(frozen=True)
class ORSet:
    """Observed-remove set with add-wins semantics and unique tags.

    Each add attaches a fresh tag ``(replica, seq)``; a remove tombstones the tags it has
    *observed* for the element. An add concurrent with a remove carries a tag the remove
    never saw, so the element stays (add wins). Tombstones are kept forever (no garbage
    collection); ``entries`` holds only live tags.

    >>> s = ORSet().add("a", "A").add("b", "A").remove("a")
    >>> sorted(s.value()), s.contains("b")
    (['b'], True)
    """

    entries: frozenset[tuple[Hashable, Tag]] = frozenset()
    tombstones: frozenset[Tag] = frozenset()

    def _next_tag(self, replica: str) -> Tag:
        tags = [t for _, t in self.entries] + list(self.tombstones)
        return replica, 1 + max((seq for r, seq in tags if r == replica), default=0)

    def add(self, element: Hashable, replica: str) -> ORSet:
        """Add ``element`` at ``replica`` with a fresh tag."""
        check_replica(replica, "ORSet.add")
        return ORSet(self.entries | {(element, self._next_tag(replica))}, self.tombstones)

    def remove(self, element: Hashable) -> ORSet:
        """Remove ``element`` as observed here (a no-op if absent)."""
        seen = {t for e, t in self.entries if e == element}
        return ORSet(frozenset(p for p in self.entries if p[1] not in seen),
                     self.tombstones | seen)

    def value(self) -> frozenset[Any]:
        """The elements with at least one live tag."""
        return frozenset(e for e, _ in self.entries)

    def contains(self, element: Hashable) -> bool:
        """Membership."""
        return any(e == element for e, _ in self.entries)

    def merge(self, other: ORSet) -> ORSet:
        """Union of adds and of tombstones; tombstoned adds are dropped."""
        dead = self.tombstones | other.tombstones
        live = frozenset(p for p in self.entries | other.entries if p[1] not in dead)
        return ORSet(live, dead)

    def leq(self, other: ORSet) -> bool:
        """Lattice order: ``other`` has seen every add and remove of ``self``."""
        return self.tombstones <= other.tombstones and all(
            p in other.entries or p[1] in other.tombstones for p in self.entries
        )


# ---------------------------------------------------------------------------- registers

@dataclass(frozen=True)
class LWWRegister:
    """Last-writer-wins register: the write with the largest ``(timestamp, replica)`` wins.

    Two writes with the same timestamp are ordered by replica id. Each replica must use
    strictly increasing timestamps for its own writes; should two different values still
    share ``(timestamp, replica)``, ``repr(value)`` breaks the tie so merge stays a
    semilattice. A write whose timestamp is older than the current one is silently
    discarded: that is how LWW loses concurrent (or clock-skewed) writes.

    >>> r = LWWRegister().assign("x", 10.0, "A")
    >>> r.assign("old", 5.0, "B").value(), r.assign("tie", 10.0, "B").value()
    ('x', 'tie')
    """

    current: Any = None
    timestamp: float = -math.inf
    replica: str = ""

    def _key(self) -> tuple[float, str, str]:
        return self.timestamp, self.replica, repr(self.current)

    def assign(self, value: Any, timestamp: float, replica: str) -> LWWRegister:
        """Write ``value`` at ``replica`` with ``timestamp`` (a finite number)."""
        check_replica(replica, "LWWRegister.assign")
        ts = check_float(timestamp, "timestamp", "LWWRegister.assign")
        return self.merge(LWWRegister(value, ts, replica))

    def value(self) -> Any:
        """The winning value (``None`` before any write)."""
        return self.current

    def merge(self, other: LWWRegister) -> LWWRegister:
        """The state with the larger ``(timestamp, replica, repr(value))``."""
        return other if other._key() > self._key() else self

    def leq(self, other: LWWRegister) -> bool:
        """Lattice order (a total order)."""
        return self._key() <= other._key()


@dataclass(frozen=True)
class MVRegister:
    """Multi-value register: concurrent writes are all kept, as siblings.

    Each value carries the version vector of its write. An assignment supersedes every
    value the replica has seen; merge keeps the values no other value's vector dominates.
    Values must be hashable.

    >>> base = MVRegister().assign(1, "A")
    >>> both = base.assign(2, "A").merge(base.assign(3, "B"))
    >>> both.values()
    (2, 3)
    >>> both.assign(4, "B").merge(both).values()   # a write that saw both resolves them
    (4,)
    """

    entries: frozenset[tuple[Hashable, VersionVector]] = frozenset()

    def context(self) -> VersionVector:
        """The merge of the vectors of all current values (what a writer has seen)."""
        return reduce(VersionVector.merge, (vv for _, vv in self.entries), VersionVector())

    def assign(self, value: Hashable, replica: str) -> MVRegister:
        """Write ``value`` at ``replica``, superseding every value seen here."""
        check_replica(replica, "MVRegister.assign")
        return MVRegister(frozenset({(value, self.context().increment(replica))}))

    def values(self) -> tuple[Any, ...]:
        """The sibling values, ordered by ``repr`` then version vector (deterministic)."""
        return tuple(v for v, _ in sorted(self.entries, key=lambda p: (repr(p[0]), p[1].entries)))

    def value(self) -> frozenset[Any]:
        """The set of sibling values."""
        return frozenset(v for v, _ in self.entries)

    def merge(self, other: MVRegister) -> MVRegister:
        """Union, then drop every value whose vector is strictly dominated by another."""
        union = self.entries | other.entries
        keep = frozenset(
            p for p in union
            if not any(p[1] != q[1] and p[1].leq(q[1]) for q in union)
        )
        return MVRegister(keep)

    def leq(self, other: MVRegister) -> bool:
        """Lattice order: each value here is in ``other`` or superseded there."""
        return all(
            p in other.entries or any(p[1].leq(q[1]) and p[1] != q[1] for q in other.entries)
            for p in self.entries
        )
