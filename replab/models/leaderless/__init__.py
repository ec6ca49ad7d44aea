"""Leaderless (Dynamo-style) replication: quorums, sloppy quorums, read repair, anti-entropy."""

from replab.models.leaderless.book import (
    WriteMeta,
)
from replab.models.leaderless.cluster import (
    Cluster,
    build_leaderless,
    leaderless_metrics,
    simulate_leaderless,
)
from replab.models.leaderless.config import (
    COORDINATORS,
    RESOLUTIONS,
    VERSION_VECTORS,
    WORKLOADS,
    LeaderlessConfig,
)
from replab.models.leaderless.linearizability import (
    REGISTER_WORKLOAD,
    linearizability_sweep,
    register_run,
)
from replab.models.leaderless.metrics import (
    LeaderlessResult,
    write_relations,
)
from replab.models.leaderless.monitor import (
    STALENESS_COLUMNS,
    staleness_summary,
)
from replab.models.leaderless.scenarios import (
    ScenarioResult,
    ops_frame,
    quorum_edge_cases,
    repair_comparison,
    scenario_failed_write_visible,
    scenario_lww_concurrent,
    scenario_rarely_read_keys,
    scenario_read_during_write,
    scenario_restore_from_stale,
    scenario_shopping_cart,
    scenario_sloppy_stale_read,
)
from replab.models.leaderless.sweeps import (
    anti_entropy_sweep,
    availability_sweep,
    first_attempt_sweep,
    lww_loss_sweep,
    pbs_staleness,
    sibling_sweep,
)

__all__ = [
    "LeaderlessConfig",
    "WORKLOADS",
    "RESOLUTIONS",
    "COORDINATORS",
    "VERSION_VECTORS",
    "Cluster",
    "build_leaderless",
    "simulate_leaderless",
    "leaderless_metrics",
    "LeaderlessResult",
    "write_relations",
    "STALENESS_COLUMNS",
    "staleness_summary",
    "WriteMeta",
    "ScenarioResult",
    "scenario_read_during_write",
    "scenario_failed_write_visible",
    "scenario_restore_from_stale",
    "scenario_sloppy_stale_read",
    "scenario_rarely_read_keys",
    "repair_comparison",
    "scenario_lww_concurrent",
    "scenario_shopping_cart",
    "quorum_edge_cases",
    "ops_frame",
    "availability_sweep",
    "first_attempt_sweep",
    "lww_loss_sweep",
    "sibling_sweep",
    "anti_entropy_sweep",
    "pbs_staleness",
    "REGISTER_WORKLOAD",
    "register_run",
    "linearizability_sweep",
]
