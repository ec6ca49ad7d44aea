"""One batch of WARS trials held in memory, and the tables every reduction returns.

:class:`WarsTrials` keeps every per-trial outcome of a run that fits in one chunk (the
slider path: up to about a million trials, reduced in a few milliseconds). A larger run
streams its chunks instead (:mod:`replab.quorum.stream`); both build their tables with the
``*_frame`` functions here, from the same counts and order statistics, so a streamed
result equals the in-memory one bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from replab.latency import Distribution, WarsLatency
from replab.quorum.outcome import Counter, _count_at_most, _reduce_trials
from replab.stats import quantile_ci, wilson
from replab.validate import check_float, check_int, fail

__all__ = ["QuorumConfig", "WarsTrials", "WarsCounts"]

#: a profile name, a spec, one distribution for all four delays, four delays (W, A, R, S)
#: as a tuple or dict, or a WarsLatency (see :func:`replab.latency.as_wars`)
LatencyLike = str | Distribution | WarsLatency | tuple[Any, ...] | dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class QuorumConfig:
    """Replication factor ``n``, read quorum ``r`` and write quorum ``w``."""

    n: int = 3
    r: int = 1
    w: int = 1

    def __post_init__(self) -> None:
        check_int(self.n, "n", "QuorumConfig", low=1)
        bound = f"n={self.n}"
        check_int(self.r, "r", "QuorumConfig", low=1, high=self.n, high_label=bound)
        check_int(self.w, "w", "QuorumConfig", low=1, high=self.n, high_label=bound)

    @property
    def strict(self) -> bool:
        """True when every read quorum overlaps every write quorum (r + w > n)."""
        return self.r + self.w > self.n


def _trial_batch(
    cfg: QuorumConfig,
    model: WarsLatency,
    rng: np.random.Generator,
    trials: int,
    p_fail: float,
    counter: Counter | None = None,
    keep: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``trials`` trials and reduce them; ``counter`` tallies them on the way (and
    without ``keep``, only the tallies are wanted)."""
    W, A, R, S = model.sample(rng, trials, cfg.n)  # each (n, trials)
    if p_fail > 0:
        # A failed replica neither stores the write nor answers the read.
        down = rng.random(W.shape) < p_fail
        W[down] = np.inf
        S[down] = np.inf
    return _reduce_trials(W, A, R, S, cfg.r, cfg.w, mark=p_fail > 0, counter=counter,
                          keep=keep)


@dataclass(frozen=True)
class WarsCounts:
    """Counts of one run: they add across chunks, runs and machines.

    ``consistent[i]`` is the number of committed trials whose read ``t[i]`` ms after the
    commit returns the write.
    """

    trials: int
    write_ok: int
    read_ok: int
    committed: int
    t: np.ndarray
    consistent: np.ndarray


@dataclass(frozen=True, eq=False)
class WarsTrials:
    """The per-trial outcomes of one WARS Monte Carlo batch.

    Attributes
    ----------
    config : QuorumConfig
    latency : WarsLatency
    wait : ndarray
        Per trial, the smallest ``t`` (ms after commit) at which the read is consistent;
        ``<= 0`` means consistent immediately, ``inf`` never (failed read or write).
    read_latency, write_latency : ndarray
        Per trial, in ms; ``inf`` where the quorum could not be formed.
    """

    config: QuorumConfig
    latency: WarsLatency
    wait: np.ndarray
    read_latency: np.ndarray
    write_latency: np.ndarray

    @property
    def trials(self) -> int:
        return int(self.wait.size)

    @cached_property
    def _committed(self) -> np.ndarray:
        ok = np.isfinite(self.write_latency)
        return self.wait if ok.all() else self.wait[ok]

    def collect(self) -> WarsTrials:
        """This result (it already holds every trial); see :meth:`WarsStream.collect`."""
        return self

    def counts(self, t: float | Iterable[float]) -> WarsCounts:
        """The counts behind :meth:`staleness` and the availability of reads and writes."""
        ts = check_times(t)
        committed = self._committed
        return WarsCounts(self.trials, int(np.isfinite(self.write_latency).sum()),
                          int(np.isfinite(self.read_latency).sum()), int(committed.size),
                          ts, _count_at_most(committed, ts))

    def staleness(self, t: float | Iterable[float], *, k: int = 1) -> pd.DataFrame:
        """The t-visibility curve: P(consistent) at each ``t``, with Wilson 95 % CIs.

        With ``k > 1``, the probability that the read returns a value at most ``k``
        versions old (PBS <k,t>-staleness), treating the last ``k`` writes as independent
        and each committed at least ``t`` ms before the read (the PBS assumption).
        Trials whose write could not commit are excluded from ``trials``.
        """
        ts = check_times(t)
        check_int(k, "k", "staleness", low=1)
        committed = self._committed
        return staleness_frame(ts, _count_at_most(committed, ts), committed.size, k)

    def t_visibility(self, p: float | Iterable[float] = 0.999, *, k: int = 1) -> pd.DataFrame:
        """The time (ms after commit) by which P(consistent) reaches each target ``p``.

        A true quantile of the per-trial wait, with a distribution-free 95 % CI from order
        statistics. ``t = 0`` means the target is met immediately; ``inf`` that it is
        never met (e.g. too many failed reads).
        """
        targets, level = check_targets(p, k)
        q, lo, hi = quantile_ci(self._committed, level)
        return t_visibility_frame(targets, q, lo, hi, self._committed.size)

    def latency_percentiles(self, q: Iterable[float] = (50, 99, 99.9)) -> pd.DataFrame:
        """Read and write latency percentiles (ms) with order-statistic 95 % CIs."""
        qs = check_percentiles(q)
        found = {op: (*quantile_ci(values, qs / 100), values.size)
                 for op, values in (("read", self.read_latency), ("write", self.write_latency))}
        return latency_frame(qs, found)


def check_times(t: float | Iterable[float]) -> np.ndarray:
    """The times ``t`` (ms after commit) as an array; each finite and >= 0."""
    raw = [t] if np.isscalar(t) else list(t)  # type: ignore[arg-type]
    if not raw:
        raise fail("t", "staleness", "a non-empty list of finite times >= 0 (ms)", raw)
    out = np.empty(len(raw))
    for i, x in enumerate(raw):
        out[i] = check_float(x, "t", "staleness", low=0.0)
    return out


def check_targets(p: float | Iterable[float], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The targets ``p`` and the quantile levels of the wait they ask for."""
    targets = np.atleast_1d(np.asarray(p, dtype=float))
    for x in targets:
        check_float(x, "p", "t_visibility", low=0.0, high=1.0, low_open=True, high_open=True)
    check_int(k, "k", "t_visibility", low=1)
    return targets, 1 - (1 - targets) ** (1 / k)


def check_percentiles(q: Iterable[float]) -> np.ndarray:
    qs = np.atleast_1d(np.asarray(list(q) if not np.isscalar(q) else [q], dtype=float))
    for x in qs:
        check_float(x, "q", "latency_percentiles", low=0.0, high=100.0)
    return qs


def staleness_frame(ts: np.ndarray, hits: np.ndarray, m: int, k: int) -> pd.DataFrame:
    """The staleness table from ``hits`` consistent reads among ``m`` committed trials."""
    p = hits / m if m else np.full(ts.size, np.nan)
    lo, hi = wilson(hits, m)
    if k > 1:
        p, lo, hi = (1 - (1 - x) ** k for x in (p, lo, hi))
    return pd.DataFrame({"t": ts, "p_consistent": p, "ci_low": lo, "ci_high": hi, "trials": m})


def t_visibility_frame(targets: np.ndarray, q: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                       m: int) -> pd.DataFrame:
    clip = np.maximum  # waits below zero mean "already consistent at t = 0"
    return pd.DataFrame({"p_target": targets, "t": clip(q, 0.0), "ci_low": clip(lo, 0.0),
                         "ci_high": clip(hi, 0.0), "trials": m})


def latency_frame(qs: np.ndarray, found: dict[str, tuple[Any, Any, Any, int]]) -> pd.DataFrame:
    """``found`` maps each operation to (estimates, ci lows, ci highs, sample size)."""
    rows = []
    for op, (est, lo, hi, size) in found.items():
        for i, qq in enumerate(qs):
            rows.append((op, qq, est[i], lo[i], hi[i], size))
    return pd.DataFrame(
        rows, columns=["operation", "percentile", "latency_ms", "ci_low", "ci_high", "trials"]
    )
