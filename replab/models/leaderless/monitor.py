"""Staleness monitoring: how far behind each replica is, per key and overall.

Every ``sample_interval_ms`` the monitor looks at every key written so far and every home
replica of it: ``versions_behind`` is the number of writes stored somewhere (on any node,
hints included) that the replica neither holds nor has superseded, and ``time_behind_ms``
how long ago the oldest of them was first stored (0 when up to date). The cluster has
*converged* when no replica of any key is behind and no hint is pending.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from replab.models.leaderless.versions import context_of

if TYPE_CHECKING:
    from replab.models.leaderless.book import WriteMeta
    from replab.models.leaderless.view import ClusterView

__all__ = ["STALENESS_COLUMNS", "StalenessMonitor", "replica_lag", "staleness_summary"]

#: Columns of ``LeaderlessResult.staleness``.
STALENESS_COLUMNS = ["time", "key", "node", "dc", "versions_behind", "time_behind_ms", "up"]


def replica_lag(cluster: ClusterView, key: str, node: int, now: float,
                metas: list[WriteMeta] | None = None) -> tuple[int, float]:
    """``(versions_behind, time_behind_ms)`` of one replica of one key at ``now``."""
    metas = cluster.key_writes.get(key, []) if metas is None else metas
    held = cluster.held(node, key)
    if cluster.resolution == "lww":
        top = (held[0].ts, held[0].write_id) if held else (-math.inf, 0)
        missing = [m.first_stored for m in metas
                   if (m.version.ts, m.version.write_id) > top]
    else:
        ctx = context_of(held)
        missing = [m.first_stored for m in metas
                   if ctx[m.version.dot[0]] < m.version.dot[1]]  # type: ignore[index]
    if not missing:
        return 0, 0.0
    return len(missing), now - min(missing)  # type: ignore[type-var, operator]


class _KeyArrays:
    """One key's stored writes as arrays, grown as writes arrive (for fast sampling)."""

    __slots__ = ("n", "ts", "ids", "first", "actor", "counter")

    def __init__(self) -> None:
        self.n = 0
        self.ts = self.first = np.empty(0)
        self.ids = self.actor = self.counter = np.empty(0, dtype=np.int64)

    def grow(self, metas: list[WriteMeta], actors: dict[Any, int]) -> None:
        new = metas[self.n:]
        if not new:
            return
        self.n = len(metas)
        cat = np.concatenate
        self.ts = cat([self.ts, [m.version.ts for m in new]])
        self.ids = cat([self.ids, np.array([m.version.write_id for m in new], dtype=np.int64)])
        self.first = cat([self.first, [m.first_stored for m in new]])
        if new[0].version.dot is not None:
            dots: list[tuple[Any, int]] = [m.version.dot for m in new]  # type: ignore[misc]
            idx = [actors.setdefault(a, len(actors)) for a, _ in dots]
            self.actor = cat([self.actor, np.array(idx, dtype=np.int64)])
            self.counter = cat([self.counter, np.array([c for _, c in dots], dtype=np.int64)])


class StalenessMonitor:
    """Samples every replica's lag; finds when the cluster converged for good."""

    def __init__(self, cluster: ClusterView, interval: float) -> None:
        self.cluster, self.interval = cluster, interval
        self.rows: list[tuple] = []
        self.behind_at: list[tuple[float, bool]] = []  # (time, anything behind?)
        self._arrays: dict[str, _KeyArrays] = {}
        self._actors: dict[Any, int] = {}
        self._vectors: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        cluster.sim.schedule(0.0, self._sample)

    def _vector(self, v: Any) -> tuple[np.ndarray, np.ndarray]:
        """A version's vector as (actor indices, counts), cached per write."""
        got = self._vectors.get(v.write_id)
        if got is None:
            pairs = [(self._actors[a], c) for a, c in v.vv.items() if a in self._actors]
            got = (np.array([i for i, _ in pairs], dtype=np.int64),
                   np.array([c for _, c in pairs], dtype=np.int64))
            if len(pairs) == len(v.vv):  # complete: every actor already indexed
                self._vectors[v.write_id] = got
        return got

    def _lag(self, arr: _KeyArrays, held: Any, now: float) -> tuple[int, float]:
        if self.cluster.resolution == "lww":
            if held:
                top = held[0]
                missing = (arr.ts > top.ts) | ((arr.ts == top.ts) & (arr.ids > top.write_id))
            else:
                missing = np.ones(arr.n, dtype=bool)
        else:
            seen = np.zeros(len(self._actors), dtype=np.int64)
            for v in held:
                idx, counts = self._vector(v)
                np.maximum.at(seen, idx, counts)
            missing = seen[arr.actor] < arr.counter
        count = int(missing.sum())
        return (count, now - float(arr.first[missing].min())) if count else (0, 0.0)

    def _sample(self) -> None:
        c = self.cluster
        now = c.sim.now
        any_behind = c.hints_pending() > 0
        for key, metas in c.key_writes.items():
            arr = self._arrays.setdefault(key, _KeyArrays())
            arr.grow(metas, self._actors)
            for node in c.home_all(key):
                behind, t_behind = self._lag(arr, c.held(node, key), now)
                any_behind |= behind > 0
                self.rows.append((now, key, node, c.dc_of(node), behind, t_behind,
                                  c.replicas[node].up))
        self.behind_at.append((now, any_behind))
        if now + self.interval < c.end_time:
            c.sim.schedule(self.interval, self._sample)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=STALENESS_COLUMNS)

    def converged_at(self) -> float:
        """The first sample time from which on nothing was behind (NaN if never)."""
        times = [t for t, _ in self.behind_at]
        last_bad = max((i for i, (_, bad) in enumerate(self.behind_at) if bad), default=-1)
        if last_bad == len(self.behind_at) - 1:
            return math.nan
        return times[last_bad + 1] if times else math.nan


def staleness_summary(staleness: pd.DataFrame, by: str = "key") -> pd.DataFrame:
    """Per ``key`` or ``node`` (or ``"overall"``): how often and how far replicas lagged.

    Columns: the group, ``samples``, ``stale_fraction`` (samples behind by >= 1
    version), ``mean_versions_behind``, ``max_versions_behind``, ``mean_time_behind_ms``,
    ``max_time_behind_ms``.
    """
    if by not in ("key", "node", "overall"):
        from replab.validate import fail

        raise fail("by", "staleness_summary", "one of 'key', 'node', 'overall'", by)
    df = staleness.assign(stale=staleness.versions_behind > 0, overall="all")
    col = "overall" if by == "overall" else by
    agg: dict[str, Any] = {
        "samples": ("stale", "size"),
        "stale_fraction": ("stale", "mean"),
        "mean_versions_behind": ("versions_behind", "mean"),
        "max_versions_behind": ("versions_behind", "max"),
        "mean_time_behind_ms": ("time_behind_ms", "mean"),
        "max_time_behind_ms": ("time_behind_ms", "max"),
    }
    return df.groupby(col, sort=True).agg(**agg).reset_index()
