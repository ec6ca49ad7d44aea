"""Estimator plots: t-visibility curves, latency, availability, (r, w) heatmaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import (
    PALETTE,
    _axes,
    _styled,
)

__all__ = [
    "plot_staleness",
    "plot_latency",
    "plot_availability",
    "plot_quorum_heatmap",
]

@_styled
def plot_staleness(
    df: pd.DataFrame, ax: Axes | None = None, *, label: str | None = None,
    color: str | None = None, logy: bool = False,
) -> Axes:
    """A t-visibility curve from :func:`replab.staleness`: P(consistent) with its CI band.

    With ``logy``, plots P(stale) = 1 - P(consistent) on a log scale, which shows the tail.
    """
    ax = _axes(ax)
    t = df["t"].to_numpy()
    p, lo, hi = (df[c].to_numpy() for c in ("p_consistent", "ci_low", "ci_high"))
    if logy:
        p, lo, hi = 1 - p, 1 - hi, 1 - lo
        ax.set_yscale("log")
        ax.set_ylabel("P(stale read)")
    else:
        ax.set_ylabel("P(consistent read)")
    (line,) = ax.plot(t, p, label=label, color=color)
    ax.fill_between(t, lo, hi, alpha=0.25, color=line.get_color(), linewidth=0)
    ax.set_xlabel("t: time after write commits (ms)")
    ax.grid(True, alpha=0.3)
    if label:
        ax.legend()
    return ax


@_styled
def plot_latency(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Read and write latency percentiles (from ``latency_percentiles``) with CI whiskers."""
    ax = _axes(ax)
    ops = list(dict.fromkeys(df["operation"]))
    pcts = list(dict.fromkeys(df["percentile"]))
    width = 0.8 / max(len(ops), 1)
    x = np.arange(len(pcts))
    for i, op in enumerate(ops):
        sub = df[df["operation"] == op].set_index("percentile").loc[pcts]
        err = np.vstack([sub.latency_ms - sub.ci_low, sub.ci_high - sub.latency_ms])
        ax.bar(x + i * width, sub.latency_ms, width, yerr=err, capsize=3, label=op,
               color=PALETTE[i % len(PALETTE)])
    ax.set_xticks(x + width * (len(ops) - 1) / 2, [f"p{p:g}" for p in pcts])
    ax.set_ylabel("latency (ms)")
    ax.legend()
    ax.grid(True, axis="y", alpha=0.3)
    return ax


@_styled
def plot_availability(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Quorum availability against the per-node failure probability (``availability``)."""
    ax = _axes(ax)
    for i, col in enumerate(["p_read_available", "p_write_available"]):
        ax.plot(df["p_fail"], df[col], label=col.split("_")[1], color=PALETTE[i])
    ax.set_xlabel("P(node down)")
    ax.set_ylabel("P(quorum available)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


@_styled
def plot_quorum_heatmap(
    df: pd.DataFrame, value: str = "p_stale", ax: Axes | None = None, *,
    cmap: str = "viridis", vmin: float | None = 0.0, vmax: float | None = 1.0,
) -> Axes:
    """A heatmap of one column of :func:`replab.quorum.quorum_grid` over (r, w)."""
    ax = _axes(ax)
    table = df.pivot(index="r", columns="w", values=value)
    im = ax.imshow(table.to_numpy(), origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
                   extent=(0.5, table.shape[1] + 0.5, 0.5, table.shape[0] + 0.5))
    for (r, w), v in np.ndenumerate(table.to_numpy()):
        red, green, blue, _ = im.cmap(im.norm(v))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        ax.text(w + 1, r + 1, f"{v:.3g}", ha="center", va="center", fontsize=8,
                color="white" if dark else "black")
    ax.set_xticks(np.arange(1, table.shape[1] + 1), [str(w) for w in table.columns])
    ax.set_yticks(np.arange(1, table.shape[0] + 1), [str(r) for r in table.index])
    ax.grid(False)
    ax.set_xlabel("w (write quorum)")
    ax.set_ylabel("r (read quorum)")
    ax.set_title(value)
    ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return ax
