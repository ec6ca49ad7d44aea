"""Replication models built on the simulator (``replab.sim``)."""

from replab.models._lag_sweeps import ANOMALY_MITIGATIONS, anomaly_sweep
from replab.models._leader_sweeps import failover_tradeoff, sweep_single_leader
from replab.models._leaderless_sweeps import (
    anti_entropy_sweep,
    availability_sweep,
    first_attempt_sweep,
    lww_loss_sweep,
    sibling_sweep,
)
from replab.models._multi_scenarios import (
    calendar_config,
    offline_windows,
    strategy_outcomes,
    sweep_multi_leader,
)
from replab.models.lag_anomalies import (
    LagAnomalyConfig,
    LagAnomalyResult,
    simulate_lag_anomalies,
)
from replab.models.leaderless import (
    LeaderlessConfig,
    LeaderlessResult,
    build_leaderless,
    leaderless_metrics,
    pbs_staleness,
    simulate_leaderless,
)
from replab.models.multi_leader import (
    MultiLeaderConfig,
    MultiLeaderResult,
    build_multi_leader,
    simulate_multi_leader,
)
from replab.models.partitioned import (
    PartitionedConfig,
    PartitionedResult,
    simulate_partitioned,
)
from replab.models.single_leader import (
    SingleLeaderConfig,
    SingleLeaderResult,
    build_single_leader,
    simulate_single_leader,
)

__all__ = [
    "SingleLeaderConfig",
    "SingleLeaderResult",
    "build_single_leader",
    "simulate_single_leader",
    "sweep_single_leader",
    "failover_tradeoff",
    "LagAnomalyConfig",
    "LagAnomalyResult",
    "simulate_lag_anomalies",
    "PartitionedConfig",
    "PartitionedResult",
    "simulate_partitioned",
    "anomaly_sweep",
    "ANOMALY_MITIGATIONS",
    "LeaderlessConfig",
    "LeaderlessResult",
    "build_leaderless",
    "simulate_leaderless",
    "leaderless_metrics",
    "availability_sweep",
    "first_attempt_sweep",
    "lww_loss_sweep",
    "sibling_sweep",
    "anti_entropy_sweep",
    "pbs_staleness",
    "MultiLeaderConfig",
    "MultiLeaderResult",
    "build_multi_leader",
    "simulate_multi_leader",
    "sweep_multi_leader",
    "strategy_outcomes",
    "offline_windows",
    "calendar_config",
]
