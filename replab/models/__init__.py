"""Replication models built on the simulator (``replab.sim``), one package per family.

``single_leader``, ``leaderless``, ``multi_leader``, ``collab`` (OT, sequence CRDT, CRDTs,
three-way merge) and ``anomalies`` (replication-lag anomalies, partitioned store, read
routing); docs/MODELS.md maps them. The names below are the models' public API.
"""

import sys

from replab.models.anomalies import (
    ANOMALY_MITIGATIONS,
    LagAnomalyConfig,
    LagAnomalyResult,
    PartitionedConfig,
    PartitionedResult,
    anomaly_sweep,
    simulate_lag_anomalies,
    simulate_partitioned,
)
from replab.models.leaderless import (
    LeaderlessConfig,
    LeaderlessResult,
    anti_entropy_sweep,
    availability_sweep,
    build_leaderless,
    first_attempt_sweep,
    leaderless_metrics,
    lww_loss_sweep,
    pbs_staleness,
    sibling_sweep,
    simulate_leaderless,
)
from replab.models.multi_leader import (
    MultiLeaderConfig,
    MultiLeaderResult,
    build_multi_leader,
    calendar_config,
    offline_windows,
    simulate_multi_leader,
    strategy_outcomes,
    sweep_multi_leader,
)
from replab.models.single_leader import (
    SingleLeaderConfig,
    SingleLeaderResult,
    build_single_leader,
    durability_tradeoff,
    failover_tradeoff,
    simulate_single_leader,
    sweep_single_leader,
)

__all__ = [
    "SingleLeaderConfig",
    "SingleLeaderResult",
    "build_single_leader",
    "simulate_single_leader",
    "sweep_single_leader",
    "failover_tradeoff",
    "durability_tradeoff",
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

# Module paths from before the family packages (scripts and notebooks import them).
from replab.models import anomalies as _anomalies  # noqa: E402
from replab.models import collab as _collab  # noqa: E402

_MOVED = {
    "conflicts": _collab.conflicts,
    "crdt": _collab.crdt,
    "merge3": _collab.merge3,
    "ot": _collab.ot,
    "sequence": _collab.sequence,
    "lag_anomalies": _anomalies.lag,
    "partitioned": _anomalies.partitioned,
}
for _old, _module in _MOVED.items():
    # both, as an import would: ``import replab.models.crdt`` then ``replab.models.crdt.X``
    sys.modules[f"{__name__}.{_old}"] = _module
    globals()[_old] = _module
