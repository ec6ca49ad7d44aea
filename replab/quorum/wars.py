"""The WARS Monte Carlo estimator of Probabilistically Bounded Staleness.

One batch of trials serves every ``t``. For each trial the estimator computes the *wait*:
the smallest ``t`` at which the read (sent ``t`` ms after the write commits) would be
consistent,

    wait = min over the first r responders i of (W[i] - R[i]) - w_t,

because responder ``i`` is fresh iff ``w_t + t + R[i] >= W[i]``. The t-visibility curve is
the empirical CDF of ``wait`` and the time to reach a target probability is its quantile.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from replab.latency import Distribution, WarsLatency, as_wars
from replab.quorum.outcome import _count_at_most, _mark_failed, _outcome_inplace, wars_outcome
from replab.rng import SeedLike, as_generator
from replab.stats import quantile_ci, wilson
from replab.validate import check_float, check_int, check_prob

__all__ = [
    "QuorumConfig",
    "WarsTrials",
    "simulate_wars",
    "wars_outcome",
    "staleness",
    "t_visibility",
    "latency_percentiles",
    "fresh_read_probability",
]

#: a profile name, a spec, one distribution for all four delays, four delays (W, A, R, S)
#: as a tuple or dict, or a WarsLatency (see :func:`replab.latency.as_wars`)
LatencyLike = str | Distribution | WarsLatency | tuple[Any, ...] | dict[str, Any]
_CHUNK = 1 << 20  # trials drawn at once; bounds memory for very large runs


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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    W, A, R, S = model.sample(rng, trials, cfg.n)  # each (n, trials)
    if p_fail > 0:
        # A failed replica neither stores the write nor answers the read.
        down = rng.random(W.shape) < p_fail
        W[down] = np.inf
        S[down] = np.inf
    wait, read_latency, write_latency = _outcome_inplace(W, A, R, S, cfg.r, cfg.w)
    if p_fail > 0:
        _mark_failed(wait, read_latency, write_latency)
    return wait, read_latency, write_latency


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


    def staleness(self, t: float | Iterable[float], *, k: int = 1) -> pd.DataFrame:
        """The t-visibility curve: P(consistent) at each ``t``, with Wilson 95 % CIs.

        With ``k > 1``, the probability that the read returns a value at most ``k``
        versions old (PBS <k,t>-staleness), treating the last ``k`` writes as independent
        and each committed at least ``t`` ms before the read (the PBS assumption).
        Trials whose write could not commit are excluded from ``trials``.
        """
        ts = _check_times(t)
        check_int(k, "k", "staleness", low=1)
        committed = self._committed
        hits = _count_at_most(committed, ts)
        m = committed.size
        p = hits / m if m else np.full(ts.size, np.nan)
        lo, hi = wilson(hits, m)
        if k > 1:
            p, lo, hi = (1 - (1 - x) ** k for x in (p, lo, hi))
        return pd.DataFrame(
            {"t": ts, "p_consistent": p, "ci_low": lo, "ci_high": hi, "trials": m}
        )

    def t_visibility(self, p: float | Iterable[float] = 0.999, *, k: int = 1) -> pd.DataFrame:
        """The time (ms after commit) by which P(consistent) reaches each target ``p``.

        A true quantile of the per-trial wait, with a distribution-free 95 % CI from order
        statistics. ``t = 0`` means the target is met immediately; ``inf`` that it is
        never met (e.g. too many failed reads).
        """
        targets = np.atleast_1d(np.asarray(p, dtype=float))
        for x in targets:
            check_float(x, "p", "t_visibility", low=0.0, high=1.0, low_open=True, high_open=True)
        check_int(k, "k", "t_visibility", low=1)
        level = 1 - (1 - targets) ** (1 / k)
        q, lo, hi = quantile_ci(self._committed, level)
        clip = np.maximum  # waits below zero mean "already consistent at t = 0"
        return pd.DataFrame(
            {
                "p_target": targets,
                "t": clip(q, 0.0),
                "ci_low": clip(lo, 0.0),
                "ci_high": clip(hi, 0.0),
                "trials": self._committed.size,
            }
        )

    def latency_percentiles(self, q: Iterable[float] = (50, 99, 99.9)) -> pd.DataFrame:
        """Read and write latency percentiles (ms) with order-statistic 95 % CIs."""
        qs = np.atleast_1d(np.asarray(list(q) if not np.isscalar(q) else [q], dtype=float))
        for x in qs:
            check_float(x, "q", "latency_percentiles", low=0.0, high=100.0)
        rows = []
        for op, values in (("read", self.read_latency), ("write", self.write_latency)):
            est, lo, hi = quantile_ci(values, qs / 100)
            for i, qq in enumerate(qs):
                rows.append((op, qq, est[i], lo[i], hi[i], values.size))
        return pd.DataFrame(
            rows, columns=["operation", "percentile", "latency_ms", "ci_low", "ci_high", "trials"]
        )


def _check_times(t: float | Iterable[float]) -> np.ndarray:
    raw = [t] if np.isscalar(t) else list(t)  # type: ignore[arg-type]
    if not raw:
        from replab.validate import fail

        raise fail("t", "staleness", "a non-empty list of finite times >= 0 (ms)", raw)
    out = np.empty(len(raw))
    for i, x in enumerate(raw):
        out[i] = check_float(x, "t", "staleness", low=0.0)
    return out


def simulate_wars(
    n: int,
    r: int,
    w: int,
    latency: LatencyLike,
    *,
    trials: int = 100_000,
    p_fail: float = 0.0,
    seed: SeedLike = None,
) -> WarsTrials:
    """Run ``trials`` independent WARS trials and keep every per-trial outcome.

    One call feeds :meth:`WarsTrials.staleness` at any number of ``t``,
    :meth:`WarsTrials.t_visibility` and :meth:`WarsTrials.latency_percentiles`.

    Parameters
    ----------
    n, r, w : int
        Replicas, read quorum and write quorum (``1 <= r, w <= n``).
    latency : str, Distribution or WarsLatency
        A profile name (``"LNKD-SSD"``), a spec (``"exp:0.1"``), a distribution used for
        all four delays, or a :class:`~replab.latency.WarsLatency`.
    trials : int
    p_fail : float
        Probability that each replica is down for the whole trial (it neither stores the
        write nor answers the read).
    seed : int, Generator or None
    """
    cfg = QuorumConfig(n=n, r=r, w=w)
    check_int(trials, "trials", "simulate_wars", low=1)
    check_prob(p_fail, "p_fail", "simulate_wars")
    model = as_wars(latency)
    rng = as_generator(seed)
    parts = [
        _trial_batch(cfg, model, rng, min(_CHUNK, trials - start), p_fail)
        for start in range(0, trials, _CHUNK)
    ]
    wait, read, write = (
        np.concatenate(x) if len(parts) > 1 else x[0] for x in zip(*parts, strict=True)
    )
    return WarsTrials(cfg, model, wait, read, write)


def staleness(
    n: int,
    r: int,
    w: int,
    latency: LatencyLike,
    t: float | Iterable[float],
    *,
    k: int = 1,
    trials: int = 100_000,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """Probability that a read ``t`` ms after a write commits returns it (PBS t-visibility).

    Returns a DataFrame with columns ``t, p_consistent, ci_low, ci_high, trials``, one row
    per ``t``; every row comes from the same batch of trials.

    Examples
    --------
    >>> df = staleness(3, 1, 1, "LNKD-SSD", [0, 10], trials=20_000, seed=1)
    >>> list(df.columns)
    ['t', 'p_consistent', 'ci_low', 'ci_high', 'trials']
    >>> bool(df.p_consistent.is_monotonic_increasing)
    True
    """
    _check_times(t)
    return simulate_wars(n, r, w, latency, trials=trials, seed=seed).staleness(t, k=k)


def t_visibility(
    n: int,
    r: int,
    w: int,
    latency: LatencyLike,
    p: float | Iterable[float] = 0.999,
    *,
    k: int = 1,
    trials: int = 100_000,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """Time after commit at which P(consistent) reaches ``p`` (a quantile, with its CI)."""
    return simulate_wars(n, r, w, latency, trials=trials, seed=seed).t_visibility(p, k=k)


def latency_percentiles(
    n: int,
    r: int,
    w: int,
    latency: LatencyLike,
    q: Iterable[float] = (50, 99, 99.9),
    *,
    trials: int = 100_000,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """Read and write latency percentiles (ms) for a configuration."""
    return simulate_wars(n, r, w, latency, trials=trials, seed=seed).latency_percentiles(q)


def fresh_read_probability(
    n: int,
    r: int,
    w: int,
    latency: LatencyLike,
    t: float | Iterable[float],
    p_fail: float,
    *,
    trials: int = 100_000,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """Availability and freshness together when each replica is down with ``p_fail``.

    A failed replica neither stores the write nor answers the read. Returns, per ``t``:
    ``p_write_ok`` (the write commits), ``p_read_ok`` (the read gathers r answers) and
    ``p_fresh_read`` = P(read succeeds and returns the write | write committed), each
    with Wilson 95 % bounds.
    """
    ts = _check_times(t)
    res = simulate_wars(n, r, w, latency, trials=trials, p_fail=p_fail, seed=seed)
    write_ok = np.isfinite(res.write_latency)
    read_ok = np.isfinite(res.read_latency)
    fresh = res.staleness(ts)
    wlo, whi = wilson(write_ok.sum(), trials)
    rlo, rhi = wilson(read_ok.sum(), trials)
    return pd.DataFrame(
        {
            "t": ts,
            "p_fail": p_fail,
            "p_write_ok": write_ok.mean(),
            "write_ci_low": float(wlo),
            "write_ci_high": float(whi),
            "p_read_ok": read_ok.mean(),
            "read_ci_low": float(rlo),
            "read_ci_high": float(rhi),
            "p_fresh_read": fresh.p_consistent,
            "ci_low": fresh.ci_low,
            "ci_high": fresh.ci_high,
            "trials": trials,
        }
    )
