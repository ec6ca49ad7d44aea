"""Replication-lag anomalies (``replab.models.anomaly_sweep``): rates and costs."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import (
    _axes,
    color_of,
)

__all__ = [
    "plot_anomaly_rates",
    "plot_mitigation_costs",
]

_COST_LABELS = {
    "leader_read_share": "share of reads served by the leader",
    "read_p50_ms": "read latency p50 (ms)", "read_p99_ms": "read latency p99 (ms)",
    "extra_read_p50_ms": "extra read latency p50 (ms)",
    "extra_read_p99_ms": "extra read latency p99 (ms)",
    "read_failure_rate": "share of reads that failed",
}


def _by_hue(df: pd.DataFrame, hue: str) -> list[tuple[Any, pd.DataFrame]]:
    return [(level, sub.sort_values("lag_ms")) for level, sub in df.groupby(hue, sort=False)]


def plot_anomaly_rates(df: pd.DataFrame, ax: Axes | None = None, *,
                       hue: str = "mitigation") -> Axes:
    """Anomaly rate against replication lag, one line (with its 95 % CI band) per ``hue``.

    ``df`` comes from :func:`replab.models.anomaly_sweep`: one row per ``hue`` value and
    ``lag_ms`` (select one value of any other swept field first).
    """
    ax = _axes(ax)
    for i, (level, sub) in enumerate(_by_hue(df, hue)):
        color = color_of(level, i)
        ax.plot(sub["lag_ms"], sub["rate"], "o-", color=color, label=str(level), ms=4)
        ax.fill_between(sub["lag_ms"], sub["ci_low"], sub["ci_high"], color=color,
                        alpha=0.2, linewidth=0)
    names = list(df["anomaly"].unique()) if "anomaly" in df and len(df) else []
    ax.set_xlabel("mean replication delay (ms)")
    ax.set_ylabel(f"{names[0] if len(names) == 1 else 'anomaly'} rate (of examined reads)")
    ax.grid(True, alpha=0.3)
    if len(df):
        ax.legend(fontsize=8)
    return ax


def plot_mitigation_costs(df: pd.DataFrame, ax: Axes | None = None, *,
                          cost: str = "leader_read_share", hue: str = "mitigation") -> Axes:
    """A mitigation cost (a column of :func:`replab.models.anomaly_sweep`) against lag.

    ``cost`` is e.g. ``leader_read_share`` (drawn with its CI band), ``read_p99_ms``,
    ``extra_read_p99_ms`` or ``read_failure_rate``; one line per ``hue`` value.
    """
    ax = _axes(ax)
    for i, (level, sub) in enumerate(_by_hue(df, hue)):
        color = color_of(level, i)
        ax.plot(sub["lag_ms"], sub[cost], "s--", color=color, label=str(level), ms=4)
        if f"{cost}_ci_low" in sub:
            ax.fill_between(sub["lag_ms"], sub[f"{cost}_ci_low"], sub[f"{cost}_ci_high"],
                            color=color, alpha=0.15, linewidth=0)
    ax.set_xlabel("mean replication delay (ms)")
    ax.set_ylabel(_COST_LABELS.get(cost, cost.replace("_", " ")))
    ax.grid(True, alpha=0.3)
    if len(df):
        ax.legend(fontsize=8)
    return ax
