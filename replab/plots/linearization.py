"""Linearizability pictures: one key's ops as bars on process lanes, with the (partial)
linearization drawn through them (what Porcupine's visualizer shows, for notebooks).

The result is :func:`replab.checks.linearizable`'s; its ``KeyVerdict.frame()`` gives the
bars, points and roles, so nothing is computed here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from replab.plots._base import COLORS, _axes, _styled

__all__ = ["plot_linearization", "OP_COLORS", "FAILING_COLOR", "BLOCKED_COLOR"]

OP_COLORS = {f: COLORS[f] for f in ("read", "write", "cas")}
FAILING_COLOR = COLORS["lost"]
BLOCKED_COLOR = COLORS["stale"]
_BAR = 0.56  # bar height, in lanes


@_styled
def plot_linearization(result: Any, key: Any, ax: Axes | None = None, *,
                       max_ops: int = 400) -> Axes:
    """Draw one key of a linearizability result.

    One lane per process; each op a bar from its invoke to its completion (an ``info`` op
    a pale bar to the end of the history: it may take effect any time, or never), coloured
    by ``f``. Black dots joined by a line are the linearization points, in order: the whole
    linearization, or for a key that is not linearizable the longest partial one found,
    with the op that had to come next outlined in red (X) and the ops that could have come
    next but could not take effect outlined in orange.

    Parameters
    ----------
    result : LinearizabilityResult
        From :func:`replab.checks.linearizable`.
    key : object
        The key to draw.
    ax : Axes, optional
    max_ops : int, default 400
        Draw only the first ``max_ops`` ops of a longer key (the title says so).

    Returns
    -------
    Axes
    """
    kv = result.keys[key]
    df = kv.frame()
    shown = df.iloc[:max_ops]
    ax = _axes(ax, figsize=(10, 1.8 + 0.5 * (int(df["lane"].max()) + 1 if len(df) else 1)))
    for role, edge, width in (("linearized", "none", 0.0), ("unplaced", "none", 0.0),
                              ("blocked", BLOCKED_COLOR, 2.0), ("failing", FAILING_COLOR, 2.5)):
        part = shown[shown["role"] == role]
        for info in (False, True):
            bars = part[(part["type"] == "info") == info]
            if not len(bars):
                continue
            ax.barh(bars["lane"], bars["end"] - bars["start"], left=bars["start"], height=_BAR,
                    color=[OP_COLORS[f] for f in bars["f"]], alpha=0.25 if info else 0.75,
                    edgecolor=edge, linewidth=width, linestyle="--" if info else "-")
    placed = shown.dropna(subset=["point"]).sort_values("rank")
    ax.plot(placed["point"], placed["lane"], color="black", linewidth=0.8, alpha=0.6,
            marker="o", markersize=4, zorder=3)
    failing = shown[shown["role"] == "failing"]
    ax.plot(failing["end"], failing["lane"], "X", color=FAILING_COLOR, markersize=10, zorder=4)
    _labels(ax, df)
    more = f" (first {max_ops} of {len(df)} ops)" if len(df) > max_ops else ""
    name = "the register" if key is None else f"key {key!r}"
    ax.set_title(f"{name}: {kv.verdict}{more}")
    _legend(ax, kv.verdict != "linearizable")
    return ax


def _labels(ax: Axes, df: Any) -> None:
    lanes = df.drop_duplicates("lane").sort_values("lane")
    ax.set_yticks(np.asarray(lanes["lane"]), [f"process {p}" for p in lanes["process"]])
    ax.set_ylim(-0.6, (int(lanes["lane"].max()) if len(lanes) else 0) + 0.6)
    ax.invert_yaxis()
    ax.set_xlabel("position in the history (op number)")
    ax.grid(axis="y", visible=False)


def _legend(ax: Axes, violation: bool) -> None:
    handles: list[Any] = [Patch(color=c, alpha=0.75, label=f) for f, c in OP_COLORS.items()]
    handles.append(Patch(facecolor="#7f7f7f", alpha=0.25, linestyle="--", edgecolor="#7f7f7f",
                         label="outcome unknown (info)"))
    handles.append(Line2D([], [], color="black", marker="o", markersize=4, linewidth=0.8,
                          label="linearization points" if not violation
                          else "longest partial linearization"))
    if violation:
        handles.append(Line2D([], [], color=FAILING_COLOR, marker="X", linestyle="none",
                              markersize=8, label="had to take effect next, could not"))
        handles.append(Patch(facecolor="none", edgecolor=BLOCKED_COLOR, linewidth=2,
                             label="could come next, could not take effect"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
