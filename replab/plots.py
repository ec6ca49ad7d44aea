"""Plotting: ``plot_*(df, ax=None) -> Axes``. No computation happens here.

Every function draws a tidy frame produced elsewhere in replab onto ``ax`` (a new figure
when omitted) inside :func:`plot_style` (the rc settings in :data:`STYLE`), and returns the
Axes. ``use_style()`` makes that look the session default.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import matplotlib as mpl
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch

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


# ------------------------------------------------------------------------------------------
# Workbench pictures (issue 8): one style, time series with fault windows, topologies,
# message timelines. Kept together in this section; simulator plots belong in their own.
# ------------------------------------------------------------------------------------------

__all__ += [
    "STYLE",
    "plot_style",
    "use_style",
    "plot_timeseries",
    "plot_topology",
    "plot_message_timeline",
]

#: The rc settings every replab picture is drawn with (see :func:`plot_style`).
STYLE: dict[str, Any] = {
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.bbox": "tight",
}
FAULT_COLORS = ["#bbbbbb", "#f4a582", "#92c5de", "#c2a5cf"]
ROLE_COLORS = {"leader": PALETTE[1], "follower": PALETTE[0], "replica": PALETTE[0],
               "client": "#7f7f7f"}
_F = TypeVar("_F", bound=Callable[..., Any])


@contextmanager
def plot_style() -> Iterator[None]:
    """Draw inside ``with plot_style():`` to get replab's look without changing globals."""
    with mpl.rc_context(cast(Any, STYLE)):
        yield


def use_style() -> None:
    """Make replab's look the default for this session (``matplotlib.rcParams``)."""
    mpl.rcParams.update(cast(Any, STYLE))


def _styled(fn: _F) -> _F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with plot_style():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _fault_windows(faults: Any) -> list[tuple[float, float, str]]:
    """(start, end, kind) triples from a frame (start, end[, kind]) or a list of tuples."""
    if faults is None:
        return []
    if isinstance(faults, pd.DataFrame):
        kinds = faults["kind"] if "kind" in faults else ["fault"] * len(faults)
        return [(float(a), float(b), str(k))
                for a, b, k in zip(faults["start"], faults["end"], kinds, strict=True)]
    return [(float(f[0]), float(f[1]), str(f[2]) if len(f) > 2 else "fault") for f in faults]


@_styled
def plot_timeseries(
    df: pd.DataFrame, x: str, y: str | Sequence[str], faults: Any = None,
    ax: Axes | None = None, *, hue: str | None = None,
) -> Axes:
    """Lines of ``y`` against ``x`` with fault windows shaded behind them.

    Parameters
    ----------
    df : DataFrame
        Tidy rows; ``x`` and every ``y`` are columns.
    x, y : str
        The time column and one column (or a list of columns) to draw.
    faults : DataFrame or list of tuples, optional
        Windows to shade: a frame with ``start``, ``end`` (same unit as ``x``; ``end`` may be
        inf for "until the end") and optionally ``kind`` (e.g. ``partition``, ``crash``),
        or tuples ``(start, end)`` / ``(start, end, kind)``. One shaded span per window,
        one colour and legend entry per kind.
    hue : str, optional
        A column splitting the rows into one line per value (e.g. ``node``).

    Returns
    -------
    Axes
        With one line per (y column, hue value) and one patch per fault window.
    """
    ax = _axes(ax, figsize=(8, 3.5))
    columns = [y] if isinstance(y, str) else list(y)
    groups: list[tuple[str | None, pd.DataFrame]] = (
        [(str(k), sub) for k, sub in df.groupby(hue, sort=False)] if hue else [(None, df)])
    for key, sub in groups:
        for col in columns:
            label = col if key is None else (key if len(columns) == 1 else f"{col} {key}")
            ax.plot(sub[x], sub[col], label=label)
    windows = _fault_windows(faults)
    kinds = list(dict.fromkeys(k for _, _, k in windows))
    right = float(df[x].max()) if len(df) else 1.0
    for start, end, kind in windows:
        ax.axvspan(start, min(end, right), color=FAULT_COLORS[kinds.index(kind) % 4],
                   alpha=0.45, linewidth=0, zorder=0)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color=FAULT_COLORS[i % 4], alpha=0.45, label=k) for i, k in
                enumerate(kinds)]
    ax.legend(handles=handles)
    ax.set_xlabel(x)
    ax.set_ylabel(columns[0] if len(columns) == 1 else "value")
    return ax


@_styled
def plot_topology(
    graph: nx.Graph, ax: Axes | None = None, *, pos: dict[Any, Any] | None = None,
) -> Axes:
    """Draw replicas and the links between them.

    Node attributes (all optional): ``role`` (``leader``, ``follower``, ``replica``,
    ``client`` or any other name; sets the colour), ``up`` (False draws a crashed node
    hollow), ``pos`` ((x, y), used when every node has one), ``label``. Edge attribute
    ``up`` (False draws a partitioned link dashed and red). A directed graph gets arrows
    (replication flows from leader to follower).

    Positions come from ``pos``, else the nodes' ``pos`` attributes, else a circle in node
    order (deterministic).

    Returns
    -------
    Axes
        Nodes in one collection, one text per node; for a directed graph one arrow patch
        per edge.
    """
    ax = _axes(ax, figsize=(4.5, 4.5))
    if pos is None:
        given = nx.get_node_attributes(graph, "pos")
        pos = given if len(given) == len(graph) else nx.circular_layout(graph)
    roles = [str(graph.nodes[v].get("role", "replica")) for v in graph]
    others = [r for r in dict.fromkeys(roles) if r not in ROLE_COLORS]
    colors = {**ROLE_COLORS, **{r: PALETTE[(2 + i) % len(PALETTE)] for i, r in
                                enumerate(others)}}
    up = [bool(graph.nodes[v].get("up", True)) for v in graph]
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=900, linewidths=2,
                           node_color=[colors[r] if u else "white" for r, u in zip(roles, up,
                                                                                  strict=True)],
                           edgecolors=[colors[r] for r in roles])
    for alive in (True, False):
        edges = [(a, b) for a, b, d in graph.edges(data=True) if bool(d.get("up", True)) is alive]
        if edges:
            nx.draw_networkx_edges(graph, pos, edgelist=edges, ax=ax, node_size=900, width=1.5,
                                   edge_color="#555555" if alive else PALETTE[1],
                                   style="solid" if alive else "dashed",
                                   **({"arrowsize": 14} if graph.is_directed() else {}))
    nx.draw_networkx_labels(graph, pos, ax=ax, font_size=9,
                            labels={v: graph.nodes[v].get("label", v) for v in graph})
    ax.legend(handles=[Line2D([], [], ls="", marker="o", markersize=9, color=colors[r], label=r)
                       for r in dict.fromkeys(roles)], loc="best")
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.margins(0.15)
    return ax


@_styled
def plot_message_timeline(
    events_df: pd.DataFrame, ax: Axes | None = None, *, nodes: Sequence[Any] | None = None,
) -> Axes:
    """A sequence diagram: one horizontal lane per node, one arrow per message.

    Parameters
    ----------
    events_df : DataFrame
        One row per message, columns:

        - ``send_time`` (float, ms): when ``src`` sent it;
        - ``time`` (float, ms): when it was delivered to ``dst``; NaN if it was lost;
        - ``src``, ``dst``: sender and receiver (node or client names);
        - ``kind`` (str): the message type (e.g. ``write``, ``ack``, ``read``,
          ``response``); sets the colour.

        A lost message is drawn as a dashed stub ending in a cross halfway to ``dst``, at
        half the median delivered delay.
    nodes : sequence, optional
        The lanes from top to bottom (default: in order of first appearance).

    Returns
    -------
    Axes
        One lane line per node and one arrow patch per message.
    """
    ax = _axes(ax, figsize=(8, 0.6 + 0.6 * events_df[["src", "dst"]].nunique().max()))
    lanes = list(nodes) if nodes is not None else list(
        dict.fromkeys(np.ravel(events_df[["src", "dst"]].to_numpy())))
    lane = {node: -i for i, node in enumerate(lanes)}
    kinds = list(dict.fromkeys(events_df["kind"]))
    color = {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(kinds)}
    delays = (events_df["time"] - events_df["send_time"]).dropna()
    stub = 0.5 * float(delays.median()) if len(delays) else 1.0
    for node in lanes:
        ax.axhline(lane[node], color="#999999", linewidth=0.8, zorder=0)
    sent, received = (events_df[c].to_numpy(dtype=float) for c in ("send_time", "time"))
    for t0, t1, src, dst, kind in zip(sent, received, events_df["src"], events_df["dst"],
                                      events_df["kind"], strict=True):
        lost = bool(np.isnan(t1))
        y0, y1 = lane[src], lane[dst]
        end = (t0 + stub, (y0 + y1) / 2) if lost else (t1, y1)
        ax.add_patch(FancyArrowPatch((t0, y0), end, color=color[kind],
                                     arrowstyle="-" if lost else "-|>", mutation_scale=10,
                                     linestyle="--" if lost else "-", linewidth=1.2))
        if lost:
            ax.text(end[0], end[1], "x", color=color[kind], ha="center", va="center")
    ax.set_yticks([lane[n] for n in lanes], [str(n) for n in lanes])
    ax.set_ylim(-len(lanes) + 0.5, 0.5)
    ends = events_df["time"].fillna(events_df["send_time"] + stub)
    left, right = float(events_df["send_time"].min()), float(ends.max())
    pad = 0.03 * (right - left or 1.0)
    ax.set_xlim(left - pad, right + pad)  # arrow patches do not update the data limits
    ax.set_xlabel("time (ms)")
    ax.grid(False)
    ax.legend(handles=[Line2D([], [], color=color[k], label=k) for k in kinds],
              loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


# ------------------------------------------------------------------------------------------
# Estimator plots
# ------------------------------------------------------------------------------------------


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


# -- replication-lag anomalies (replab.models.anomaly_sweep) ------------------------------
__all__ += ["plot_anomaly_rates", "plot_mitigation_costs"]

_COST_LABELS = {
    "leader_read_share": "share of reads served by the leader",
    "read_p50_ms": "read latency p50 (ms)", "read_p99_ms": "read latency p99 (ms)",
    "extra_read_p50_ms": "extra read latency p50 (ms)",
    "extra_read_p99_ms": "extra read latency p99 (ms)",
    "read_failure_rate": "share of reads that failed",
}


def _by_hue(df: pd.DataFrame, hue: str) -> list[tuple[Any, pd.DataFrame]]:
    return [(level, sub.sort_values("lag_ms")) for level, sub in df.groupby(hue, sort=False)]


def plot_anomaly_rates(df: pd.DataFrame, ax: Axes | None = None, *,
                       hue: str = "mitigation") -> Axes:
    """Anomaly rate against replication lag, one line (with its 95 % CI band) per ``hue``.

    ``df`` comes from :func:`replab.models.anomaly_sweep`: one row per ``hue`` value and
    ``lag_ms`` (select one value of any other swept field first).
    """
    ax = _axes(ax)
    for i, (level, sub) in enumerate(_by_hue(df, hue)):
        color = PALETTE[i % len(PALETTE)]
        ax.plot(sub["lag_ms"], sub["rate"], "o-", color=color, label=str(level), ms=4)
        ax.fill_between(sub["lag_ms"], sub["ci_low"], sub["ci_high"], color=color,
                        alpha=0.2, linewidth=0)
    names = list(df["anomaly"].unique()) if "anomaly" in df and len(df) else []
    ax.set_xlabel("mean replication delay, lag_ms (ms)")
    ax.set_ylabel(f"{names[0] if len(names) == 1 else 'anomaly'} rate (of examined reads)")
    ax.grid(True, alpha=0.3)
    if len(df):
        ax.legend(fontsize=8)
    return ax


def plot_mitigation_costs(df: pd.DataFrame, ax: Axes | None = None, *,
                          cost: str = "leader_read_share", hue: str = "mitigation") -> Axes:
    """A mitigation cost (a column of :func:`replab.models.anomaly_sweep`) against lag.

    ``cost`` is e.g. ``leader_read_share`` (drawn with its CI band), ``read_p99_ms``,
    ``extra_read_p99_ms`` or ``read_failure_rate``; one line per ``hue`` value.
    """
    ax = _axes(ax)
    for i, (level, sub) in enumerate(_by_hue(df, hue)):
        color = PALETTE[i % len(PALETTE)]
        ax.plot(sub["lag_ms"], sub[cost], "s--", color=color, label=str(level), ms=4)
        if f"{cost}_ci_low" in sub:
            ax.fill_between(sub["lag_ms"], sub[f"{cost}_ci_low"], sub[f"{cost}_ci_high"],
                            color=color, alpha=0.15, linewidth=0)
    ax.set_xlabel("mean replication delay, lag_ms (ms)")
    ax.set_ylabel(_COST_LABELS.get(cost, cost.replace("_", " ")))
    ax.grid(True, alpha=0.3)
    if len(df):
        ax.legend(fontsize=8)
    return ax


# =========================================================================================
# Multi-leader replication (replab.models.multi_leader). Distinct names: plot_topology_flow,
# plot_propagation_delays, plot_node_staleness, plot_conflict_outcomes.
# =========================================================================================

__all__ += [
    "plot_topology_flow",
    "plot_propagation_delays",
    "plot_node_staleness",
    "plot_conflict_outcomes",
]


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
