"""Estimator plots: t-visibility curves, latency, availability, (r, w) heatmaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import (
    COLORS,
    _axes,
    _styled,
    color_of,
    human,
)

__all__ = [
    "plot_staleness",
    "plot_latency",
    "plot_availability",
    "plot_quorum_heatmap",
    "plot_tail",
]

#: A band narrower than this (in axis units, or as a ratio on log axes) cannot be seen.
VISIBLE_BAND = 0.004


def _coinciding(ax: Axes, x: np.ndarray, y: np.ndarray) -> str | None:
    """The label of a line already on ``ax`` that this one would hide, if any."""
    for line in ax.get_lines():
        lx, ly = (np.asarray(v, dtype=float) for v in line.get_data())
        label = str(line.get_label())
        if (label.startswith("_") or lx.shape != x.shape or not np.allclose(lx, x)):
            continue
        scale = max(float(np.nanmax(np.abs(ly))), 1e-12)
        if float(np.nanmax(np.abs(ly - y))) <= 0.005 * scale:
            return label.split(" (")[0]
    return None


@_styled
def plot_staleness(
    df: pd.DataFrame, ax: Axes | None = None, *, label: str | None = None,
    color: str | None = None, logy: bool = False,
) -> Axes:
    """A t-visibility curve from :func:`replab.staleness`: P(consistent) with its CI band.

    With ``logy``, plots P(stale) = 1 - P(consistent) on a log scale, which shows the tail;
    a stale probability of zero (no stale read in ``trials``) is drawn at the resolution
    1 / trials, marked by a dotted line, instead of vanishing. A band too narrow to see is
    said so in the legend, and so is a line that coincides with one already drawn.
    """
    ax = _axes(ax)
    t = df["t"].to_numpy()
    p, lo, hi = (df[c].to_numpy(dtype=float) for c in ("p_consistent", "ci_low", "ci_high"))
    color = color or (COLORS.get(label) if label else None)
    if logy:
        floor = 1.0 / float(df["trials"].max()) if "trials" in df else 1e-6
        p, lo, hi = (np.maximum(v, floor) for v in (1 - p, 1 - hi, 1 - lo))
        ax.set_yscale("log")
        ax.set_ylabel("P(stale read), log scale")
        if not any(str(ln.get_label()).startswith("resolution") for ln in ax.get_lines()):
            ax.axhline(floor, color="grey", ls=":", lw=0.8,
                       label=f"resolution: 1 in {1 / floor:,.0f} trials")
        narrow = float(np.nanmax(hi / lo)) < 1 + 10 * VISIBLE_BAND
    else:
        ax.set_ylabel("P(consistent read)")
        narrow = float(np.nanmax(hi - lo)) < VISIBLE_BAND
    notes = []
    same = _coinciding(ax, t, p) if label else None
    if same:
        notes.append(f"coincides with {same}")
    if narrow:
        notes.append("95 % CI narrower than the line")
    full = f"{label} ({'; '.join(notes)})" if label and notes else label
    (line,) = ax.plot(t, p, label=full, color=color,
                      ls="--" if same else "-")  # dashed: the line it hides shows through
    ax.fill_between(t, lo, hi, alpha=0.25, color=line.get_color(), linewidth=0)
    ax.set_xlabel("t: time after the write commits (ms)")
    ax.grid(True, alpha=0.3)
    if label:
        ax.legend(loc="upper right" if logy else "lower right")
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
               color=color_of(op, i))
    ax.set_xticks(x + width * (len(ops) - 1) / 2, [f"p{p:g}" for p in pcts])
    ax.set_xlabel("percentile (95 % CI whiskers)")
    ax.set_ylabel("latency (ms)")
    ax.legend(loc="upper left")
    ax.grid(True, axis="y", alpha=0.3)
    return ax


@_styled
def plot_availability(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Quorum availability against the per-node failure probability (``availability``).

    When r = w the two lines coincide; the legend says so (the write line is dashed).
    """
    ax = _axes(ax)
    read, write = (df[f"p_{op}_available"].to_numpy(dtype=float) for op in ("read", "write"))
    same = bool(np.allclose(read, write))
    ax.plot(df["p_fail"], read, label="read quorum", color=COLORS["read"])
    ax.plot(df["p_fail"], write, color=COLORS["write"], ls="--",
            label="write quorum" + (" (coincides with read: r = w)" if same else ""))
    ax.set_xlabel("P(node down), independent failures")
    ax.set_ylabel("P(quorum available)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(loc="lower left")
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
    ax.set_title(human(value))
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label=human(value))
    return ax


@_styled
def plot_tail(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Tail t-visibility per profile (from :func:`replab.quorum.tail_visibility`).

    One colour a profile, the targets (99.99 %, ...) along x, the time on a log axis with
    95 % CI whiskers. Where too few trials lie beyond the quantile, the upper end of the
    interval is only the largest wait seen: that whisker ends in an open triangle, and the
    legend says what it means.
    """
    ax = _axes(ax, figsize=(7, 4))
    targets = sorted(set(df["p_target"]))
    names = list(dict.fromkeys(df["profile"]))
    open_ended = False
    for i, name in enumerate(names):
        sub = df[df["profile"] == name].set_index("p_target").loc[targets]
        x = np.arange(len(targets)) + (i - (len(names) - 1) / 2) * 0.08
        err = np.vstack([sub.t - sub.ci_low, sub.ci_high - sub.t])
        color = color_of(name, i)
        ax.errorbar(x, sub.t, yerr=err, fmt="o-", ms=4, capsize=3, color=color, label=name)
        loose = ~sub.bounded.to_numpy(dtype=bool)
        if loose.any():
            open_ended = True
            ax.plot(x[loose], sub.ci_high[loose], "^", mfc="white", color=color, ms=7)
    if open_ended:
        ax.plot([], [], "^", mfc="white", color="grey",
                label="CI upper end = largest wait seen\n(too few trials beyond it)")
    ax.set_xticks(np.arange(len(targets)), [f"{100 * p:.6g} %" for p in targets])
    ax.set_yscale("log")
    ax.set_xlabel("target P(consistent read) (95 % CI whiskers)")
    ax.set_ylabel("t-visibility: time after commit (ms), log scale")
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i] not in names)  # profiles first
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper left",
              bbox_to_anchor=(1.01, 1.0))  # beside the data, never on it
    ax.grid(True, alpha=0.3)
    return ax
