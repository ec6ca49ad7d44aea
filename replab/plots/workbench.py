"""Workbench pictures: time series with fault windows, topologies, message timelines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch

from replab.plots._base import (
    COLORS,
    FAULT_COLORS,
    PALETTE,
    ROLE_COLORS,
    _axes,
    _styled,
    human,
)

__all__ = [
    "plot_timeseries",
    "plot_topology",
    "plot_message_timeline",
]

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
    bands: dict[str, tuple[str, str]] | None = None, steps: bool = False,
    colors: dict[str, str] | None = None,
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
    bands : dict, optional
        ``{y column: (low column, high column)}``: a shaded interval around that line
        (e.g. its 95 % CI); the legend entry says "95 % CI shaded".
    colors : dict, optional
        ``{y column: colour}``, e.g. ``COLORS["write"]`` for a write probability.
    steps : bool
        Draw each sample as holding until the next (``steps-post``) instead of a straight
        line between samples, so a change shows where the sample that saw it starts.

    Returns
    -------
    Axes
        With one line per (y column, hue value) and one patch per fault window.
    """
    ax = _axes(ax, figsize=(8, 3.5))
    columns = [y] if isinstance(y, str) else list(y)
    groups: list[tuple[str | None, pd.DataFrame]] = (
        [(str(k), sub) for k, sub in df.groupby(hue, sort=False)] if hue else [(None, df)])
    bands = bands or {}
    drawstyle = "steps-post" if steps else "default"
    for key, sub in groups:
        for i, col in enumerate(columns):
            name = human(col)
            label = name if key is None else (key if len(columns) == 1 else f"{name} {key}")
            (line,) = ax.plot(sub[x], sub[col], label=label, drawstyle=drawstyle,
                              color=(colors or {}).get(col, PALETTE[i % len(PALETTE)])
                              if key is None else None)
            if col in bands:
                low, high = bands[col]
                ax.fill_between(sub[x], sub[low], sub[high], color=line.get_color(),
                                alpha=0.2, linewidth=0, step="post" if steps else None)
    windows = _fault_windows(faults)
    kinds = list(dict.fromkeys(k for _, _, k in windows))
    right = float(df[x].max()) if len(df) else 1.0
    for start, end, kind in windows:
        ax.axvspan(start, min(end, right), color=FAULT_COLORS[kinds.index(kind) % 4],
                   alpha=0.45, linewidth=0, zorder=0)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color=FAULT_COLORS[i % 4], alpha=0.45, label=k) for i, k in
                enumerate(kinds)]
    # Outside the axes, on the right: a legend never covers the data.
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              title="95 % CI shaded" if bands else None)
    ax.set_xlabel(human(x))
    ax.set_ylabel(human(columns[0]) if len(columns) == 1 else "value")
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
    color = {k: COLORS[k] for k in kinds if k in COLORS}  # named concepts keep theirs
    spare = iter([c for c in PALETTE if c not in color.values()] + PALETTE)
    color.update({k: next(spare) for k in kinds if k not in color})
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
