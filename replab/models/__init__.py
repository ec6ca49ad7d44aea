"""Replication models built on the simulator (``replab.sim``)."""

from replab.models._leader_sweeps import failover_tradeoff, sweep_single_leader
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
]
