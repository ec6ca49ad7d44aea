"""The real-PostgreSQL lab (``replab.real.postgres``): measured vs simulated, failover
loss, and replication lag over time with the fault windows shaded."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from replab.plots._base import FAULT_COLORS, PALETTE, _axes, _styled

__all__ = ["ROUTING_COLORS", "MODE_COLORS", "plot_measured_vs_simulated",
           "plot_failover_loss", "plot_pg_lag"]

#: One colour per read routing and per replication mode, everywhere.
ROUTING_COLORS = {"standby": PALETTE[1], "primary": PALETTE[0],
                  "own-writes-primary": PALETTE[2], "wait-lsn": PALETTE[3],
                  "sticky": PALETTE[4]}
MODE_COLORS = {"async": PALETTE[1], "semi-sync": PALETTE[2], "sync": PALETTE[0]}
_CHECK_WORDS = {"stale-read": "stale reads", "read-your-writes": "read-your-writes violations",
                "monotonic-reads": "monotonic-reads violations"}


@_styled
def plot_measured_vs_simulated(df: pd.DataFrame, check: str = "stale-read",
                               ax: Axes | None = None) -> Axes:
    """A check's rate against the apply delay: measured on PostgreSQL (points, 95 % CI
    bars), simulated at the measured lag (solid line, 95 % CI band) and at the configured
    delay (dotted line), one colour a routing.

    ``df``: the rows of :func:`replab.real.postgres.sweeps.delay_sweep`."""
    ax = _axes(ax, figsize=(6, 3.6))
    sub = df[df["check"] == check]
    for routing, part in sub.groupby("routing", sort=False):
        color = ROUTING_COLORS.get(str(routing), PALETTE[-1])
        sim = part[part["source"] == "simulated"].sort_values("apply_delay_ms")
        at_delay = part[part["source"] == "simulated-at-delay"].sort_values("apply_delay_ms")
        ax.plot(at_delay["apply_delay_ms"], at_delay["rate"], ":", color=color, lw=1.2)
        real = part[part["source"] == "measured"].sort_values("apply_delay_ms")
        ax.plot(sim["apply_delay_ms"], sim["rate"], "-", color=color, lw=1.5)
        ax.fill_between(sim["apply_delay_ms"], sim["ci_low"], sim["ci_high"], color=color,
                        alpha=0.15, linewidth=0)
        ax.errorbar(real["apply_delay_ms"], real["rate"],
                    yerr=[real["rate"] - real["ci_low"], real["ci_high"] - real["rate"]],
                    fmt="o", color=color, ms=4, capsize=2, label=str(routing))
    ax.set_xlabel("recovery_min_apply_delay (ms)")
    ax.set_ylabel("share of examined reads")
    ax.set_title(_CHECK_WORDS.get(check, check))
    if len(sub):
        ax.legend(handles=ax.get_legend_handles_labels()[0] + _style_keys(),
                  loc="upper left", fontsize=8)
    return ax


def _style_keys() -> list[Line2D]:
    """Legend entries for what the marks mean (grey: they hold for every routing)."""
    grey = "#555555"
    return [Line2D([], [], color=grey, marker="o", ls="none", label="measured (95 % CI)"),
            Line2D([], [], color=grey, ls="-", label="simulated at measured lag"),
            Line2D([], [], color=grey, ls=":", label="simulated at the apply delay")]


@_styled
def plot_failover_loss(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Acknowledged writes lost in a failover against the replication stall before it,
    one colour a mode; hollow markers: the count confirmed from the old primary's data.

    ``df``: :func:`replab.real.postgres.sweeps.failover_sweep`."""
    ax = _axes(ax, figsize=(6, 3.6))
    for mode, part in df.groupby("mode", sort=False):
        part = part.sort_values("stall_s")
        color = MODE_COLORS.get(str(mode), PALETTE[-1])
        ax.plot(part["stall_s"], part["lost_acknowledged"], "o-", color=color,
                label=f"{mode}: lost per the history")
        ax.plot(part["stall_s"], part["lost_in_data"], "s", color=color, mfc="none", ms=9,
                label=f"{mode}: commits only the old primary held")
    ax.set_xlabel("replication stalled before the crash (s)")
    ax.set_ylabel("writes (count)")
    ax.set_title("failover: acknowledged writes lost")
    if len(df):
        ax.legend(fontsize=8)
    return ax


@_styled
def plot_pg_lag(lag: pd.DataFrame, faults: pd.DataFrame | None = None,
                ax: Axes | None = None, column: str = "replay_lag_ms") -> Axes:
    """A lag column of the lab's lag frame over time, one line a standby; between a
    ``stall`` and the next ``resume``/``kill`` the window is shaded."""
    ax = _axes(ax, figsize=(6, 3.2))
    for i, (standby, part) in enumerate(lag.groupby("standby", sort=True)):
        # thinner line for each later standby, so lines that coincide stay visible
        ax.plot(part["time_ms"] / 1000, part[column], ".-", ms=3, color=PALETTE[i],
                lw=max(3.0 - 1.0 * i, 1.0), label=str(standby))
    for start, end in _stall_windows(faults):
        ax.axvspan(start / 1000, end / 1000, color=FAULT_COLORS[1], alpha=0.5, lw=0)
    unit = "bytes of WAL" if column.endswith("bytes") else "ms"
    ax.set_xlabel("time since the run started (s)")
    ax.set_ylabel(f"{column.rsplit('_', 1)[0].replace('_', ' ')} ({unit})")
    ax.set_title("standbys' lag (pg_stat_replication); shaded: replication stalled")
    if len(lag):
        ax.legend(title="standby (wider line first)")
    return ax


def _stall_windows(faults: pd.DataFrame | None) -> list[tuple[float, float]]:
    if faults is None or not len(faults):
        return []
    out, start = [], None
    for t, f in zip(faults["time_ms"], faults["f"], strict=True):
        if f == "stall":
            start = float(t)
        elif start is not None and f in ("resume", "kill"):
            out.append((start, float(t)))
            start = None
    return out
