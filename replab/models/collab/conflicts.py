"""Conflict resolution applied per record, and a harness that checks convergence.

A multi-leader system accepts writes to the same record at several leaders; each leader
later receives the others' writes in *some* order. A resolution strategy decides what the
record holds after each arrival. It is **convergent** when the final value does not depend
on the arrival order (nor on duplicates), i.e. when applying a write is commutative and
idempotent.

======================  ===================================  ==========  ====================
name                    rule                                 convergent  writes kept
======================  ===================================  ==========  ====================
``lww``                 largest (timestamp, replica, id)     yes         one; the rest lost
``replica-priority``    largest (replica, timestamp, id)     yes         one; the rest lost
``merge``               join all concurrent values (sorted)  yes         all concurrent
``siblings``            keep all concurrent values           yes         all concurrent
``arrival-order``       the last write to arrive wins        **no**      one
:class:`CustomHandler`  ``handler(current, incoming)``       if the      see ``reflects``
                        run on each conflicting write        handler is
                                                             a join
======================  ===================================  ==========  ====================

A write may name the writes it *supersedes* (its causal context: the writes its client had
read, as a version vector would say). ``merge``, ``siblings`` and custom handlers drop
superseded writes; ``lww``, ``replica-priority`` and ``arrival-order`` ignore causality, so
a causally later write with a smaller (skewed) timestamp is lost under LWW.

A write is **lost** at a replica when its value is not reflected in the replica's final
state and no other write supersedes it -- or, under ``lww`` and ``replica-priority``, a
write that had not seen it won (a later write naming it does not bring it back).

Examples
--------
>>> from replab.models.collab import Write, replay
>>> w = [Write(id="a", value="Alice", timestamp=1.0, replica="dc1"),
...      Write(id="b", value="Bob", timestamp=2.0, replica="dc2")]
>>> orders = [[0, 1], [1, 0, 1]]          # two replicas; the second sees 'b' twice
>>> r = replay(w, "lww", orders)
>>> r.converged, r.lost_writes, r.values[0]
(True, 1, {'x': 'Bob'})
>>> replay(w, "siblings", orders).values[1]
{'x': ('Alice', 'Bob')}
>>> replay(w, "arrival-order", orders).divergent_keys
('x',)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import reduce
from typing import Any, ClassVar

from replab.validate import check_choice, check_float, fail

__all__ = [
    "Write",
    "RecordState",
    "Resolution",
    "LastWriteWins",
    "ReplicaPriority",
    "MergeValues",
    "Siblings",
    "ArrivalOrder",
    "CustomHandler",
    "STRATEGIES",
    "get_strategy",
    "resolve",
    "heads",
]


@dataclass(frozen=True, kw_only=True)
class Write:
    """One write accepted by one leader.

    Parameters
    ----------
    id : str
        Unique over all writes.
    value : Any
        The value written.
    timestamp : float
        The accepting leader's clock at the write (possibly skewed).
    replica : str
        The leader that accepted it.
    key : str
        The record written.
    supersedes : frozenset of str
        Ids of the writes this one overwrites knowingly (its causal context).
    """

    id: str
    value: Any
    timestamp: float
    replica: str
    key: str = "x"
    supersedes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("id", "replica", "key"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise fail(name, "Write", "a non-empty str", getattr(self, name))
        object.__setattr__(self, "timestamp", check_float(self.timestamp, "timestamp", "Write"))
        if isinstance(self.supersedes, str) or not all(
            isinstance(s, str) for s in self.supersedes
        ):
            raise fail("supersedes", "Write", "a set of write ids (str)", self.supersedes)
        object.__setattr__(self, "supersedes", frozenset(self.supersedes))


@dataclass(frozen=True)
class RecordState:
    """What one replica holds for one record.

    ``seen`` are the write ids applied (a duplicate is ignored), ``superseded`` the ids
    some applied write overwrote knowingly, ``kept`` the writes the value is made of and
    ``value`` what a read returns.
    """

    seen: frozenset[str] = frozenset()
    superseded: frozenset[str] = frozenset()
    kept: tuple[Write, ...] = ()
    value: Any = None


def _order_key(w: Write) -> tuple[float, str, str]:
    return w.timestamp, w.replica, w.id


class Resolution:
    """Base class: ``apply`` dedupes and tracks supersession, ``_resolve`` decides."""

    name: ClassVar[str] = ""
    convergent: ClassVar[bool] = True

    def apply(self, state: RecordState, write: Write) -> RecordState:
        """The record after ``write`` arrives (a write already seen changes nothing)."""
        if write.id in state.seen:
            return state
        state = replace(state, seen=state.seen | {write.id},
                        superseded=state.superseded | write.supersedes)
        return self._resolve(state, write)

    def _resolve(self, state: RecordState, write: Write) -> RecordState:
        raise NotImplementedError

    def reflected(self, state: RecordState) -> frozenset[str]:
        """Ids of the writes whose values the state reflects."""
        return frozenset(w.id for w in state.kept)


class _Winner(Resolution):
    def _key(self, w: Write) -> tuple[Any, ...]:
        raise NotImplementedError

    def _resolve(self, state: RecordState, write: Write) -> RecordState:
        best = max((*state.kept, write), key=self._key)
        return replace(state, kept=(best,), value=best.value)


class LastWriteWins(_Winner):
    """The write with the largest timestamp wins; ties go to the larger replica id."""

    name = "lww"

    def _key(self, w: Write) -> tuple[Any, ...]:
        return _order_key(w)


class ReplicaPriority(_Winner):
    """The write from the highest replica id wins; then the larger timestamp."""

    name = "replica-priority"

    def _key(self, w: Write) -> tuple[Any, ...]:
        return w.replica, w.timestamp, w.id


class _Heads(Resolution):
    """Keeps every write not superseded, in (timestamp, replica, id) order."""

    def _resolve(self, state: RecordState, write: Write) -> RecordState:
        live = [w for w in (*state.kept, write) if w.id not in state.superseded]
        kept = tuple(sorted(live, key=_order_key))
        return replace(state, kept=kept, value=self._combine([w.value for w in kept]))

    def _combine(self, values: list[Any]) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class MergeValues(_Heads):
    """Merge concurrent values: by default their sorted ``str`` joined by ``separator``."""

    name = "merge"
    separator: str = "/"

    def _combine(self, values: list[Any]) -> Any:
        return self.separator.join(sorted(str(v) for v in values)) if values else None


class Siblings(_Heads):
    """Keep every concurrent value (a tuple, oldest first) for the reader to resolve."""

    name = "siblings"

    def _combine(self, values: list[Any]) -> Any:
        return tuple(values)


class ArrivalOrder(Resolution):
    """Apply writes as they arrive: the last one to arrive wins. Not convergent."""

    name = "arrival-order"
    convergent = False

    def _resolve(self, state: RecordState, write: Write) -> RecordState:
        return replace(state, kept=(write,), value=write.value)


def _default_reflects(final: Any, value: Any) -> bool:
    if isinstance(final, set | frozenset | tuple | list):
        return value in final
    return bool(final == value)


@dataclass(frozen=True)
class CustomHandler(Resolution):
    """A conflict handler run on write: ``handler(current_value, incoming_value)``.

    The handler runs only when the incoming write does not supersede everything kept;
    after a supersession the value is refolded over the surviving writes in their arrival
    order. The strategy converges iff ``handler`` is commutative, associative and
    idempotent (``max``, set union, ...); ``lambda cur, new: new`` is arrival order again.
    ``reflects(final, value)`` says whether a write's value survives (default: equality,
    or membership when the final value is a collection).
    """

    handler: Callable[[Any, Any], Any] = max
    reflects: Callable[[Any, Any], bool] = _default_reflects
    name = "custom"
    convergent = False  # unknown in general: replay() tells

    def _resolve(self, state: RecordState, write: Write) -> RecordState:
        if write.id in state.superseded:
            return state
        kept = (*[w for w in state.kept if w.id not in state.superseded], write)
        value = reduce(self.handler, [w.value for w in kept[1:]], kept[0].value)
        return replace(state, kept=kept, value=value)

    def reflected(self, state: RecordState) -> frozenset[str]:
        return frozenset(w.id for w in state.kept if self.reflects(state.value, w.value))


STRATEGIES: Mapping[str, Resolution] = {
    s.name: s for s in (LastWriteWins(), ReplicaPriority(), MergeValues(), Siblings(),
                        ArrivalOrder())
}


def get_strategy(strategy: str | Resolution) -> Resolution:
    """A strategy object from its name (see ``STRATEGIES``), or the object itself."""
    if isinstance(strategy, Resolution):
        return strategy
    return STRATEGIES[check_choice(strategy, "strategy", "get_strategy", tuple(STRATEGIES))]


def resolve(writes: Iterable[Write], strategy: str | Resolution,
            state: RecordState | None = None) -> RecordState:
    """Apply ``writes`` (one record's) in the given order; return the record state.

    >>> ws = [Write(id=i, value=v, timestamp=t, replica="r")
    ...       for i, v, t in [("1", 3, 0.0), ("2", 7, 1.0)]]
    >>> resolve(ws, CustomHandler(handler=max)).value, resolve(ws[::-1], "merge").value
    (7, '3/7')
    """
    s = get_strategy(strategy)
    return reduce(s.apply, writes, state if state is not None else RecordState())


def heads(writes: Iterable[Write]) -> list[Write]:
    """The writes no other write supersedes: the concurrent versions of a record."""
    ws = list(writes)
    dead = frozenset().union(*(w.supersedes for w in ws))
    return [w for w in ws if w.id not in dead]
