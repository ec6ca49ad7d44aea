"""The Patroni lab (``replab.real.patroni``): a Jepsen-style timeline of one failover, the
pause-vs-ttl sweep, async vs sync, and the simulator beside the measurements."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from replab.plots._base import COLORS, FAULT_COLORS, _axes, _styled

__all__ = ["OUTCOME_COLORS", "plot_failover_timeline", "plot_pause_sweep",
           "plot_pause_unavailability", "plot_modes"]

#: One colour a write's fate, everywhere in this lab's pictures.
OUTCOME_COLORS = {"ok": COLORS["available"], "acked after the election, kept": COLORS["stale"],
                  "acked, then lost": COLORS["lost"], "info (unknown)": COLORS["none"],
                  "fail": "#000000"}
_PAUSE = FAULT_COLORS[2]
_LEADER = COLORS["leader"]


def _fate(writes: pd.DataFrame) -> pd.Series:
    """The fate a write is drawn with (lost wins over split-brain over its outcome)."""
    fate = writes["type"].astype(str).replace({"info": "info (unknown)"})
    fate[writes["split_brain"].astype(bool)] = "acked after the election, kept"
    fate[writes["lost"].astype(bool)] = "acked, then lost"
    return fate


@_styled
def plot_failover_timeline(writes: pd.DataFrame, leadership: pd.DataFrame,
                           metrics: dict[str, Any], ax: Axes | None = None) -> Axes:
    """Every completed write at the time it completed, in the lane of the node that served
    it, coloured by its fate; each node's leadership (its REST API said primary) as a bar
    under its lane; the pause shaded; the new leader's election as a dashed line.

    ``writes``: ``PatroniResult.writes``; ``leadership``: ``PatroniResult.leadership``;
    ``metrics``: ``PatroniResult.metrics``."""
    ax = _axes(ax, figsize=(8, 3.4))
    nodes = sorted(set(writes["node"].dropna()) | set(leadership["node"]))
    lane = {n: i for i, n in enumerate(nodes)}
    t0, t1 = metrics.get("fault_start_s"), metrics.get("fault_end_s")
    if t0 is not None and t1 is not None and t0 == t0 and t1 == t1:
        ax.axvspan(t0, t1, color=_PAUSE, alpha=0.5, lw=0)
    for node, start, end in leadership[["node", "start_s", "end_s"]].itertuples(index=False):
        ax.plot([start, end], [lane[node] - 0.32] * 2, color=_LEADER, lw=6, alpha=0.35,
                solid_capstyle="butt")
    fate = _fate(writes)
    jitter = np.random.default_rng(0).uniform(-0.18, 0.18, len(writes))  # fixed: a picture
    for name, color in OUTCOME_COLORS.items():
        sel = (fate == name).to_numpy()
        if sel.any():
            y = writes["node"][sel].map(lane).to_numpy(dtype=float) + jitter[sel]
            ax.plot(writes["done_s"][sel], y, "|", color=color, ms=7, mew=1.2)
    elected = metrics.get("elected_s")
    if elected is not None and elected == elected:
        ax.axvline(elected, color=_LEADER, ls="--", lw=1)
    ax.set_yticks(range(len(nodes)), nodes)
    ax.set_ylim(-0.7, len(nodes) - 0.5)
    ax.set_xlabel("time since the run started (s)")
    ax.set_ylabel("node that answered")
    ax.set_title("writes per node (tick: one completed write)")
    counts = fate.value_counts()
    handles: list[Any] = [Line2D([], [], color=c, marker="|", ls="none", ms=9, mew=1.5,
                                 label=f"{n} ({counts.get(n, 0)})")
                          for n, c in OUTCOME_COLORS.items()]
    handles += [Line2D([], [], color=_LEADER, lw=6, alpha=0.35, label="says it is the primary"),
                Line2D([], [], color=_LEADER, ls="--", lw=1, label="new leader elected"),
                Patch(color=_PAUSE, alpha=0.5, label="leader paused")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax


@_styled
def plot_pause_sweep(measured: pd.DataFrame, model: pd.DataFrame | None = None, *,
                     ttl: float = 20.0, ax: Axes | None = None) -> Axes:
    """P(failover) against the pause length: measured (points, Wilson 95 % bars) and the
    single-leader simulator at the same settings (hollow squares, its Wilson bars); the
    dotted line is ttl.

    ``measured``, ``model``: :func:`~replab.real.patroni.sweeps.summarize` and
    :func:`~replab.real.patroni.sweeps.model_beside` frames."""
    ax = _axes(ax, figsize=(6, 3.4))
    for frame, style, label, shift in ((measured, "o", "Patroni (measured)", -0.15),
                                       (model, "s", "simulator", 0.15)):
        if frame is None or not len(frame):
            continue
        f = frame.sort_values("pause_s")
        color = COLORS["async"]
        ax.errorbar(f["pause_s"] + shift, f["p_failover"],
                    yerr=[f["p_failover"] - f["p_failover_lo"],
                          f["p_failover_hi"] - f["p_failover"]],
                    fmt=style, color=color, mfc=color if style == "o" else "none", ms=6,
                    capsize=3, label=f"{label}, {int(f['runs'].iloc[0])} runs a point")
    ax.axvline(ttl, color="#555555", ls=":", lw=1.2, label=f"ttl = {ttl:g} s")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("leader paused for (s)")
    ax.set_ylabel("P(failover)")
    ax.set_title("a pause shorter than ttl does not fail over; a longer one does")
    ax.legend(loc="upper left", fontsize=8)
    return ax


@_styled
def plot_pause_unavailability(measured: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Client-side unavailability (from the fault to the first successful write invoked
    after the first failed one, or after the fault when none failed) against the pause
    length, mean with min-max bars over the runs; the dashed line is unavailability =
    pause (the clients waited the pause out)."""
    ax = _axes(ax, figsize=(6, 3.4))
    f = measured.sort_values("pause_s")
    color = COLORS["async"]
    ax.errorbar(f["pause_s"], f["unavailable_s"],
                yerr=[f["unavailable_s"] - f["unavailable_s_min"],
                      f["unavailable_s_max"] - f["unavailable_s"]],
                fmt="o", color=color, capsize=3,
                label=f"measured: mean, min-max of {int(f['runs'].iloc[0])} runs")
    lim = float(f["pause_s"].max()) + 2.0 if len(f) else 1.0
    ax.plot([0, lim], [0, lim], "--", color="#777777", lw=1, label="unavailable = pause")
    ax.set_xlabel("leader paused for (s)")
    ax.set_ylabel("writes unavailable (s)")
    ax.set_title("unavailability seen by the clients")
    ax.legend(loc="upper left", fontsize=8)
    return ax


@_styled
def plot_modes(measured: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Async against sync at the same pause: split-brain writes and lost acknowledged
    writes, bars at the mean with min-max of the runs."""
    ax = _axes(ax, figsize=(6, 3.4))
    measures = [("split_brain_writes", "acked by the old leader\nafter the election"),
                ("lost_acknowledged", "acknowledged,\nthen lost")]
    f = measured.set_index("mode")
    width = 0.38
    for i, mode in enumerate(m for m in ("async", "sync") if m in f.index):
        row = f.loc[mode]
        x = np.arange(len(measures)) + (i - 0.5) * width
        mean = np.array([row[c] for c, _ in measures], dtype=float)
        lo = np.array([row[f"{c}_min"] for c, _ in measures], dtype=float)
        hi = np.array([row[f"{c}_max"] for c, _ in measures], dtype=float)
        runs = int(f["runs"].loc[mode])
        ax.bar(x, mean, width, color=COLORS[mode], label=f"{mode} (min-max of {runs} runs)")
        ax.errorbar(x, mean, yerr=[mean - lo, hi - mean], fmt="none", color="#333333",
                    capsize=3)
        for xi, m in zip(x, mean, strict=True):
            ax.annotate(f"{m:.0f}", (xi, m), ha="center", va="bottom", fontsize=8,
                        xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(measures)), [w for _, w in measures])
    ax.set_ylabel("writes per run")
    ax.set_title("asynchronous vs synchronous replication")
    ax.legend(loc="upper right", fontsize=8)
    return ax
