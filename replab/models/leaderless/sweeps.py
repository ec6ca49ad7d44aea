"""The leaderless notebook's sweeps: one tidy frame per question, averaged over seeds, and
:func:`pbs_staleness`, the simulated t-visibility curve (one pbs run per ``t``).

Each sweep runs :func:`~replab.models.leaderless.leaderless_metrics` over a grid with
``seeds`` repetitions per point (``replab.sweep``) and returns the mean of every numeric
column per point, sorted by the grid columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from replab.latency import Distribution, WarsLatency
from replab.models.leaderless.cluster import leaderless_metrics, simulate_leaderless
from replab.models.leaderless.config import LeaderlessConfig
from replab.rng import SeedLike, spawn, spawn_seeds
from replab.sweep import sweep
from replab.validate import check_float, fail

#: The rates :func:`availability_sweep` reports with their spread over runs.
AVAILABILITY_RATES = (("write_availability", "write availability"),
                      ("read_availability", "read availability"),
                      ("stale_read_rate", "stale-read probability"))

__all__ = ["AVAILABILITY_RATES", "availability_sweep", "first_attempt_sweep", "lww_loss_sweep",
           "sibling_sweep", "anti_entropy_sweep", "pbs_staleness"]


def _mean_over_seeds(df: pd.DataFrame, by: list[str],
                     spread: Sequence[str] = ()) -> pd.DataFrame:
    """The mean of every numeric column per point; for each column in ``spread`` also its
    ``_min`` and ``_max`` over the runs, and ``runs`` (how many)."""
    df = df.drop(columns=["seed", "seed_rep"])
    groups = df.groupby(by, sort=True)
    out = groups.mean(numeric_only=True).reset_index()
    if spread:
        lo, hi = groups[list(spread)].min(), groups[list(spread)].max()
        out = out.join(lo.add_suffix("_min"), on=by).join(hi.add_suffix("_max"), on=by)
        out["runs"] = groups.size().to_numpy()
    return out


def _rep_seeds(seed: SeedLike, seeds: int) -> list[int]:
    """One seed per repetition, shared by every setting of a sweep (common random
    numbers: a difference between two settings is the setting's, not the seeds')."""
    return [int(s.generate_state(1)[0]) for s in spawn_seeds(seed, seeds)]


def availability_sweep(p_fails: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.4), *, seeds: int = 3,
                       duration_ms: float = 2000.0, seed: SeedLike = 1) -> pd.DataFrame:
    """Strict against sloppy quorums (n=3, r=w=2, 8 clients) over the failure rate.

    Run ``j`` of every setting uses the same seed. Besides the means, the three rates
    (``write_availability, read_availability, stale_read_rate``) carry ``_min`` and
    ``_max`` over the ``runs``.
    """
    reps = _rep_seeds(seed, seeds)

    def point(p_fail: float, sloppy: bool, seed_rep: int, seed: int) -> dict[str, Any]:
        return leaderless_metrics(p_fail=p_fail, sloppy=sloppy, sessions=8,
                                  duration_ms=duration_ms, seed=reps[seed_rep])
    grid: dict[str, list[Any]] = {"p_fail": list(p_fails), "sloppy": [False, True],
                                  "seed_rep": list(range(seeds))}
    return _mean_over_seeds(sweep(point, grid, seed=seed), ["p_fail", "sloppy"],
                            [c for c, _ in AVAILABILITY_RATES])


def first_attempt_sweep(p_fails: Sequence[float] = (0.1, 0.2, 0.3), *,
                        duration_ms: float = 40_000.0, seed: SeedLike = 1) -> pd.DataFrame:
    """Strict quorums (n=3, r=w=2, 8 clients): first-attempt against eventual write
    availability, and the down fraction the run had (for the binomial closed form,
    :func:`replab.quorum.availability`).

    One long run per ``p_fail`` (the batch-means interval needs many outages). Columns
    ``p_fail, replica_down_fraction, first_attempt, ci_low, ci_high, eventual,
    eventual_ci_low, eventual_ci_high``.
    """
    def point(p_fail: float, seed: int) -> dict[str, Any]:
        m = leaderless_metrics(p_fail=p_fail, sessions=8, duration_ms=duration_ms, seed=seed)
        down = m["replica_down_fraction"]
        f = "write_first_attempt_availability"
        return {"replica_down_fraction": down, "first_attempt": m[f],
                "ci_low": m[f"{f}_ci_low"], "ci_high": m[f"{f}_ci_high"],
                "eventual": m["write_availability"],
                "eventual_ci_low": m["write_availability_ci_low"],
                "eventual_ci_high": m["write_availability_ci_high"]}
    df = sweep(point, {"p_fail": list(p_fails)}, seed=seed)
    return df.drop(columns=["seed"]).sort_values("p_fail", ignore_index=True)


def lww_loss_sweep(skews: Sequence[float] = (0.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0),
                   sessions: Sequence[int] = (1, 8), *, seeds: int = 3,
                   duration_ms: float = 2000.0, seed: SeedLike = 2) -> pd.DataFrame:
    """Writes discarded by last-write-wins against clock skew (3 keys, 300 writes/s and
    300 reads/s).

    Columns ``clock_skew_ms``, ``sessions``, ``discarded`` and ``by_skew`` (fractions of
    acknowledged writes), ``lost`` (``lost_writes_fraction``, every discarded write
    included), ``stale`` (``stale_read_rate``) and ``ryw`` (read-your-writes violations
    per ok read), both judged in real time. Run ``j`` of every setting uses the same seed;
    ``discarded`` and ``by_skew`` carry ``_min`` and ``_max`` over the ``runs``.
    """
    reps = _rep_seeds(seed, seeds)

    def point(clock_skew_ms: float, sessions: int, seed_rep: int, seed: int) -> dict[str, Any]:
        m = leaderless_metrics(clock_skew_ms=clock_skew_ms, sessions=sessions,
                               write_rate=300.0, read_rate=300.0, keys=3,
                               duration_ms=duration_ms, seed=reps[seed_rep])
        return {"discarded": m["lww_discarded_writes"] / m["writes_ok"],
                "by_skew": m["lww_discarded_by_skew"] / m["writes_ok"],
                "lost": m["lost_writes_fraction"], "stale": m["stale_read_rate"],
                "ryw": m["read_your_writes_violations"] / max(m["reads_ok"], 1)}
    grid: dict[str, list[Any]] = {"clock_skew_ms": list(skews), "sessions": list(sessions),
            "seed_rep": list(range(seeds))}
    return _mean_over_seeds(sweep(point, grid, seed=seed), ["clock_skew_ms", "sessions"],
                            ["discarded", "by_skew"])


def sibling_sweep(sessions: Sequence[int] = (1, 2, 4, 8),
                  read_rates: Sequence[float] = (0.0, 100.0, 400.0), *, seeds: int = 3,
                  duration_ms: float = 2000.0, seed: SeedLike = 3) -> pd.DataFrame:
    """Siblings under version vectors; each point reads at ``read_rate + 20`` per second.

    Run ``j`` of every setting uses the same seed; ``siblings_mean`` carries ``_min`` and
    ``_max`` over the ``runs``.
    """
    reps = _rep_seeds(seed, seeds)

    def point(sessions: int, read_rate: float, seed_rep: int, seed: int) -> dict[str, Any]:
        m = leaderless_metrics(resolution="siblings", sessions=sessions,
                               read_rate=read_rate + 20.0, write_rate=300.0, keys=3,
                               duration_ms=duration_ms, seed=reps[seed_rep])
        return {k: m[k] for k in ("siblings_mean", "siblings_max", "lost_writes",
                                  "concurrent_write_pairs")}
    grid: dict[str, list[Any]] = {"sessions": list(sessions), "read_rate": list(read_rates),
            "seed_rep": list(range(seeds))}
    return _mean_over_seeds(sweep(point, grid, seed=seed), ["sessions", "read_rate"],
                            ["siblings_mean"])


def anti_entropy_sweep(intervals: Sequence[float] = (25.0, 50.0, 100.0, 200.0, 400.0), *,
                       seeds: int = 3, duration_ms: float = 2000.0,
                       seed: SeedLike = 4) -> pd.DataFrame:
    """Convergence after node 0 missed every write (writes for ``duration_ms / 2``).

    Run ``j`` of every interval uses the same seed (the same writes and delays);
    ``convergence_ms`` and ``anti_entropy_bytes`` carry ``_min`` and ``_max`` over the
    ``runs``.
    """
    reps = _rep_seeds(seed, seeds)

    def point(anti_entropy_interval_ms: float, seed_rep: int, seed: int) -> dict[str, Any]:
        outage = ((0.0, "crash", {"node": 0}), (0.5 * duration_ms, "restart", {"node": 0}))
        m = leaderless_metrics(anti_entropy_interval_ms=anti_entropy_interval_ms,
                               faults=outage, read_rate=0.0, keys=50,
                               duration_ms=0.5 * duration_ms, settle_ms=duration_ms,
                               seed=reps[seed_rep])
        return {k: m[k] for k in ("convergence_ms", "anti_entropy_keys", "anti_entropy_bytes",
                                  "anti_entropy_rounds", "converged")}
    grid: dict[str, list[Any]] = {"anti_entropy_interval_ms": list(intervals),
                                  "seed_rep": list(range(seeds))}
    return _mean_over_seeds(sweep(point, grid, seed=seed), ["anti_entropy_interval_ms"],
                            ["convergence_ms", "anti_entropy_bytes"])


def pbs_staleness(
    n: int,
    r: int,
    w: int,
    latency: str | Distribution | WarsLatency,
    t: float | Iterable[float],
    *,
    trials: int = 10_000,
    p_fail: float = 0.0,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """The simulated t-visibility curve: one pbs run per ``t``.

    Same columns as :func:`replab.quorum.staleness`: ``t, p_consistent, ci_low, ci_high,
    trials`` (``trials`` counts the committed writes; a failed read is inconsistent).
    """
    ts: list[Any] = [t] if np.isscalar(t) else list(t)  # type: ignore[arg-type]
    if not ts:
        raise fail("t", "pbs_staleness", "a non-empty list of finite times >= 0 (ms)", ts)
    for x in ts:
        check_float(x, "t", "pbs_staleness", low=0.0)
    rows = []
    for x, s in zip(ts, spawn(seed, len(ts)), strict=True):
        cfg = LeaderlessConfig(workload="pbs", n=n, r=r, w=w, nodes=n, latency=latency,
                               read_delay=float(x), trials=trials, p_fail=p_fail)
        m = simulate_leaderless(cfg, seed=s).metrics
        rows.append((float(x), m["p_consistent"], m["p_consistent_ci_low"],
                     m["p_consistent_ci_high"], m["writes_committed"]))
    return pd.DataFrame(rows, columns=["t", "p_consistent", "ci_low", "ci_high", "trials"])
