"""The multi-leader cluster as its parts see it.

Leaders, followers, the orchestrator and the metrics hold the cluster that built them;
they type it as :class:`ClusterView`, a protocol, so they need not import
:mod:`~replab.models.multi_leader.cluster`, which imports them (no circle). The
concrete :class:`~replab.models.multi_leader.cluster.MultiLeaderCluster` satisfies it.
Members whose type is a part (leaders, followers, the orchestrator, a change) are
``Any`` here, since naming that type would import the part back.
"""

from __future__ import annotations

from typing import Any, Protocol

import networkx as nx
import numpy as np

from replab.models.collab.conflicts import Resolution, Write
from replab.models.multi_leader.config import MultiLeaderConfig
from replab.sim import ClientPool, Network, Simulation

__all__ = ["ClusterView"]


class ClusterView(Protocol):
    """What a multi-leader cluster offers its parts (see the module docstring)."""

    config: MultiLeaderConfig
    sim: Simulation
    network: Network
    rng: np.random.Generator
    pool: ClientPool
    topology: nx.DiGraph
    leader_ids: list[str]
    strategy: Resolution
    leaders: dict[str, Any]
    followers: dict[str, Any]
    orchestrator: Any
    accepted: list[tuple[str, str, str, str, float]]
    writes: dict[str, Write]
    duplicates: int
    buffered: int
    missing_rows: int
    violations: int
    change_messages: int
    retransmissions: int
    repair_requests: int
    reconfigurations: int
    home_moves: int
    conflicts_before_ack: int

    def leader_gone(self, dc: str, who: str, clients: bool = True) -> None: ...

    def leader_back(self, dc: str, who: str, clients: bool = True) -> None: ...

    def note_accept(self, change: Any) -> None: ...

    def note_apply(self, node: str, change: Any, dropped: bool) -> None: ...

    def note_violation(self, node: str, change: Any) -> None: ...

    def note_missing_row(self, node: str, change: Any) -> None: ...

    def note_conflict(self, node: str, write: Write, others: list[Write]) -> None: ...

    def note_sync_ack(self, write_id: str, conflict: bool) -> None: ...

    def writes_by_key(self) -> dict[str, list[Write]]: ...
