"""Plots of replication-log results: ``plot_*(df, ax=None) -> Axes``; no computation.

The frames come from :func:`replab.replog.compare_kinds` (one row per log kind) and
:func:`replab.replog.compare.side_by_side`. Nothing in :mod:`replab.replog` imports this.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.container import BarContainer

from replab.plots._base import COLORS

__all__ = [
    "KIND_COLORS",
    "plot_kind_metric",
    "plot_divergence",
    "plot_bytes_per_write",
    "plot_apply_rate",
    "plot_leader_cost",
    "style_side_by_side",
]

KIND_COLORS = {k: COLORS[k] for k in ("statement", "statement-fixed", "physical", "logical",
                                      "trigger")}


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    return ax


def _label(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def plot_kind_metric(
    df: pd.DataFrame, column: str, ax: Axes | None = None, *, ylabel: str | None = None,
    logy: bool = False, errors: tuple[str, str] | None = None,
) -> Axes:
    """Bars of ``df[column]`` per ``df['kind']`` (optionally with error bars)."""
    ax = _axes(ax)
    values = df[column].to_numpy(dtype=float)
    yerr = None
    if errors is not None:
        lo, hi = (df[c].to_numpy(dtype=float) for c in errors)
        yerr = np.vstack([values - lo, hi - values])
    colors = [KIND_COLORS.get(k, "#7f7f7f") for k in df["kind"]]
    bars: BarContainer = ax.bar(df["kind"], values, color=colors, yerr=yerr, capsize=3)
    ax.bar_label(bars, fmt=_label, fontsize=8)
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel or column)
    ax.tick_params(axis="x", labelrotation=30)
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def plot_divergence(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Share of compared rows that differ from the leader, with Wilson 95 % intervals."""
    ax = plot_kind_metric(df, "divergent_fraction", ax, ylabel="divergent rows (share)",
                          errors=("ci_low", "ci_high"))
    ax.set_title("divergence after replay")
    return ax


def plot_bytes_per_write(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Log payload shipped per client write (log scale: page images dwarf the rest)."""
    ax = plot_kind_metric(df, "bytes_per_write", ax, ylabel="bytes shipped / write",
                          logy=True)
    ax.set_title("log volume")
    return ax


def plot_apply_rate(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Client writes a follower applies per second of apply time (wall clock)."""
    ax = plot_kind_metric(df, "apply_rate", ax, ylabel="writes applied / s")
    ax.set_title("apply rate")
    return ax


def plot_leader_cost(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bytes the leader writes to its own WAL per client write (capture overhead)."""
    ax = plot_kind_metric(df, "leader_wal_bytes_per_write", ax,
                          ylabel="leader WAL bytes / write")
    ax.set_title("leader overhead")
    return ax


def style_side_by_side(frame: pd.DataFrame) -> Any:
    """A Styler of :func:`~replab.replog.compare.side_by_side` with differing rows shaded."""
    shade = {"changed": "background-color: #fde0c5", "missing": "background-color: #f8c6c6",
             "extra": "background-color: #d6e9f8"}

    def row_style(row: pd.Series) -> list[str]:
        return [shade.get(row[("", "status")], "")] * len(row)

    return frame.style.apply(row_style, axis=1)
