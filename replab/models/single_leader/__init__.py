"""Single-leader replication: one leader, followers, failover (DDIA ch. 5)."""

from replab.models.single_leader.cluster import (
    Cluster,
    build_single_leader,
    simulate_single_leader,
)
from replab.models.single_leader.config import (
    MODES,
    SingleLeaderConfig,
    SingleLeaderResult,
)
from replab.models.single_leader.log import (
    VERSION_EPOCH,
    epoch_of,
    lsn_of,
    version_of,
)
from replab.models.single_leader.metrics import (
    LAG_COLUMNS,
    lost_writes,
    op_latencies,
)
from replab.models.single_leader.sweeps import (
    DURABILITY_COLUMNS,
    durability_tradeoff,
    failover_tradeoff,
    sweep_single_leader,
)

__all__ = [
    "MODES",
    "SingleLeaderConfig",
    "SingleLeaderResult",
    "Cluster",
    "build_single_leader",
    "simulate_single_leader",
    "VERSION_EPOCH",
    "version_of",
    "lsn_of",
    "epoch_of",
    "LAG_COLUMNS",
    "lost_writes",
    "op_latencies",
    "sweep_single_leader",
    "failover_tradeoff",
    "durability_tradeoff",
    "DURABILITY_COLUMNS",
]
