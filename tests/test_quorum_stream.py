"""Streaming WARS runs: chunk seeds, exact reductions, executor independence (issue 23)."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import replab.quorum.ranks as ranks
import replab.quorum.stream as stream
from replab.quorum import WarsStream, WarsTrials, fresh_read_probability, simulate_wars
from replab.quorum.chunks import ChunkPlan, chunk_seed, default_chunk_size
from replab.stats import quantile_ci

P = [0.001, 0.5, 0.9, 0.999, 0.99999]
Q = [0, 50, 99, 99.9, 100]
T = [0.0, 1.0, 5.0, 20.0, 100.0]


def _reductions(res: WarsTrials | WarsStream) -> list[pd.DataFrame]:
    return [res.staleness(T), res.staleness(T, k=3), res.t_visibility(P),
            res.t_visibility([0.99], k=2), res.latency_percentiles(Q)]


def _assert_same(a: list[pd.DataFrame], b: list[pd.DataFrame]) -> None:
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True)


@pytest.fixture(scope="module")
def disk() -> WarsStream:
    res = simulate_wars(3, 1, 1, "LNKD-DISK", trials=150_000, chunk_size=1 << 15, seed=11)
    assert isinstance(res, WarsStream)
    return res


@pytest.fixture(scope="module")
def disk_serial(disk: WarsStream) -> list[pd.DataFrame]:
    return _reductions(disk)


def test_chunk_seeds_are_the_roots_spawned_children():
    root = np.random.SeedSequence(42).spawn(1)[0]
    kids = root.spawn(5)
    for i, kid in enumerate(kids):
        a = np.random.default_rng(chunk_seed(root, i)).random(3)
        np.testing.assert_array_equal(a, np.random.default_rng(kid).random(3))


def test_one_chunk_is_todays_in_memory_path_and_draws_from_the_seed():
    small = simulate_wars(3, 1, 1, "LNKD-DISK", trials=1000, seed=3)
    assert isinstance(small, WarsTrials)
    rng = np.random.default_rng(3)  # the seed itself draws the delays, as before issue 23
    W, A, R, S = small.latency.sample(rng, 1000, 3)
    np.testing.assert_array_equal(small.write_latency,
                                  np.sort(W + A, axis=0)[0])
    big = simulate_wars(3, 1, 1, "LNKD-DISK", trials=default_chunk_size(3) + 1, seed=3)
    assert isinstance(big, WarsStream) and big.plan.chunks == 2


def test_chunked_equals_unchunked_bit_for_bit(disk, disk_serial):
    # the same trials held in memory give the same tables, to the last bit
    _assert_same(disk_serial, _reductions(disk.collect()))


def test_failures_and_freshness_stream_exactly():
    res = simulate_wars(5, 2, 3, "YMMR", trials=70_000, chunk_size=1 << 14, p_fail=0.2,
                        seed=5)
    _assert_same(_reductions(res), _reductions(res.collect()))
    c, m = res.counts(T), res.collect().counts(T)
    assert (c.trials, c.write_ok, c.read_ok, c.committed) == (
        m.trials, m.write_ok, m.read_ok, m.committed)
    np.testing.assert_array_equal(c.consistent, m.consistent)
    assert 0 < c.write_ok < c.trials and c.committed == c.write_ok
    fresh = fresh_read_probability(5, 2, 3, "YMMR", T, 0.2, trials=70_000, seed=5)
    assert fresh.trials.iloc[0] == 70_000 and fresh.p_fresh_read.is_monotonic_increasing


def test_exact_quantiles_match_numpy_inverted_cdf(disk):
    wait = disk.collect().wait
    got = disk.t_visibility(P)
    want = np.maximum(np.quantile(wait, P, method="inverted_cdf"), 0.0)
    np.testing.assert_array_equal(got.t.to_numpy(), want)
    lat = disk.latency_percentiles(Q).set_index(["operation", "percentile"]).latency_ms
    read = disk.collect().read_latency
    np.testing.assert_array_equal(lat["read"].to_numpy(),
                                  np.quantile(read, np.array(Q) / 100, method="inverted_cdf"))


@pytest.mark.parametrize("make", [lambda: ThreadPoolExecutor(2),
                                  lambda: ProcessPoolExecutor(2)], ids=["threads", "processes"])
def test_executors_give_the_same_bits(disk, disk_serial, make):
    with make() as ex:
        res = simulate_wars(3, 1, 1, "LNKD-DISK", trials=150_000, chunk_size=1 << 15, seed=11,
                            executor=ex)
        _assert_same(disk_serial, _reductions(res))


def test_dask_gives_the_same_bits(disk_serial):
    pytest.importorskip("distributed")
    from replab.sweep import dask_client

    with dask_client(workers=2, processes=False) as client:
        res = simulate_wars(3, 1, 1, "LNKD-DISK", trials=150_000, chunk_size=1 << 15,
                            seed=11, executor=client)
        _assert_same(disk_serial, _reductions(res))


def test_completion_order_does_not_matter(disk, disk_serial, monkeypatch):
    # chunks reduced in reverse order (as a slow first worker would finish them)
    real = stream.run_chunks

    def backwards(*args, **kwargs):  # type: ignore[no-untyped-def]
        return reversed(list(real(*args, **kwargs)))

    monkeypatch.setattr(stream, "run_chunks", backwards)
    _assert_same(disk_serial, _reductions(disk))


def test_the_second_pass_is_exact_when_the_windows_miss(disk, disk_serial, monkeypatch):
    calls = []
    real = stream.keep_chunk
    monkeypatch.setattr(stream, "keep_chunk", lambda *a: calls.append(1) or real(*a))
    disk.t_visibility(P)
    assert not calls  # the pilot's windows held every rank: one pass
    monkeypatch.setattr(ranks, "SIGMAS", -40.0)  # windows too narrow to hold the ranks
    _assert_same(disk_serial[2:], _reductions(disk)[2:])
    # t-visibility twice, latency once; the pilot (chunk 0) is still in memory
    assert len(calls) == 3 * (disk.plan.chunks - 1)


def test_an_executor_starts_at_once_from_a_pilot_of_its_own(disk, disk_serial, monkeypatch):
    # serially chunk 0 is the pilot; on an executor a small pilot of its own is drawn here,
    # so that no worker waits for chunk 0, and the tables are the same to the last bit,
    # also when its windows miss and two more passes select the ranks
    pilots = []
    real = stream.outcomes
    monkeypatch.setattr(stream, "outcomes", lambda plan, i: pilots.append(i) or real(plan, i))
    disk.t_visibility(P)
    with ThreadPoolExecutor(2) as ex:
        res = WarsStream(disk.plan, ex)
        _assert_same(disk_serial, _reductions(res))
        assert pilots == [0] + [None] * 3
        monkeypatch.setattr(ranks, "SIGMAS", -40.0)
        _assert_same(disk_serial[2:], _reductions(res)[2:])
        ties = simulate_wars(3, 2, 2, "const:1", trials=9000, chunk_size=1000, seed=1)
        _assert_same(_reductions(WarsStream(ties.plan, ex)), _reductions(ties.collect()))


def test_ties_are_selected_exactly(monkeypatch):
    res = simulate_wars(3, 2, 2, "const:1", trials=9000, chunk_size=1000, seed=1)
    calls = []
    real = stream.window_chunk
    monkeypatch.setattr(stream, "window_chunk", lambda *a: calls.append(1) or real(*a))
    _assert_same(_reductions(res), _reductions(res.collect()))
    assert not calls  # the pilot's windows overflowed, so no chunk tried them
    assert res.latency_percentiles([50]).latency_ms.tolist() == [2.0, 2.0]


@settings(max_examples=25, deadline=None)
@given(trials=st.integers(2, 3000), chunk=st.integers(40, 700), seed=st.integers(0, 2**32))
def test_chunk_boundaries_lose_or_repeat_no_trial(trials, chunk, seed):
    res = simulate_wars(3, 1, 2, "exp:1", trials=trials, chunk_size=chunk, seed=seed)
    if trials <= chunk:
        assert isinstance(res, WarsTrials)
        return
    plan = res.plan
    sizes = [plan.size_of(i) for i in range(plan.chunks)]
    assert sum(sizes) == trials and min(sizes) >= 1 and max(sizes) == chunk
    every = res.collect()
    parts = [plan.draw(i)[0] for i in range(plan.chunks)]
    np.testing.assert_array_equal(every.wait, np.concatenate(parts))
    # no chunk repeats another's draws
    assert len({p[0] for p in parts}) == len(parts)
    counts = res.counts([0.5])
    assert counts.trials == counts.committed == trials
    est, lo, hi = quantile_ci(every.wait, [0.5])
    got = res.t_visibility([0.5])
    assert got.t.iloc[0] == max(est[0], 0.0) and got.ci_high.iloc[0] == max(hi[0], 0.0)


def test_bins_are_ordered_like_the_values():
    x = np.array([-np.inf, -1e300, -2.0, -1.0, -1e-300, -0.0, 0.0, 1e-300, 1.0, 1.5, 2.0,
                  1e300, np.inf])
    b = ranks.bin_of(x)
    assert (np.diff(b) >= 0).all() and b.min() >= 0 and b.max() < 1 << ranks.BITS


def test_memory_per_chunk_does_not_grow_with_trials():
    plan = ChunkPlan(simulate_wars(3, 1, 1, "exp:1", trials=10).config,
                     simulate_wars(3, 1, 1, "exp:1", trials=10).latency, 10**12, 1 << 20,
                     0.0, np.random.SeedSequence(1))
    assert plan.chunks == 953_675 and plan.size_of(plan.chunks - 1) == 10**12 % (1 << 20)


def test_bad_chunk_size_is_named():
    with pytest.raises(ValueError, match=r"^The 'chunk_size' parameter of simulate_wars "
                       r"must be an int in \[1, inf\)\. Got 0 instead\.$"):
        simulate_wars(3, 1, 1, "exp:1", trials=10, chunk_size=0)


@settings(max_examples=60, deadline=None)
@given(start=st.floats(-50, 50), step=st.floats(1e-3, 20), m=st.integers(3, 120),
       seed=st.integers(0, 2**32), data=st.data())
def test_counts_at_evenly_spaced_t_are_exact(start, step, m, seed, data):
    # the arithmetic guess of an even grid is checked against a binary search, at the grid
    # points themselves and one ulp either side, where rounding would miscount
    from replab.quorum.outcome import _count_at_most

    ts = start + step * np.arange(m)
    g = np.random.default_rng(seed)
    near = np.concatenate([ts, np.nextafter(ts, np.inf), np.nextafter(ts, -np.inf)])
    values = np.concatenate([g.uniform(ts[0] - step, ts[-1] + step, 500), near,
                             [np.inf, -np.inf, np.nan, 1e308, -1e308]])
    shuffled = data.draw(st.permutations(list(range(m))))
    for grid in (ts, ts[shuffled]):
        want = np.searchsorted(np.sort(values), grid, side="right")
        np.testing.assert_array_equal(_count_at_most(values, grid), want)


@settings(max_examples=40, deadline=None)
@given(trials=st.integers(1, 3000), block=st.integers(1, 700), n=st.integers(1, 5),
       data=st.data(), p_fail=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 2**32))
def test_reducing_in_blocks_never_changes_a_trial(trials, block, n, data, p_fail, seed):
    # Trials are reduced a cache-sized block at a time, and tallied on the way: any block
    # size gives the same per-trial bits (NaN where inf - inf) and the same counts as one
    # block of everything, counted afterwards.
    import replab.quorum.outcome as outcome
    from replab.latency import as_wars
    from replab.quorum.trials import QuorumConfig, _trial_batch

    r, w = data.draw(st.integers(1, n)), data.draw(st.integers(1, n))
    cfg, model = QuorumConfig(n=n, r=r, w=w), as_wars("LNKD-DISK")
    ts = np.array([0.0, 0.5, 2.0, 7.5, 30.0])

    def run(size: int, keep: bool = True) -> tuple[tuple[np.ndarray, ...], outcome.Counter]:
        counter = outcome.Counter(ts, failures=p_fail > 0)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(outcome, "BLOCK", size)
            rng = np.random.default_rng(seed)
            return _trial_batch(cfg, model, rng, trials, p_fail, counter, keep), counter

    whole, _ = run(trials)
    blocked, counter = run(block)
    for a, b in zip(whole, blocked, strict=True):
        np.testing.assert_array_equal(a, b)  # NaN equals NaN here
    wait, read, write = whole
    assert counter.read_ok == (np.isfinite(read).sum() if p_fail else 0)
    assert counter.write_ok == (np.isfinite(write).sum() if p_fail else 0)
    np.testing.assert_array_equal(counter.hits(), (wait[:, None] <= ts).sum(axis=0))
    # a tally-only run assembles no per-trial array (one block returns its own)
    tallied, again = run(block, keep=False)
    np.testing.assert_array_equal(again.hits(), counter.hits())
    assert [x.size for x in tallied] == ([0, 0, 0] if trials > block else [trials] * 3)


def test_a_counting_pass_tallies_what_the_kept_samples_hold():
    # The staleness pass keeps no sample: its tallies equal those of the kept samples,
    # with failed replicas (uncommitted writes, failed reads) and several chunks.
    from replab.quorum.chunks import count_chunk, outcomes

    res = simulate_wars(3, 2, 2, "LNKD-SSD", trials=90_000, chunk_size=40_000, p_fail=0.2,
                        seed=5)
    ts = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    for i in range(res.plan.chunks):
        got = count_chunk(res.plan, i, ts, ())
        found = outcomes(res.plan, i)
        assert got["committed"] == found["wait"].size == np.isfinite(found["write"]).sum()
        assert got["read_ok"] == np.isfinite(found["read"]).sum()
        assert got["trials"] == res.plan.size_of(i) and got["bins"] == {}
        np.testing.assert_array_equal(got["consistent"],
                                      (found["wait"][:, None] <= ts).sum(axis=0))


@settings(max_examples=60, deadline=None)
@given(low=st.integers(-1000, 1000), e=st.integers(0, 12), m=st.integers(3, 150),
       seed=st.integers(0, 2**32), data=st.data())
def test_counts_at_a_grid_of_exact_steps_are_exact(low, e, m, seed, data):
    # t = (low + k) / 2**e (as 0, 1, ..., 100 ms is) is counted by arithmetic alone, with
    # no check against the grid: at the grid points, one ulp either side, zeros, subnormals
    # and non-finite values it must agree with a binary search
    from replab.quorum.outcome import Counter

    ts = (low + np.arange(m)) * 2.0**-e
    g = np.random.default_rng(seed)
    near = np.concatenate([ts, np.nextafter(ts, np.inf), np.nextafter(ts, -np.inf)])
    tiny = np.array([5e-324, -5e-324, 1e-310, -1e-310, 0.0, -0.0])
    values = np.concatenate([g.uniform(ts[0] - 3, ts[-1] + 3, 500), near, tiny,
                             [np.inf, -np.inf, np.nan, 1e308, -1e308, 2.0**60]])
    shuffled = data.draw(st.permutations(list(range(m))))
    for grid in (ts, ts[shuffled]):
        counter = Counter(grid)
        assert counter.exact
        counter.add(values)
        want = np.searchsorted(np.sort(values), grid, side="right")
        np.testing.assert_array_equal(counter.hits(), want)


def test_only_exact_steps_skip_the_check():
    from replab.quorum.outcome import Counter

    assert Counter(np.linspace(0, 100, 101)).exact
    assert Counter(np.arange(-8, 8, 0.25)).exact
    assert not Counter(np.linspace(0, 10, 101)).exact  # step 0.1 is not a power of two
    assert not Counter(np.arange(0, 20, 2.0)).exact  # 2 could underflow a subnormal
    assert not Counter(np.arange(0.5, 10.5)).exact  # start not a multiple of the step
    assert not Counter(np.array([0.0, 1.0, 3.0])).exact
