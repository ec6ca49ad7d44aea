"""Closed forms: k-staleness and quorum availability."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from math import comb

import numpy as np
import pandas as pd

from replab.quorum.wars import QuorumConfig
from replab.rng import SeedLike, as_generator
from replab.stats import wilson
from replab.validate import check_int, check_prob, fail

__all__ = [
    "k_staleness",
    "p_stale_no_timing",
    "availability",
    "availability_correlated",
    "availability_correlated_exact",
]


def p_stale_no_timing(n: int, r: int, w: int) -> float:
    """P(a read quorum misses a write quorum) when both are chosen uniformly at random.

    ``C(n-w, r) / C(n, r)``; zero when ``r + w > n``.
    """
    cfg = QuorumConfig(n=n, r=r, w=w)
    return comb(cfg.n - cfg.w, cfg.r) / comb(cfg.n, cfg.r)


def k_staleness(n: int, r: int, w: int, k: int = 1) -> float:
    """PBS k-staleness: probability that a read returns a value at most ``k`` versions old.

    Closed form ``1 - (C(n-w, r) / C(n, r)) ** k`` (Bailis et al. 2012, eq. 2), for read and
    write quorums chosen uniformly and independently, with no timing. The probability of
    being *more* than ``k`` versions stale is one minus this.

    >>> round(k_staleness(3, 1, 1, 1), 4)
    0.3333
    >>> k_staleness(3, 2, 2, 1)
    1.0
    """
    check_int(k, "k", "k_staleness", low=1)
    return 1.0 - p_stale_no_timing(n, r, w) ** k


def _binom_at_least(n: int, m: int, p_up: float) -> float:
    """P(at least m of n up). Exact terms while comb(n, j) fits a float; in log space
    beyond (n > 1000), where comb(n, j) * p**j would overflow."""
    if n <= 1000:
        return float(sum(comb(n, j) * p_up**j * (1 - p_up) ** (n - j) for j in range(m, n + 1)))
    if p_up in (0.0, 1.0):
        return float(p_up == 1.0 or m == 0)
    j = np.arange(m, n + 1, dtype=float)
    log_terms = (math.lgamma(n + 1) - np.array([math.lgamma(x + 1) for x in j])
                 - np.array([math.lgamma(n - x + 1) for x in j])
                 + j * math.log(p_up) + (n - j) * math.log1p(-p_up))
    top = float(log_terms.max())
    return float(min(1.0, math.exp(top) * np.exp(log_terms - top).sum()))


def availability(n: int, r: int, w: int, p_fail: float | Iterable[float]) -> pd.DataFrame:
    """Exact probability that a read / write quorum can be formed.

    Each node is down independently with probability ``p_fail``; an operation is available
    when at least ``r`` (read) or ``w`` (write) of the ``n`` replicas are up.
    Columns: ``p_fail, p_read_available, p_write_available, p_both_available``.
    """
    cfg = QuorumConfig(n=n, r=r, w=w)
    ps = [p_fail] if np.isscalar(p_fail) else list(p_fail)  # type: ignore[arg-type]
    rows = []
    for p in ps:
        p = check_prob(p, "p_fail", "availability")
        up = 1 - p
        rows.append(
            (
                p,
                _binom_at_least(cfg.n, cfg.r, up),
                _binom_at_least(cfg.n, cfg.w, up),
                _binom_at_least(cfg.n, max(cfg.r, cfg.w), up),
            )
        )
    return pd.DataFrame(
        rows, columns=["p_fail", "p_read_available", "p_write_available", "p_both_available"]
    )


def _check_groups(n: int, groups: Sequence[int]) -> np.ndarray:
    g = np.asarray(groups)
    if g.ndim != 1 or g.size != n or not np.issubdtype(g.dtype, np.integer) or (g < 0).any():
        raise fail(
            "groups", "availability_correlated",
            f"a list of n={n} non-negative group ids, one per node", list(groups),
        )
    return g


def availability_correlated(
    n: int,
    r: int,
    w: int,
    groups: Sequence[int],
    p_group: float,
    *,
    p_node: float = 0.0,
    trials: int = 100_000,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """Quorum availability under correlated failures (Monte Carlo, Wilson 95 % CIs).

    ``groups[i]`` is the rack or datacenter of node ``i``; each group fails as a whole with
    probability ``p_group``, and each node also fails on its own with ``p_node``.
    Returns one row per operation (``read``, ``write``) with
    ``p_available, ci_low, ci_high, trials``.
    """
    cfg = QuorumConfig(n=n, r=r, w=w)
    g = _check_groups(cfg.n, groups)
    check_prob(p_group, "p_group", "availability_correlated")
    check_prob(p_node, "p_node", "availability_correlated")
    check_int(trials, "trials", "availability_correlated", low=1)
    rng = as_generator(seed)
    n_groups = int(g.max()) + 1
    group_down = rng.random((trials, n_groups)) < p_group
    node_down = rng.random((trials, cfg.n)) < p_node
    up = (~group_down[:, g] & ~node_down).sum(axis=1)
    rows = []
    for op, quorum in (("read", cfg.r), ("write", cfg.w)):
        hits = int((up >= quorum).sum())
        lo, hi = wilson(hits, trials)
        rows.append((op, quorum, hits / trials, float(lo), float(hi), trials))
    return pd.DataFrame(
        rows, columns=["operation", "quorum", "p_available", "ci_low", "ci_high", "trials"]
    )


def availability_correlated_exact(
    n: int, r: int, w: int, groups: Sequence[int], p_group: float, *, p_node: float = 0.0
) -> pd.DataFrame:
    """The exact counterpart of :func:`availability_correlated` (enumerates group states).

    Exponential in the number of groups; meant for small layouts and as a test oracle.
    """
    cfg = QuorumConfig(n=n, r=r, w=w)
    g = _check_groups(cfg.n, groups)
    check_prob(p_group, "p_group", "availability_correlated_exact")
    check_prob(p_node, "p_node", "availability_correlated_exact")
    ids = sorted(set(g.tolist()))
    sizes = [int((g == i).sum()) for i in ids]
    prob = {"read": 0.0, "write": 0.0}
    for state in range(1 << len(ids)):
        down = [(state >> j) & 1 for j in range(len(ids))]
        p_state = float(np.prod([p_group if d else 1 - p_group for d in down]))
        survivors = sum(s for s, d in zip(sizes, down, strict=True) if not d)
        for op, quorum in (("read", cfg.r), ("write", cfg.w)):
            prob[op] += p_state * _binom_at_least(survivors, quorum, 1 - p_node)
    return pd.DataFrame(
        [("read", cfg.r, prob["read"]), ("write", cfg.w, prob["write"])],
        columns=["operation", "quorum", "p_available"],
    )
