"""Estimators: the WARS Monte Carlo (PBS), k-staleness and quorum availability."""

from replab.quorum.closed import (
    availability,
    availability_correlated,
    availability_correlated_exact,
    k_staleness,
    p_stale_no_timing,
)
from replab.quorum.crossing import first_crossing, pbs_grid
from replab.quorum.grid import quorum_grid
from replab.quorum.published import compare_with_pbs, pbs_published
from replab.quorum.tail import TAIL_TARGETS, tail_visibility
from replab.quorum.tradeoff import latency_cdf, latency_staleness_tradeoff
from replab.quorum.wars import (
    QuorumConfig,
    WarsStream,
    WarsTrials,
    fresh_read_probability,
    latency_percentiles,
    simulate_wars,
    staleness,
    t_visibility,
    wars_outcome,
)

__all__ = [
    "QuorumConfig",
    "WarsTrials",
    "WarsStream",
    "simulate_wars",
    "staleness",
    "t_visibility",
    "latency_percentiles",
    "fresh_read_probability",
    "k_staleness",
    "p_stale_no_timing",
    "availability",
    "availability_correlated",
    "availability_correlated_exact",
    "quorum_grid",
    "wars_outcome",
    "pbs_published",
    "compare_with_pbs",
    "first_crossing",
    "pbs_grid",
    "latency_staleness_tradeoff",
    "latency_cdf",
    "tail_visibility",
    "TAIL_TARGETS",
]
