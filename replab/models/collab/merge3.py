"""Mergeable persistent data: a record's version history and three-way merges, as Git does.

A record is a dict of fields. Its versions form a DAG (each version names its parents).
To merge two versions, find their common ancestor (the merge base) and compare each field
on both sides against it:

=================================  =================================
field                              result
=================================  =================================
unchanged on both sides            kept
changed (or deleted) on one side   that side's change
changed identically on both        the shared change
changed differently on both        a :class:`FieldConflict` (both values and the base)
=================================  =================================

A **two-way** merge sees only the two versions. It cannot tell "deleted on one side" from
"added on the other", so a deleted field comes back to life (:func:`two_way_merge`). The
CRDTs of :mod:`replab.models.collab.crdt` also merge two-way, but their *state* carries the
history they need (an OR-Set keeps tombstones, an MV-Register keeps version vectors);
a three-way merge instead keeps plain records and asks the version DAG.

Examples
--------
>>> from replab.models.collab.merge3 import RecordHistory, three_way_merge, two_way_merge
>>> base = {"name": "Ada", "phone": "555"}
>>> ours = {"name": "Ada"}                      # deleted the phone
>>> theirs = {"name": "Ada L.", "phone": "555"}  # renamed
>>> three_way_merge(base, ours, theirs).merged
{'name': 'Ada L.'}
>>> two_way_merge(ours, theirs).conflicts[0].field, two_way_merge(ours, theirs).merged
('name', {'phone': '555'})
>>> h = RecordHistory()
>>> v0 = h.commit(base)
>>> v1, v2 = h.commit(ours, [v0]), h.commit(theirs, [v0])
>>> result, v3 = h.merge(v1, v2)
>>> h.common_ancestor(v1, v2), v3, h.record(v3)
('v0', 'v3', {'name': 'Ada L.'})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import pandas as pd

from replab.validate import fail

__all__ = [
    "ABSENT",
    "FieldConflict",
    "MergeResult",
    "three_way_merge",
    "two_way_merge",
    "RecordHistory",
]


class _Absent:
    """The value of a field a record does not have."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class FieldConflict:
    """A field changed differently on both sides (``ABSENT`` = missing / deleted)."""

    field: str
    base: Any
    ours: Any
    theirs: Any


@dataclass(frozen=True)
class MergeResult:
    """The cleanly merged fields, and the conflicts (their fields are left out of ``merged``)."""

    merged: dict[str, Any]
    conflicts: tuple[FieldConflict, ...]

    @property
    def clean(self) -> bool:
        """No conflicts."""
        return not self.conflicts

    def resolve(self, choose: Callable[[FieldConflict], Any]) -> dict[str, Any]:
        """The merged record with each conflict settled by ``choose`` (return ABSENT to drop).

        >>> r = three_way_merge({"a": 1}, {"a": 2}, {"a": 3})
        >>> r.resolve(lambda c: max(c.ours, c.theirs))
        {'a': 3}
        """
        out = dict(self.merged)
        for c in self.conflicts:
            value = choose(c)
            if value is not ABSENT:
                out[c.field] = value
        return dict(sorted(out.items()))


def _check_record(record: Any, name: str, owner: str) -> Mapping[str, Any]:
    if not isinstance(record, Mapping):
        raise fail(name, owner, "a mapping of field names to values", record)
    return record


def three_way_merge(base: Mapping[str, Any], ours: Mapping[str, Any],
                    theirs: Mapping[str, Any]) -> MergeResult:
    """Merge ``ours`` and ``theirs`` field by field against their common ancestor ``base``."""
    sides = [_check_record(r, n, "three_way_merge")
             for r, n in ((base, "base"), (ours, "ours"), (theirs, "theirs"))]
    merged, conflicts = {}, []
    for f in sorted(set().union(*sides)):
        b, o, t = (s.get(f, ABSENT) for s in sides)
        if o == t:
            value = o
        elif o == b:
            value = t
        elif t == b:
            value = o
        else:
            conflicts.append(FieldConflict(f, b, o, t))
            continue
        if value is not ABSENT:
            merged[f] = value
    return MergeResult(merged, tuple(conflicts))


def two_way_merge(ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> MergeResult:
    """Merge without an ancestor: a field on one side only is kept (deletions come back).

    Equivalent to :func:`three_way_merge` against an empty base.
    """
    return three_way_merge({}, _check_record(ours, "ours", "two_way_merge"),
                           _check_record(theirs, "theirs", "two_way_merge"))


class RecordHistory:
    """The version DAG of one record (mutable: ``commit`` and ``merge`` add versions).

    Versions are named ``v0``, ``v1``, ... in commit order; ``graph`` has an edge from each
    parent to its child and the record as node attribute ``record``.
    """

    def __init__(self) -> None:
        self.graph = nx.DiGraph()

    def commit(self, record: Mapping[str, Any], parents: Iterable[str] = ()) -> str:
        """Add a version with the given parents (none for a root); return its id."""
        record = dict(_check_record(record, "record", "RecordHistory.commit"))
        parents = [parents] if isinstance(parents, str) else list(parents)
        if any(not isinstance(p, str) or p not in self.graph for p in parents):
            raise fail("parents", "RecordHistory.commit", "ids of existing versions", parents)
        vid = f"v{self.graph.number_of_nodes()}"
        self.graph.add_node(vid, record=record)
        self.graph.add_edges_from((p, vid) for p in parents)
        return vid

    def record(self, version: str) -> dict[str, Any]:
        """A copy of the record at ``version``."""
        if version not in self.graph:
            raise fail("version", "RecordHistory", "the id of an existing version", version)
        return dict(self.graph.nodes[version]["record"])

    def merge_bases(self, a: str, b: str) -> tuple[str, ...]:
        """All lowest common ancestors of ``a`` and ``b`` (a version is its own ancestor).

        Several appear after a criss-cross merge; none when the histories are unrelated.
        """
        self.record(a), self.record(b)
        common = (nx.ancestors(self.graph, a) | {a}) & (nx.ancestors(self.graph, b) | {b})
        lowest = [v for v in common if not any(d in common
                                                for d in nx.descendants(self.graph, v))]
        return tuple(sorted(lowest, key=lambda v: int(v[1:])))

    def common_ancestor(self, a: str, b: str) -> str | None:
        """One lowest common ancestor, by networkx (None if unrelated)."""
        self.record(a), self.record(b)
        return nx.lowest_common_ancestor(self.graph, a, b)

    def base_record(self, a: str, b: str) -> dict[str, Any]:
        """The merge base's record; several bases are merged into a virtual one (Git's
        recursive strategy; a conflict inside it keeps the older value); {} if unrelated."""
        bases = self.merge_bases(a, b)
        if not bases:
            return {}
        record = self.record(bases[0])
        for other in bases[1:]:
            sub = self.base_record(bases[0], other)
            record = three_way_merge(sub, record, self.record(other)).resolve(lambda c: c.base)
        return record

    def merge(self, ours: str, theirs: str,
              on_conflict: Callable[[FieldConflict], Any] | None = None,
              ) -> tuple[MergeResult, str | None]:
        """Three-way merge two versions; commit the result when it is clean or resolved.

        Returns the :class:`MergeResult` and the new version id (None if conflicts remain
        and ``on_conflict`` was not given).
        """
        result = three_way_merge(self.base_record(ours, theirs), self.record(ours),
                                 self.record(theirs))
        if not result.clean and on_conflict is None:
            return result, None
        record = result.resolve(on_conflict) if on_conflict else result.merged
        return result, self.commit(record, [ours, theirs])

    def to_frame(self) -> pd.DataFrame:
        """One row per version: version, parents (tuple), record (dict)."""
        rows = [{"version": v, "parents": tuple(sorted(self.graph.predecessors(v))),
                 "record": self.record(v)} for v in self.graph.nodes]
        return pd.DataFrame(rows, columns=["version", "parents", "record"])
