"""Which writes of a record a replica lost (shared by the conflict harness and the
multi-leader model, so both count the same thing).

A write is lost at a replica when its value is not reflected there and either no other
write supersedes it (names it in its causal context), or -- with a winner-takes-all
resolution such as last-write-wins -- a write the replica has seen beat it without
having seen it: a concurrent write, or an older one favoured by its clock. A later
write that names a discarded write in its context does not bring it back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = ["lost_ids"]


class _WriteLike(Protocol):
    id: str
    supersedes: frozenset[str]


def lost_ids(writes: Sequence[Any], kept: frozenset[str], seen: frozenset[str],
             rank: Callable[[Any], Any] | None) -> tuple[str, ...]:
    """Ids of the ``writes`` of one record lost at a replica that reflects ``kept`` and
    has applied ``seen``; ``rank`` orders writes for a winner-takes-all resolution
    (None: the resolution keeps concurrent writes)."""
    dead = frozenset().union(*(w.supersedes for w in writes))
    out = []
    for w in writes:
        if w.id in kept:
            continue
        if w.id not in dead or (rank is not None and _beaten(w, writes, seen, rank)):
            out.append(w.id)
    return tuple(out)


def _beaten(w: _WriteLike, writes: Sequence[Any], seen: frozenset[str],
            rank: Callable[[Any], Any]) -> bool:
    mine = rank(w)
    return any(x.id in seen and w.id not in x.supersedes and rank(x) > mine for x in writes)
