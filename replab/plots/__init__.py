"""Plotting: ``plot_*(df, ax=None) -> Axes``. No computation happens here.

Every function draws a tidy frame produced elsewhere in replab onto ``ax`` (a new figure
when omitted) inside :func:`plot_style` (the rc settings in :data:`STYLE`), and returns the
Axes. ``use_style()`` makes that look the session default. One module a topic:
:mod:`~replab.plots.quorum` (estimator), :mod:`~replab.plots.workbench` (time series,
topologies, message timelines), :mod:`~replab.plots.single_leader`,
:mod:`~replab.plots.lag_anomalies`, :mod:`~replab.plots.multi_leader` and
:mod:`~replab.plots.replog`, :mod:`~replab.plots.mariadb`, :mod:`~replab.plots.linearization`
(and its HTML page, :mod:`~replab.plots.linearization_html`); everything is re-exported here.
"""

from replab.plots._base import (
    COLORS,
    FAULT_COLORS,
    LABELS,
    PALETTE,
    ROLE_COLORS,
    STYLE,
    color_of,
    format_probability,
    human,
    legend_above,
    plot_style,
    use_style,
)
from replab.plots.lag_anomalies import (
    plot_anomaly_rates,
    plot_mitigation_costs,
    plot_mitigation_panels,
    plot_rate_intervals,
)
from replab.plots.leaderless import (
    plot_anti_entropy_cost,
    plot_cold_keys,
    plot_convergence,
    plot_leaderless_availability,
    plot_lww_loss,
    plot_merkle_cost,
    plot_repair_comparison,
    plot_replica_lag,
    plot_siblings,
    shade_outages,
)
from replab.plots.linearization import plot_linearization
from replab.plots.linearization_html import linearization_html, write_linearization_html
from replab.plots.lint import lint_figure
from replab.plots.mariadb import plot_gtid_positions
from replab.plots.multi_leader import (
    fault_marks,
    leader_color,
    mark_events,
    plot_conflict_outcomes,
    plot_edit_session,
    plot_node_staleness,
    plot_offline_windows,
    plot_propagation_delays,
    plot_topology_flow,
    plot_write_cost,
)
from replab.plots.quorum import (
    plot_availability,
    plot_latency,
    plot_latency_cdf,
    plot_quorum_heatmap,
    plot_staleness,
    plot_staleness_panels,
    plot_tail,
    plot_tradeoff,
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
    plot_divergence_by_workload,
    plot_kind_metric,
    plot_leader_cost,
    plot_snapshot_catchup,
    style_side_by_side,
)
from replab.plots.single_leader import (
    plot_durability,
    plot_failover_tradeoff,
    plot_lag,
    plot_leadership,
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
    "plot_tail",
    "plot_timeline",
    "plot_lag",
    "plot_lost_writes",
    "plot_failover_tradeoff",
    "plot_leadership",
    "plot_durability",
    "plot_anomaly_rates",
    "plot_mitigation_costs",
    "plot_mitigation_panels",
    "plot_rate_intervals",
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
__all__ += ["format_probability", "legend_above", "lint_figure", "plot_staleness_panels",
            "plot_tradeoff", "plot_latency_cdf"]
__all__ += ["plot_anti_entropy_cost", "plot_cold_keys", "plot_merkle_cost", "plot_replica_lag",
            "plot_repair_comparison", "shade_outages", "leader_color", "mark_events",
            "plot_offline_windows", "plot_write_cost", "plot_divergence_by_workload",
            "plot_snapshot_catchup", "plot_edit_session", "fault_marks"]
__all__ += ["ROUTING_COLORS", "MODE_COLORS", "plot_measured_vs_simulated",
            "plot_failover_loss", "plot_pg_lag"]

from replab.plots.quorum_linearizability import (  # noqa: E402
    plot_linearizability,
    plot_read_latency_cost,
)

__all__ += ["plot_linearizability", "plot_read_latency_cost"]
from replab.plots.anomaly import anomaly_operations, plot_anomaly  # noqa: E402
from replab.plots.history import (  # noqa: E402
    FAULT_WINDOW_COLUMNS,
    fault_windows,
    plot_history_timeline,
)

__all__ += ["plot_history_timeline", "fault_windows", "FAULT_WINDOW_COLUMNS",
            "plot_anomaly", "anomaly_operations"]
__all__ += ["plot_linearization", "linearization_html", "write_linearization_html"]
__all__ += ["OUTCOME_COLORS", "plot_failover_timeline", "plot_pause_sweep",
            "plot_pause_unavailability", "plot_modes"]
