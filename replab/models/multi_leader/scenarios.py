"""Multi-leader experiments: sweeps, strategy and topology comparisons, offline devices.

Each function runs :func:`~replab.models.multi_leader.simulate_multi_leader` over a grid
(through :func:`replab.sweep.sweep`, one seed per run) and returns a tidy DataFrame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import pandas as pd

from replab.models.config_sweep import sweep_config
from replab.models.multi_leader.cluster import simulate_multi_leader
from replab.models.multi_leader.config import RESOLUTIONS, MultiLeaderConfig
from replab.rng import SeedLike, as_generator
from replab.stats import wilson
from replab.validate import check_float, check_int

__all__ = [
    "sweep_multi_leader",
    "strategy_outcomes",
    "offline_windows",
    "calendar_config",
    "DAY_MS",
    "HOUR_MS",
]

HOUR_MS = 3_600_000.0
DAY_MS = 24 * HOUR_MS


def sweep_multi_leader(
    base: MultiLeaderConfig,
    grid: Mapping[str, Sequence[Any]],
    *,
    repeats: int = 1,
    seed: SeedLike = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Run ``base`` with every combination of ``grid`` (config field -> values).

    Returns one row per run: the grid values, ``repeat``, ``seed`` and every metric of
    ``MultiLeaderResult.metrics``.

    >>> df = sweep_multi_leader(MultiLeaderConfig(duration_ms=200.0),
    ...                         {"topology": ["all-to-all", "circular"]}, seed=1)
    >>> df[["topology", "converged", "writes_not_propagated"]].values.tolist()
    [['all-to-all', True, 0], ['circular', True, 0]]
    """
    return sweep_config(simulate_multi_leader, base, grid, owner="sweep_multi_leader",
                        repeats=repeats, seed=seed, executor=executor)


def strategy_outcomes(
    base: MultiLeaderConfig,
    strategies: Sequence[str] = RESOLUTIONS,
    *,
    repeats: int = 5,
    seed: SeedLike = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Does each resolution strategy converge, and what does it lose?

    One row per strategy: ``resolution, runs, converged`` (fraction of runs in which every
    replica ended equal) with Wilson ``ci_low``/``ci_high``, and the means of
    ``conflicts, lost_writes, lost_acked_writes, divergent_keys`` per run, the first two
    also with ``_min`` and ``_max`` over the runs. Run ``j`` of every strategy uses the
    same seed (common random numbers: the same writes, delays and clocks).
    """
    if not isinstance(seed, int):  # one root for every strategy
        seed = int(as_generator(seed).integers(0, 2**63))
    runs = pd.concat([sweep_multi_leader(base, {"resolution": [name]}, repeats=repeats,
                                         seed=seed, executor=executor)
                      for name in strategies], ignore_index=True)
    rows = []
    for name in strategies:
        sub = runs[runs["resolution"] == name]
        k = int(sub["converged"].sum())
        lo, hi = wilson(k, len(sub))
        rows.append({"resolution": name, "runs": len(sub), "converged": k / len(sub),
                     "ci_low": float(lo), "ci_high": float(hi),
                     **{m: float(sub[m].mean()) for m in
                        ("conflicts", "lost_writes", "lost_acked_writes", "divergent_keys")},
                     **{f"{m}_{f}": float(getattr(sub[m], f)()) for m in
                        ("conflicts", "lost_writes") for f in ("min", "max")}})
    return pd.DataFrame(rows)


def offline_windows(devices: int, days: float, *, seed: SeedLike = None,
                    mean_online_hours: float = 8.0,
                    mean_offline_hours: float = 12.0) -> tuple[tuple[str, float, float], ...]:
    """Random offline windows for devices ``dc0`` ... (times in ms), as data.

    Each device alternates exponential online and offline periods (means in hours),
    starting online; windows are cut at the end of ``days``.

    >>> offline_windows(2, 1, seed=3) == offline_windows(2, 1, seed=3)
    True
    """
    owner = "offline_windows"
    check_int(devices, "devices", owner, low=1, high=64)
    check_float(days, "days", owner, low=0.0, low_open=True)
    check_float(mean_online_hours, "mean_online_hours", owner, low=0.0, low_open=True)
    check_float(mean_offline_hours, "mean_offline_hours", owner, low=0.0, low_open=True)
    rng, end = as_generator(seed), float(days) * DAY_MS
    out = []
    for d in range(devices):
        t = float(rng.exponential(mean_online_hours * HOUR_MS))
        while t < end:
            off = float(rng.exponential(mean_offline_hours * HOUR_MS))
            out.append((f"dc{d}", t, min(t + off, end)))
            t += off + float(rng.exponential(mean_online_hours * HOUR_MS))
    return tuple(sorted(out, key=lambda w: (w[1], w[0])))


def calendar_config(devices: int = 3, days: float = 3.0, *,
                    windows: Sequence[tuple[str, float, float]] | None = None,
                    events_per_day: float = 20.0, slots: int = 10,
                    resolution: str = "siblings", seed: SeedLike = None,
                    **overrides: Any) -> MultiLeaderConfig:
    """A calendar shared by one user's devices, each device a leader (DDIA's example).

    Every device holds the whole calendar (``slots`` records), accepts edits while offline
    and syncs with the others when it reconnects (all-to-all, no followers, one session per
    device). ``windows`` are the offline periods (default: :func:`offline_windows` drawn
    from ``seed``); ``events_per_day`` edits happen over all devices together.
    """
    check_float(events_per_day, "events_per_day", "calendar_config", low=0.0)
    if windows is None:
        windows = offline_windows(devices, days, seed=seed)
    rate = float(events_per_day) / 86_400.0
    params: dict[str, Any] = dict(
        topology="all-to-all", datacenters=devices, followers_per_dc=0, sessions=devices,
        duration_ms=float(days) * DAY_MS, settle_ms=HOUR_MS, write_rate=rate,
        read_rate=rate, keys=slots, resolution=resolution, wan_delay="50+exp:0.01",
        retry_ms=1000.0, retry_max_ms=60_000.0, offline=tuple(windows),
    )
    params.update(overrides)
    return MultiLeaderConfig(**params)
