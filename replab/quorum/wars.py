"""The WARS Monte Carlo estimator of Probabilistically Bounded Staleness.

One batch of trials serves every ``t``. For each trial the estimator computes the *wait*:
the smallest ``t`` at which the read (sent ``t`` ms after the write commits) would be
consistent,

    wait = min over the first r responders i of (W[i] - R[i]) - w_t,

because responder ``i`` is fresh iff ``w_t + t + R[i] >= W[i]``. The t-visibility curve is
the empirical CDF of ``wait`` and the time to reach a target probability is its quantile.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from replab.latency import as_wars
from replab.quorum.chunks import ChunkPlan, default_chunk_size
from replab.quorum.outcome import wars_outcome
from replab.quorum.stream import WarsStream
from replab.quorum.trials import (
    LatencyLike,
    QuorumConfig,
    WarsTrials,
    _trial_batch,
    check_times,
)
from replab.rng import SeedLike, as_generator, spawn_seeds
from replab.stats import wilson
from replab.validate import check_int, check_prob

__all__ = [
    "QuorumConfig",
    "WarsTrials",
    "WarsStream",
    "LatencyLike",
    "simulate_wars",
    "wars_outcome",
    "staleness",
    "t_visibility",
    "latency_percentiles",
    "fresh_read_probability",
]


WarsResult = WarsTrials | WarsStream


def simulate_wars(
    n: int,
    r: int,
    w: int,
    latency: LatencyLike,
    *,
    trials: int = 100_000,
    p_fail: float = 0.0,
    seed: SeedLike = None,
    executor: Any = None,
    chunk_size: int | None = None,
    progress: bool | None = None,
) -> WarsResult:
    """Run ``trials`` independent WARS trials.

    One call feeds ``staleness`` at any number of ``t``, ``t_visibility`` and
    ``latency_percentiles``. Up to one chunk of trials, the result is a
    :class:`WarsTrials` holding every per-trial outcome (the fast path behind the
    sliders). A larger run is a :class:`WarsStream`: its chunks are drawn, reduced and
    dropped, so memory stays flat for any ``trials``, and they run on ``executor``.

    Parameters
    ----------
    n, r, w : int
        Replicas, read quorum and write quorum (``1 <= r, w <= n``).
    latency : str, Distribution or WarsLatency
        A profile name (``"LNKD-SSD"``), a spec (``"exp:0.1"``), a distribution used for
        all four delays, or a :class:`~replab.latency.WarsLatency`.
    trials : int
    p_fail : float
        Probability that each replica is down for the whole trial (it neither stores the
        write nor answers the read).
    seed : int, Generator, SeedSequence or None
        A one-chunk run draws from ``seed`` directly; a longer one gives chunk ``i`` the
        ``i``-th child of a root ``SeedSequence`` derived from ``seed``.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Where the chunks of a streamed run are reduced (serially here if None). The result
        is the same bit for bit on every executor; keep it open while using the result.
    chunk_size : int, optional
        Trials per chunk (default :func:`~replab.quorum.chunks.default_chunk_size`, 2**20
        for n <= 7). Part of the result's identity: another size draws other trials.
    progress : bool, optional
        Show a progress bar with an ETA while chunks stream (default: from 2**25 trials).

    Examples
    --------
    >>> small = simulate_wars(3, 1, 1, "LNKD-SSD", trials=1000, seed=1)
    >>> type(small).__name__, small.trials
    ('WarsTrials', 1000)
    >>> big = simulate_wars(3, 1, 1, "LNKD-SSD", trials=5000, chunk_size=2048, seed=1)
    >>> type(big).__name__, big.plan.chunks
    ('WarsStream', 3)
    """
    cfg = QuorumConfig(n=n, r=r, w=w)
    check_int(trials, "trials", "simulate_wars", low=1)
    check_prob(p_fail, "p_fail", "simulate_wars")
    size = default_chunk_size(n) if chunk_size is None else check_int(
        chunk_size, "chunk_size", "simulate_wars", low=1)
    model = as_wars(latency)
    if trials <= size:
        wait, read, write = _trial_batch(cfg, model, as_generator(seed), trials, p_fail)
        return WarsTrials(cfg, model, wait, read, write)
    plan = ChunkPlan(cfg, model, trials, size, float(p_fail), spawn_seeds(seed, 1)[0])
    return WarsStream(plan, executor, progress)


def staleness(
    n: int,
    r: int,
    w: int,
    latency: LatencyLike,
    t: float | Iterable[float],
    *,
    k: int = 1,
    trials: int = 100_000,
    seed: SeedLike = None,
    executor: Any = None,
) -> pd.DataFrame:
    """Probability that a read ``t`` ms after a write commits returns it (PBS t-visibility).

    Returns a DataFrame with columns ``t, p_consistent, ci_low, ci_high, trials``, one row
    per ``t``; every row comes from the same batch of trials. ``executor`` runs the chunks
    of a large batch (see :func:`simulate_wars`).

    Examples
    --------
    >>> df = staleness(3, 1, 1, "LNKD-SSD", [0, 10], trials=20_000, seed=1)
    >>> list(df.columns)
    ['t', 'p_consistent', 'ci_low', 'ci_high', 'trials']
    >>> bool(df.p_consistent.is_monotonic_increasing)
    True
    """
    check_times(t)
    res = simulate_wars(n, r, w, latency, trials=trials, seed=seed, executor=executor)
    return res.staleness(t, k=k)


def t_visibility(
    n: int,
    r: int,
    w: int,
    latency: LatencyLike,
    p: float | Iterable[float] = 0.999,
    *,
    k: int = 1,
    trials: int = 100_000,
    seed: SeedLike = None,
    executor: Any = None,
) -> pd.DataFrame:
    """Time after commit at which P(consistent) reaches ``p`` (a quantile, with its CI)."""
    res = simulate_wars(n, r, w, latency, trials=trials, seed=seed, executor=executor)
    return res.t_visibility(p, k=k)


def latency_percentiles(
    n: int,
    r: int,
    w: int,
    latency: LatencyLike,
    q: Iterable[float] = (50, 99, 99.9),
    *,
    trials: int = 100_000,
    seed: SeedLike = None,
    executor: Any = None,
) -> pd.DataFrame:
    """Read and write latency percentiles (ms) for a configuration."""
    res = simulate_wars(n, r, w, latency, trials=trials, seed=seed, executor=executor)
    return res.latency_percentiles(q)


def fresh_read_probability(
    n: int,
    r: int,
    w: int,
    latency: LatencyLike,
    t: float | Iterable[float],
    p_fail: float,
    *,
    trials: int = 100_000,
    seed: SeedLike = None,
    executor: Any = None,
) -> pd.DataFrame:
    """Availability and freshness together when each replica is down with ``p_fail``.

    A failed replica neither stores the write nor answers the read. Returns, per ``t``:
    ``p_write_ok`` (the write commits), ``p_read_ok`` (the read gathers r answers) and
    ``p_fresh_read`` = P(read succeeds and returns the write | write committed), each
    with Wilson 95 % bounds.
    """
    ts = check_times(t)
    res = simulate_wars(n, r, w, latency, trials=trials, p_fail=p_fail, seed=seed,
                        executor=executor)
    c = res.counts(ts)
    fresh = np.asarray(c.consistent) / c.committed if c.committed else np.full(ts.size, np.nan)
    lo, hi = wilson(c.consistent, c.committed)
    wlo, whi = wilson(c.write_ok, trials)
    rlo, rhi = wilson(c.read_ok, trials)
    return pd.DataFrame(
        {
            "t": ts,
            "p_fail": p_fail,
            "p_write_ok": c.write_ok / trials,
            "write_ci_low": float(wlo),
            "write_ci_high": float(whi),
            "p_read_ok": c.read_ok / trials,
            "read_ci_low": float(rlo),
            "read_ci_high": float(rhi),
            "p_fresh_read": fresh,
            "ci_low": lo,
            "ci_high": hi,
            "trials": trials,
        }
    )
