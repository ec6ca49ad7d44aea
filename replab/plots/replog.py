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
    "plot_divergence_by_workload",
    "plot_snapshot_catchup",
]

KIND_COLORS = {k: COLORS[k] for k in ("statement", "statement-fixed", "physical", "logical",
                                      "trigger")}


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    return ax


def _label(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _two_figures(v: float) -> str:
    """``v`` rounded to two significant figures (a wall-clock rate is no more precise)."""
    return f"{float(f'{v:.2g}'):,.0f}" if abs(v) >= 10 else f"{v:.2g}"


def plot_kind_metric(
    df: pd.DataFrame, column: str, ax: Axes | None = None, *, ylabel: str | None = None,
    logy: bool = False, errors: tuple[str, str] | None = None,
    fmt: Any = _label,
) -> Axes:
    """Bars of ``df[column]`` per ``df['kind']`` (optionally with error bars).

    With ``logy`` the values are dots on a log axis, each labelled (a bar's length means
    nothing on a log scale).
    """
    ax = _axes(ax)
    values = df[column].to_numpy(dtype=float)
    yerr = None
    if errors is not None:
        lo, hi = (df[c].to_numpy(dtype=float) for c in errors)
        yerr = np.vstack([values - lo, hi - values])
    colors = [KIND_COLORS.get(k, "#7f7f7f") for k in df["kind"]]
    if logy:
        x = np.arange(len(df))
        ax.scatter(x, values, color=colors, s=60, zorder=3)
        for xi, v in zip(x, values, strict=True):
            ax.annotate(fmt(v), (float(xi), float(v)), textcoords="offset points",
                        xytext=(0, 7), ha="center", fontsize=8)
        ax.set_xticks(x, list(df["kind"]))
        ax.set_xlim(-0.6, len(df) - 0.4)
        ax.set_yscale("log")
        ax.set_ylim(values.min() / 2, values.max() * 3)
    else:
        bars: BarContainer = ax.bar(df["kind"], values, color=colors, yerr=yerr, capsize=3)
        if yerr is None:
            ax.bar_label(bars, labels=[fmt(v) for v in values], fontsize=8)
        else:  # above the whisker, where the label does not cross it
            for k, (v, top) in enumerate(zip(values, values + yerr[1], strict=True)):
                ax.annotate(fmt(v), (float(k), float(top)), textcoords="offset points",
                            xytext=(0, 3), ha="center", fontsize=8)
        ax.margins(y=0.15)
    ax.set_ylabel(ylabel or column)
    ax.tick_params(axis="x", labelrotation=90)  # upright names never overlap
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def plot_divergence(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Share of compared rows that differ from the leader, with Wilson 95 % intervals."""
    ax = plot_kind_metric(df, "divergent_fraction", ax, ylabel="divergent rows (share)",
                          errors=("ci_low", "ci_high"))
    ax.set_title("divergence after replay")
    return ax


def plot_bytes_per_write(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Log payload shipped per client write (dots on a log scale: page images dwarf the
    rest)."""
    ax = plot_kind_metric(df, "bytes_per_write", ax,
                          ylabel="log shipped\n(bytes per write; log scale)", logy=True)
    ax.set_title("log volume")
    return ax


def plot_apply_rate(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Client writes a follower applies per second of apply time (wall clock), to two
    significant figures; with ``apply_rate_min``/``apply_rate_max`` columns (repeated
    runs) the bars carry min–max whiskers and the title says how many runs."""
    errors = ("apply_rate_min", "apply_rate_max") if "apply_rate_min" in df else None
    ax = plot_kind_metric(df, "apply_rate", ax, ylabel="writes applied / s (wall clock)",
                          errors=errors, fmt=_two_figures)
    runs = int(df["apply_runs"].min()) if "apply_runs" in df else 1
    ax.set_title("apply rate" + (f" (min–max of {runs} runs)" if errors else " (one run)"))
    return ax


def plot_leader_cost(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bytes the leader writes to its own WAL per client write (capture overhead)."""
    ax = plot_kind_metric(df, "leader_wal_bytes_per_write", ax,
                          ylabel="leader WAL written\n(bytes per write)")
    ax.set_title("leader overhead")
    return ax


def style_side_by_side(frame: pd.DataFrame) -> Any:
    """A Styler of :func:`~replab.replog.compare.side_by_side` with differing rows shaded."""
    shade = {"changed": "background-color: #fde0c5", "missing": "background-color: #f8c6c6",
             "extra": "background-color: #d6e9f8"}

    def row_style(row: pd.Series) -> list[str]:
        return [shade.get(row[("", "status")], "")] * len(row)

    return frame.style.apply(row_style, axis=1)


def plot_divergence_by_workload(grid: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Divergent rows (share of compared rows, Wilson 95 % whiskers) per workload, one bar
    per log kind: ``grid`` is :func:`~replab.replog.compare_kinds` frames stacked with a
    ``workload`` column."""
    ax = _axes(ax)
    workloads = list(dict.fromkeys(grid["workload"]))
    kinds = list(dict.fromkeys(grid["kind"]))
    width = 0.8 / len(kinds)
    for j, kind in enumerate(kinds):
        sub = grid[grid["kind"] == kind].set_index("workload").reindex(workloads)
        x = np.arange(len(workloads)) + (j - (len(kinds) - 1) / 2) * width
        v = sub["divergent_fraction"].to_numpy(dtype=float)
        bars = ax.bar(x, v, width, color=KIND_COLORS.get(kind, "#7f7f7f"), label=kind,
                      yerr=[v - sub["ci_low"].to_numpy(dtype=float),
                            sub["ci_high"].to_numpy(dtype=float) - v], capsize=2)
        ax.bar_label(bars, labels=["0" if val == 0 else "" for val in v], fontsize=7,
                     padding=4)
    ax.set_xticks(np.arange(len(workloads)), workloads)
    ax.set_xlabel("workload")
    ax.set_ylabel("divergent rows\n(share of compared rows)")
    ax.set_title("0: no divergent row", fontsize=9, loc="right")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1),
              title="log kind (whiskers:\n95 % Wilson CI)")
    return ax


def plot_snapshot_catchup(result: Any, ax: Axes | None = None) -> Axes:
    """A follower built from a snapshot while writes continue (``simulate_replog`` with
    ``join_at``): the log position the leader and the new follower hold against the
    leader's simulated time. The snapshot pins position ``snapshot_lsn``; the copy runs
    while the leader commits ``snapshot_commits_during`` more records (shaded); the new
    follower then applies that backlog and keeps up."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    m, log = result.metrics, result.log
    t = log["commit_ms"].to_numpy(dtype=float)
    t = t - t[0]  # the leader's clock starts at a wall-clock epoch
    lsn = log["lsn"].to_numpy(dtype=int)
    ax.step(t, lsn, where="post", color=COLORS["leader"], label="leader (commits)")
    pinned, during = int(m["snapshot_lsn"]), int(m["snapshot_commits_during"])
    start = t[pinned - 1] if pinned > 0 else 0.0
    joined = min(pinned + during, len(t))
    end = t[joined - 1]
    ax.axvspan(start, end, color="0.85", zorder=0,
               label=f"snapshot copied ({during} commits meanwhile)")
    ax.plot([end, end], [pinned, joined], color=COLORS["follower"], lw=2.5,
            label=f"new follower: snapshot at {pinned}, then a backlog of "
                  f"{m['snapshot_backlog']} records")
    ax.plot(end, pinned, "o", color=COLORS["follower"])
    ax.step(t[joined - 1:], lsn[joined - 1:], where="post", color=COLORS["follower"],
            ls="--", label="new follower afterwards (dashed: on the leader's line)")
    ax.set(xlabel="leader's simulated time since its first commit (ms)",
           ylabel="log position (records)")
    ax.legend(fontsize=8, loc="upper left")
    return ax
