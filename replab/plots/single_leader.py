"""Simulation plots: timelines, replication lag, lost writes, failover trade-off."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import (
    COLORS,
    PALETTE,
    _axes,
    _styled,
    human,
)
from replab.plots.history import _draw_faults, fault_windows

__all__ = [
    "plot_timeline",
    "plot_lag",
    "plot_lost_writes",
    "plot_failover_tradeoff",
    "plot_leadership",
    "plot_durability",
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


@_styled
def plot_lag(lag: pd.DataFrame, ax: Axes | None = None, *,
             value: str = "time_behind_ms", faults: pd.DataFrame | None = None) -> Axes:
    """Replication lag over time per follower (``result.lag``).

    ``value`` is ``time_behind_ms`` (how old the oldest missing write is) or
    ``positions_behind`` (log entries missing). A node has no line while it is down or
    while it leads (a leader has no lag). ``faults`` (``result.events``) shades outages
    and partitions and marks crashes, failovers (which node leads) and restarts.
    """
    ax = _axes(ax, layout="constrained")
    if faults is not None:
        _draw_faults(ax, fault_windows(faults, end=float(lag["time"].max())
                                       if len(lag) else None))
    for i, (node, sub) in enumerate(lag.groupby("node", sort=True)):
        following = sub["up"].astype(bool) & (sub["leader"] != node) \
            if "leader" in sub else sub["up"].astype(bool)
        y = sub[value].where(following)
        ax.plot(sub["time"], y, label=f"node {node!s} (following)", color=PALETTE[i % len(PALETTE)],
                lw=1)
    ax.set_xlabel("simulated time (ms)")
    ax.set_ylabel("lag (ms behind the leader)" if value == "time_behind_ms"
                  else "lag (log entries behind)")
    ax.set_ylim(bottom=0)
    if len(lag):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax


@_styled
def plot_lost_writes(
    df: pd.DataFrame, ax: Axes | None = None, *, x: str = "failover_timeout_ms",
    y: str = "acked_writes_lost", hue: str | None = "lag",
) -> Axes:
    """Acknowledged writes lost against ``x``, one line per value of ``hue``.

    ``df`` is a sweep frame (e.g. :func:`replab.models.sweep_single_leader`); repeats
    at the same point are drawn as their mean with min-max bars (the legend says of how
    many runs); lines are nudged apart along x so that neither hides the other's bars.
    """
    ax = _axes(ax, layout="constrained")
    groups = [(None, df)] if hue is None else list(df.groupby(hue, sort=False))
    xs = np.sort(df[x].unique()) if len(df) else np.array([0.0])
    step = 0.015 * float(xs.max() - xs.min() or 1.0)
    runs = int(df.groupby([x] + ([hue] if hue else [])).size().max()) if len(df) else 0
    for i, (level, sub) in enumerate(groups):
        agg = sub.groupby(x)[y].agg(["mean", "min", "max"]).sort_index()
        err = np.vstack([agg["mean"] - agg["min"], agg["max"] - agg["mean"]])
        dx = (i - (len(groups) - 1) / 2) * step
        ax.errorbar(agg.index.to_numpy(dtype=float) + dx, agg["mean"], yerr=err, marker="o",
                    capsize=3, color=PALETTE[i % len(PALETTE)],
                    label="mean" if hue is None else f"{_AXIS.get(hue, human(hue))} = {level!s}")
    ax.set_xlabel(_AXIS.get(x, human(x)))
    ax.set_ylabel(f"{human(y)} per run")
    ax.set_ylim(bottom=0)
    same = _coinciding(groups, x, y)
    if len(df):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  title=f"mean, bars: min–max\nof {runs} runs" + same, title_fontsize=8)
    return ax


def _coinciding(groups: list[tuple[Any, pd.DataFrame]], x: str, y: str) -> str:
    """A legend note when every line has the same runs (the lines lie on each other)."""
    if len(groups) < 2:
        return ""
    first = groups[0][1].sort_values([x, *(["repeat"] if "repeat" in groups[0][1] else [])])
    for _, sub in groups[1:]:
        other = sub.sort_values([x, *(["repeat"] if "repeat" in sub else [])])
        if len(other) != len(first) or not np.array_equal(other[y].to_numpy(),
                                                           first[y].to_numpy()):
            return ""
    return "\n(identical in every run:\nthe lines coincide)"


_AXIS = {"failover_timeout_ms": "failover timeout (ms)", "lag": "replication delay"}


@_styled
def plot_failover_tradeoff(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Unnecessary failovers and unavailable time against the failover timeout.

    ``df`` comes from :func:`replab.models.failover_tradeoff`; the second y axis (right)
    shows the time without a writable leader after a real crash. Points are means over
    the repeats, bars their min-max (the legend says of how many runs).
    """
    ax = _axes(ax, layout="constrained")
    runs = int(df.groupby("failover_timeout_ms").size().max()) if len(df) else 0
    right = ax.twinx()
    handles = []
    for axis, col, color, fmt, words in (
            (ax, "unnecessary_failovers", PALETTE[1], "o-", "unnecessary failovers (left)"),
            (right, "unavailable_ms", PALETTE[0], "s--",
             "unavailable after a real crash (right)")):
        agg = df.groupby("failover_timeout_ms")[col].agg(["mean", "min", "max"])
        err = np.vstack([agg["mean"] - agg["min"], agg["max"] - agg["mean"]])
        handles.append(axis.errorbar(agg.index, agg["mean"], yerr=err, fmt=fmt, color=color,
                                     capsize=3, label=words))
        axis.set_ylim(bottom=0)
    ax.set_xlabel("failover timeout (ms)")
    ax.set_ylabel("unnecessary failovers per run", color=PALETTE[1])
    right.set_ylabel("unavailable after a real crash (ms)", color=PALETTE[0])
    right.grid(False)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2,
              fontsize=8, title=f"mean, bars: min–max of {runs} runs", title_fontsize=8)
    return ax


def _leader_spans(events: pd.DataFrame, end: float) -> list[tuple[Any, float, float]]:
    """(node, from, to): when each node believed it led (``leader`` until ``demote``,
    ``crash`` or the end)."""
    spans: list[tuple[Any, float, float]] = []
    since: dict[Any, float] = {}
    for t, kind, node in zip(events["time"], events["kind"], events["node"], strict=True):
        if kind == "leader":
            since.setdefault(node, float(t))
        elif kind in ("demote", "crash") and node in since:
            spans.append((node, since.pop(node), float(t)))
    spans += [(n, t, end) for n, t in since.items()]
    return spans


@_styled
def plot_leadership(events: pd.DataFrame, history: Any, lost: pd.DataFrame | None = None,
                    ax: Axes | None = None) -> Axes:
    """Who led when, and which writes each leader acknowledged and which were lost.

    One lane per replica: a bar while the node believed it was the leader (from its
    promotion to its demotion or crash), a tick for every write it acknowledged (at the
    acknowledgement), a cross for those later lost (``lost``: ``result.lost``).
    Partitions and outages are shaded, failovers marked (``events``: ``result.events``).
    Two bars at once on different lanes are a split brain.
    """
    ax = _axes(ax, figsize=(10, 3.2), layout="constrained")
    df = history.df
    end = float(max(df["time"].max() if len(df) else 0.0, events["time"].max()))
    _draw_faults(ax, fault_windows(events, end=end))
    acked = df[(df["type"] == "ok") & (df["f"] == "write")]
    nodes = sorted({int(n) for n in events.loc[events.kind == "leader", "node"]} |
                   {int(n) for n in acked["node"].dropna()})
    lane = {n: i for i, n in enumerate(reversed(nodes))}
    lost_idx = set() if lost is None else set(lost["index"])
    for i, (node, t0, t1) in enumerate(_leader_spans(events, end)):
        ax.broken_barh([(t0, t1 - t0)], (lane[int(node)] - 0.3, 0.6), color=COLORS["leader"],
                       alpha=0.25, lw=0, label="believes it leads" if i == 0 else None)
    kept = acked[~acked["index"].isin(lost_idx)]
    gone = acked[acked["index"].isin(lost_idx)]
    ax.scatter(kept["time"], [lane[int(n)] for n in kept["node"]], marker="|", s=120,
               color="0.1", zorder=3, label=f"write acknowledged, kept ({len(kept)})")
    ax.scatter(gone["time"], [lane[int(n)] for n in gone["node"]], marker="x", s=60,
               color=COLORS["lost"], linewidths=2, zorder=4,
               label=f"write acknowledged, then lost ({len(gone)})")
    words = {n: f"node {n}\n{(acked.node == n).sum()} acked, {(gone.node == n).sum()} lost"
             for n in nodes}
    ax.set_yticks([lane[n] for n in nodes], [words[n] for n in nodes])
    ax.set_ylim(-0.6, len(nodes) - 0.4)
    ax.set_xlim(0, end)
    ax.set_xlabel("simulated time (ms)")
    ax.grid(False, axis="y")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax


@_styled
def plot_durability(df: pd.DataFrame, ax: Axes | None = None, *,
                    latency: str = "write_p50_ms") -> Axes:
    """Write latency against acknowledged writes lost in a leader crash, per mode.

    ``df`` comes from :func:`replab.models.durability_tradeoff` (every mode run with the
    same seeds). One point per mode at the mean over runs, bars min-max of the runs in
    both directions; the mode's colour is its ``COLORS`` entry.
    """
    ax = _axes(ax, figsize=(6.5, 3.6), layout="constrained")
    runs = int(df.groupby("mode").size().max()) if len(df) else 0
    for mode, sub in df.groupby("mode", sort=False):
        xs, ys = sub[latency], sub["acked_writes_lost"]
        ax.errorbar(xs.mean(), ys.mean(),
                    xerr=[[xs.mean() - xs.min()], [xs.max() - xs.mean()]],
                    yerr=[[ys.mean() - ys.min()], [ys.max() - ys.mean()]], fmt="o", ms=7,
                    capsize=3, color=COLORS.get(str(mode), PALETTE[0]),
                    label=f"{mode}: {sub['write_availability'].mean():.0%} of writes acked")
    ax.set_xlabel(f"write latency {latency.split('_')[1]} (ms)")
    ax.set_ylabel("acknowledged writes lost\nin a leader crash (per run)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=-0.5)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              title=f"mean, bars: min–max\nof {runs} runs (same\nseeds for every mode)",
              title_fontsize=8)
    return ax
