"""Plotting: ``plot_*(df, ax=None) -> Axes``. No computation happens here.

Every function draws a tidy frame produced elsewhere in replab onto ``ax`` (a new figure
when omitted) with the shared styling below, and returns the Axes.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = [
    "PALETTE",
    "plot_staleness",
    "plot_latency",
    "plot_availability",
    "plot_quorum_heatmap",
]

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def _axes(ax: Axes | None, **fig_kw: Any) -> Axes:
    if ax is None:
        _, ax = plt.subplots(**fig_kw)
    return ax


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
    ax.set_xlabel("w (write quorum)")
    ax.set_ylabel("r (read quorum)")
    ax.set_title(value)
    ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return ax

# =====================================================================================
# Simulations (replab.sim / replab.models): timelines, replication lag, lost writes.
# =====================================================================================

__all__ += ["plot_timeline", "plot_lag", "plot_lost_writes", "plot_failover_tradeoff"]

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


# =========================================================================================
# Multi-leader replication (replab.models.multi_leader). Distinct names: plot_topology_flow,
# plot_propagation_delays, plot_node_staleness, plot_conflict_outcomes.
# =========================================================================================


def plot_topology_flow(
    graph: Any, ax: Axes | None = None, *, base: Any = None, failed: Any = (),
    title: str | None = None,
) -> Axes:
    """A replication topology (``networkx.DiGraph``, e.g. ``result.topology``).

    Leaders sit on a circle in the graph's node order. Arrows are the directions changes
    flow in; with ``base`` (the original topology), edges a reconfiguration added are
    orange and edges it removed are dotted grey. Nodes in ``failed`` are red.
    """
    import networkx as nx

    ax = _axes(ax, figsize=(4, 4))
    shown = graph if base is None else nx.compose(base, graph)
    pos = nx.circular_layout(list(shown.nodes))
    down = set(failed)
    colors = [PALETTE[1] if n in down else PALETTE[0] for n in shown.nodes]
    nx.draw_networkx_nodes(shown, pos, ax=ax, node_color=colors, node_size=650)
    nx.draw_networkx_labels(shown, pos, ax=ax, font_color="white", font_size=9)
    kept = [e for e in graph.edges if base is None or base.has_edge(*e)]
    added = [e for e in graph.edges if base is not None and not base.has_edge(*e)]
    removed = [e for e in (base.edges if base is not None else []) if not graph.has_edge(*e)]
    style = dict(ax=ax, node_size=650, arrowsize=14, connectionstyle="arc3,rad=0.08")
    nx.draw_networkx_edges(shown, pos, edgelist=kept, edge_color="0.3", **style)
    nx.draw_networkx_edges(shown, pos, edgelist=added, edge_color=PALETTE[4], width=2, **style)
    nx.draw_networkx_edges(shown, pos, edgelist=removed, edge_color="0.75", style="dotted",
                           **style)
    ax.set_title(title or "")
    ax.set_axis_off()
    return ax


def plot_propagation_delays(prop: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """How long each write took to reach each leader (``result.propagation``).

    One dot per (write, leader) at the write's acceptance time; writes a leader never
    applied are crosses on the top edge.
    """
    ax = _axes(ax, figsize=(8, 3.5))
    remote = prop[prop["node"] != prop["origin"]]
    top = float(remote["delay_ms"].max()) if remote["delay_ms"].notna().any() else 1.0
    for i, (node, sub) in enumerate(remote.groupby("node", sort=False)):
        color = PALETTE[i % len(PALETTE)]
        ax.scatter(sub["accepted_at"], sub["delay_ms"], s=8, color=color, label=str(node))
        never = sub[sub["applied_at"].isna()]
        if len(never):
            ax.scatter(never["accepted_at"], [top * 1.05] * len(never), marker="x", s=18,
                       color=color)
    ax.set_xlabel("write accepted at (ms)")
    ax.set_ylabel("delay until applied (ms)")
    ax.set_title("propagation (x: never applied)")
    ax.grid(True, alpha=0.3)
    if len(remote):
        ax.legend(fontsize=8, title="at leader", markerscale=2)
    return ax


def plot_node_staleness(staleness: pd.DataFrame, ax: Axes | None = None, *,
                        value: str = "missing_writes", time_unit: float = 1.0) -> Axes:
    """Per leader over time: writes it lacks (or, with ``value="oldest_missing_ms"``, how
    old the oldest one is), from ``result.staleness``. Down periods are gaps; divide the
    time axis by ``time_unit`` (e.g. 3.6e6 for hours)."""
    ax = _axes(ax, figsize=(8, 3.2))
    for i, (node, sub) in enumerate(staleness.groupby("node", sort=False)):
        y = sub[value].where(sub["up"].astype(bool))
        ax.plot(sub["time"] / time_unit, y, lw=1.2, color=PALETTE[i % len(PALETTE)],
                label=str(node))
    unit = "ms" if time_unit == 1.0 else f"x {time_unit:g} ms"
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("writes missing" if value == "missing_writes" else "oldest missing (ms)")
    ax.grid(True, alpha=0.3)
    if len(staleness):
        ax.legend(fontsize=8)
    return ax


def plot_conflict_outcomes(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Per resolution strategy (``strategy_outcomes``): writes lost and conflicting writes
    per run (bars), and the fraction of runs that converged (text, with its 95 % CI)."""
    ax = _axes(ax, figsize=(8, 3.5))
    x = np.arange(len(df))
    ax.bar(x - 0.2, df["conflicts"], 0.4, color=PALETTE[0], label="conflicting writes")
    ax.bar(x + 0.2, df["lost_writes"], 0.4, color=PALETTE[1], label="writes lost")
    top = float(max(df["conflicts"].max(), df["lost_writes"].max(), 1.0))
    for xi, conv, lo, hi in zip(x, df["converged"], df["ci_low"], df["ci_high"], strict=True):
        ax.text(float(xi), top * 1.08, f"converged {conv:.0%}\n[{lo:.0%}, {hi:.0%}]",
                ha="center", fontsize=8, color="black" if conv == 1 else PALETTE[1])
    ax.set_ylim(0, top * 1.35)
    ax.set_xticks(x, list(df["resolution"]))
    ax.set_ylabel("per run")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.grid(True, axis="y", alpha=0.3)
    return ax
