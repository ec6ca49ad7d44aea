"""Dashboards: controls -> one pure compute call -> redraw in place."""

from replab.widgets.lag_anomalies import LagAnomalyExplorer, compute_lag_view
from replab.widgets.leaderless import (
    LeaderlessExplorer,
    LeaderlessView,
    compute_leaderless_view,
)
from replab.widgets.multi_leader import MultiLeaderExplorer, compute_multi_leader_view
from replab.widgets.quorum import QuorumExplorer, QuorumView, compute_quorum_view
from replab.widgets.replog import ReplogExplorer, ReplogView, compute_replog_view
from replab.widgets.single_leader import (
    SingleLeaderExplorer,
    SingleLeaderView,
    compute_single_leader_view,
)

__all__ = [
    "LagAnomalyExplorer",
    "compute_lag_view",
    "LeaderlessExplorer",
    "LeaderlessView",
    "compute_leaderless_view",
    "MultiLeaderExplorer",
    "compute_multi_leader_view",
    "QuorumExplorer",
    "QuorumView",
    "compute_quorum_view",
    "ReplogExplorer",
    "ReplogView",
    "compute_replog_view",
    "SingleLeaderExplorer",
    "SingleLeaderView",
    "compute_single_leader_view",
]
