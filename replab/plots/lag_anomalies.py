"""Replication-lag anomalies (``replab.models.anomaly_sweep``): rates and costs.

Mitigations are compared at the same lags with the same seeds (``anomaly_sweep`` uses
common random numbers), so the lines are drawn side by side, each nudged a little along x
(a "dodge") so that lines that coincide (several mitigations at zero) stay visible; every
point carries its 95 % interval as an error bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import (
    _axes,
    _styled,
    color_of,
    human,
)

__all__ = [
    "plot_anomaly_rates",
    "plot_mitigation_costs",
    "plot_mitigation_panels",
    "plot_rate_intervals",
]

_COST_LABELS = {
    "leader_read_share": "share of reads served by the leader",
    "read_p50_ms": "read latency p50 (ms)", "read_p99_ms": "read latency p99 (ms)",
    "extra_read_p50_ms": "extra read latency p50 (ms)",
    "extra_read_p99_ms": "extra read latency p99 (ms)",
    "read_failure_rate": "share of reads that failed",
}
_SHARES = ("leader_read_share", "read_failure_rate")


def _by_hue(df: pd.DataFrame, hue: str) -> list[tuple[Any, pd.DataFrame]]:
    return [(level, sub.sort_values("lag_ms")) for level, sub in df.groupby(hue, sort=False)]


def _dodge(df: pd.DataFrame, hue: str) -> dict[Any, float]:
    """x offset of each ``hue`` level: 1.2 % of the lag range apart, centred."""
    levels = list(dict.fromkeys(df[hue])) if len(df) else []
    span = float(df["lag_ms"].max() - df["lag_ms"].min()) if len(df) else 0.0
    step = 0.012 * (span or 1.0)
    return {lv: (i - (len(levels) - 1) / 2) * step for i, lv in enumerate(levels)}


def _line(ax: Axes, sub: pd.DataFrame, y: str, low: str | None, color: str, dx: float,
          label: str, fmt: str) -> None:
    x = sub["lag_ms"].to_numpy(dtype=float) + dx
    v = sub[y].to_numpy(dtype=float)
    err = None
    if low is not None:
        lo = sub[low].to_numpy(dtype=float)
        hi = sub[low.replace("_low", "_high")].to_numpy(dtype=float)
        err = np.vstack([np.clip(v - lo, 0, None), np.clip(hi - v, 0, None)])
    ax.errorbar(x, v, yerr=err, fmt=fmt, color=color, label=label, ms=4, capsize=2.5,
                lw=1.2, elinewidth=1.0)


def _legend(ax: Axes, source: Axes | None = None) -> None:
    handles, labels = (source or ax).get_legend_handles_labels()
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)


@_styled
def plot_anomaly_rates(df: pd.DataFrame, ax: Axes | None = None, *,
                       hue: str = "mitigation", legend: bool = True) -> Axes:
    """Anomaly rate against replication lag, one line (95 % Wilson bars) per ``hue``.

    ``df`` comes from :func:`replab.models.anomaly_sweep`: one row per ``hue`` value and
    ``lag_ms`` (select one value of any other swept field first). A ``hue`` level with no
    violation at any lag says so in the legend ("0 at every lag"); the bars then show how
    small a rate the runs can rule out.
    """
    ax = _axes(ax, layout="constrained")
    dodge = _dodge(df, hue)
    for i, (level, sub) in enumerate(_by_hue(df, hue)):
        zero = bool((sub["count"] == 0).all()) if "count" in sub else False
        name = str(level) if hue == "mitigation" else f"{human(hue)}: {level}"
        label = f"{name} (0 at every lag)" if zero else name
        _line(ax, sub, "rate", "ci_low", color_of(level, i), dodge[level], label, "o-")
    names = list(df["anomaly"].unique()) if "anomaly" in df and len(df) else []
    ax.set_xlabel("mean replication delay (ms)")
    what = names[0] if len(names) == 1 else "anomalous"
    ax.set_ylabel(f"{what} reads\n(share of examined reads)")
    top = float(np.nanmax(df["ci_high"])) if len(df) else 1.0
    ax.set_ylim(-0.03 * (top or 1.0), 1.05 * (top or 1.0))  # zeros sit above the axis
    if len(df) and legend:
        _legend(ax)
    return ax


@_styled
def plot_mitigation_costs(df: pd.DataFrame, ax: Axes | None = None, *,
                          cost: str = "leader_read_share", hue: str = "mitigation",
                          legend: bool = True) -> Axes:
    """A mitigation cost (a column of :func:`replab.models.anomaly_sweep`) against lag.

    ``cost`` is e.g. ``leader_read_share`` or ``read_p99_ms`` (drawn with their 95 %
    intervals, from the ``<cost>_ci_low/high`` columns), ``extra_read_p99_ms`` or
    ``read_failure_rate``; one line per ``hue`` value. The y axis starts at 0 (shares
    end at 1), so that noise is not magnified into a trend.
    """
    ax = _axes(ax, layout="constrained")
    dodge = _dodge(df, hue)
    low = f"{cost}_ci_low" if f"{cost}_ci_low" in df else None
    for i, (level, sub) in enumerate(_by_hue(df, hue)):
        _line(ax, sub, cost, low, color_of(level, i), dodge[level], str(level), "s--")
    ax.set_xlabel("mean replication delay (ms)")
    ax.set_ylabel(_COST_LABELS.get(cost, cost.replace("_", " ")))
    if cost in _SHARES:
        ax.set_ylim(-0.03, 1.03)
    elif len(df) and not cost.startswith("extra_"):
        ax.set_ylim(bottom=0)
    if len(df) and legend:
        _legend(ax)
    return ax


@_styled
def plot_mitigation_panels(df: pd.DataFrame, costs: Sequence[str] = ("leader_read_share",
                                                                      "read_p99_ms"),
                           *, title: str | None = None) -> np.ndarray:
    """The anomaly rate and each of ``costs`` side by side, one legend for all.

    Returns the array of Axes (rate first).
    """
    fig, axes = plt.subplots(1, 1 + len(costs), figsize=(4.2 * (1 + len(costs)) + 1.8, 3.4),
                             layout="constrained")
    plot_anomaly_rates(df, axes[0], legend=False)
    for ax, cost in zip(axes[1:], costs, strict=True):
        plot_mitigation_costs(df, ax, cost=cost, legend=False)
    if title:
        axes[0].set_title(title)
    if len(df):
        _legend(axes[-1], axes[0])
        same = _coinciding(df, costs)
        if same:
            axes[-1].get_legend().set_title("\n".join(same), prop={"size": 8})
    return np.asarray(axes)


def _coinciding(df: pd.DataFrame, costs: Sequence[str], hue: str = "mitigation") -> list[str]:
    """"<b>: costs as <a>" for every level whose costs equal an earlier level's at every
    lag (their lines lie on top of each other)."""
    levels = _by_hue(df, hue)
    notes = []
    for i, (b, sub_b) in enumerate(levels):
        for a, sub_a in levels[:i]:
            equal = [np.allclose(sub_a[c].to_numpy(dtype=float), sub_b[c].to_numpy(dtype=float),
                                 rtol=1e-9, atol=0.0, equal_nan=True) for c in costs]
            if len(sub_a) == len(sub_b) and all(equal):
                notes.append(f"{b}: costs identical to {a}\n(the lines coincide)")
                break
    return notes


@_styled
def plot_rate_intervals(df: pd.DataFrame, ax: Axes | None = None, *, label: str = "case",
                        what: str = "violation rate (of examined reads)") -> Axes:
    """One row per case: its rate as a dot with its 95 % Wilson interval as a bar.

    ``df`` has columns ``label``, ``count``, ``examined``, ``rate``, ``ci_low``,
    ``ci_high``; each row's ``count`` of ``examined`` is written on its y tick.
    """
    ax = _axes(ax, figsize=(7, 0.5 + 0.45 * len(df)), layout="constrained")
    y = np.arange(len(df))[::-1]
    rate = df["rate"].to_numpy(dtype=float)
    err = np.vstack([rate - df["ci_low"].to_numpy(dtype=float),
                     df["ci_high"].to_numpy(dtype=float) - rate])
    ax.errorbar(rate, y, xerr=np.clip(err, 0, None), fmt="o", color="0.2", capsize=3)
    ax.set_yticks(y, [f"{c}\n{k} of {n}" for c, k, n in
                      zip(df[label], df["count"], df["examined"], strict=True)], fontsize=8)
    ax.set_xlabel(f"{what}, 95 % Wilson interval")
    ax.set_xlim(left=-0.02 * max(float(df["ci_high"].max()), 1e-3))
    ax.set_ylim(-0.6, len(df) - 0.4)
    ax.grid(False, axis="y")
    return ax
