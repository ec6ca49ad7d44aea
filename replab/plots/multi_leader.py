"""Multi-leader replication: topology flow, propagation, staleness, conflicts."""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import (
    PALETTE,
    _axes,
)

__all__ = [
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
