"""What the leaderless model keeps beside the protocol: buffered delay draws and the
facts about each write that the metrics need."""

from __future__ import annotations

from typing import Any

import numpy as np

from replab.models.leaderless.versions import Version

__all__ = ["Draws", "WriteMeta"]

_BATCH = 1024


class Draws:
    """Buffered draws from one distribution."""

    __slots__ = ("dist", "rng", "buf", "i")

    def __init__(self, dist: Any, rng: np.random.Generator) -> None:
        self.dist, self.rng = dist, rng
        self.buf: list[float] = []
        self.i = 0

    def __call__(self) -> float:
        if self.i == len(self.buf):
            self.buf, self.i = self.dist.sample(self.rng, _BATCH).tolist(), 0
        v: float = self.buf[self.i]
        self.i += 1
        return v


class WriteMeta:
    """What the model remembers about one write (for metrics, not for the protocol)."""

    __slots__ = ("version", "key", "actor", "coordinator", "issued_at", "first_stored")

    def __init__(self, version: Version, key: str, actor: Any, coordinator: Any,
                 issued_at: float) -> None:
        self.version, self.key, self.actor = version, key, actor
        self.coordinator, self.issued_at = coordinator, issued_at
        self.first_stored: float | None = None
