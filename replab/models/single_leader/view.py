"""The cluster as its parts see it.

The replicas, the controller and the metrics hold a reference to the cluster that built
them; they type it as :class:`ClusterView`, a protocol, so that they need not import
:mod:`~replab.models.single_leader.cluster`, which imports them (no circle). The
concrete :class:`~replab.models.single_leader.cluster.Cluster` satisfies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from replab.models.single_leader.config import SingleLeaderConfig
from replab.models.single_leader.log import ReplicatedLog
from replab.sim import ClientPool, Network, Simulation

__all__ = ["ClusterView", "LeaderView", "ReplicaView"]


class LeaderView(Protocol):
    """What the parts read of the controller: the current leader and epoch."""

    @property
    def leader(self) -> int: ...

    @property
    def epoch(self) -> int: ...

    @property
    def failovers(self) -> int: ...


class ReplicaView(Protocol):
    """A replica, as the metrics read it: its id, whether it is up, its log."""

    id: Any
    up: bool

    @property
    def log(self) -> ReplicatedLog: ...


class ClusterView(Protocol):
    """What a single-leader cluster offers its parts (see the module docstring)."""

    config: SingleLeaderConfig
    sim: Simulation
    network: Network
    rng: np.random.Generator
    lease_ms: float
    replica_ids: list[int]
    split_brain_writes: int
    unnecessary_failovers: int
    catch_up_ms: list[float]

    @property
    def controller(self) -> LeaderView: ...

    @property
    def replicas(self) -> Sequence[ReplicaView]: ...

    @property
    def pool(self) -> ClientPool: ...

    def peers(self, node: int) -> list[int]: ...

    def note_promotion(self, node: int, epoch: int) -> None: ...

    def note_ack(self, node: int, epoch: int, lsn: int) -> None: ...

    def note_failover(self, old: int, new: int, epoch: int, votes: dict[Any, Any]) -> None: ...

    def note_truncation(self, node: int, dropped: list[Any]) -> None: ...

    def note_caught_up(self, node: int, ms: float) -> None: ...

    def failover_ms(self) -> float: ...

    def unavailable_ms(self, lat: pd.DataFrame) -> float: ...
