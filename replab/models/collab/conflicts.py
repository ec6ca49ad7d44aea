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
>>> from replab.models.collab.conflicts import Write, replay
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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import reduce
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from replab.models.lost import lost_ids
from replab.rng import SeedLike, as_generator
from replab.validate import check_choice, check_float, check_int, check_prob, fail

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
    "ReplayResult",
    "replay",
    "random_orders",
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


@dataclass(frozen=True)
class ReplayResult:
    """Outcome of :func:`replay`.

    ``values[i]`` maps key -> value read at replica ``i``, ``kept[i]`` key -> ids of the
    writes that value is made of, ``lost[i]`` key -> ids of the writes lost there.
    ``conflicts`` counts keys with more than one concurrent version (whatever the strategy).
    """

    strategy: str
    values: tuple[dict[str, Any], ...]
    kept: tuple[dict[str, tuple[str, ...]], ...]
    lost: tuple[dict[str, tuple[str, ...]], ...]
    conflicts: int
    divergent_keys: tuple[str, ...]

    @property
    def converged(self) -> bool:
        """Every replica reads the same value for every key."""
        return not self.divergent_keys

    @property
    def lost_writes(self) -> int:
        """Number of writes lost at the worst replica."""
        return max((sum(map(len, d.values())) for d in self.lost), default=0)

    def metrics(self) -> dict[str, Any]:
        """Flat metrics: strategy, converged, divergent_keys, conflicts, lost_writes."""
        return {"strategy": self.strategy, "converged": self.converged,
                "divergent_keys": len(self.divergent_keys), "conflicts": self.conflicts,
                "lost_writes": self.lost_writes}

    def to_frame(self) -> pd.DataFrame:
        """One row per (replica, key): replica, key, value, kept (ids), lost (ids)."""
        rows = [
            {"replica": i, "key": k, "value": v, "kept": self.kept[i][k],
             "lost": self.lost[i][k]}
            for i, vals in enumerate(self.values) for k, v in sorted(vals.items())
        ]
        return pd.DataFrame(rows, columns=["replica", "key", "value", "kept", "lost"])


def _check_orders(orders: Sequence[Sequence[int]], n: int) -> list[list[int]]:
    allowed = f"a non-empty list of index lists, each covering every write in [0, {n - 1}]"
    if isinstance(orders, str) or len(orders) == 0:
        raise fail("delivery_orders", "replay", allowed, orders)
    out = []
    for order in orders:
        ints = all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in order)
        if not ints or {int(i) for i in order} != set(range(n)):
            raise fail("delivery_orders", "replay", allowed, list(order))
        out.append([int(i) for i in order])
    return out


def replay(writes: Sequence[Write], strategy: str | Resolution,
           delivery_orders: Sequence[Sequence[int]]) -> ReplayResult:
    """Deliver the same writes to several replicas in different orders; compare the results.

    Parameters
    ----------
    writes : sequence of Write
        All writes, any keys; ids must be unique.
    strategy : str or Resolution
        A name from ``STRATEGIES`` or a strategy object such as :class:`CustomHandler`.
    delivery_orders : sequence of sequences of int
        One arrival order per replica: indices into ``writes``; every write must appear,
        duplicates are allowed (a replica ignores a write it has seen).

    Returns
    -------
    ReplayResult
    """
    s = get_strategy(strategy)
    writes = list(writes)
    if len({w.id for w in writes}) != len(writes):
        raise fail("writes", "replay", "writes with unique ids", [w.id for w in writes])
    orders = _check_orders(delivery_orders, len(writes))
    keys = sorted({w.key for w in writes})
    by_key = {k: [w for w in writes if w.key == k] for k in keys}
    rank = s._key if isinstance(s, _Winner) else None
    values, kept, lost = [], [], []
    for order in orders:
        states = {k: RecordState() for k in keys}
        for i in order:
            w = writes[i]
            states[w.key] = s.apply(states[w.key], w)
        values.append({k: states[k].value for k in keys})
        kept.append({k: tuple(w.id for w in states[k].kept) for k in keys})
        lost.append({k: lost_ids(by_key[k], s.reflected(states[k]), states[k].seen, rank)
                     for k in keys})
    divergent = tuple(k for k in keys if any(v[k] != values[0][k] for v in values[1:]))
    conflicts = sum(1 for k in keys if len(heads(by_key[k])) > 1)
    return ReplayResult(s.name, tuple(values), tuple(kept), tuple(lost), conflicts, divergent)


def random_orders(n_writes: int, replicas: int, seed: SeedLike = None,
                  duplicate_prob: float = 0.0) -> list[list[int]]:
    """``replicas`` random arrival orders of ``n_writes`` writes, with duplicates.

    Each write is redelivered, at a random later place, with probability
    ``duplicate_prob``.

    >>> random_orders(3, 2, seed=1) == random_orders(3, 2, seed=1)
    True
    """
    n_writes = check_int(n_writes, "n_writes", "random_orders", low=1)
    replicas = check_int(replicas, "replicas", "random_orders", low=1)
    duplicate_prob = check_prob(duplicate_prob, "duplicate_prob", "random_orders")
    rng = as_generator(seed)
    orders = []
    for _ in range(replicas):
        order = [int(i) for i in rng.permutation(n_writes)]
        for i in range(n_writes):
            if rng.random() < duplicate_prob:
                order.insert(int(rng.integers(order.index(i) + 1, len(order) + 1)), i)
        orders.append(order)
    return orders
