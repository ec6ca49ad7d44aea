"""The real-PostgreSQL explorer: choose the mode, the apply delay and the routing, run
the lab on a running cluster, see the anomalies beside the simulator and the lag.

``compute_postgres_view`` is the computation (one lab run and its comparison);
``PostgresExplorer`` wires widgets to it. A run touches real servers and takes seconds,
so it happens on the Run button only; the picture is swapped in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd

from replab.plots.real_postgres import plot_pg_lag
from replab.real.postgres import MODES, ROUTINGS, PgLabConfig, PgLabResult, run_postgres_lab
from replab.real.postgres.cluster import PgCluster
from replab.real.postgres.compare import compare_with_simulator
from replab.widgets._render import render_png, show_traceback

__all__ = ["PostgresView", "compute_postgres_view", "PostgresExplorer"]


@dataclass(frozen=True)
class PostgresView:
    """One run: the lab's result and the measured-vs-simulated table."""

    result: PgLabResult
    comparison: pd.DataFrame


def compute_postgres_view(cluster: PgCluster, mode: str, apply_delay_ms: float,
                          routing: str, *, commit_level: str = "on", duration_s: float = 3.0,
                          seed: int = 0) -> PostgresView:
    """Run the lab once on ``cluster`` and compare it with the simulator."""
    cfg = PgLabConfig(standbys=cluster.n_standbys, mode=mode, commit_level=commit_level,
                      apply_delay_ms=float(apply_delay_ms), routing=routing,
                      duration_s=duration_s)
    result = run_postgres_lab(cfg, seed=seed, cluster=cluster)
    return PostgresView(result, compare_with_simulator(result, seed=seed))


class PostgresExplorer:
    """Mode / commit level / routing dropdowns, an apply-delay slider and a Run button."""

    def __init__(self, cluster: PgCluster, *, duration_s: float = 3.0, seed: int = 0) -> None:
        self.cluster, self.duration_s, self.seed = cluster, duration_s, seed
        self.mode = widgets.Dropdown(options=MODES, value="async", description="mode")
        self.commit_level = widgets.Dropdown(options=("on", "remote_write", "remote_apply"),
                                             value="on", description="commit")
        self.delay = widgets.IntSlider(value=50, min=0, max=500, step=10,
                                       description="delay (ms)", continuous_update=False)
        self.routing = widgets.Dropdown(options=ROUTINGS, value="standby",
                                        description="routing")
        self.button = widgets.Button(description="Run", button_style="primary")
        self.summary = widgets.HTML()
        self.table = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.errors = widgets.Output()
        self.figure, self.ax = plt.subplots(figsize=(7.4, 3.2))
        plt.close(self.figure)  # shown through the Image widget, redrawn in place
        self.view: PostgresView | None = None
        self.button.on_click(self.update)

    @property
    def result(self) -> PgLabResult | None:
        """The last result, kept for analysis after exploring."""
        return None if self.view is None else self.view.result

    def update(self, *_: Any) -> None:
        """Run for the current controls and redraw; errors go to ``errors``."""
        self.button.disabled = True
        try:
            self.view = compute_postgres_view(
                self.cluster, self.mode.value, self.delay.value, self.routing.value,
                commit_level=self.commit_level.value, duration_s=self.duration_s,
                seed=self.seed)
        except Exception:  # shown, not raised, so the dashboard stays usable
            show_traceback(self.errors)
            return
        finally:
            self.button.disabled = False
        self.errors.outputs = ()
        self._redraw(self.view)

    def _redraw(self, view: PostgresView) -> None:
        self.ax.clear()
        plot_pg_lag(view.result.lag, view.result.faults, ax=self.ax)
        self.figure.tight_layout()
        self.image.value = render_png(self.figure, dpi=100)
        m, cfg = view.result.metrics, view.result.config
        self.summary.value = (
            f"<b>{cfg.mode}</b>, apply delay <b>{cfg.delays()[0]:g} ms</b>, reads to "
            f"<b>{cfg.routing}</b>: {m['ops']} operations ({m['ops_per_s']:.0f}/s), mean "
            f"replay lag {m['replay_lag_mean_ms']:.1f} ms")
        shown = view.comparison[["check", "source", "count", "examined", "rate", "ci_low",
                                 "ci_high"]].round(4)
        self.table.value = shown.to_html(index=False)

    @property
    def widget(self) -> widgets.VBox:
        controls = widgets.HBox([self.mode, self.commit_level, self.delay, self.routing,
                                 self.button])
        return widgets.VBox([controls, self.summary, self.image, self.table, self.errors])
