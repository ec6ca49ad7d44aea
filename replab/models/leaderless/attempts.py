"""First-attempt availability: could the operation's quorum be formed when it arrived?

A client's operation can succeed *eventually* although no quorum was up when it arrived:
the coordinator waits up to its request timeout, and an outage of ``mean_downtime_ms``
often ends within it; a closed-loop session blocked on one operation also issues fewer
operations during outages. Both lift the simulated success rate above the binomial
closed form. The closed form counts something else: at a random instant, are at least
``w`` (``r``) of the ``n`` replicas up? Sampling that at the Poisson arrival instants
(Poisson arrivals see time averages) measures exactly it, as a coordinator that fails
fast when too few replicas are alive would (Cassandra's ``UnavailableException``).

Arrivals within one outage are not independent, so a Wilson interval would be far too
narrow: the interval is from batch means over equal time batches (Student t), each batch
at least three mean failure cycles (downtime / p_fail) long, and at most ``BATCHES``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from replab.models.leaderless.client import ContextSession
from replab.sim import ClientPool, Session

__all__ = ["ProbedPool", "FirstAttempts", "BATCHES", "probe_quorum"]

#: Time batches for the batch-means interval.
BATCHES = 20
#: Student t 97.5 % quantiles by degrees of freedom (1 .. BATCHES - 1).
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201,
         2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093)


class ProbedPool(ClientPool):
    """A client pool that reports every arrival (before it is queued) to ``probe``; its
    sessions keep causal contexts (see ``_leaderless_client``)."""

    session_class = ContextSession
    probe: Callable[[Session, str, str], None] | None = None

    def _arrive(self, s: int, is_read: bool, k: int) -> None:
        if self.probe is not None:
            self.probe(self.sessions[s], "read" if is_read else "write", f"k{k}")
        super()._arrive(s, is_read, k)


class FirstAttempts:
    """Per arrival: time, kind, home replicas up, and whether the quorum could form."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[float, int, int, bool]]] = {"read": [], "write": []}

    def note(self, f: str, time: float, up: int, homes: int, ok: bool) -> None:
        self.rows[f].append((time, up, homes, ok))

    def metrics(self, duration: float, cycle_ms: float = 0.0) -> dict[str, Any]:
        """``{f}_first_attempt_availability`` with ``_ci_low``/``_ci_high`` (batch means
        over batches of at least ``3 * cycle_ms``), and ``replica_down_fraction`` (home
        replicas down, as arrivals saw them)."""
        batches = BATCHES if cycle_ms <= 0 else int(min(BATCHES, max(
            2, duration // (3 * cycle_ms))))
        out: dict[str, Any] = {}
        up = homes = 0
        for f in ("write", "read"):
            rows = self.rows[f]
            t = np.array([r[0] for r in rows], dtype=float)
            ok = np.array([r[3] for r in rows], dtype=float)
            up += sum(r[1] for r in rows)
            homes += sum(r[2] for r in rows)
            est, lo, hi = _batch_means(t, ok, duration, batches)
            name = f"{f}_first_attempt_availability"
            out |= {name: est, f"{name}_ci_low": lo, f"{name}_ci_high": hi}
        out["replica_down_fraction"] = 1.0 - up / homes if homes else math.nan
        return out


def _batch_means(t: np.ndarray, ok: np.ndarray, duration: float,
                 batches: int) -> tuple[float, float, float]:
    if not len(t):
        return math.nan, math.nan, math.nan
    est = float(ok.mean())
    batch = np.minimum((t / duration * batches).astype(int), batches - 1)
    counts = np.bincount(batch, minlength=batches)
    means = np.bincount(batch, weights=ok, minlength=batches)[counts > 0] / counts[counts > 0]
    if len(means) < 2:
        return est, 0.0, 1.0
    half = float(_T975[len(means) - 2] * means.std(ddof=1) / math.sqrt(len(means)))
    return est, max(0.0, est - half), min(1.0, est + half)


def probe_quorum(cluster: Any, session: Session, f: str, key: str) -> None:
    """Note whether ``f`` on ``key`` arriving now at ``session`` would find a coordinator
    and a quorum of reachable replicas (and how many home replicas are up)."""
    c = cluster
    dc = c.session_dc[session.id]
    coords = [x for x in c.rings[dc].nodes if c.healthy(session.id, x)]
    targets = (c.write_targets if f == "write" else c.read_targets)(session.id, key)
    counted = c.counted(coords[0] if coords else session.id, targets)
    reached = sum(c.healthy(session.id, t) for t in counted)
    homes = c.home_all(key)
    up = sum(c.healthy(session.id, h) for h in homes)
    need = c.w if f == "write" else c.r
    c.attempts.note(f, c.sim.now, up, len(homes), bool(coords) and reached >= need)
