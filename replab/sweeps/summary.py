"""One row per grid point from the runs of a replicated sweep: means and 95 % intervals.

Every numeric metric gets its mean over the point's runs and a 95 % interval:

- a proportion whose numerator and denominator are metrics too (``stale_read_rate`` =
  ``stale_read_count / stale_read_examined``, ``write_availability`` = ``writes_ok /
  writes``, ...) gets the Wilson interval of the counts pooled over the runs, and its
  estimate is the pooled proportion (each run's ratio is checked against its counts; if
  one disagrees the metric falls back to the next rule);
- a bool (``converged``) is a proportion of runs: Wilson over the runs;
- any other rate or count gets Student's t interval of the mean over the runs (NaN with a
  single run, where no spread can be seen), its low end clipped at 0 when no run was
  negative (a count or a duration cannot be). NaN runs (a metric undefined in that run,
  e.g. ``failover_ms`` with no failover) are left out, and ``<metric>_runs`` says how
  many runs had a value when some did not.

Per-run intervals (``*_ci_low``, ``*_ci_high``, ``ci_low``, ``ci_high``) are replaced by
the point's; text columns are kept when they are the same for every run of the point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from replab.stats import Z95, wilson

__all__ = ["summarize", "t_quantile", "PROPORTIONS"]

#: (rate, numerator, denominator) for the proportions the models report with their counts.
#: Verified against every model's metrics by tests/test_sweep_models.py.
PROPORTIONS: tuple[tuple[str, str, str], ...] = (
    ("write_availability", "writes_ok", "writes"),
    ("read_availability", "reads_ok", "reads"),
    ("acked_writes_lost_fraction", "acked_writes_lost", "writes_ok"),
    ("lost_writes_fraction", "lost_writes", "writes_ok"),
    ("stale_read_rate", "stale_reads", "reads_ok"),
)

_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
         2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
         2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t_quantile(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom.

    Tabulated to 30, then the Cornish-Fisher expansion (error below 1e-4 there).

    >>> t_quantile(4), round(t_quantile(1000), 3)
    (2.776, 1.962)
    """
    if df <= len(_T975):
        return _T975[df - 1]
    z = Z95
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def _is_interval(name: str) -> bool:
    return name in ("ci_low", "ci_high") or name.endswith(("_ci_low", "_ci_high"))


def _pairs(columns: Sequence[str]) -> dict[str, tuple[str, str]]:
    """rate -> (numerator, denominator) for the proportions present in ``columns``."""
    cols = set(columns)
    out = {rate: (num, den) for rate, num, den in PROPORTIONS if {rate, num, den} <= cols}
    for name in cols:
        stem = name.removesuffix("_rate")
        if name.endswith("_rate") and {f"{stem}_count", f"{stem}_examined"} <= cols:
            out[name] = (f"{stem}_count", f"{stem}_examined")
    return out


def _ratios_agree(runs: pd.DataFrame, rate: str, num: str, den: str) -> bool:
    d = runs[den].to_numpy(dtype=float)
    shown = runs[rate].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = runs[num].to_numpy(dtype=float) / d
    ok = (d == 0) | np.isclose(ratio, shown, rtol=1e-9, atol=1e-12)
    return bool(ok.all())


def _mean_t(values: np.ndarray) -> tuple[float, float, float, int]:
    x = values[~np.isnan(values)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan, 1
    half = t_quantile(n - 1) * float(x.std(ddof=1)) / math.sqrt(n)
    low = mean - half if x.min() < 0 else max(0.0, mean - half)  # counts, times: >= 0
    return mean, low, mean + half, n


def _point_row(runs: pd.DataFrame, pairs: dict[str, tuple[str, str]]) -> dict[str, Any]:
    row: dict[str, Any] = {"runs": len(runs)}
    for name in runs.columns:
        col = runs[name]
        if _is_interval(name):
            continue
        if col.dtype.kind == "b":
            k = int(col.sum())
            lo, hi = wilson(k, len(col))
            row.update({name: k / len(col), f"{name}_ci_low": float(lo),
                        f"{name}_ci_high": float(hi)})
        elif col.dtype.kind in "iuf":
            rule = pairs.get(name)
            if rule is not None and _ratios_agree(runs, name, *rule):
                k, n = int(runs[rule[0]].sum()), int(runs[rule[1]].sum())
                lo, hi = wilson(k, n)
                row.update({name: k / n if n else math.nan, f"{name}_ci_low": float(lo),
                            f"{name}_ci_high": float(hi)})
                continue
            mean, lo_t, hi_t, seen = _mean_t(col.to_numpy(dtype=float))
            row.update({name: mean, f"{name}_ci_low": lo_t, f"{name}_ci_high": hi_t})
            if seen < len(col):
                row[f"{name}_runs"] = seen
        elif col.nunique(dropna=False) == 1:
            row[name] = col.iloc[0]
    return row


def summarize(runs: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """One row per distinct value of the ``by`` columns (the grid point), in first-seen
    order: ``by``, ``runs`` (how many), then per metric its estimate, ``_ci_low`` and
    ``_ci_high`` (see the module docstring).

    ``replication`` and ``seed`` columns are dropped (they tell runs apart).

    >>> runs = pd.DataFrame({"w": [1, 1, 2, 2], "reads": [10, 10, 10, 10],
    ...                      "stale": [2.0, 4.0, 0.0, 0.0]})
    >>> s = summarize(runs, ["w"])
    >>> s[["w", "runs", "stale", "stale_ci_low"]].round(2).values.tolist()
    [[1.0, 2.0, 3.0, 0.0], [2.0, 2.0, 0.0, 0.0]]
    """
    by = list(by)
    metrics = runs.drop(columns=[c for c in ("replication", "seed") if c in runs.columns])
    pairs = _pairs([str(c) for c in metrics.columns])
    rows = []
    for key, group in metrics.groupby(by, sort=False, dropna=False) if by else [((), metrics)]:
        values = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, values, strict=True))
        row.update(_point_row(group.drop(columns=by), pairs))
        rows.append(row)
    return pd.DataFrame(rows)
