"""Leaderless replication sweeps (``replab.models.leaderless_sweeps``): one picture each.

Every estimate from several runs is drawn as the mean with bars from the smallest to the
largest run ("min–max of N runs"); the sweeps give every setting the same seeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from replab.plots._base import COLORS, PALETTE, _axes, _styled

__all__ = [
    "plot_leaderless_availability",
    "plot_lww_loss",
    "plot_siblings",
    "plot_convergence",
    "plot_anti_entropy_cost",
    "plot_repair_comparison",
    "plot_cold_keys",
    "plot_merkle_cost",
    "plot_replica_lag",
    "shade_outages",
]

_AVAIL = (("write_availability", "write availability", "writes that succeeded (fraction)"),
          ("read_availability", "read availability", "reads that succeeded (fraction)"),
          ("stale_read_rate", "stale-read probability", "stale reads (fraction of ok reads)"))


def _minmax(ax: Axes, x: Any, df: pd.DataFrame, col: str, **kw: Any) -> None:
    """Mean of ``col`` with bars from ``col_min`` to ``col_max``."""
    mean = df[col].to_numpy(dtype=float)
    lo, hi = df[f"{col}_min"].to_numpy(dtype=float), df[f"{col}_max"].to_numpy(dtype=float)
    ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], capsize=3, **kw)


def _runs(df: pd.DataFrame) -> int:
    return int(df["runs"].min()) if "runs" in df else 1


def _spread_note(df: pd.DataFrame, col: str) -> str:
    """"bars: min–max of N runs", saying so when every bar is too short to see."""
    width = (df[f"{col}_max"] - df[f"{col}_min"]).abs().max()
    narrow = width < 0.03 * max(float(df[col].abs().max()), 1e-12)
    return f"bars: min–max of {_runs(df)} runs" + (" (narrower than the markers)"
                                                    if narrow else "")


@_styled
def plot_leaderless_availability(df: pd.DataFrame,
                                 axes: Sequence[Axes] | None = None, *,
                                 closed_form: pd.DataFrame | None = None) -> list[Axes]:
    """Write/read availability and stale reads against ``p_fail``, strict vs sloppy
    (n=3, r=w=2), each point the mean with min–max bars over the runs.

    ``df`` comes from :func:`~replab.models.availability_sweep`; ``closed_form`` (from
    :func:`replab.quorum.availability` at the same ``p_fail``) adds the binomial
    ``p_write_available`` and ``p_read_available`` as black dashes. Returns the three Axes.
    """
    if axes is None:
        axes = list(plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")[1])
    for sloppy, g in df.groupby("sloppy"):
        kind = "sloppy" if sloppy else "strict"
        x = g.p_fail.to_numpy(dtype=float) + (0.004 if sloppy else -0.004)
        for ax, (col, _, _) in zip(axes, _AVAIL, strict=True):
            _minmax(ax, x, g, col, fmt="o-", color=COLORS[kind], label=f"{kind} quorum")
    if closed_form is not None:
        for ax, col in zip(axes, ("p_write_available", "p_read_available"), strict=False):
            ax.plot(closed_form.p_fail, closed_form[col], "k_", ms=14, mew=2,
                    label="binomial closed form")
    for ax, (_, title, ylabel) in zip(axes, _AVAIL, strict=True):
        ax.set_title(title)
        ax.set(xlabel="fraction of the run each node is down", ylabel=ylabel)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[-1].legend(handles, labels, title=f"n=3, r=w=2\nbars: min–max of {_runs(df)} runs",
                    loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return list(axes)


@_styled
def plot_lww_loss(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Discarded writes (all, and because of skew) against clock skew, per client count;
    means with min–max bars over the runs."""
    ax = _axes(ax, figsize=(7.5, 3.4), layout="constrained")
    for i, (sessions, g) in enumerate(df.groupby("sessions")):
        color = PALETTE[i % len(PALETTE)]
        x = g.clock_skew_ms.to_numpy(dtype=float)
        _minmax(ax, x, g, "discarded", fmt="o-", color=color,
                label=f"{sessions} client(s): all discarded")
        _minmax(ax, x * 1.04, g, "by_skew", fmt="x--", color=color,
                label=f"{sessions} client(s): discarded because of skew")
    ax.set_xscale("symlog", linthresh=2.0)
    ticks = sorted(df.clock_skew_ms.unique())
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set(xlabel="clock skew (ms; linear below 2)",
           ylabel="fraction of acknowledged writes")
    ax.legend(fontsize=8, title=f"bars: min–max of {_runs(df)} runs", loc="upper left",
              bbox_to_anchor=(1.02, 1.0))
    return ax


@_styled
def plot_siblings(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean siblings per read against writing sessions, one line per read rate (min–max
    bars over the runs when the frame has them)."""
    ax = _axes(ax, figsize=(7, 3.2), layout="constrained")
    for i, (rr, g) in enumerate(df.groupby("read_rate")):
        extra = float(rr) + 20.0  # type: ignore[arg-type]
        x = g.sessions.to_numpy(dtype=float) * (1 + 0.03 * (i - 1))
        if "siblings_mean_min" in g:
            _minmax(ax, x, g, "siblings_mean", fmt="o-", label=f"{extra:g} reads/s")
        else:
            ax.plot(x, g.siblings_mean, "o-", label=f"{extra:g} reads/s")
    ax.set(xlabel="client sessions writing", ylabel="mean siblings per read")
    ax.legend(title=f"bars: min–max of {_runs(df)} runs", loc="upper left",
              bbox_to_anchor=(1.02, 1.0))
    return ax


@_styled
def plot_convergence(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Time to converge after the last write against the anti-entropy interval (mean with
    min–max bars over the runs when the frame has them)."""
    ax = _axes(ax, figsize=(5, 3))
    if "convergence_ms_min" in df:
        _minmax(ax, df.anti_entropy_interval_ms, df, "convergence_ms", fmt="o-",
                color=COLORS["anti-entropy only (every 100 ms)"],
                label=f"mean, {_spread_note(df, 'convergence_ms')}")
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.plot(df.anti_entropy_interval_ms, df.convergence_ms, "o-")
    ax.set(xlabel="anti-entropy interval (ms)",
           ylabel="time to converge after\nthe last write (ms)")
    ax.set_ylim(bottom=0)
    return ax


@_styled
def plot_anti_entropy_cost(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Bytes anti-entropy sent over the whole run against its interval (min–max bars)."""
    ax = _axes(ax, figsize=(5, 3))
    kb = df.assign(**{c: df[c] / 1000 for c in ("anti_entropy_bytes", "anti_entropy_bytes_min",
                                                  "anti_entropy_bytes_max")})
    _minmax(ax, kb.anti_entropy_interval_ms, kb, "anti_entropy_bytes", fmt="s-",
            color=COLORS["anti-entropy only (every 100 ms)"],
            label=f"mean, {_spread_note(df, 'anti_entropy_bytes')}")
    ax.set(xlabel="anti-entropy interval (ms)", ylabel="bytes sent by anti-entropy (kB)")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize=8)
    return ax


def shade_outages(ax: Axes, windows: Sequence[tuple[float, float]], *,
                  label: str = "node 0 down") -> None:
    """Shade each ``(start, end)`` window (ms) as an outage, with one legend entry."""
    for i, (start, end) in enumerate(windows):
        ax.axvspan(start, end, color=COLORS.get("node down", "#f4a582"), alpha=0.35, lw=0,
                   zorder=0, label=label if i == 0 else None)


@_styled
def plot_repair_comparison(timeline: pd.DataFrame, totals: pd.DataFrame, *,
                           restart_ms: float,
                           axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Read repair against anti-entropy (:func:`~replab.models.leaderless.repair_comparison`):
    stale (key, replica) pairs over time (median line, min–max band over the runs, the
    outage shaded) and the bytes each strategy sent to repair (mean, min–max bars)."""
    if axes is None:
        axes = list(plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained",
                                 gridspec_kw={"width_ratios": [3, 2]})[1])
    ax, bx = axes
    runs = int(totals.run.nunique())
    shade_outages(ax, [(0.0, restart_ms)])
    names = list(dict.fromkeys(totals.strategy))
    drawn: dict[str, pd.DataFrame] = {}
    for i, name in enumerate(names):
        wide = timeline[timeline.strategy == name].pivot(index="time", columns="run",
                                                          values="stale_pairs")
        same = [n for n, w in drawn.items() if w.equals(wide)]
        color = COLORS.get(name)
        ax.fill_between(wide.index, wide.min(axis=1), wide.max(axis=1), color=color,
                        alpha=0.2, lw=0)
        label = name + (f" (same as {same[0]})" if same else "")
        ax.plot(wide.index, wide.median(axis=1), color=color, label=label,
                ls=("-", "--", ":")[i % 3], lw=1.8)
        drawn[name] = wide
    ax.set(xlabel="time (ms)", ylabel="(key, replica) pairs behind")
    ax.set_ylim(0, 1.7 * float(timeline.stale_pairs.max()))
    ax.legend(fontsize=8, title=f"lines: median, band: min–max of {runs} runs",
              loc="upper right")
    kb = totals.groupby("strategy", sort=False).repair_bytes.agg(["mean", "min", "max"])
    kb = kb.loc[names] / 1000
    y = np.arange(len(kb))
    bx.barh(y, kb["mean"], color=[COLORS.get(n) for n in names],
            xerr=[kb["mean"] - kb["min"], kb["max"] - kb["mean"]], capsize=3)
    bx.set_yticks(y, names, fontsize=8)
    bx.invert_yaxis()
    bx.set(xlabel=f"bytes sent to repair (kB; bars: min–max of {runs} runs)")
    bx.set_title("cost over the whole run", fontsize=10)
    return list(axes)


@_styled
def plot_cold_keys(cold: pd.DataFrame, warm: pd.DataFrame,
                   axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Rarely read keys (:func:`~replab.models.leaderless.scenario_rarely_read_keys`): reads
    per key after the outage (top) and home replicas still stale at the end (bottom), with
    read repair only and with anti-entropy as well, keys in the same order."""
    if axes is None:
        axes = list(plt.subplots(2, 1, figsize=(10, 4.6), sharex=True, layout="constrained",
                                 gridspec_kw={"height_ratios": [3, 2]})[1])
    ax, bx = axes
    x = np.arange(len(cold))
    stale = cold.stale_replicas.to_numpy() > 0
    ax.bar(x, cold.reads, color=np.where(stale, COLORS["stale"], COLORS["available"]))
    ax.plot(x[stale], np.zeros(int(stale.sum())), "v", color=COLORS["stale"], ms=8,
            clip_on=False, label="a replica is still stale at the end (marker: 0 reads)")
    ax.set_ylabel("reads after the outage")
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color=COLORS["stale"], label="reads of a key left stale"),
                Patch(color=COLORS["available"], label="reads of a key repaired everywhere")]
    ax.legend(handles=handles, fontsize=8, loc="upper right")
    warm_by_key = warm.set_index("key").stale_replicas.reindex(cold.key).fillna(0)
    bx.bar(x - 0.2, cold.stale_replicas, 0.4, color=COLORS["read repair only"],
           label="read repair only")
    bx.bar(x + 0.2, warm_by_key.to_numpy(), 0.4, color=COLORS["both"],
           label="read repair + anti-entropy")
    bx.set_ylabel("stale replicas\nat the end")
    top = max(int(cold.stale_replicas.max()), 1)
    bx.set_ylim(0, top + 1)
    bx.set_yticks(range(top + 2))
    bx.legend(fontsize=8, loc="upper left")
    bx.set_xticks(x, list(cold.key), rotation=90, fontsize=8)
    bx.set_xlabel("key (most read first)")
    return list(axes)


@_styled
def plot_merkle_cost(rounds: pd.DataFrame, leaves: int,
                     axes: Sequence[Axes] | None = None) -> list[Axes]:
    """What one anti-entropy exchange cost (bytes, messages) against the Merkle leaves
    that differed (``result.anti_entropy``); exchanges with no difference are counted in
    the legend, since they pile up on one point."""
    if axes is None:
        axes = list(plt.subplots(1, 2, figsize=(11, 3.4), layout="constrained")[1])
    ax1, ax2 = axes
    same = rounds.leaves_differing == 0
    differ = rounds[~same]
    color = COLORS["anti-entropy only (every 100 ms)"]
    for ax, col, scale in ((ax1, "bytes", 1000.0), (ax2, "messages", 1.0)):
        ax.plot(differ.leaves_differing, differ[col] / scale, "o", alpha=0.6, color=color,
                label=f"{len(differ)} exchanges that found a difference")
        ax.plot(rounds.leaves_differing[same], rounds[col][same] / scale, "s", color="0.4",
                label=f"{int(same.sum())} exchanges with no difference")
        ax.set_xlabel(f"Merkle leaves that differed (of {leaves})")
        ax.set_xlim(-1, leaves + 1)
    ax1.set_ylabel("bytes sent in the exchange (kB)")
    ax2.set_ylabel("messages in the exchange")
    ax2.legend(fontsize=8, loc="center right")
    return list(axes)


@_styled
def plot_replica_lag(staleness: pd.DataFrame, outages: Sequence[tuple[float, float]] = (),
                     ax: Axes | None = None) -> Axes:
    """Mean versions behind per key over time, one line per replica (``result.staleness``
    of a leaderless run), outages of node 0 shaded."""
    ax = _axes(ax, figsize=(8, 3.2), layout="constrained")
    shade_outages(ax, outages)
    per_node = staleness.groupby(["time", "node"]).versions_behind.mean().unstack()
    for i, node in enumerate(per_node.columns):
        ax.plot(per_node.index, per_node[node], lw=1.3, label=f"node {node}",
                color=PALETTE[i % len(PALETTE)])
    ax.set(xlabel="time (ms)", ylabel="versions behind\n(mean over keys)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return ax
