"""The leaderless cluster as its parts see it.

Replicas, coordinators, the staleness monitor, the PBS driver and the metrics hold the
cluster that built them; they type it as :class:`ClusterView`, a protocol, so they need
not import :mod:`~replab.models.leaderless.cluster`, which imports them (no circle).
The concrete :class:`~replab.models.leaderless.cluster.Cluster` satisfies it. Members
whose type is a part (the replicas, the monitor, an operation) are ``Any`` here, since
naming that type would import the part back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from replab.models.leaderless.attempts import FirstAttempts
from replab.models.leaderless.book import WriteMeta
from replab.models.leaderless.config import LeaderlessConfig
from replab.models.leaderless.versions import Version, Versions
from replab.sim import ClientPool, Network, Simulation, VersionVector
from replab.sim.node import Node

__all__ = ["ClusterView"]


class ClusterView(Protocol):
    """What a leaderless cluster offers its parts (see the module docstring)."""

    config: LeaderlessConfig
    sim: Simulation
    network: Network
    rng: np.random.Generator
    resolution: str
    merge: Callable[[Versions, Versions], Versions]
    n: int
    r: int
    w: int
    request_timeout: float | None
    replicas_ids: list[int]
    replicas: list[Any]
    pools: list[ClientPool]
    monitor: Any
    attempts: FirstAttempts
    op_ids: int
    ae_round_ids: int
    writes: list[WriteMeta]
    key_writes: dict[str, list[WriteMeta]]
    value_ids: dict[tuple[str, Any], int]
    hinted: list[tuple[Any, Any, str, Version]]
    read_repairs: int
    read_repair_bytes: int
    hinted_handoffs: int
    ae_rounds: list[tuple[Any, ...]]
    pbs_down: set[tuple[int, str]]

    def dc_of(self, node: Any) -> int: ...

    def home_all(self, key: str) -> tuple[Any, ...]: ...

    def healthy(self, src: Any, dst: Any) -> bool: ...

    def write_targets(self, coord: Any, key: str) -> list[tuple[Any, Any]]: ...

    def read_targets(self, coord: Any, key: str) -> list[tuple[Any, Any]]: ...

    def counted(self, coord: Any, targets: list[tuple[Any, Any]]) -> frozenset[Any]: ...

    def transmit(self, node: Node, dst: Any, msg: Any, kind: str) -> None: ...

    def draw_read_repair(self) -> bool: ...

    def new_version(self, coord: Node, actor: Any, key: str, value: Any,
                    context: VersionVector | None = None,
                    min_ts: float = float("-inf")) -> Version: ...

    def note_stored(self, key: str, versions: Versions) -> None: ...

    def note_hint(self, fallback: Any, home: Any, key: str, versions: Versions) -> None: ...

    def note_ae_message(self, round_id: int, nbytes: int, node: Any, peer: Any) -> None: ...

    def end_ae_round(self, round_id: int, node: Any, peer: Any, leaves: int,
                     keys: int) -> None: ...

    def flush_ae_rounds(self) -> None: ...

    def client_value(self, op: Any, versions: Versions) -> Any: ...

    def held(self, node: int, key: str) -> Versions: ...

    def final_state(self, key: str) -> Versions: ...

    def hints_pending(self) -> int: ...

    @property
    def end_time(self) -> float: ...
