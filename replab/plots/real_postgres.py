"""The real-PostgreSQL lab (``replab.real.postgres``): measured vs simulated, failover
loss, and replication lag over time with the fault windows shaded."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from replab.plots._base import COLORS, FAULT_COLORS, PALETTE, _axes, _styled

__all__ = ["ROUTING_COLORS", "MODE_COLORS", "plot_measured_vs_simulated",
           "plot_failover_loss", "plot_failover_cost", "plot_pg_lag", "pg_fault_windows",
           "plot_linearizability_by_server"]

#: One colour per read routing and per replication mode, everywhere: the primary is the
#: leader's colour, a standby the follower's, the modes those of ``replab.plots.COLORS``.
ROUTING_COLORS = {"standby": COLORS["follower"], "primary": COLORS["leader"],
                  "own-writes-primary": PALETTE[2], "wait-lsn": PALETTE[3],
                  "sticky": PALETTE[5]}
MODE_COLORS = {m: COLORS[m] for m in ("async", "semi-sync", "sync")}
_CHECK_WORDS = {"stale-read": "stale reads", "read-your-writes": "read-your-writes violations",
                "monotonic-reads": "monotonic-reads violations"}


@_styled
def plot_measured_vs_simulated(df: pd.DataFrame, check: str = "stale-read",
                               ax: Axes | None = None) -> Axes:
    """A check's rate against the apply delay: measured on PostgreSQL (points, 95 % CI
    bars), simulated at the measured lag (solid line, 95 % CI band) and at the configured
    delay (dotted line), one colour a routing.

    ``df``: the rows of :func:`replab.real.postgres.sweeps.delay_sweep`."""
    ax = _axes(ax, figsize=(6, 3.6), layout="constrained")
    sub = df[df["check"] == check]
    # measured points of the routings side by side around their delay, so none hides another
    delays = np.unique(sub["apply_delay_ms"].to_numpy(dtype=float))
    step = float(np.diff(delays).min()) if len(delays) > 1 else 10.0
    n_routings = max(sub["routing"].nunique(), 1)
    for j, (routing, part) in enumerate(sub.groupby("routing", sort=False)):
        shift = (j - (n_routings - 1) / 2) * 0.16 * step / max(n_routings - 1, 1)
        color = ROUTING_COLORS.get(str(routing), PALETTE[-1])
        sim = part[part["source"] == "simulated"].sort_values("apply_delay_ms")
        at_delay = part[part["source"] == "simulated-at-delay"].sort_values("apply_delay_ms")
        ax.plot(at_delay["apply_delay_ms"], at_delay["rate"], ":", color=color, lw=1.2)
        real = part[part["source"] == "measured"].sort_values("apply_delay_ms")
        ax.plot(sim["apply_delay_ms"], sim["rate"], "-", color=color, lw=1.5)
        ax.fill_between(sim["apply_delay_ms"], sim["ci_low"], sim["ci_high"], color=color,
                        alpha=0.15, linewidth=0)
        ax.errorbar(real["apply_delay_ms"] + shift, real["rate"],
                    yerr=[real["rate"] - real["ci_low"], real["ci_high"] - real["rate"]],
                    fmt="o", color=color, ms=4, capsize=2, label=str(routing))
    ax.set_xlabel("recovery_min_apply_delay (ms; measured points set apart)")
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
    """The share of acknowledged writes lost in a failover (Wilson 95 % bars) against the
    replication stall before it, one colour a mode (``replab.plots.COLORS``); hollow
    squares: the acknowledged writes found only in the old primary's data (the same loss,
    counted from the data instead of the history).

    ``df``: :func:`replab.real.postgres.sweeps.failover_sweep` (one run per setting)."""
    ax = _axes(ax, figsize=(6, 3.6), layout="constrained")
    for mode, part in df.groupby("mode", sort=False):
        part = part.sort_values("stall_s")
        color = MODE_COLORS.get(str(mode), PALETTE[-1])
        share = part["lost_share"].to_numpy(dtype=float)
        ax.errorbar(part["stall_s"], share,
                    yerr=[share - part["ci_low"].to_numpy(dtype=float),
                          part["ci_high"].to_numpy(dtype=float) - share],
                    fmt="o-", color=color, capsize=3, label=f"{mode}: per the history")
        if "lost_in_data_acknowledged" in part:  # the same loss, read from the data
            acked = part["writes_ok"].to_numpy(dtype=float)
            data = part["lost_in_data_acknowledged"].to_numpy(dtype=float)
            ax.plot(part["stall_s"], np.divide(data, acked, out=np.zeros_like(data),
                                               where=acked > 0),
                    "s", color=color, mfc="none", ms=10,
                    label=f"{mode}: only in the old primary's data")
    ax.set_xlabel("replication stalled before the crash (s)")
    ax.set_ylabel("acknowledged writes lost\n(share, Wilson 95 %)")
    ax.set_title("what a failover loses (one run a point)")
    ax.set_ylim(bottom=-0.03)  # a zero stays visible above the axis
    if len(df):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax


@_styled
def plot_failover_cost(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """What the same runs cost the writers: acknowledged writes (filled) and writes whose
    outcome is unknown (``info``, hollow) against the stall, one colour a mode. A
    semi-synchronous primary cannot commit while its standby is stalled, so its writers
    block: fewer writes acknowledged, and the ones in flight at the crash are in doubt.

    ``df``: :func:`replab.real.postgres.sweeps.failover_sweep` (one run per setting)."""
    ax = _axes(ax, figsize=(6, 3.6), layout="constrained")
    for mode, part in df.groupby("mode", sort=False):
        part = part.sort_values("stall_s")
        color = MODE_COLORS.get(str(mode), PALETTE[-1])
        ax.plot(part["stall_s"], part["writes_ok"], "o-", color=color,
                label=f"{mode}: acknowledged")
        ax.plot(part["stall_s"], part["writes_in_doubt"], "s--", color=color, mfc="none",
                label=f"{mode}: in doubt (info)")
    ax.set_xlabel("replication stalled before the crash (s)")
    ax.set_ylabel("writes in the run (count)")
    ax.set_title("what it costs the writers (one run a point)")
    ax.set_ylim(bottom=-1)  # a zero stays visible above the axis
    if len(df):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax


@_styled
def plot_pg_lag(lag: pd.DataFrame, faults: pd.DataFrame | None = None,
                ax: Axes | None = None, column: str = "replay_lag_ms") -> Axes:
    """A lag column of the lab's lag frame over time, one line a standby; between a
    ``stall`` and the next ``resume``/``kill`` the window is shaded."""
    ax = _axes(ax, figsize=(6, 3.2), layout="constrained")
    for i, (standby, part) in enumerate(lag.groupby("standby", sort=True)):
        # thinner line for each later standby, so lines that coincide stay visible;
        # the server started as "primary" is a standby once a failover rotated the roles
        label = ("primary (a standby since a failover)" if standby == "primary"
                 else str(standby))
        ax.plot(part["time_ms"] / 1000, part[column], ".-", ms=3, color=PALETTE[i],
                lw=max(3.0 - 1.0 * i, 1.0), label=label)
    windows = _stall_windows(faults)
    for start, end in windows:
        ax.axvspan(start / 1000, end / 1000, color=FAULT_COLORS[1], alpha=0.5, lw=0)
    unit = "bytes of WAL" if column.endswith("bytes") else "ms"
    ax.set_xlabel("time since the run started (s)")
    ax.set_ylabel(f"{column.rsplit('_', 1)[0].replace('_', ' ')} ({unit})")
    ax.set_title("standbys' lag (pg_stat_replication)\n"
                 + ("shaded: replication stalled" if windows else "no fault in this run"))
    if len(lag):
        ax.legend(title="standby (wider line first)", loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), fontsize=8)
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


def pg_fault_windows(faults: pd.DataFrame | None) -> list[tuple[float, float | None, str]]:
    """The lab's fault log (``time_ms, f, value``) as ``(start, end, label)`` for
    :func:`replab.plots.plot_history_timeline`: each stall a window up to its resume or
    kill, every other fault (kill, promote, rewind ...) an instant."""
    if faults is None or not len(faults):
        return []
    out: list[tuple[float, float | None, str]] = [
        (start, end, "replication stalled") for start, end in _stall_windows(faults)]
    for t, f in zip(faults["time_ms"], faults["f"], strict=True):
        if f not in ("stall", "resume"):
            out.append((float(t), None, str(f)))
    return out


@_styled
def plot_linearizability_by_server(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """The share of keys that are not linearizable, with the primary's reads and with the
    standbys' (Wilson 95 % bars; the primary in the leader's colour, the standbys in the
    follower's). ``table``: :func:`linearizability_by_server`."""
    ax = _axes(ax, figsize=(4.5, 3.2), layout="constrained")
    colors = {"primary": COLORS["leader"], "standbys": COLORS["follower"]}
    for i, rec in enumerate(table.to_dict("records")):
        share = float(rec["share"]) if np.isfinite(rec["share"]) else 0.0
        ax.bar(i, share, color=colors.get(str(rec["reads from"]), PALETTE[-1]), width=0.6)
        ax.errorbar(i, share, yerr=[[share - rec["ci_low"]], [rec["ci_high"] - share]],
                    color="black", capsize=4)
        bad, decided = rec["not linearizable"], rec["linearizable"] + rec["not linearizable"]
        ax.annotate(f"{bad} of {decided} keys",
                    (i, rec["ci_high"]), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(table)), [f"reads from\n{n}" for n in table["reads from"]])
    ax.set_xlim(-0.6, len(table) - 0.4)
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("keys not linearizable\n(share, Wilson 95 %)")
    ax.set_title("per-key linearizability")
    return ax
