"""A literal, second implementation of the WARS model, used as a test oracle.

It follows the reference definition step by step (sort responders, take the first r, test
each for freshness) and draws a fresh batch for every ``t`` -- the approach the main
estimator avoids. Slow by design; do not use it behind a slider.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from replab.latency import Distribution, WarsLatency, as_wars
from replab.quorum.wars import QuorumConfig
from replab.rng import SeedLike, as_generator
from replab.stats import wilson

__all__ = ["consistent_at", "staleness_per_t"]


def consistent_at(
    W: np.ndarray, A: np.ndarray, R: np.ndarray, S: np.ndarray, r: int, w: int, t: float
) -> np.ndarray:
    """Per trial: is a read sent ``t`` ms after commit consistent? Arrays are (trials, n)."""
    commit = np.sort(W + A, axis=1)[:, w - 1]
    order = np.argsort(R + S, axis=1, kind="stable")[:, :r]
    rows = np.arange(W.shape[0])[:, None]
    fresh = commit[:, None] + t + R[rows, order] >= W[rows, order]
    return np.asarray(fresh.any(axis=1))


def staleness_per_t(
    n: int,
    r: int,
    w: int,
    latency: str | Distribution | WarsLatency,
    t: Iterable[float],
    *,
    trials: int = 100_000,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """The t-visibility curve, re-simulated independently at every ``t``."""
    cfg = QuorumConfig(n=n, r=r, w=w)
    model = as_wars(latency)
    rng = as_generator(seed)
    rows = []
    for tt in t:
        W, A, R, S = (x.T for x in model.sample(rng, trials, cfg.n))
        hits = int(consistent_at(W, A, R, S, cfg.r, cfg.w, float(tt)).sum())
        lo, hi = wilson(hits, trials)
        rows.append((float(tt), hits / trials, float(lo), float(hi), trials))
    return pd.DataFrame(rows, columns=["t", "p_consistent", "ci_low", "ci_high", "trials"])
