"""Leaderless replication sweeps (``replab.models.leaderless_sweeps``): one picture each."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import _axes

__all__ = [
    "plot_leaderless_availability",
    "plot_lww_loss",
    "plot_siblings",
    "plot_convergence",
]

_AVAIL = (("write_availability", "write availability"),
          ("read_availability", "read availability"),
          ("stale_read_rate", "stale-read probability"))


def plot_leaderless_availability(df: pd.DataFrame,
                                 axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Write/read availability and stale reads against ``p_fail``, strict vs sloppy.

    ``df`` comes from :func:`~replab.models.availability_sweep`; returns the three Axes.
    """
    if axes is None:
        axes = list(plt.subplots(1, 3, figsize=(12, 3.2))[1])
    for sloppy, g in df.groupby("sloppy"):
        for ax, (col, _) in zip(axes, _AVAIL, strict=True):
            ax.plot(g.p_fail, g[col], "o-", label="sloppy" if sloppy else "strict")
    for ax, (_, title) in zip(axes, _AVAIL, strict=True):
        ax.set_title(title)
        ax.set_xlabel("fraction of time each node is down")
    axes[0].legend()
    return list(axes)


def plot_lww_loss(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Discarded writes (all, and because of skew) against clock skew, per client count."""
    ax = _axes(ax, figsize=(6, 3.2))
    for sessions, g in df.groupby("sessions"):
        ax.plot(g.clock_skew_ms, g.discarded, "o-", label=f"{sessions} client(s): discarded")
        ax.plot(g.clock_skew_ms, g.by_skew, "x--",
                label=f"{sessions} client(s): ... because of skew")
    ax.set_xscale("symlog", linthresh=2.0)
    ax.set(xlabel="clock skew (ms)", ylabel="fraction of acknowledged writes")
    ax.legend(fontsize=8)
    return ax


def plot_siblings(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Mean siblings per read against writing sessions, one line per read rate."""
    ax = _axes(ax, figsize=(6, 3.2))
    for rr, g in df.groupby("read_rate"):
        extra = float(rr) + 20.0  # type: ignore[arg-type]
        ax.plot(g.sessions, g.siblings_mean, "o-", label=f"{extra:g} extra reads/s")
    ax.set(xlabel="client sessions writing", ylabel="mean siblings per read")
    ax.legend()
    return ax


def plot_convergence(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Time to converge after the last write against the anti-entropy interval."""
    ax = _axes(ax, figsize=(5, 3))
    ax.plot(df.anti_entropy_interval_ms, df.convergence_ms, "o-")
    ax.set(xlabel="anti-entropy interval (ms)",
           ylabel="time to converge after the last write (ms)")
    return ax
