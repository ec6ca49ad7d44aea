"""Confidence intervals shared by the estimators and the simulations."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["Z95", "wilson", "quantile_ci", "quantile_ranks"]

Z95 = 1.959963984540054


def wilson(
    successes: np.ndarray | int, trials: np.ndarray | int, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval (95 % by default) for ``successes / trials``.

    Vectorised; a zero-trial entry gets the uninformative interval [0, 1].

    >>> lo, hi = wilson(50, 100)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.4038, 0.5962)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n > 0, k / n, 0.0)
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    # Exact endpoints at the boundaries (floating error otherwise leaves 1e-17 gaps).
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    return low, high


def quantile_ci(
    values: np.ndarray, q: np.ndarray | float, z: float = Z95, *, assume_sorted: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample quantile(s) and a distribution-free confidence interval from order statistics.

    The estimate is the inverted-CDF quantile (the smallest x with ECDF(x) >= q). The
    interval is ``[x_(l), x_(u)]`` with ranks ``n q -/+ z sqrt(n q (1-q))``, the normal
    approximation of the binomial count of samples below the true quantile. ``q`` is in
    [0, 1]. Unsorted input is partitioned, not sorted (O(n) per order statistic).

    >>> est, lo, hi = quantile_ci(np.arange(1, 101), 0.5)
    >>> int(est[0]), int(lo[0]), int(hi[0])
    (50, 40, 61)
    """
    x = np.asarray(values)
    n = x.size
    qa = np.atleast_1d(np.asarray(q, dtype=float))
    if n == 0:
        nan = np.full(qa.shape, np.nan)
        return nan, nan, nan
    idx, lo, hi = quantile_ranks(n, qa, z)
    if not assume_sorted:
        x = _order_statistics(x, lo, hi)
    return x[idx], x[lo], x[hi]


def quantile_ranks(
    n: int, q: np.ndarray, z: float = Z95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 0-based ranks (estimate, CI low, CI high) :func:`quantile_ci` reads in a sorted
    sample of ``n >= 1`` values; for estimators that select order statistics themselves.

    >>> [int(r[0]) for r in quantile_ranks(100, np.array([0.5]))]
    [49, 39, 60]
    """
    idx = np.clip(np.ceil(q * n).astype(np.int64) - 1, 0, n - 1)
    spread = z * np.sqrt(n * q * (1 - q))
    lo = np.clip(np.floor(q * n - spread).astype(np.int64) - 1, 0, n - 1)
    hi = np.clip(np.ceil(q * n + spread).astype(np.int64), 0, n - 1)
    return idx, lo, hi


def _order_statistics(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A copy of ``x`` whose positions inside every ``[lo[i], hi[i]]`` hold ranks in order.

    Selecting one rank at a time on the shrinking right part, then sorting the short band
    between ``lo`` and ``hi``, is several times faster than ``np.partition`` with many kth.
    """
    y = np.array(x, copy=True)
    bands: list[list[int]] = []
    for a, b in sorted(zip(lo.tolist(), hi.tolist(), strict=True)):
        if bands and a <= bands[-1][1]:
            bands[-1][1] = max(bands[-1][1], b)
        else:
            bands.append([a, b])
    start = 0
    for a, b in bands:
        y[start:].partition(a - start)
        if b > a:
            y[a + 1 :].partition(b - a - 1)
            y[a + 1 : b].sort()
        start = b + 1
    return y


__all__ += ["percentile"]


def percentile(values: Sequence[float] | np.ndarray, q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, NaN when there are none.

    Empty samples are normal in simulation metrics (no read failed, say), hence NaN
    rather than numpy's error.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([], 99)
    (2.5, nan)
    """
    return float(np.percentile(values, q)) if len(values) else math.nan
