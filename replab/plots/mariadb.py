"""Pictures of the MariaDB lab: GTID positions over time with the faults marked, and
semi-sync's cost (write latency) beside what it saves (acknowledged writes lost)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import COLORS, FAULT_COLORS, PALETTE, _axes, _styled

__all__ = ["plot_gtid_positions", "plot_write_latency_cdf", "plot_acked_loss"]


@_styled
def plot_gtid_positions(positions: pd.DataFrame, nemesis: pd.DataFrame | None = None,
                        ax: Axes | None = None) -> Axes:
    """Each server's binlog position (GTID seq_no, summed over domains) against time.

    ``nemesis``: history rows of process ``"nemesis"`` (``time``, ``f``, ``key``), drawn as
    dashed vertical lines labelled inside the top of the axes; the legend sits outside,
    right.
    """
    ax = _axes(ax, figsize=(7, 3.2))
    total = positions.groupby(["server", "time_ms"], as_index=False)["seq_no"].sum()
    for i, (server, g) in enumerate(total.groupby("server", sort=True)):
        ax.step(g["time_ms"] / 1000, g["seq_no"], where="post", color=PALETTE[i % 7],
                label=server)
    faults = nemesis if nemesis is not None else pd.DataFrame(columns=["time", "f", "key"])
    for j, (_, op) in enumerate(faults.iterrows()):
        ax.axvline(op["time"] / 1000, color=FAULT_COLORS[1 + j % 3], lw=1.5, ls="--")
    left, right = ax.get_xlim()
    for j, (_, op) in enumerate(faults.iterrows()):
        # inside the axes, staggered downwards so that neighbouring labels do not collide;
        # right of the line in the left half, left of it in the right half (never clipped)
        x = op["time"] / 1000
        late = x > (left + right) / 2
        ax.annotate(f"{op['f']} {op['key']}", (x, 0.97 - 0.09 * (j % 4)),
                    xycoords=("data", "axes fraction"), xytext=(-3 if late else 3, 0),
                    textcoords="offset points", va="top", ha="right" if late else "left",
                    fontsize=8, bbox={"boxstyle": "round,pad=0.15", "fc": "white",
                                      "ec": "none", "alpha": 0.8})
    if nemesis is not None and len(nemesis):  # headroom: the labels sit above the lines
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.35 * (hi - lo))
    ax.set_xlabel("time since the writes began (s)")
    ax.set_ylabel("transactions in the binlog\n(GTID seq_no, all domains)")
    ax.legend(title="server", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def _setting_color(name: str, i: int) -> str:
    """async and semi-sync in their ``COLORS``; a semi-sync that falls back in another."""
    return COLORS.get(name, PALETTE[(3 + i) % len(PALETTE)])


@_styled
def plot_write_latency_cdf(runs: dict[str, Any], ax: Axes | None = None) -> Axes:
    """The distribution of acknowledged writes' latency, one line a setting (a
    :class:`~replab.real.mariadb.MariaDBResult` each), with a 95 % DKW band; the legend
    counts the writes acknowledged and those whose outcome stayed unknown (``info``: a
    commit still waiting for a replica's ack when the primary died has no latency)."""
    ax = _axes(ax, figsize=(6.5, 3.4), layout="constrained")
    for i, (name, run) in enumerate(runs.items()):
        w = run.writes
        lat = np.sort(w.loc[w["status"] == "ok", "latency_ms"].to_numpy(dtype=float))
        n = len(lat)
        if not n:
            continue
        y = np.arange(1, n + 1) / n
        eps = float(np.sqrt(np.log(2 / 0.05) / (2 * n)))
        color = _setting_color(name, i)
        unknown = int((w["status"] == "info").sum())
        ax.step(lat, y, where="post", color=color,
                label=f"{name}: {n} acknowledged, {unknown} unknown")
        ax.fill_between(lat, np.clip(y - eps, 0, 1), np.clip(y + eps, 0, 1), step="post",
                        color=color, alpha=0.15, lw=0)
    ax.set_xscale("log")
    ax.set_xlabel("write latency (ms, log scale; acknowledged writes only)")
    ax.set_ylabel("share of acknowledged writes\n(band: 95 % DKW)")
    ax.set_ylim(0, 1.02)
    ax.set_title("what waiting for a replica's ack costs")
    ax.legend(loc="lower right", fontsize=8)  # right of the steps, below their plateau
    return ax


@_styled
def plot_acked_loss(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Acknowledged writes lost on the crash, as a share with its Wilson 95 % interval,
    one point a setting. ``table``: :func:`replab.real.mariadb.experiments.compare_semi_sync`
    with a ``setting`` column naming each row."""
    ax = _axes(ax, figsize=(5, 3.4), layout="constrained")
    for i, r in enumerate(table.to_dict("records")):
        share = r["acked_writes_lost"] / r["acked_writes"] if r["acked_writes"] else 0.0
        ax.errorbar(i, share, yerr=[[share - r["acked_writes_lost_ci_low"]],
                                    [r["acked_writes_lost_ci_high"] - share]],
                    fmt="o", color=_setting_color(str(r["setting"]), i), capsize=4, ms=6)
        ax.annotate(f"{r['acked_writes_lost']} of {r['acked_writes']}",
                    (i, r["acked_writes_lost_ci_high"]), xytext=(0, 4),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(table)), [str(s).replace(", ", ",\n") for s in table["setting"]])
    ax.set_xlim(-0.6, len(table) - 0.4)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("acknowledged writes lost\n(share, Wilson 95 %)")
    ax.set_title("what it saves when the primary dies")
    return ax
