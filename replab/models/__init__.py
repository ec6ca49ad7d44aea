"""Replication models built on the simulator (``replab.sim``)."""

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
]
