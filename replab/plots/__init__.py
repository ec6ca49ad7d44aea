"""Plotting: ``plot_*(df, ax=None) -> Axes``. No computation happens here.

Every function draws a tidy frame produced elsewhere in replab onto ``ax`` (a new figure
when omitted) inside :func:`plot_style` (the rc settings in :data:`STYLE`), and returns the
Axes. ``use_style()`` makes that look the session default. One module a topic:
:mod:`~replab.plots.quorum` (estimator), :mod:`~replab.plots.workbench` (time series,
topologies, message timelines), :mod:`~replab.plots.single_leader`,
:mod:`~replab.plots.lag_anomalies`, :mod:`~replab.plots.multi_leader` and
:mod:`~replab.plots.replog`, :mod:`~replab.plots.mariadb`; everything is re-exported here.
"""

from replab.plots._base import (
    COLORS,
    FAULT_COLORS,
    LABELS,
    PALETTE,
    ROLE_COLORS,
    STYLE,
    color_of,
    human,
    plot_style,
    use_style,
)
from replab.plots.lag_anomalies import (
    plot_anomaly_rates,
    plot_mitigation_costs,
)
from replab.plots.leaderless import (
    plot_convergence,
    plot_leaderless_availability,
    plot_lww_loss,
    plot_siblings,
)
from replab.plots.mariadb import plot_gtid_positions
from replab.plots.multi_leader import (
    plot_conflict_outcomes,
    plot_node_staleness,
    plot_propagation_delays,
    plot_topology_flow,
)
from replab.plots.quorum import (
    plot_availability,
    plot_latency,
    plot_quorum_heatmap,
    plot_staleness,
)
from replab.plots.real_patroni import (
    OUTCOME_COLORS,
    plot_failover_timeline,
    plot_modes,
    plot_pause_sweep,
    plot_pause_unavailability,
)
from replab.plots.real_postgres import (
    MODE_COLORS,
    ROUTING_COLORS,
    plot_failover_loss,
    plot_measured_vs_simulated,
    plot_pg_lag,
)
from replab.plots.replog import (
    KIND_COLORS,
    plot_apply_rate,
    plot_bytes_per_write,
    plot_divergence,
    plot_kind_metric,
    plot_leader_cost,
    style_side_by_side,
)
from replab.plots.single_leader import (
    plot_failover_tradeoff,
    plot_lag,
    plot_lost_writes,
    plot_timeline,
)
from replab.plots.tables import metrics_table, tidy_table
from replab.plots.workbench import (
    plot_message_timeline,
    plot_timeseries,
    plot_topology,
)

__all__ = [
    "PALETTE",
    "COLORS",
    "LABELS",
    "color_of",
    "human",
    "metrics_table",
    "tidy_table",
    "STYLE",
    "FAULT_COLORS",
    "ROLE_COLORS",
    "plot_style",
    "use_style",
    "plot_timeseries",
    "plot_topology",
    "plot_message_timeline",
    "plot_staleness",
    "plot_latency",
    "plot_availability",
    "plot_quorum_heatmap",
    "plot_timeline",
    "plot_lag",
    "plot_lost_writes",
    "plot_failover_tradeoff",
    "plot_anomaly_rates",
    "plot_mitigation_costs",
    "plot_leaderless_availability",
    "plot_lww_loss",
    "plot_siblings",
    "plot_convergence",
    "plot_topology_flow",
    "plot_propagation_delays",
    "plot_node_staleness",
    "plot_conflict_outcomes",
    "KIND_COLORS",
    "plot_kind_metric",
    "plot_divergence",
    "plot_bytes_per_write",
    "plot_apply_rate",
    "plot_leader_cost",
    "style_side_by_side",
    "plot_gtid_positions",
]
__all__ += ["ROUTING_COLORS", "MODE_COLORS", "plot_measured_vs_simulated",
            "plot_failover_loss", "plot_pg_lag"]
__all__ += ["OUTCOME_COLORS", "plot_failover_timeline", "plot_pause_sweep",
            "plot_pause_unavailability", "plot_modes"]
