"""Single-leader replication: one leader, followers, failover (DDIA ch. 5)."""

from replab.models.single_leader.cluster import (
    LAG_COLUMNS,
    MODES,
    VERSION_EPOCH,
    Cluster,
    SingleLeaderConfig,
    SingleLeaderResult,
    build_single_leader,
    epoch_of,
    lost_writes,
    lsn_of,
    op_latencies,
    simulate_single_leader,
    version_of,
)
from replab.models.single_leader.sweeps import (
    failover_tradeoff,
    sweep_single_leader,
)

__all__ = [
    "SingleLeaderConfig",
    "SingleLeaderResult",
    "Cluster",
    "build_single_leader",
    "simulate_single_leader",
    "MODES",
    "LAG_COLUMNS",
    "VERSION_EPOCH",
    "version_of",
    "lsn_of",
    "epoch_of",
    "lost_writes",
    "op_latencies",
    "sweep_single_leader",
    "failover_tradeoff",
]
