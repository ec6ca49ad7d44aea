"""PBS's trade-off pictures as frames: latency against t-visibility, and latency CDFs."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from replab.quorum.wars import LatencyLike, WarsTrials, simulate_wars
from replab.rng import SeedLike
from replab.validate import check_float, check_int

__all__ = ["TRADEOFF_COLUMNS", "latency_staleness_tradeoff", "latency_cdf"]

TRADEOFF_COLUMNS = ["r", "w", "t_visibility", "t_ci_low", "t_ci_high", "read_ms",
                    "read_ci_low", "read_ci_high", "write_ms", "write_ci_low",
                    "write_ci_high", "trials"]


def latency_staleness_tradeoff(
    n: int, configs: Iterable[tuple[int, int]], latency: LatencyLike, *, p: float = 0.999,
    percentile: float = 99.9, trials: int = 100_000, seed: SeedLike = 0,
) -> pd.DataFrame:
    """For each ``(r, w)``: the time until ``p`` of reads are consistent, against the
    ``percentile`` read and write latency, each with its 95 % order-statistic interval.

    Every configuration runs with the same ``seed`` (common random numbers), so the
    differences between rows are the configuration's, not the sampling's.

    Returns
    -------
    DataFrame
        One row a configuration, columns :data:`TRADEOFF_COLUMNS` (times in ms).

    Examples
    --------
    >>> df = latency_staleness_tradeoff(3, [(1, 1), (2, 2)], "LNKD-SSD", trials=2_000)
    >>> df.loc[df.r == 2, "t_visibility"].item()  # strict quorum: consistent at once
    0.0
    """
    rows = []
    for r, w in configs:
        res = simulate_wars(n, r, w, latency, trials=trials, seed=seed)
        tv = res.t_visibility([p]).iloc[0]
        lat = res.latency_percentiles([percentile]).set_index("operation")
        rows.append({"r": r, "w": w, "t_visibility": tv.t, "t_ci_low": tv.ci_low,
                     "t_ci_high": tv.ci_high,
                     **{f"{op}_{c}": lat.loc[op, src] for op in ("read", "write")
                        for c, src in (("ms", "latency_ms"), ("ci_low", "ci_low"),
                                       ("ci_high", "ci_high"))},
                     "trials": res.trials})
    return pd.DataFrame(rows, columns=TRADEOFF_COLUMNS)


def latency_cdf(result: WarsTrials, *, points: int = 200, level: float = 0.95
                ) -> pd.DataFrame:
    """The empirical CDF of read and write latency of a WARS batch, with a
    Dvoretzky-Kiefer-Wolfowitz band (``level``, simultaneous over all latencies).

    Returns
    -------
    DataFrame
        Columns ``operation`` (read, write), ``latency_ms``, ``cdf``, ``ci_low``,
        ``ci_high`` and ``trials``; ``points`` rows per operation at evenly spaced
        probabilities (quantiles of the sample), failed operations excluded.
    """
    check_int(points, "points", "latency_cdf", low=2)
    check_float(level, "level", "latency_cdf", low=0.0, high=1.0, low_open=True,
                high_open=True)
    frames = []
    for op, values in (("read", result.read_latency), ("write", result.write_latency)):
        done = np.sort(values[np.isfinite(values)])
        probs = np.linspace(0.0, 1.0, points)
        xs = np.quantile(done, probs) if done.size else np.full(points, np.nan)
        cdf = np.searchsorted(done, xs, side="right") / max(done.size, 1)
        eps = np.sqrt(np.log(2 / (1 - level)) / (2 * max(done.size, 1)))
        frames.append(pd.DataFrame({"operation": op, "latency_ms": xs, "cdf": cdf,
                                    "ci_low": np.clip(cdf - eps, 0, 1),
                                    "ci_high": np.clip(cdf + eps, 0, 1),
                                    "trials": done.size}))
    return pd.concat(frames, ignore_index=True)
