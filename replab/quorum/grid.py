"""Every (r, w) for one n from one batch of delays (common random numbers)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from replab.latency import Distribution, WarsLatency, as_wars
from replab.quorum.closed import availability
from replab.quorum.outcome import _count_at_most, wars_outcome
from replab.quorum.wars import QuorumConfig
from replab.rng import SeedLike, as_generator
from replab.stats import wilson
from replab.validate import check_float, check_int, check_prob

__all__ = ["quorum_grid"]


def quorum_grid(
    n: int,
    latency: str | Distribution | WarsLatency,
    t: float = 0.0,
    *,
    p_fail: float = 0.0,
    trials: int = 20_000,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """Staleness and availability for every ``1 <= r, w <= n``, for heatmaps.

    All cells share one batch of delays, so differences between cells are not noise:
    the stale-read probability is exactly monotone in r and in w.

    Returns one row per (r, w) with ``p_stale`` (P(read t ms after commit misses the
    write)), its Wilson ``ci_low``/``ci_high``, the exact ``p_read_available`` and
    ``p_write_available`` for ``p_fail``, ``p_both_available`` (at least max(r, w)
    replicas up) and ``strict`` (r + w > n).
    """
    QuorumConfig(n=n, r=1, w=1)
    check_float(t, "t", "quorum_grid", low=0.0)
    check_prob(p_fail, "p_fail", "quorum_grid")
    check_int(trials, "trials", "quorum_grid", low=1)
    model = as_wars(latency)
    delays = model.sample(as_generator(seed), trials, n)
    ts = np.array([float(t)])
    rows = []
    for r in range(1, n + 1):
        for w in range(1, n + 1):
            wait, _, _ = wars_outcome(*delays, r, w)
            stale = trials - int(_count_at_most(wait, ts)[0])
            lo, hi = wilson(stale, trials)
            avail = availability(n, r, w, p_fail).iloc[0]
            rows.append((r, w, stale / trials, float(lo), float(hi),
                         avail.p_read_available, avail.p_write_available,
                         avail.p_both_available, r + w > n))
    return pd.DataFrame(rows, columns=["r", "w", "p_stale", "ci_low", "ci_high",
                                       "p_read_available", "p_write_available",
                                       "p_both_available", "strict"])
