"""Simulation plots: timelines, replication lag, lost writes, failover trade-off."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import (
    PALETTE,
    _axes,
)

__all__ = [
    "plot_timeline",
    "plot_lag",
    "plot_lost_writes",
    "plot_failover_tradeoff",
]

_MARKS = {  # event kind -> (marker, color, label)
    "crash": ("X", "#d62728", "crash"),
    "restart": ("^", "#2ca02c", "restart"),
    "leader": ("*", "#ff7f0e", "becomes leader"),
    "demote": ("v", "#8c564b", "steps down"),
    "truncate": ("s", "#9467bd", "truncates log"),
    "caught_up": ("o", "#17becf", "caught up"),
    "stonith": ("D", "#000000", "STONITH"),
    "snapshot_installed": ("P", "#1f77b4", "snapshot installed"),
}


def plot_timeline(
    events: pd.DataFrame, ax: Axes | None = None, *, nodes: list[Any] | None = None,
    start: float | None = None, end: float | None = None, max_messages: int = 400,
) -> Axes:
    """A Lamport-style space-time diagram of a run's event log (``result.events``).

    One horizontal line per node (replicas and the controller; client sessions only if
    listed in ``nodes``); each delivered message is an arrow from its send to its
    arrival, a dropped one a dotted stub; crashes, restarts, leaders, truncations ...
    are marked; pauses are bars on the node's line and partitions grey bands. Record
    messages with ``trace_messages=True``. ``start``/``end`` clip the time axis.
    """
    ax = _axes(ax, figsize=(11, 4))
    ev = events
    if start is not None:
        ev = ev[(ev.time >= start) | (ev.end_time >= start)]
    if end is not None:
        ev = ev[ev.time <= end]
    if nodes is None:
        seen = pd.concat([ev.node, ev.peer]).dropna().unique().tolist()
        nodes = sorted((n for n in seen if not str(n).startswith("c")), key=str) + \
            [n for n in ("ctl",) if n in seen]
        nodes = list(dict.fromkeys(nodes))
    lane = {n: i for i, n in enumerate(nodes)}
    t_max = float(ev[["time", "end_time"]].max().max()) if len(ev) else 1.0
    for y in lane.values():
        ax.axhline(y, color="0.6", linewidth=0.8, zorder=0)
    _draw_partitions(ev, ax, len(lane), t_max)
    msgs = ev[ev.kind.isin(["message", "dropped"]) & ev.node.isin(lane) & ev.peer.isin(lane)]
    msgs = msgs.head(max_messages)
    for kind, t0, t1, src, dst in zip(msgs.kind, msgs.time, msgs.end_time, msgs.node,
                                      msgs.peer, strict=True):
        y0, y1 = lane[src], lane[dst]
        if kind == "message":
            ax.annotate("", xy=(float(t1), y1), xytext=(float(t0), y0),
                        arrowprops=dict(arrowstyle="->", color="0.35", lw=0.6))
        else:
            ax.plot([float(t0), float(t0) + 0.02 * t_max], [y0, y0 + 0.35 * (y1 - y0)],
                    ":", color="#d62728", lw=0.8)
    pauses = ev[(ev.kind == "pause") & ev.node.isin(lane)]
    for t0, t1, n in zip(pauses.time, pauses.end_time, pauses.node, strict=True):
        ax.plot([float(t0), float(t1)], [lane[n]] * 2, color="#ff7f0e", lw=6,
                alpha=0.5, solid_capstyle="butt", label="pause")
    for kind, (marker, color, label) in _MARKS.items():
        sub = ev[(ev.kind == kind) & ev.node.isin(lane)]
        if len(sub):
            ax.scatter(sub.time, [lane[n] for n in sub.node], marker=marker, s=90,
                       color=color, zorder=3, label=label)
            if kind == "leader":
                for t, n, epoch in zip(sub.time, sub.node, sub.epoch, strict=True):
                    ax.annotate(f"epoch {epoch}", (float(t), lane[n]),
                                xytext=(4, 7), textcoords="offset points", fontsize=8)
    ax.set_yticks(range(len(lane)), [str(n) for n in lane])
    ax.set_ylim(-0.7, len(lane) - 0.3)
    ax.set_xlabel("simulated time (ms)")
    ax.set_ylabel("node")
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles, strict=True))
    if uniq:
        ax.legend(uniq.values(), uniq.keys(), loc="upper left", bbox_to_anchor=(1.01, 1),
                  fontsize=8)
    return ax


def _draw_partitions(ev: pd.DataFrame, ax: Axes, lanes: int, t_max: float) -> None:
    opened: dict[str, float] = {}
    cuts = ev[ev.kind.isin(["partition", "heal"])]
    for kind, t, detail in zip(cuts.kind, cuts.time, cuts.detail, strict=True):
        name = str(detail).split(":")[0]
        if kind == "partition":
            opened[name] = float(t)
        elif name in opened:
            ax.axvspan(opened.pop(name), float(t), color="0.85", zorder=-1, label="partition")
    for t0 in opened.values():
        ax.axvspan(t0, t_max, color="0.85", zorder=-1, label="partition")


def plot_lag(lag: pd.DataFrame, ax: Axes | None = None, *,
             value: str = "time_behind_ms") -> Axes:
    """Replication lag over time per follower (``result.lag``).

    ``value`` is ``time_behind_ms`` (how old the oldest missing write is) or
    ``positions_behind`` (log entries missing). Samples where a node is down are gaps.
    """
    ax = _axes(ax)
    for i, (node, sub) in enumerate(lag.groupby("node", sort=True)):
        y = sub[value].where(sub["up"].astype(bool))
        ax.plot(sub["time"], y, label=f"node {node!s}", color=PALETTE[i % len(PALETTE)],
                lw=1)
    ax.set_xlabel("simulated time (ms)")
    ax.set_ylabel("lag (ms behind)" if value == "time_behind_ms" else "lag (log entries)")
    ax.grid(True, alpha=0.3)
    if len(lag):
        ax.legend(fontsize=8)
    return ax


def plot_lost_writes(
    df: pd.DataFrame, ax: Axes | None = None, *, x: str = "failover_timeout_ms",
    y: str = "acked_writes_lost", hue: str | None = "lag",
) -> Axes:
    """Acknowledged writes lost against ``x``, one line per value of ``hue``.

    ``df`` is a sweep frame (e.g. :func:`replab.models.sweep_single_leader`); repeats
    at the same point are drawn as their mean with min-max bars.
    """
    ax = _axes(ax)
    groups = [(None, df)] if hue is None else list(df.groupby(hue, sort=False))
    for i, (level, sub) in enumerate(groups):
        agg = sub.groupby(x)[y].agg(["mean", "min", "max"]).sort_index()
        err = np.vstack([agg["mean"] - agg["min"], agg["max"] - agg["mean"]])
        ax.errorbar(agg.index, agg["mean"], yerr=err, marker="o", capsize=3,
                    color=PALETTE[i % len(PALETTE)],
                    label=None if hue is None else f"{hue} = {level!s}")
    ax.set_xlabel(x)
    ax.set_ylabel(y.replace("_", " "))
    ax.grid(True, alpha=0.3)
    if hue is not None:
        ax.legend(fontsize=8)
    return ax


def plot_failover_tradeoff(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Unnecessary failovers and unavailable time against the failover timeout.

    ``df`` comes from :func:`replab.models.failover_tradeoff`; the second y axis (right)
    shows the time without a writable leader after a real crash.
    """
    ax = _axes(ax)
    agg = df.groupby("failover_timeout_ms")[["unnecessary_failovers", "unavailable_ms"]].mean()
    ax.plot(agg.index, agg["unnecessary_failovers"], "o-", color=PALETTE[1],
            label="unnecessary failovers")
    ax.set_xlabel("failover timeout (ms)")
    ax.set_ylabel("unnecessary failovers per run", color=PALETTE[1])
    right = ax.twinx()
    right.plot(agg.index, agg["unavailable_ms"], "s--", color=PALETTE[0],
               label="unavailable after a crash")
    right.set_ylabel("unavailable after a real crash (ms)", color=PALETTE[0])
    ax.grid(True, alpha=0.3)
    return ax
