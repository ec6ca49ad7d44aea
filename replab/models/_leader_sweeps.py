"""Sweeps over single-leader configurations: one row of metrics per run."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from functools import partial
from typing import Any

import pandas as pd

from replab.errors import ConfigError
from replab.rng import SeedLike
from replab.sweep import sweep

__all__ = ["sweep_single_leader", "failover_tradeoff"]


def _point(base: Any, *, seed: int, repeat: int = 0, **params: Any) -> dict[str, Any]:
    from replab.models.single_leader import simulate_single_leader

    config = dataclasses.replace(base, **params)
    return dict(simulate_single_leader(config, seed=seed).metrics)


def sweep_single_leader(
    base: Any,
    grid: Mapping[str, Sequence[Any]],
    *,
    repeats: int = 1,
    seed: SeedLike = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Run ``base`` with every combination of ``grid`` (config field -> values).

    Returns one row per run: the grid values, ``repeat``, ``seed`` and every metric of
    ``SingleLeaderResult.metrics``. Each run gets its own seed (``replab.sweep``).

    >>> from replab.models import SingleLeaderConfig
    >>> df = sweep_single_leader(SingleLeaderConfig(duration_ms=200.0),
    ...                          {"mode": ["async", "sync"]}, seed=1)
    >>> df[["mode", "repeat", "acked_writes_lost"]].values.tolist()
    [['async', 0, 0], ['sync', 0, 0]]
    """
    names = {f.name for f in dataclasses.fields(base)}
    unknown = [k for k in grid if k not in names]
    if unknown:
        raise ConfigError(
            f"The 'grid' parameter of sweep_single_leader must name config fields "
            f"({', '.join(sorted(names))}). Got {unknown[0]!r} instead."
        )
    full = {**grid, "repeat": list(range(repeats))}
    return sweep(partial(_point, base), full, seed=seed, executor=executor)


def failover_tradeoff(
    base: Any,
    timeouts: Sequence[float],
    *,
    repeats: int = 2,
    seed: SeedLike = None,
    crash_at_ms: float | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Unnecessary failovers vs unavailable time over failover timeouts.

    Two runs per timeout and repeat: ``base`` as given (its delay spikes cause false
    suspicions; no crash) and ``base`` with the leader crashing at ``crash_at_ms``
    (default: mid-run) and no spikes. Columns: ``failover_timeout_ms, repeat,
    unnecessary_failovers, unavailable_ms, failover_ms, acked_writes_lost``.
    """
    crash = base.duration_ms / 2 if crash_at_ms is None else crash_at_ms
    spikes = sweep_single_leader(
        dataclasses.replace(base, leader_crash_at_ms=None),
        {"failover_timeout_ms": list(timeouts)}, repeats=repeats, seed=seed,
        executor=executor)
    crashes = sweep_single_leader(
        dataclasses.replace(base, leader_crash_at_ms=crash, spike_rate=0.0),
        {"failover_timeout_ms": list(timeouts)}, repeats=repeats, seed=seed,
        executor=executor)
    out = spikes[["failover_timeout_ms", "repeat", "unnecessary_failovers",
                  "acked_writes_lost"]].copy()
    out["unavailable_ms"] = crashes["unavailable_ms"].to_numpy()
    out["failover_ms"] = crashes["failover_ms"].to_numpy()
    return out
