"""Replication models built on the simulator (``replab.sim``)."""

from replab.models.leaderless import (
    LeaderlessConfig,
    LeaderlessResult,
    build_leaderless,
    leaderless_metrics,
    pbs_staleness,
    simulate_leaderless,
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
    "LeaderlessConfig",
    "LeaderlessResult",
    "build_leaderless",
    "simulate_leaderless",
    "leaderless_metrics",
    "pbs_staleness",
]
