"""The MariaDB lab explorer: binlog format, topology, fault, semi-sync -> one real run.

``compute_mariadb_view`` is the pure call (one :func:`~replab.real.mariadb.run_mariadb`);
``MariaDBExplorer`` wires dropdowns and a Run button to it (a run starts real servers and
takes seconds, so nothing runs on every click of a dropdown) and keeps ``.result``.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from replab.plots.mariadb import plot_gtid_positions
from replab.real.mariadb import FAULTS, MariaDBConfig, MariaDBResult, run_mariadb
from replab.real.mariadb.topology import BINLOG_FORMATS, TOPOLOGIES
from replab.real.mariadb.workload import WORKLOADS
from replab.widgets._render import show_traceback

__all__ = ["SHOWN_METRICS", "compute_mariadb_view", "MariaDBExplorer"]

SHOWN_METRICS = ("acked_writes", "acked_writes_lost", "divergent_rows", "unsafe_warnings",
                 "write_latency_p50_ms", "semi_sync_fallbacks", "replication_errors",
                 "converged", "reference")


def compute_mariadb_view(binlog: str, workload: str, topology: str, fault: str,
                         semi_sync: bool, *, duration_s: float = 1.0, seed: int = 0
                         ) -> MariaDBResult:
    """The pure computation behind the explorer: one run on real servers."""
    config = MariaDBConfig(binlog=binlog, workload=workload, topology=topology, fault=fault,
                           semi_sync=semi_sync, duration_s=duration_s)
    return run_mariadb(config, seed=seed)


class MariaDBExplorer:
    """Dropdowns for binlog format, workload, topology and fault; a semi-sync toggle."""

    def __init__(self, *, duration_s: float = 1.0, seed: int = 0) -> None:
        self.duration_s, self.seed = duration_s, seed
        self.binlog = widgets.Dropdown(options=BINLOG_FORMATS, value="statement",
                                       description="binlog")
        self.workload = widgets.Dropdown(options=WORKLOADS, value="nondeterministic",
                                         description="workload")
        self.topology = widgets.Dropdown(options=TOPOLOGIES, description="topology")
        self.fault = widgets.Dropdown(options=FAULTS, description="fault")
        self.semi_sync = widgets.Checkbox(value=False, description="semi-sync")
        self.button = widgets.Button(description="Run on MariaDB")
        self.button.on_click(lambda _: self.update())
        self.out = widgets.Output()
        self.errors = widgets.Output()
        self.result: MariaDBResult | None = None

    def update(self) -> None:
        """Run the chosen setting and redraw (errors go to the ``errors`` Output)."""
        try:
            self.result = compute_mariadb_view(
                self.binlog.value, self.workload.value, self.topology.value,
                self.fault.value, self.semi_sync.value, duration_s=self.duration_s,
                seed=self.seed)
        except Exception:
            show_traceback(self.errors)
            return
        self.out.clear_output(wait=True)
        with self.out:
            display(self.metrics_table())
            h = self.result.history.df
            fig, ax = plt.subplots(figsize=(7.5, 3.4), layout="constrained")
            plot_gtid_positions(self.result.positions, h[h["process"] == "nemesis"], ax=ax)
            plt.show()

    def metrics_table(self) -> pd.DataFrame:
        """The shown metrics of the last run as a two-column table."""
        assert self.result is not None
        m = self.result.metrics
        return pd.DataFrame({"metric": [k.replace("_", " ") for k in SHOWN_METRICS],
                             "value": [m[k] for k in SHOWN_METRICS]})

    def widget(self) -> Any:
        controls = widgets.HBox([widgets.VBox([self.binlog, self.workload]),
                                 widgets.VBox([self.topology, self.fault]),
                                 widgets.VBox([self.semi_sync, self.button])])
        return widgets.VBox([controls, self.errors, self.out])

    def _ipython_display_(self) -> None:
        display(self.widget())
