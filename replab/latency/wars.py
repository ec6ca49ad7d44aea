"""WARS latency models: the four delays of a write and a read, drawn per replica."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from replab.latency.distributions import Distribution

__all__ = ["WarsLatency", "WanLatency"]


@dataclass(frozen=True)
class WarsLatency:
    """The four WARS delays: write request (W), write ack (A), read request (R), response (S).

    Each is drawn independently per replica and per trial.
    """

    W: Distribution
    A: Distribution
    R: Distribution
    S: Distribution
    name: str = field(default="custom", compare=False)

    def sample(
        self, rng: np.random.Generator, trials: int, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Draw ``(W, A, R, S)``, each of shape ``(n, trials)`` (one row per replica).

        Replica-major rows keep the per-trial reductions over replicas contiguous.
        """
        shape = (n, trials)
        return (
            self.W.sample(rng, shape),
            self.A.sample(rng, shape),
            self.R.sample(rng, shape),
            self.S.sample(rng, shape),
        )

    @classmethod
    def iid(cls, dist: Distribution, name: str = "custom") -> WarsLatency:
        """All four delays from the same distribution."""
        return cls(dist, dist, dist, dist, name=name)


@dataclass(frozen=True)
class WanLatency(WarsLatency):
    """A WARS model across datacenters (the PBS WAN model).

    Per trial one replica is local to the writer and one, chosen independently, to the
    reader; every message to or from a non-local replica takes ``wan_delay_ms`` more.
    """

    wan_delay_ms: float = 75.0

    def sample(
        self, rng: np.random.Generator, trials: int, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        W, A, R, S = super().sample(rng, trials, n)
        replica = np.arange(n)[:, None]
        writer_local = rng.integers(0, n, trials)
        reader_local = rng.integers(0, n, trials)
        w_extra = np.where(replica != writer_local, self.wan_delay_ms, 0.0)
        r_extra = np.where(replica != reader_local, self.wan_delay_ms, 0.0)
        return W + w_extra, A + w_extra, R + r_extra, S + r_extra
