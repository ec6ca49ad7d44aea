"""The replication-log explorer: pick a log kind, a workload and followers; see divergence.

``compute_replog_view`` is the pure computation; ``ReplogExplorer`` wires widgets to it,
updates the bars of an existing figure in place and shows the leader's and a follower's
table side by side with the differing rows shaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from replab.plots import plot_style
from replab.plots.replog import (
    plot_bytes_per_write,
    plot_divergence,
    plot_leader_cost,
    style_side_by_side,
)
from replab.replog import KINDS, WORKLOADS, ReplogConfig, ReplogResult
from replab.replog import simulate_replog as _simulate
from replab.replog.compare import side_by_side
from replab.replog.config import TABLES
from replab.widgets._prefetch import nearby_values
from replab.widgets._render import (
    FigureImage,
    Pictures,
    Prefetcher,
    Updater,
    busy,
    explorer_box,
    nice_ceiling,
    show_traceback,
)

__all__ = ["BAR_METRICS", "ReplogView", "compute_replog_view", "ReplogExplorer"]

BAR_METRICS = ("divergent_fraction", "bytes_per_write", "leader_wal_bytes_per_write")


@dataclass(frozen=True)
class ReplogView:
    """Everything the explorer shows for one setting of the controls."""

    result: ReplogResult
    comparison: pd.DataFrame
    table: pd.DataFrame


def _run(kind: str, workload: str, followers: int, transactions: int,
         seed: int) -> ReplogResult:
    config = ReplogConfig(kind=kind, workload=workload, followers=followers,
                          transactions=transactions)
    return _simulate(config, seed=seed)


# Shared by every explorer in the kernel: a run depends only on its arguments, so it is
# computed once (or ahead, see warm()), and kept on disk between kernels.
_RUNS = Prefetcher(_run, disk="replog-run")
# A picture shown before is reused.
_PICTURES = Pictures("replog")


@lru_cache(maxsize=32)
def _comparison(workload: str, followers: int, transactions: int, seed: int) -> pd.DataFrame:
    """:func:`~replab.replog.compare_kinds` from the runs of every kind (the same
    simulations, same seed), computed by this process and the background together."""
    runs = _RUNS.map(_kind_keys(KINDS, workload, followers, transactions, seed))
    return pd.DataFrame([run.metrics for run in runs])


def _kind_keys(kinds: Iterable[str], workload: str, followers: int, transactions: int,
               seed: int) -> list[tuple[Any, ...]]:
    return [(k, workload, followers, transactions, seed) for k in kinds]


def compute_replog_view(
    kind: str, workload: str, followers: int, *, transactions: int = 200,
    table: str = "orders", follower: str = "follower1", seed: int = 0,
) -> ReplogView:
    """The pure computation behind the explorer (results cached per argument tuple)."""
    comparison = _comparison(workload, followers, transactions, seed)
    result = _RUNS.get(kind, workload, followers, transactions, seed)
    tables = result.follower_tables[follower]
    follower_table = tables.get(table, result.leader_tables[table].iloc[0:0])
    return ReplogView(result, comparison,
                      side_by_side(result.leader_tables[table], follower_table))


def warm(kind: str, workload: str, followers: int, transactions: int, seed: int, *,
         direction: int = 1) -> None:
    """Compute, in the background, what a next move of one control would need: the
    runs of every kind at the next follower counts (the way the slider last moved
    first), then at the other workloads."""
    kinds = [kind, *(k for k in KINDS if k != kind)]
    keys = []
    for f in nearby_values(followers, 1, 1, 5, direction=direction, reach=1):
        keys += _kind_keys(kinds, workload, int(f), transactions, seed)
    for w in WORKLOADS:
        keys += _kind_keys(kinds, w, followers, transactions, seed)
    _RUNS.warm(keys)


class ReplogExplorer:
    """Dropdowns for kind / workload / table, a followers slider, a Run button."""

    def __init__(self, *, transactions: int = 200, seed: int = 0,
                 prefetch: bool = True) -> None:
        self.transactions, self.seed, self.prefetch = transactions, seed, prefetch
        self.kind = widgets.Dropdown(options=KINDS, value="statement", description="kind")
        self.workload = widgets.Dropdown(options=WORKLOADS, value="nondeterministic",
                                         description="workload")
        self.followers = widgets.IntSlider(value=2, min=1, max=5, description="followers",
                                           continuous_update=False)
        self.table = widgets.Dropdown(options=TABLES, value="orders", description="table")
        self.button = widgets.Button(description="Run", button_style="primary")
        self.summary, self.status = widgets.HTML(), widgets.HTML()
        self.tables = widgets.HTML()  # the leader's and a follower's table, side by side
        self.errors = widgets.Output()
        with plot_style():  # outside pyplot: the inline backend never shows a copy
            self.figure = Figure(figsize=(12, 3.4))
            axes = self.figure.subplots(1, 3)
        self.axes = dict(zip(BAR_METRICS, axes, strict=True))
        self.figure_view = FigureImage(self.figure, 80)
        self.image = self.figure_view.image
        self.view: ReplogView | None = None
        self._drawn: tuple[pd.DataFrame, str] | None = None  # what the figure holds
        self._shown: tuple[Any, ...] | None = None  # the picture's key
        self._laid_out = False
        self._direction = 1  # the way the followers slider last moved
        self._data: list[Any] = []  # the bars, error bars and bar labels (animated)
        self._bars: dict[str, list[Any]] = {}
        self._title = self.figure.suptitle("", fontsize=10)
        self.figure_view.animate([self._title])
        controls = widgets.HBox([self.kind, self.workload, self.followers, self.table,
                                 self.button])
        self._box = explorer_box([controls, self.summary, self.image, self.status,
                                  self.errors, self.tables], self.status)
        self._request = Updater(self.update)
        self.button.on_click(self.update)
        for control in (self.kind, self.workload, self.followers, self.table):
            control.observe(self._on_change, names="value")

    @property
    def result(self) -> ReplogResult | None:
        """The last result, kept for analysis after exploring."""
        return None if self.view is None else self.view.result

    def _on_change(self, change: dict[str, Any]) -> None:
        if change["owner"] is self.followers:
            self._direction = 1 if change["new"] >= change["old"] else -1
        self._request(change)

    def update(self, *_: Any) -> None:
        """Recompute for the current controls and redraw; errors go to ``errors``."""
        with busy(self._box, self.status):
            self._update()
        if self.prefetch and self.view is not None:
            warm(self.kind.value, self.workload.value, int(self.followers.value),
                 self.transactions, self.seed, direction=self._direction)

    def _update(self) -> None:
        try:
            self.view = compute_replog_view(
                self.kind.value, self.workload.value, self.followers.value,
                transactions=self.transactions, table=self.table.value, seed=self.seed)
        except Exception:  # shown, not raised, so the dashboard stays usable
            show_traceback(self.errors)  # (append_stdout: safe from the update thread)
            self.status.value = "failed: see the error below"
            return
        self.errors.outputs = ()
        self._redraw(self.view)
        self.status.value = ""

    def _redraw(self, view: ReplogView) -> None:
        m = view.result.metrics
        # Everything the picture shows (the table dropdown changes only the table).
        key = (m["kind"], m["workload"], m["followers"], self.transactions, self.seed,
               self.figure.dpi)
        if key != self._shown:
            png = _PICTURES.get(key)
            if png is None:
                self._draw(view)
                png = self.figure_view.draw()
                _PICTURES.put(key, png)
            else:
                self._drawn = None  # the figure no longer matches: replot on the next draw
            self.image.value, self._shown = png, key
        self.summary.value = (
            f"<b>{m['kind']}</b> on <b>{m['workload']}</b>: {m['divergent_rows']} divergent "
            f"rows over {_followers(view.result)}, {m['bytes_per_write']:.0f} bytes per "
            f"write, {m['apply_errors']} apply errors")
        self.tables.value = style_side_by_side(view.table).to_html()

    def _draw(self, view: ReplogView) -> None:
        """Bars drawn as animated artists over a cached background of axes, ticks and
        labels: the y limits are rounded to 1-2-5 values (decades on log axes), so a new
        comparison mostly redraws only its bars."""
        kind = view.result.metrics["kind"]
        if self._drawn is None or view.comparison is not self._drawn[0]:
            self._plot_bars(view.comparison)
        self._drawn = (view.comparison, kind)
        m = view.result.metrics
        self._title.set_text(f"workload {m['workload']}, {_followers(view.result)}, "
                             f"{self.transactions} transactions; highlighted: {kind}")
        for metric in BAR_METRICS:  # the chosen kind stands out
            alphas = [1.0 if k == kind else 0.35 for k in view.comparison["kind"]]
            marks = self._bars[metric]
            if len(marks) == 1 and len(alphas) > 1:  # dots (a log axis): one collection
                marks[0].set_alpha(alphas)
                continue
            for patch, alpha in zip(marks, alphas, strict=False):
                patch.set_alpha(alpha)

    def _plot_bars(self, comparison: pd.DataFrame) -> None:
        for artist in self._data:
            self.figure_view.forget(artist)
            artist.remove()
        self._data = []
        with plot_style():
            for metric, draw in zip(BAR_METRICS, (plot_divergence, plot_bytes_per_write,
                                                  plot_leader_cost), strict=True):
                ax = self.axes[metric]
                old_containers = len(ax.containers)
                before = {*ax.patches, *ax.texts, *ax.lines, *ax.collections}
                draw(comparison, ax)
                new = [a for a in (*ax.patches, *ax.texts, *ax.lines, *ax.collections)
                       if a not in before]
                for container in ax.containers[old_containers:]:
                    ax.containers.remove(container)  # the artists are tracked above
                self._bars[metric] = ([a for a in ax.patches if a not in before]
                                      or [a for a in ax.collections if a not in before][:1])
                self._data += new
                _fix_limits(ax, comparison, metric)
            if not self._laid_out:  # laid out once: it costs more than a draw
                self.figure.tight_layout(rect=(0, 0, 1, 0.93))
                self._laid_out = True
        self.figure_view.animate(self._data)

    @property
    def widget(self) -> widgets.VBox:
        """The box to display (the same box every time)."""
        if self.view is None:
            self.update()  # shown with its first picture, not empty
        return self._box


def _fix_limits(ax: Any, comparison: pd.DataFrame, metric: str) -> None:
    """Limits that stay put while the bars change (room above for the bar labels)."""
    values = comparison[metric].to_numpy(dtype=float)
    if metric == "divergent_fraction" and "ci_high" in comparison:
        values = np.append(values, comparison["ci_high"].to_numpy(dtype=float))
    if ax.get_yscale() == "log":
        positive = values[values > 0]
        low = 10.0 ** np.floor(np.log10(positive.min())) if positive.size else 1.0
        high = 10.0 ** np.ceil(np.log10(positive.max() * 3)) if positive.size else 10.0
        ax.set_ylim(low, high)
    else:
        ax.set_ylim(0.0, nice_ceiling(float(np.nanmax(values, initial=0.0)) * 1.2))


def _followers(result: ReplogResult) -> str:
    """The followers a result has: the slider's, and the one built from a snapshot."""
    total = int(result.metrics["followers"])
    if result.config.join_at is None:
        return f"{total} followers"
    return f"{total - 1} followers + 1 built from a snapshot mid-run"
