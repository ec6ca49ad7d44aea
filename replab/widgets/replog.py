"""The replication-log explorer: pick a log kind, a workload and followers; see divergence.

``compute_replog_view`` is the pure computation; ``ReplogExplorer`` wires widgets to it,
updates the bars of an existing figure in place and shows the leader's and a follower's
table side by side with the differing rows shaded.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from replab.plots.replog import (
    plot_bytes_per_write,
    plot_divergence,
    plot_leader_cost,
    style_side_by_side,
)
from replab.replog import KINDS, WORKLOADS, ReplogConfig, ReplogResult, compare_kinds
from replab.replog import simulate_replog as _simulate
from replab.replog.compare import side_by_side
from replab.replog.config import TABLES

__all__ = ["BAR_METRICS", "ReplogView", "compute_replog_view", "ReplogExplorer"]

BAR_METRICS = ("divergent_fraction", "bytes_per_write", "leader_wal_bytes_per_write")


@dataclass(frozen=True)
class ReplogView:
    """Everything the explorer shows for one setting of the controls."""

    result: ReplogResult
    comparison: pd.DataFrame
    table: pd.DataFrame


@lru_cache(maxsize=32)
def _comparison(workload: str, followers: int, transactions: int, seed: int) -> pd.DataFrame:
    # The bars do not depend on the chosen kind: switching kinds reuses this.
    config = ReplogConfig(workload=workload, followers=followers, transactions=transactions)
    return compare_kinds(config, seed=seed)


def compute_replog_view(
    kind: str, workload: str, followers: int, *, transactions: int = 200,
    table: str = "orders", follower: str = "follower1", seed: int = 0,
) -> ReplogView:
    """The pure computation behind the explorer."""
    config = ReplogConfig(kind=kind, workload=workload, followers=followers,
                          transactions=transactions)
    result = _simulate(config, seed=seed)
    tables = result.follower_tables[follower]
    follower_table = tables.get(table, result.leader_tables[table].iloc[0:0])
    return ReplogView(result, _comparison(workload, followers, transactions, seed),
                      side_by_side(result.leader_tables[table], follower_table))


class ReplogExplorer:
    """Dropdowns for kind / workload / table, a followers slider, a Run button."""

    def __init__(self, *, transactions: int = 200, seed: int = 0) -> None:
        self.transactions, self.seed = transactions, seed
        self.kind = widgets.Dropdown(options=KINDS, value="statement", description="kind")
        self.workload = widgets.Dropdown(options=WORKLOADS, value="nondeterministic",
                                         description="workload")
        self.followers = widgets.IntSlider(value=2, min=1, max=5, description="followers",
                                           continuous_update=False)
        self.table = widgets.Dropdown(options=TABLES, value="orders", description="table")
        self.button = widgets.Button(description="Run", button_style="primary")
        self.summary = widgets.HTML()
        self.tables = widgets.Output()
        self.errors = widgets.Output()
        self.figure, axes = plt.subplots(1, 3, figsize=(12, 3.4))
        plt.close(self.figure)  # shown through the Output below, redrawn in place
        self.axes = dict(zip(BAR_METRICS, axes, strict=True))
        self.plot_area = widgets.Output()
        self.view: ReplogView | None = None
        self.button.on_click(self.update)
        for control in (self.kind, self.workload, self.followers, self.table):
            control.observe(self.update, names="value")

    @property
    def result(self) -> ReplogResult | None:
        """The last result, kept for analysis after exploring."""
        return None if self.view is None else self.view.result

    def update(self, *_: Any) -> None:
        """Recompute for the current controls and redraw; errors go to ``errors``."""
        try:
            self.view = compute_replog_view(
                self.kind.value, self.workload.value, self.followers.value,
                transactions=self.transactions, table=self.table.value, seed=self.seed)
        except Exception:  # shown, not raised, so the dashboard stays usable
            with self.errors:
                self.errors.clear_output()
                print(traceback.format_exc(limit=3))
            return
        self.errors.clear_output()
        self._redraw(self.view)

    def _redraw(self, view: ReplogView) -> None:
        for metric, draw in zip(BAR_METRICS, (plot_divergence, plot_bytes_per_write,
                                              plot_leader_cost), strict=True):
            ax = self.axes[metric]
            ax.clear()
            draw(view.comparison, ax)
        self.figure.tight_layout()
        with self.plot_area:
            self.plot_area.clear_output(wait=True)
            display(self.figure)
        m = view.result.metrics
        self.summary.value = (
            f"<b>{m['kind']}</b> on <b>{m['workload']}</b>: {m['divergent_rows']} divergent "
            f"rows over {m['followers']} followers, {m['bytes_per_write']:.0f} bytes per "
            f"write, {m['apply_errors']} apply errors")
        with self.tables:
            self.tables.clear_output(wait=True)
            display(style_side_by_side(view.table))

    @property
    def widget(self) -> widgets.VBox:
        controls = widgets.HBox([self.kind, self.workload, self.followers, self.table,
                                 self.button])
        return widgets.VBox([controls, self.summary, self.plot_area, self.errors,
                             self.tables])
