"""Replaying writes in many arrival orders: does a resolution strategy converge, and which
writes does it lose? (The strategies are in :mod:`~replab.models.collab.conflicts`.)

>>> from replab.models.collab import Write, replay
>>> w = [Write(id="a", value=1, timestamp=1.0, replica="dc1"),
...      Write(id="b", value=2, timestamp=2.0, replica="dc2")]
>>> replay(w, "arrival-order", [[0, 1], [1, 0]]).converged
False
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from replab.models.collab.conflicts import (
    RecordState,
    Resolution,
    Write,
    _Winner,
    get_strategy,
    heads,
)
from replab.models.lost import lost_ids
from replab.rng import SeedLike, as_generator
from replab.validate import check_int, check_prob, fail

__all__ = ["ReplayResult", "replay", "random_orders"]


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
