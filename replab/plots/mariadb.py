"""Pictures of the MariaDB lab: GTID positions over time with the faults marked."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from replab.plots._base import FAULT_COLORS, PALETTE, _axes, _styled

__all__ = ["plot_gtid_positions"]


@_styled
def plot_gtid_positions(positions: pd.DataFrame, nemesis: pd.DataFrame | None = None,
                        ax: Axes | None = None) -> Axes:
    """Each server's binlog position (GTID seq_no, summed over domains) against time.

    ``nemesis``: history rows of process ``"nemesis"`` (``time``, ``f``, ``key``), drawn as
    dashed vertical lines labelled above the axes; the legend sits outside, right.
    """
    ax = _axes(ax, figsize=(7, 3.2))
    total = positions.groupby(["server", "time_ms"], as_index=False)["seq_no"].sum()
    for i, (server, g) in enumerate(total.groupby("server", sort=True)):
        ax.step(g["time_ms"] / 1000, g["seq_no"], where="post", color=PALETTE[i % 7],
                label=server)
    for j, (_, op) in enumerate((nemesis if nemesis is not None else pd.DataFrame(
            columns=["time", "f", "key"])).iterrows()):
        ax.axvline(op["time"] / 1000, color=FAULT_COLORS[1 + j % 3], lw=1.5, ls="--")
        ax.annotate(f"{op['f']} {op['key']}", (op["time"] / 1000, 1.02),
                    xycoords=("data", "axes fraction"), rotation=25, va="bottom",
                    ha="left", fontsize=8)
    ax.set_xlabel("time since the writes began (s)")
    ax.set_ylabel("transactions in the binlog\n(GTID seq_no, all domains)")
    ax.legend(title="server", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax
