import re
import subprocess
import sys
from math import comb

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import replab
from replab.errors import ConfigError
from replab.latency import Constant, Exponential, WarsLatency
from replab.quorum import (
    QuorumConfig,
    availability,
    availability_correlated,
    availability_correlated_exact,
    fresh_read_probability,
    k_staleness,
    quorum_grid,
    simulate_wars,
    staleness,
    t_visibility,
    wars_outcome,
)
from replab.quorum.reference import consistent_at, staleness_per_t

Z = 4.0  # generous bound for fixed-seed statistical checks


def within(p_hat: float, p: float, n: int, z: float = Z) -> bool:
    se = max(np.sqrt(p * (1 - p) / n), 1 / n)
    return abs(p_hat - p) <= z * se


# ------------------------------------------------------------------ closed forms vs MC

@pytest.mark.parametrize("n,r,w", [(3, 1, 1), (3, 1, 2), (5, 2, 2), (5, 1, 3), (7, 3, 2)])
def test_t0_equals_quorum_intersection_when_A_and_R_are_zero(n, r, w):
    # With A = R = 0 the write has reached exactly the w fastest replicas at commit, and the
    # r first responders are a uniform r-subset independent of them.
    model = WarsLatency(Exponential(1.0), Constant(0.0), Constant(0.0), Exponential(1.0))
    trials = 200_000
    df = staleness(n, r, w, model, [0.0], trials=trials, seed=11)
    exact = 1 - comb(n - w, r) / comb(n, r)
    assert within(df.p_consistent[0], exact, trials)
    assert df.ci_low[0] - 0.01 <= exact <= df.ci_high[0] + 0.01


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 7),
    data=st.data(),
    profile=st.sampled_from(["LNKD-SSD", "LNKD-DISK", "YMMR", "WAN", "const:1", "exp:0.5"]),
    seed=st.integers(0, 10_000),
)
def test_strict_quorums_are_always_consistent(n, data, profile, seed):
    r = data.draw(st.integers(1, n))
    w = data.draw(st.integers(n - r + 1, n))
    df = staleness(n, r, w, profile, [0.0], trials=2_000, seed=seed)
    assert df.p_consistent[0] == 1.0
    assert df.ci_high[0] == 1.0


@pytest.mark.parametrize("n,r,w,k", [(3, 1, 1, 1), (3, 1, 1, 3), (5, 1, 2, 2), (6, 2, 2, 4)])
def test_k_staleness_closed_form_against_independent_quorum_sampling(n, r, w, k):
    rng = np.random.default_rng(5)
    trials = 100_000
    # k independent write quorums and one read quorum, all uniform; the read is within k
    # versions iff it intersects at least one of the last k write quorums.
    keys = rng.random((trials, k + 1, n)).argsort(axis=2)
    writes = np.zeros((trials, k, n), dtype=bool)
    np.put_along_axis(writes, keys[:, :k, :w], True, axis=2)
    read = np.zeros((trials, n), dtype=bool)
    np.put_along_axis(read, keys[:, k, :r], True, axis=1)
    hit = (writes & read[:, None, :]).any(axis=2).any(axis=1)
    assert within(hit.mean(), k_staleness(n, r, w, k), trials)


def test_k_staleness_values():
    assert k_staleness(3, 1, 1) == pytest.approx(1 / 3)
    assert k_staleness(3, 1, 1, 2) == pytest.approx(1 - (2 / 3) ** 2)
    assert k_staleness(3, 2, 2) == 1.0
    assert k_staleness(10, 1, 1, 5) == pytest.approx(1 - 0.9**5)


def test_timed_k_staleness_follows_pbs_independence():
    res = simulate_wars(3, 1, 1, "LNKD-DISK", trials=50_000, seed=2)
    one = res.staleness([0.0, 5.0])
    three = res.staleness([0.0, 5.0], k=3)
    np.testing.assert_allclose(three.p_consistent, 1 - (1 - one.p_consistent) ** 3)
    assert (three.p_consistent >= one.p_consistent).all()
    assert (three.ci_low <= three.p_consistent).all()


@pytest.mark.parametrize("n,r,w,p", [(3, 2, 2, 0.1), (5, 3, 1, 0.3), (4, 4, 1, 0.05)])
def test_binomial_availability(n, r, w, p):
    row = availability(n, r, w, p).iloc[0]

    def at_least(m):
        return sum(comb(n, j) * (1 - p) ** j * p ** (n - j) for j in range(m, n + 1))

    assert row.p_read_available == pytest.approx(at_least(r))
    assert row.p_write_available == pytest.approx(at_least(w))
    assert row.p_both_available == pytest.approx(at_least(max(r, w)))


def test_availability_edge_cases():
    df = availability(3, 2, 2, [0.0, 1.0])
    assert df.p_read_available.tolist() == [1.0, 0.0]


def test_correlated_availability_mc_matches_exact_enumeration():
    groups = [0, 0, 1, 1, 2]
    mc = availability_correlated(5, 3, 2, groups, 0.2, p_node=0.05, trials=200_000, seed=1)
    ex = availability_correlated_exact(5, 3, 2, groups, 0.2, p_node=0.05)
    for op in ("read", "write"):
        p_hat = mc.set_index("operation").loc[op, "p_available"]
        p = ex.set_index("operation").loc[op, "p_available"]
        assert within(p_hat, p, 200_000)


def test_singleton_groups_reduce_to_binomial():
    ex = availability_correlated_exact(5, 3, 2, [0, 1, 2, 3, 4], 0.1)
    b = availability(5, 3, 2, 0.1).iloc[0]
    assert ex.p_available.tolist() == pytest.approx([b.p_read_available, b.p_write_available])


def test_correlation_hurts_availability():
    ind = availability(6, 3, 3, 0.1).iloc[0].p_read_available
    racked = availability_correlated_exact(6, 3, 3, [0, 0, 0, 1, 1, 1], 0.1)
    assert racked.p_available.iloc[0] < ind


# ------------------------------------------------------------------ second implementation

@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 6),
    data=st.data(),
    integer=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_wait_agrees_with_literal_definition(n, data, integer, seed):
    r = data.draw(st.integers(1, n))
    w = data.draw(st.integers(1, n))
    g = np.random.default_rng(seed)
    shape = (n, 40)
    # Integer delays make ties common, which is where implementations disagree.
    draw = (lambda: g.integers(0, 4, shape).astype(float)) if integer else (
        lambda: g.exponential(1.0, shape))
    W, A, R, S = draw(), draw(), draw(), draw()
    wait, read_lat, write_lat = wars_outcome(W, A, R, S, r, w)
    for t in (0.0, 0.5, 1.0, 2.0, 3.0):
        expected = consistent_at(W.T, A.T, R.T, S.T, r, w, t)
        np.testing.assert_array_equal(wait <= t, expected)
    np.testing.assert_array_equal(write_lat, np.sort(W + A, axis=0)[w - 1])
    np.testing.assert_array_equal(read_lat, np.sort(R + S, axis=0)[r - 1])


def test_large_n_path_agrees_with_literal_definition():
    g = np.random.default_rng(0)
    n, r, w = 20, 4, 3
    W, A, R, S = (g.exponential(1.0, (n, 500)) for _ in range(4))
    wait, _, _ = wars_outcome(W, A, R, S, r, w)
    for t in (0.0, 0.3, 1.0):
        np.testing.assert_array_equal(wait <= t, consistent_at(W.T, A.T, R.T, S.T, r, w, t))


def test_one_batch_curve_matches_per_t_resimulation():
    ts = [0.0, 2.0, 10.0, 40.0]
    a = staleness(3, 1, 1, "LNKD-DISK", ts, trials=100_000, seed=1)
    b = staleness_per_t(3, 1, 1, "LNKD-DISK", ts, trials=100_000, seed=2)
    for pa, pb in zip(a.p_consistent, b.p_consistent, strict=True):
        assert abs(pa - pb) <= Z * np.sqrt(2 * pa * (1 - pa) / 100_000) + 1e-9


def test_failed_replicas_never_answer():
    inf = np.inf
    W = np.array([[1.0], [inf], [inf]])
    A = np.array([[1.0], [1.0], [1.0]])
    R = np.array([[1.0], [inf], [inf]])
    S = np.array([[1.0], [1.0], [1.0]])
    wait, read_lat, write_lat = wars_outcome(W, A, R, S, 1, 1)
    assert write_lat[0] == 2.0 and read_lat[0] == 2.0 and wait[0] <= 0
    wait, read_lat, write_lat = wars_outcome(W, A, R, S, 2, 1)
    assert read_lat[0] == inf and wait[0] == inf


# ------------------------------------------------------------------ monotone properties

@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 6), data=st.data(), seed=st.integers(0, 10_000),
       profile=st.sampled_from(["LNKD-DISK", "YMMR", "exp:0.2"]))
def test_more_replicas_read_or_written_never_hurts(n, data, seed, profile):
    r = data.draw(st.integers(1, n - 1))
    w = data.draw(st.integers(1, n - 1))
    ts = [0.0, 1.0, 10.0, 100.0]
    base = staleness(n, r, w, profile, ts, trials=3_000, seed=seed).p_consistent
    more_r = staleness(n, r + 1, w, profile, ts, trials=3_000, seed=seed).p_consistent
    more_w = staleness(n, r, w + 1, profile, ts, trials=3_000, seed=seed).p_consistent
    assert (more_r >= base).all()
    assert (more_w >= base).all()


@settings(max_examples=20, deadline=None)
@given(ts=st.lists(st.floats(0, 500), min_size=1, max_size=30), seed=st.integers(0, 10_000))
def test_later_t_is_never_less_consistent(ts, seed):
    df = staleness(3, 1, 1, "YMMR", ts, trials=2_000, seed=seed).sort_values("t")
    assert df.p_consistent.is_monotonic_increasing
    assert (df.ci_low <= df.p_consistent).all() and (df.p_consistent <= df.ci_high).all()


def test_grid_is_monotone_and_strict_cells_are_zero():
    g = quorum_grid(4, "LNKD-DISK", t=1.0, p_fail=0.1, trials=5_000, seed=3)
    table = g.pivot(index="r", columns="w", values="p_stale").to_numpy()
    assert (np.diff(table, axis=0) <= 0).all() and (np.diff(table, axis=1) <= 0).all()
    assert (g[g.strict].p_stale == 0).all()
    assert (g[~g.strict].p_stale > 0).all()


# ------------------------------------------------------------------ quantiles, latency

def test_t_visibility_is_the_quantile_of_the_curve():
    res = simulate_wars(3, 1, 1, "LNKD-DISK", trials=200_000, seed=4)
    tv = res.t_visibility([0.9, 0.99]).set_index("p_target")
    for p in (0.9, 0.99):
        t, lo, hi = tv.loc[p, ["t", "ci_low", "ci_high"]]
        assert lo <= t <= hi
        curve = res.staleness([t, np.nextafter(t, 0)])
        assert curve.p_consistent[0] >= p > curve.p_consistent[1]


def test_t_visibility_is_zero_when_already_consistent():
    assert t_visibility(3, 2, 2, "YMMR", [0.999], trials=1000, seed=0).t[0] == 0.0
    # LNKD-SSD is ~97 % consistent at t = 0.
    assert t_visibility(3, 1, 1, "LNKD-SSD", [0.9], trials=20_000, seed=0).t[0] == 0.0


def test_t_visibility_ci_covers_a_long_run_truth():
    truth = t_visibility(3, 1, 1, "exp:0.1", [0.99], trials=2_000_000, seed=99).t[0]
    small = t_visibility(3, 1, 1, "exp:0.1", [0.99], trials=50_000, seed=5).iloc[0]
    assert small.ci_low <= truth <= small.ci_high


def test_latency_percentiles_against_closed_form():
    # Constant S, exponential R: the read latency with r=1 is min of 3 exp + 1 -> exp(3 rate).
    model = WarsLatency(Constant(0.0), Constant(0.0), Exponential(1.0), Constant(1.0))
    df = replab.latency_percentiles(3, 1, 1, model, [50, 99], trials=200_000, seed=1)
    read = df[df.operation == "read"].set_index("percentile")
    for q in (50, 99):
        exact = 1 - np.log(1 - q / 100) / 3
        assert read.loc[q, "ci_low"] - 1e-3 <= exact <= read.loc[q, "ci_high"] + 1e-3
    assert (df[df.operation == "write"].latency_ms == 0).all()


def test_fresh_read_probability_with_failures():
    df = fresh_read_probability(5, 1, 2, "LNKD-DISK", [0.0, 50.0], 0.3, trials=100_000, seed=1)
    b = availability(5, 1, 2, 0.3).iloc[0]
    assert within(df.p_read_ok[0], b.p_read_available, 100_000)
    assert within(df.p_write_ok[0], b.p_write_available, 100_000)
    assert df.p_fresh_read[1] >= df.p_fresh_read[0]
    assert df.p_fresh_read[1] < 1.0  # a failed replica can hold the only copy
    none = fresh_read_probability(3, 2, 2, "LNKD-DISK", [0.0], 0.0, trials=1000, seed=1)
    assert none.p_fresh_read[0] == 1.0 and none.p_read_ok[0] == 1.0


# ------------------------------------------------------------------ contracts

def test_frame_columns_and_rows():
    df = staleness(3, 1, 1, "LNKD-SSD", [0, 1, 5], trials=1000, seed=1)
    assert list(df.columns) == ["t", "p_consistent", "ci_low", "ci_high", "trials"]
    assert df.t.tolist() == [0.0, 1.0, 5.0]
    assert (df.trials == 1000).all()
    lat = replab.latency_percentiles(3, 1, 1, "LNKD-SSD", trials=1000, seed=1)
    assert list(lat.columns) == ["operation", "percentile", "latency_ms", "ci_low",
                                 "ci_high", "trials"]


def test_same_seed_same_frame_different_seed_different():
    a = staleness(3, 1, 2, "YMMR", [0, 10, 100], trials=20_000, seed=7)
    b = staleness(3, 1, 2, "YMMR", [0, 10, 100], trials=20_000, seed=7)
    c = staleness(3, 1, 2, "YMMR", [0, 10, 100], trials=20_000, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_same_seed_same_result_across_processes():
    code = ("import replab;print(replab.staleness(3,1,1,'WAN',[0,50,120],trials=30000,"
            "seed=3).to_json())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    here = staleness(3, 1, 1, "WAN", [0, 50, 120], trials=30000, seed=3).to_json()
    assert out == here


def test_chunked_runs_are_deterministic():
    a = simulate_wars(3, 1, 1, "LNKD-DISK", trials=3500, chunk_size=1000, seed=1).collect()
    b = simulate_wars(3, 1, 1, "LNKD-DISK", trials=3500, chunk_size=1000, seed=1).collect()
    assert a.wait.shape == (3500,)
    np.testing.assert_array_equal(a.wait, b.wait)


def test_generator_seed_is_used_not_copied():
    g = np.random.default_rng(1)
    a = staleness(3, 1, 1, "exp:1", [0.5], trials=1000, seed=g)
    b = staleness(3, 1, 1, "exp:1", [0.5], trials=1000, seed=g)
    assert not a.equals(b)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: QuorumConfig(n=3, r=1, w=5),
         "The 'w' parameter of QuorumConfig must be an int in [1, n=3]. Got 5 instead."),
        (lambda: QuorumConfig(n=3, r=0, w=1),
         "The 'r' parameter of QuorumConfig must be an int in [1, n=3]. Got 0 instead."),
        (lambda: QuorumConfig(n=0, r=1, w=1),
         "The 'n' parameter of QuorumConfig must be an int in [1, inf). Got 0 instead."),
        (lambda: QuorumConfig(n=3.0, r=1, w=1),
         "The 'n' parameter of QuorumConfig must be an int in [1, inf). Got 3.0 instead."),
        (lambda: staleness(3, 1, 1, "LNKD-SSD", [-1.0], trials=10),
         "The 't' parameter of staleness must be a finite number in [0, inf). "
         "Got -1.0 instead."),
        (lambda: staleness(3, 1, 1, "LNKD-SSD", [float("nan")], trials=10),
         "The 't' parameter of staleness must be a finite number in [0, inf). "
         "Got nan instead."),
        (lambda: staleness(3, 1, 1, "LNKD-SSD", [1.0], trials=0),
         "The 'trials' parameter of simulate_wars must be an int in [1, inf). "
         "Got 0 instead."),
        (lambda: staleness(3, 1, 1, "LNKD-SSD", [1.0], k=0, trials=10),
         "The 'k' parameter of staleness must be an int in [1, inf). Got 0 instead."),
        (lambda: availability(3, 1, 1, 1.5),
         "The 'p_fail' parameter of availability must be a finite number in [0, 1]. "
         "Got 1.5 instead."),
        (lambda: t_visibility(3, 1, 1, "exp:1", [1.0], trials=10),
         "The 'p' parameter of t_visibility must be a finite number in (0, 1). "
         "Got 1.0 instead."),
        (lambda: availability_correlated(3, 1, 1, [0, 1], 0.1),
         "The 'groups' parameter of availability_correlated must be a list of n=3 "
         "non-negative group ids, one per node. Got [0, 1] instead."),
        (lambda: staleness(3, 1, 1, "exp:1", [1.0], trials=10, seed=-1),
         "The 'seed' parameter must be None, a non-negative int, a SeedSequence or a numpy "
         "Generator. Got -1 instead."),
    ],
)
def test_exact_error_messages(call, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        call()


def test_config_error_is_a_value_error():
    with pytest.raises(ValueError):
        QuorumConfig(n=3, r=4, w=1)


def test_availability_beyond_float_comb_matches_exact_rational_sum():
    """n > 1000 used to raise OverflowError (comb(n, j) * p**j); the log-space path must
    agree with an exact rational computation."""
    from fractions import Fraction

    n, m, p_up = 1200, 560, Fraction(45, 100)
    exact = sum(comb(n, j) * p_up**j * (1 - p_up) ** (n - j) for j in range(m, n + 1))
    got = replab.availability(n, m, m, p_fail=0.55)
    assert got["p_read_available"].iloc[0] == pytest.approx(float(exact), rel=1e-9)
    huge = replab.availability(100_000, 50_000, 50_001, p_fail=0.1)
    assert huge["p_write_available"].iloc[0] == pytest.approx(1.0)
