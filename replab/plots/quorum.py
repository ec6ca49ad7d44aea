"""Estimator plots: t-visibility curves, latency, availability, (r, w) heatmaps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from replab.plots._base import (
    COLORS,
    _axes,
    _styled,
    color_of,
    format_probability,
    human,
    legend_over_titles,
)

__all__ = [
    "plot_staleness",
    "plot_staleness_panels",
    "plot_tradeoff",
    "plot_latency_cdf",
    "plot_latency",
    "plot_availability",
    "plot_quorum_heatmap",
    "plot_tail",
]

#: Two curves whose 95 % bands overlap at this share of their points are said to coincide.
COINCIDE_SHARE = 0.9
#: On a log axis, curves within this ratio of each other draw as one line.
CLOSE_ON_LOG = 0.2
#: A band narrower than this (in axis units, or as a ratio on log axes) cannot be seen.
VISIBLE_BAND = 0.004


def _coinciding(ax: Axes, x: np.ndarray, y: np.ndarray,
                band: tuple[np.ndarray, np.ndarray] | None = None) -> str | None:
    """The label of a line already on ``ax`` that this one would hide, if any: the same
    values, a 95 % band overlapping the other's at :data:`COINCIDE_SHARE` of ``x``, or, on
    a log axis, values within :data:`CLOSE_ON_LOG` of the other's at that share."""
    for line in ax.get_lines():
        lx, ly = (np.asarray(v, dtype=float) for v in line.get_data())
        label = str(line.get_label())
        if (label.startswith("_") or lx.shape != x.shape or not np.allclose(lx, x)):
            continue
        scale = max(float(np.nanmax(np.abs(ly))), 1e-12)
        if float(np.nanmax(np.abs(ly - y))) <= 0.005 * scale:
            return label.split(" (")[0]
        other = getattr(line, "_replab_band", None)
        if band is not None and other is not None:
            share = float(np.mean((band[0] <= other[1]) & (other[0] <= band[1])))
            if share >= COINCIDE_SHARE:
                return f"{label.split(' (')[0]}: 95 % bands overlap at {share:.0%} of t"
        if ax.get_yscale() == "log":  # on a log axis, lines this close draw as one
            both = (ly > 0) & (y > 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                close = np.abs(np.log(y[both] / ly[both])) <= np.log(1 + CLOSE_ON_LOG)
            share = float(close.mean()) if both.any() else 0.0
            if share >= COINCIDE_SHARE:
                return (f"{label.split(' (')[0]}: within {CLOSE_ON_LOG:.0%} at "
                        f"{share:.0%} of t")
    return None


@_styled
def plot_staleness(
    df: pd.DataFrame, ax: Axes | None = None, *, label: str | None = None,
    color: str | None = None, logy: bool = False, legend: bool = True,
) -> Axes:
    """A t-visibility curve from :func:`replab.staleness`: P(consistent) with its CI band.

    With ``logy``, plots P(stale) = 1 - P(consistent) on a log scale, which shows the tail;
    a stale probability of zero (no stale read in ``trials``) is drawn at the resolution
    1 / trials, marked by a dotted line, instead of vanishing. A band too narrow to see is
    said so in the legend, and so is a line that coincides with one already drawn (equal
    values, or 95 % bands overlapping at every ``t``). ``legend=False`` leaves the legend
    to the caller (e.g. one for a row of panels).
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
        if not any(str(ln.get_label()).startswith("floor") for ln in ax.get_lines()):
            ax.axhline(floor, color="grey", ls=":", lw=0.8,
                       label=f"floor 1/{1 / floor:,.0f}: no stale read in the trials")
        narrow = float(np.nanmax(hi / lo)) < 1 + 10 * VISIBLE_BAND
    else:
        ax.set_ylabel("P(consistent read)")
        narrow = float(np.nanmax(hi - lo)) < VISIBLE_BAND
    notes = []
    same = _coinciding(ax, t, p, (lo, hi)) if label else None
    if same:
        notes.append(f"coincides with {same}")
    if narrow:
        notes.append("95 % CI narrower than the line")
    full = f"{label} ({'; '.join(notes)})" if label and notes else label
    (line,) = ax.plot(t, p, label=full, color=color,
                      ls="--" if same else "-")  # dashed: the line it hides shows through
    line._replab_band = (lo, hi)  # type: ignore[attr-defined]
    ax.fill_between(t, lo, hi, alpha=0.25, color=line.get_color(), linewidth=0)
    if logy:  # the floor line stays in view, with room below it
        bottom, top = ax.get_ylim()
        ax.set_ylim(min(bottom, floor / 2), max(top, 1.0))
    ax.set_xlabel("t: time after the write commits (ms)")
    ax.grid(True, alpha=0.3)
    if label and legend:
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
    """A heatmap of one column of :func:`replab.quorum.quorum_grid` over (r, w).

    Each cell is labelled with its value (:func:`format_probability`: never a rounded "1"
    for 0.99988); for ``p_stale`` with ``ci_low``/``ci_high`` columns, also "±" the 95 %
    interval's larger half-width.
    """
    ax = _axes(ax)
    table = df.pivot(index="r", columns="w", values=value)
    im = ax.imshow(table.to_numpy(), origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
                   extent=(0.5, table.shape[1] + 0.5, 0.5, table.shape[0] + 0.5))
    size = max(table.shape)  # smaller text in smaller cells; the CI only where it fits
    fontsize = 8 if size <= 4 else 7 if size <= 6 else 6
    with_ci = (value == "p_stale" and {"ci_low", "ci_high"} <= set(df.columns)
               and size <= 5)
    if with_ci:  # the Wilson interval's larger half-width, under the estimate
        half = df.assign(_h=np.maximum(df.p_stale - df.ci_low, df.ci_high - df.p_stale))
        halves = half.pivot(index="r", columns="w", values="_h").to_numpy()
    for (r, w), v in np.ndenumerate(table.to_numpy()):
        red, green, blue, _ = im.cmap(im.norm(v))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
        text = format_probability(v) + (f"\n±{halves[r, w]:.2g}" if with_ci else "")
        ax.text(w + 1, r + 1, text, ha="center", va="center", fontsize=fontsize,
                color="white" if dark else "black")
    ax.set_xticks(np.arange(1, table.shape[1] + 1), [str(w) for w in table.columns])
    ax.set_yticks(np.arange(1, table.shape[0] + 1), [str(r) for r in table.index])
    ax.grid(False)
    ax.set_xlabel("w (write quorum)")
    ax.set_ylabel("r (read quorum)")
    ax.set_title(human(value))
    ax.figure.colorbar(im, ax=ax, shrink=0.8, label=human(value))
    return ax


def _config_label(r: int, w: int) -> str:
    return f"R={r} W={w}"


def _coincide_note(label: str) -> str:
    """'R=1 W=2 (coincides with R=1 W=1: 95 % bands ...; ...)' -> 'R=1 W=2 = R=1 W=1 (95 %
    bands ...)': the note a panel's title carries."""
    name, rest = label.split(" (", 1)
    other, _, why = rest.rstrip(")").split(";")[0].removeprefix("coincides with ").partition(": ")
    return f"{name} ≈ {other}" + (f": {why.replace('95 % bands', 'bands')}" if why else "")


class _SparseLogLocator(LogLocator):
    """Ticks at 1, 2, 5 x 10^k over at most 2.5 decades; at 10^k only over more (a narrow
    panel spanning 0.01 to 200 ms would otherwise print 0.010.02 and 50100200)."""

    def tick_values(self, vmin: float, vmax: float) -> Any:
        lo, hi = sorted((vmin, vmax))
        wide = lo > 0 and hi / lo > 10 ** 2.5
        self.set_params(subs=(1.0,) if wide else (1.0, 2.0, 5.0))
        return super().tick_values(vmin, vmax)


def _plain_log_ticks(axis: Any) -> None:
    """Ticks at 1, 2, 5 x 10^k (10^k alone over many decades) labelled as plain numbers
    (no colliding 3x10^0, 4x10^0)."""
    axis.set_major_locator(_SparseLogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


@_styled
def plot_staleness_panels(df: pd.DataFrame, axes: Iterable[Axes] | None = None) -> Figure:
    """t-visibility curves, one panel a latency profile, one curve an (R, W), P(stale) on
    a log scale with 95 % bands, and one legend above the panels (never over data).

    ``df`` has the columns of :meth:`WarsTrials.staleness` plus ``profile``, ``r`` and
    ``w``. A curve that hides another (equal, or inside its 95 % band everywhere) is named
    in its panel's title; the resolution floor (zero stale reads in the trials) is drawn
    and named in the legend.
    """
    profiles = list(dict.fromkeys(df["profile"]))
    if axes is None:
        # No layout engine: constrained layout made the figure ~40 % slower to show.
        _, created = plt.subplots(1, len(profiles), figsize=(4.2 * len(profiles), 3.6),
                                  sharey=True, squeeze=False)
        axes = list(created[0])
    axes = list(axes)
    for ax, profile in zip(axes, profiles, strict=True):
        sub = df[df["profile"] == profile]
        for (r, w), curve in sub.groupby(["r", "w"], sort=False):
            plot_staleness(curve, ax=ax, label=_config_label(int(r), int(w)), logy=True,
                           legend=False)
        notes = [_coincide_note(str(ln.get_label())) for ln in ax.get_lines()
                 if "coincides with" in str(ln.get_label())]
        ax.set_title("\n".join([profile, *notes]), fontsize=10 if not notes else 9)
        if ax is not axes[0]:
            ax.set_ylabel("")
    fig = cast(Figure, axes[0].figure)
    handles, labels = axes[0].get_legend_handles_labels()
    clean = [lb.split(" (")[0] for lb in labels]
    legend_over_titles(fig, axes, handles, clean)
    return fig


@_styled
def plot_tradeoff(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """PBS's trade-off: the 99.9 % t-visibility against 99.9th-percentile read and write
    latency, one colour an (R, W), 95 % interval whiskers on both axes
    (:func:`replab.quorum.latency_staleness_tradeoff`)."""
    ax = _axes(ax)
    for i, rec in enumerate(df.to_dict("records")):
        row = {k: float(v) for k, v in rec.items()}
        label = _config_label(int(row["r"]), int(row["w"]))
        color = color_of(label, i)
        t = row["t_visibility"]
        xerr = [[t - row["t_ci_low"]], [row["t_ci_high"] - t]]
        for op, marker, face in (("write", "o", color), ("read", "s", "white")):
            y = row[f"{op}_ms"]
            yerr = [[y - row[f"{op}_ci_low"]], [row[f"{op}_ci_high"] - y]]
            ax.errorbar([t], [y], xerr=xerr, yerr=yerr, fmt=marker, color=color,
                        mfc=face, ms=6, capsize=2, lw=1,
                        label=label if op == "write" else None)
    ax.plot([], [], "o", color="0.3", label="write p99.9 (filled)")
    ax.plot([], [], "s", color="0.3", mfc="white", label="read p99.9 (open)")
    ax.set_xlabel("time until 99.9 % of reads are consistent (ms)")
    ax.set_ylabel("99.9th-percentile latency (ms)")
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), title="95 % CI whiskers")
    return ax


@_styled
def plot_latency_cdf(df: pd.DataFrame, ax: Axes | None = None, *, label: str = "",
                     color: str | None = None) -> Axes:
    """Read (solid) and write (dashed) latency CDFs from
    :func:`replab.quorum.latency_cdf`, with their 95 % DKW bands, on a log latency axis."""
    ax = _axes(ax)
    for op, style in (("read", "-"), ("write", "--")):
        sub = df[df["operation"] == op]
        name = f"{label} {op}".strip()
        (line,) = ax.plot(sub.latency_ms, sub.cdf, ls=style, label=name,
                          color=color or color_of(op))
        ax.fill_between(sub.latency_ms, sub.ci_low, sub.ci_high, color=line.get_color(),
                        alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    _plain_log_ticks(ax.xaxis)
    ax.set_xlabel("latency (ms), log scale")
    ax.set_ylabel("P(operation done)")
    ax.set_ylim(0, 1.02)
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
