"""Multi-leader replication: topology flow, propagation, staleness, conflicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import (
    COLORS,
    PALETTE,
    _axes,
)

__all__ = [
    "plot_topology_flow",
    "plot_propagation_delays",
    "plot_node_staleness",
    "plot_conflict_outcomes",
    "plot_offline_windows",
    "leader_color",
    "mark_events",
    "fault_marks",
    "plot_write_cost",
    "plot_edit_session",
]

#: Line styles of the events :func:`mark_events` draws.
_EVENT_STYLE = {"crash": ("black", "--"), "reconfiguration": (PALETTE[4], "-."),
                "restart": (PALETTE[2], ":"), "home moved": (PALETTE[4], "-.")}


def leader_color(node: Any) -> str:
    """One colour per leader in every panel: ``dc<i>`` gets the ``i``-th palette colour."""
    name = str(node)
    digits = name.lstrip("abcdefghijklmnopqrstuvwxyz_-")
    i = int(digits) if digits.isdigit() else sum(map(ord, name))
    return PALETTE[i % len(PALETTE)]


_EVENT_KINDS = {"crash": "crash", "reconfigure": "reconfiguration", "restart": "restart"}


def fault_marks(events: pd.DataFrame) -> list[tuple[float, str]]:
    """``(time, kind)`` for :func:`mark_events` from a run's ``events`` frame: crashes,
    reconfigurations and restarts, one per time and kind."""
    picked = events[events["kind"].isin(list(_EVENT_KINDS))]
    seen = dict.fromkeys((float(t), _EVENT_KINDS[k]) for t, k in
                         zip(picked["time"], picked["kind"], strict=True))
    return list(seen)


def mark_events(ax: Axes, events: Sequence[tuple[float, str]], *,
                down: Sequence[tuple[float, float, str]] = (), time_unit: float = 1.0) -> None:
    """Mark ``(time, kind)`` events (``crash``, ``reconfiguration``, ``restart``) as
    vertical lines, and shade ``(start, end, label)`` windows (a leader down, offline)."""
    for i, (start, end, label) in enumerate(down):
        ax.axvspan(start / time_unit, end / time_unit, color=COLORS.get("node down", "#f4a582"),
                   alpha=0.3, lw=0, zorder=0, label=label if i == 0 else None)
    seen: set[str] = set()
    for t, kind in events:
        color, ls = _EVENT_STYLE.get(kind, ("0.3", ":"))
        ax.axvline(t / time_unit, color=color, ls=ls, lw=1.3,
                   label=kind if kind not in seen else None)
        seen.add(kind)

def plot_topology_flow(
    graph: Any, ax: Axes | None = None, *, base: Any = None, failed: Any = (),
    title: str | None = None,
) -> Axes:
    """A replication topology (``networkx.DiGraph``, e.g. ``result.topology``).

    Leaders sit on a circle in the graph's node order. Arrows are the directions changes
    flow in; with ``base`` (the original topology), edges a reconfiguration added are
    orange and edges it removed are dotted grey. Every leader has its colour
    (:func:`leader_color`); nodes in ``failed`` get a thick black ring.
    """

    ax = _axes(ax, figsize=(4, 4))
    shown = graph if base is None else nx.compose(base, graph)
    pos = nx.circular_layout(list(shown.nodes))
    down = set(failed)
    nodes = list(shown.nodes)
    nx.draw_networkx_nodes(shown, pos, ax=ax, nodelist=nodes,
                           node_color=[leader_color(n) for n in nodes], node_size=650,
                           edgecolors=["black" if n in down else "white" for n in nodes],
                           linewidths=[3.0 if n in down else 1.0 for n in nodes])
    nx.draw_networkx_labels(shown, pos, ax=ax, font_color="white", font_size=9)
    kept = [e for e in graph.edges if base is None or base.has_edge(*e)]
    added = [e for e in graph.edges if base is not None and not base.has_edge(*e)]
    removed = [e for e in (base.edges if base is not None else []) if not graph.has_edge(*e)]
    style = dict(ax=ax, node_size=650, arrowsize=14, connectionstyle="arc3,rad=0.08")
    nx.draw_networkx_edges(shown, pos, edgelist=kept, edge_color="0.3", **style)
    nx.draw_networkx_edges(shown, pos, edgelist=added, edge_color=PALETTE[4], width=2, **style)
    nx.draw_networkx_edges(shown, pos, edgelist=removed, edge_color="0.75", style="dotted",
                           **style)
    ax.set_title("\n".join(filter(None, [title, "(black ring: failed)" if down else None])))
    ax.set_axis_off()
    return ax


def plot_propagation_delays(prop: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """How long each write took to reach each leader (``result.propagation``).

    One dot per (write, leader) at the write's acceptance time, in the leader's colour.
    Writes a leader never applied have no delay: they are ticks in a strip above the
    axes (outside the delay scale), counted in the title.
    """
    ax = _axes(ax, figsize=(8, 3.5))
    remote = prop[prop["node"] != prop["origin"]]
    strip = ax.get_xaxis_transform()  # x in data, y in axes fraction
    never_total = 0
    for node, sub in remote.groupby("node", sort=True):
        color = leader_color(node)
        ax.scatter(sub["accepted_at"], sub["delay_ms"], s=8, color=color, label=str(node))
        never = sub[sub["applied_at"].isna()]
        never_total += len(never)
        if len(never):
            ax.scatter(never["accepted_at"], [1.025] * len(never), marker="|", s=30,
                       color=color, transform=strip, clip_on=False)
    ax.set_xlabel("write accepted at (ms)")
    ax.set_ylabel("delay until applied (ms)")
    ax.set_ylim(bottom=0)
    ax.set_title(f"propagation; ticks above: {never_total} never applied", pad=16)
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
    for node, sub in staleness.groupby("node", sort=True):
        y = sub[value].where(sub["up"].astype(bool))
        ax.plot(sub["time"] / time_unit, y, lw=1.2, color=leader_color(node),
                label=str(node))
    unit = "ms" if time_unit == 1.0 else "h" if time_unit == 3.6e6 else \
        f"x {time_unit:g} ms"
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("writes missing" if value == "missing_writes" else "oldest missing (ms)")
    ax.grid(True, alpha=0.3)
    if len(staleness):
        ax.legend(fontsize=8)
    return ax


def plot_conflict_outcomes(df: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Per resolution strategy (``strategy_outcomes``): conflicting writes and writes lost
    per run (bars: mean, whiskers: min–max over the runs when the frame has ``_min`` and
    ``_max``), and below each strategy the fraction of runs that converged (95 % CI)."""
    ax = _axes(ax, figsize=(10, 3.8), layout="constrained")
    x = np.arange(len(df))
    for offset, col, color, label in ((-0.2, "conflicts", PALETTE[0], "conflicting writes"),
                                      (0.2, "lost_writes", COLORS["lost"], "writes lost")):
        mean = df[col].to_numpy(dtype=float)
        err = None
        if f"{col}_min" in df:
            err = [mean - df[f"{col}_min"].to_numpy(dtype=float),
                   df[f"{col}_max"].to_numpy(dtype=float) - mean]
        ax.bar(x + offset, mean, 0.4, color=color, label=label, yerr=err, capsize=3)
    runs = int(df["runs"].min()) if "runs" in df else 1
    ax.set_xticks(x, [f"{name}\nconverged {conv:.0%}\n[{lo:.0%}, {hi:.0%}]" for name, conv, lo, hi
                      in zip(df["resolution"], df["converged"], df["ci_low"], df["ci_high"],
                             strict=True)], fontsize=8)
    for tick, conv in zip(ax.get_xticklabels(), df["converged"], strict=True):
        tick.set_color("black" if conv == 1 else COLORS["lost"])
    ax.set_ylabel("writes per run")
    ax.set_xlabel(f"resolution strategy; runs that converged (95 % Wilson CI) of {runs}")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1),
              title=f"whiskers: min–max of {runs} runs")
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def plot_offline_windows(windows: pd.DataFrame, ax: Axes | None = None, *,
                         time_unit: float = 1.0) -> Axes:
    """When each device was offline (``device, from_ms, until_ms`` rows): one row of
    bars per device, in the device's colour."""
    ax = _axes(ax, figsize=(8, 1.6), layout="constrained")
    devices = sorted(windows["device"].unique())
    for i, device in enumerate(devices):
        rows = windows[windows["device"] == device]
        spans = [(a / time_unit, (b - a) / time_unit) for a, b in
                 zip(rows["from_ms"], rows["until_ms"], strict=True)]
        ax.broken_barh(spans, (i - 0.35, 0.7), color=leader_color(device))
    ax.set_yticks(range(len(devices)), devices)
    ax.set_ylim(-0.6, len(devices) - 0.4)
    ax.invert_yaxis()
    ax.set_ylabel("offline")
    return ax


def plot_write_cost(runs: pd.DataFrame, axes: Sequence[Axes] | None = None) -> list[Axes]:
    """Write latency (p99) and write availability per scenario and situation.

    ``runs`` has one row per run: ``scenario, situation, write_p99_ms,
    write_availability`` (e.g. :func:`~replab.models.sweep_multi_leader` frames with those
    two columns added). Dots are means over the runs, whiskers min–max; the latency axis is
    logarithmic (local acknowledgements take a millisecond, WAN round trips ~100).
    """
    if axes is None:
        axes = list(plt.subplots(1, 2, figsize=(12, 3.6), layout="constrained")[1])
    scenarios = list(dict.fromkeys(runs["scenario"]))
    situations = list(dict.fromkeys(runs["situation"]))
    n_runs = int(runs.groupby(["scenario", "situation"]).size().min())
    for ax, col, label in ((axes[0], "write_p99_ms", "write latency, p99 (ms; log scale)"),
                           (axes[1], "write_availability", "writes that succeeded (fraction)")):
        for j, situation in enumerate(situations):
            stats = (runs[runs["situation"] == situation].groupby("scenario")[col]
                     .agg(["mean", "min", "max"]).reindex(scenarios))
            x = np.arange(len(scenarios)) + (j - (len(situations) - 1) / 2) * 0.22
            ax.errorbar(x, stats["mean"], yerr=[stats["mean"] - stats["min"],
                                                stats["max"] - stats["mean"]],
                        fmt="o", capsize=3, color=PALETTE[j % len(PALETTE)], label=situation)
        ax.set_xticks(np.arange(len(scenarios)), scenarios, fontsize=8)
        ax.set_ylabel(label)
    axes[0].set_yscale("log")
    axes[1].set_ylim(0, 1.05)
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1),
                   title=f"whiskers: min–max\nof {n_runs} runs")
    return list(axes)


def plot_edit_session(result: Any, ax: Axes | None = None) -> Axes:
    """One collaborative-editing run (:func:`~replab.models.collab.edit_session`): one lane
    per site; each edit is a dot (an insert of the site's letter) or a cross (a delete) at
    the moment the site applied it, after a grey line for the time it waited to edit (the lock); the
    dashed line is when the last message arrived and every site held the same text."""
    ax = _axes(ax, figsize=(10, 2.4), layout="constrained")
    log, m = result.log, result.metrics
    sites = sorted(log["site"].unique(), key=lambda s: int(str(s)[1:]))
    lane = {s: i for i, s in enumerate(sites)}
    y = log["site"].map(lane).to_numpy(dtype=float)
    t, wait = log["time"].to_numpy(dtype=float), log["wait_ms"].to_numpy(dtype=float)
    ax.hlines(y, t - wait, t, color="0.6", lw=2, label="waiting to edit")
    for site in sites:
        mine = (log["site"] == site).to_numpy()
        color = PALETTE[lane[site] % len(PALETTE)]
        for kind, marker in (("insert", "o"), ("delete", "x")):
            pick = mine & (log["kind"] == kind).to_numpy()
            ax.plot(t[pick], y[pick], marker, ls="none", color=color, ms=5, alpha=0.8)
    ax.plot([], [], "o", color="0.3", label="insert (the site's letter)")
    ax.plot([], [], "x", color="0.3", label="delete")
    ax.axvline(m["end_ms"], color="black", ls="--", lw=1.2,
               label=f"all sites identical ({m['end_ms']:.0f} ms)")
    ax.set_yticks(range(len(sites)), sites)
    ax.set_ylim(-0.7, len(sites) - 0.3)
    ax.set_xlim(0, m["end_ms"] * 1.03)
    ax.invert_yaxis()
    ax.set_xlabel("time (ms) at which the typing site applied its edit")
    ax.set_title(f"{result.method}: final text {result.texts[0]!r}, converged "
                 f"{result.converged}, {m['transforms']} transforms, mean wait "
                 f"{m['wait_mean_ms']:.0f} ms", fontsize=9)
    return ax
