"""Are quorums linearizable? The fraction of non-linearizable keys per setting, and what
blocking read repair costs in read latency (frames of
:func:`replab.models.leaderless.linearizability_sweep`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import COLORS, _axes, _styled

__all__ = ["plot_linearizability", "plot_read_latency_cost"]


@_styled
def plot_linearizability(df: pd.DataFrame, ax: Axes | None = None, *,
                         title: str | None = None) -> Axes:
    """One row per setting: the fraction of keys whose history is not linearizable, with
    its Wilson 95 % interval; each row's label gives the counts ("2/12 keys"). A setting
    where no key failed is drawn at 0 with its upper bound."""
    ax = _axes(ax, figsize=(6.4, 0.45 * len(df) + 1.2))
    y = np.arange(len(df))[::-1]
    frac = df["fraction"].to_numpy(float)
    err = np.vstack([frac - df["ci_low"].to_numpy(float), df["ci_high"].to_numpy(float) - frac])
    ax.errorbar(frac, y, xerr=err, fmt="o", color=COLORS["stale"], ecolor=COLORS["stale"],
                capsize=3, label="non-linearizable keys (95 % Wilson CI)")
    labels = []
    for name, bad, keys, unknown in zip(df["setting"], df["not_linearizable"].astype(int),
                                        df["keys"].astype(int), df["unknown"].astype(int),
                                        strict=True):
        note = f"{bad}/{keys - unknown} keys" + (f", {unknown} undecided" if unknown else "")
        labels.append(f"{name}: {note}")
    ax.set_yticks(y, labels)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.7, len(df) - 0.3)
    ax.set_xlabel("fraction of keys not linearizable")
    if title:
        ax.set_title(title)
    return ax


@_styled
def plot_read_latency_cost(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Read latency per setting: the median and the p99 over every run's reads, with bars
    from the lowest to the highest of the runs' own median and p99."""
    ax = _axes(ax, figsize=(6.4, 0.45 * len(df) + 1.2))
    y = np.arange(len(df))[::-1]
    for q, marker, color in (("p50", "s", COLORS["read"]), ("p99", "o", COLORS["write"])):
        mid = df[f"read_{q}_ms"].to_numpy(float)
        err = np.vstack([mid - df[f"read_{q}_low_ms"].to_numpy(float),
                         df[f"read_{q}_high_ms"].to_numpy(float) - mid])
        ax.errorbar(mid, y, xerr=err, fmt=marker, color=color, capsize=3,
                    label="median" if q == "p50" else "p99")
    ax.annotate("bars: min–max of the runs", (0.99, 0.02), xycoords="axes fraction",
                ha="right", fontsize=8, color="#444444")
    ax.set_yticks(y, list(df["setting"]))
    ax.set_ylim(-0.7, len(df) + 0.6)
    ax.set_xlim(0, float(np.nanmax(df["read_p99_high_ms"])) * 1.15)
    ax.set_xlabel("read latency seen by the client (ms)")
    ax.legend(loc="upper right", ncols=2)
    return ax
