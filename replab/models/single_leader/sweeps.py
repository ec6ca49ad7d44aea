"""Sweeps over single-leader configurations: one row of metrics per run."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import pandas as pd

from replab.models.config_sweep import sweep_config
from replab.models.single_leader.cluster import simulate_single_leader
from replab.rng import SeedLike

__all__ = ["sweep_single_leader", "failover_tradeoff", "durability_tradeoff"]


def sweep_single_leader(
    base: Any,
    grid: Mapping[str, Sequence[Any]],
    *,
    repeats: int = 1,
    seed: SeedLike = None,
    executor: Executor | None = None,
    common_seeds: bool = False,
) -> pd.DataFrame:
    """Run ``base`` with every combination of ``grid`` (config field -> values).

    Returns one row per run: the grid values, ``repeat``, ``seed`` and every metric of
    ``SingleLeaderResult.metrics``. Each run gets its own seed (``replab.sweep``); with
    ``common_seeds`` every grid point runs the same ``repeats`` seeds (common random
    numbers: a difference between points is the parameters', not the seeds').

    >>> from replab.models import SingleLeaderConfig
    >>> df = sweep_single_leader(SingleLeaderConfig(duration_ms=200.0),
    ...                          {"mode": ["async", "sync"]}, seed=1)
    >>> df[["mode", "repeat", "acked_writes_lost"]].values.tolist()
    [['async', 0, 0], ['sync', 0, 0]]
    """
    return sweep_config(simulate_single_leader, base, grid, owner="sweep_single_leader",
                        repeats=repeats, seed=seed, executor=executor,
                        common_seeds=common_seeds)


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
    (default: mid-run) and no spikes. Every timeout runs the same seeds (repeat ``j``
    sees the same workload, spikes and crash at every timeout). Columns:
    ``failover_timeout_ms, repeat, unnecessary_failovers, unavailable_ms, failover_ms,
    acked_writes_lost``.
    """
    crash = base.duration_ms / 2 if crash_at_ms is None else crash_at_ms
    spikes = sweep_single_leader(
        dataclasses.replace(base, leader_crash_at_ms=None),
        {"failover_timeout_ms": list(timeouts)}, repeats=repeats, seed=seed,
        executor=executor, common_seeds=True)
    crashes = sweep_single_leader(
        dataclasses.replace(base, leader_crash_at_ms=crash, spike_rate=0.0),
        {"failover_timeout_ms": list(timeouts)}, repeats=repeats, seed=seed,
        executor=executor, common_seeds=True)
    out = spikes[["failover_timeout_ms", "repeat", "unnecessary_failovers",
                  "acked_writes_lost"]].copy()
    out["unavailable_ms"] = crashes["unavailable_ms"].to_numpy()
    out["failover_ms"] = crashes["failover_ms"].to_numpy()
    return out


#: The columns of :func:`durability_tradeoff`.
DURABILITY_COLUMNS = ["mode", "repeat", "seed", "write_p50_ms", "write_p99_ms",
                      "acked_writes_lost", "writes_ok", "write_availability"]


def durability_tradeoff(
    base: Any,
    modes: Sequence[str] = ("async", "semi-sync", "sync"),
    *,
    repeats: int = 5,
    seed: SeedLike = None,
    crash_at_ms: float | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Write latency against writes lost when the leader crashes, per replication mode.

    Every mode runs ``repeats`` times with the same seeds (common random numbers: run
    ``j`` of every mode sees the same workload, delays and crash), ``base`` with its
    leader crashing at ``crash_at_ms`` (default: mid-run). Columns
    :data:`DURABILITY_COLUMNS`, one row per run.

    >>> from replab.models import SingleLeaderConfig
    >>> df = durability_tradeoff(SingleLeaderConfig(duration_ms=400.0, write_rate=200.0,
    ...                          lag="uniform:5,60"), repeats=2, seed=1)
    >>> seeds = df.groupby("mode", sort=False).seed.unique().map(list).tolist()
    >>> seeds == [list(df.seed[:2])] * 3
    True
    """
    crash = base.duration_ms / 2 if crash_at_ms is None else crash_at_ms
    df = sweep_single_leader(dataclasses.replace(base, leader_crash_at_ms=crash),
                             {"mode": list(modes)}, repeats=repeats, seed=seed,
                             executor=executor, common_seeds=True)
    return df[DURABILITY_COLUMNS]


__all__ += ["DURABILITY_COLUMNS"]
