"""The PBS notebook's (02) claims, checked with its own calls at its sizes."""

from __future__ import annotations

import numpy as np
import pytest

import replab
from replab.quorum import compare_with_pbs, latency_staleness_tradeoff


@pytest.fixture(scope="module")
def table():
    return compare_with_pbs(trials=1_000_000, seed=0)  # the notebook's default TRIALS, SEED


def test_reading_the_differences(table):
    """The bullet list 'Reading the differences', number by number (rounded as written)."""
    rel = table.set_index(["profile", "metric"]).relative_diff
    latency = rel[rel.index.get_level_values("metric").str.contains("latency")].abs()
    assert 0.005 <= latency.min() and latency.max() <= 0.025  # "about 0.5-2.5 %"
    p0 = rel.xs("p_consistent_t0", level="metric")
    assert (p0 < 0).all()  # lower in replab
    assert 0.0004 <= -p0.max() and -p0.min() <= 0.009 + 0.0005  # "0.04-0.9 %"
    tv = rel.xs("t_visibility_999", level="metric")
    assert (tv > 0).all()  # later in replab
    assert 0.035 - 0.0005 <= tv.min() and tv.max() <= 0.15 + 0.005  # "3.5-15 %"


@pytest.mark.parametrize("name", ["LNKD-SSD", "YMMR"])
def test_strict_quorums_are_consistent_at_once_and_pay_in_latency(name):
    """'Strict quorums (R + W > 3) sit at t = 0: they pay in latency instead.'"""
    df = latency_staleness_tradeoff(3, [(1, 1), (2, 2), (1, 3), (3, 1)], name,
                                    trials=5_000, seed=0).set_index(["r", "w"])
    base = df.loc[(1, 1)]
    for strict in [(2, 2), (1, 3), (3, 1)]:
        row = df.loc[strict]
        assert row.t_visibility == 0.0
        assert max(row.read_ms, row.write_ms) > max(base.read_ms, base.write_ms)


def test_each_extra_version_multiplies_the_tail_by_p_stale():
    """k-staleness: P(older than the last k versions) = P(stale)^k, and at t = 0 without
    timing it is replab.k_staleness."""
    res = replab.simulate_wars(3, 1, 1, "LNKD-DISK", trials=20_000, seed=0)
    ts = np.linspace(0, 60, 7)
    p1 = 1 - res.staleness(ts).p_consistent.to_numpy()
    for k in (2, 3):
        pk = 1 - res.staleness(ts, k=k).p_consistent.to_numpy()
        assert pk == pytest.approx(p1**k)
    assert 1 - replab.k_staleness(3, 1, 1, 2) == pytest.approx((2 / 3) ** 2)
