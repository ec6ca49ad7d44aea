"""Replication-lag anomalies (DDIA ch. 5): lag on a single leader, a partitioned store, read
routing that mitigates them, and the sweeps over both."""

from replab.models.anomalies.lag import (
    LAG_CHECKS,
    MITIGATIONS,
    LagAnomalyConfig,
    LagAnomalyResult,
    lag_distribution,
    simulate_lag_anomalies,
)
from replab.models.anomalies.partitioned import (
    PARTITION_CHECKS,
    PARTITION_MITIGATIONS,
    PartitionedConfig,
    PartitionedResult,
    partition_of,
    simulate_partitioned,
)
from replab.models.anomalies.routing import (
    MONOTONIC_MITIGATIONS,
    READ_YOUR_WRITES_MITIGATIONS,
    REDIRECT,
    ClientMemory,
    LagMonitor,
    LastWrite,
    MemorySession,
    OwnedKeysPool,
    ReadStats,
    RoutedReplica,
    Router,
    owner_of,
    rendezvous,
)
from replab.models.anomalies.sweeps import (
    ANOMALY_MITIGATIONS,
    SWEEP_COLUMNS,
    anomaly_sweep,
    default_base,
)

__all__ = [
    "LagAnomalyConfig",
    "LagAnomalyResult",
    "simulate_lag_anomalies",
    "lag_distribution",
    "MITIGATIONS",
    "LAG_CHECKS",
    "PartitionedConfig",
    "PartitionedResult",
    "simulate_partitioned",
    "PARTITION_MITIGATIONS",
    "PARTITION_CHECKS",
    "partition_of",
    "READ_YOUR_WRITES_MITIGATIONS",
    "MONOTONIC_MITIGATIONS",
    "ClientMemory",
    "LastWrite",
    "MemorySession",
    "OwnedKeysPool",
    "LagMonitor",
    "ReadStats",
    "RoutedReplica",
    "REDIRECT",
    "Router",
    "rendezvous",
    "owner_of",
    "ANOMALY_MITIGATIONS",
    "SWEEP_COLUMNS",
    "anomaly_sweep",
    "default_base",
]
