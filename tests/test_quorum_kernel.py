"""The compiled WARS reduction (replab.quorum.kernel) against the NumPy one, its oracle."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import replab
from replab.quorum import outcome
from replab.quorum.outcome import Counter, _reduce_compiled, _reduce_trials

#: delays drawn from a few values, so that ties are common, with down replicas and NaN.
#: No -0.0: which of two equal zeros a minimum returns is NumPy's (and the CPU's) choice,
#: so no delay replab draws is ever -0.0 (see test_no_delay_is_a_negative_zero).
VALUES = [0.0, 0.5, 1.0, 1.0, 2.0, 3.5, 7.0, np.inf, np.nan]

GRIDS = {
    "none": None,
    "exact": np.arange(0.0, 8.0, 0.5),
    "even": np.linspace(0.0, 7.0, 15),
    "uneven": np.array([3.0, 0.0, 0.7, 1.0, 6.5]),
    "empty": np.empty(0),
}


def numpy_reduction(W, A, R, S, r, w, mark, counter, keep):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outcome, "KERNEL_FROM", 1 << 62)
        return _reduce_trials(W, A, R, S, r, w, mark=mark, counter=counter, keep=keep)


def same_bits(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_array_equal(a, b)  # NaN equals NaN here
    both = ~np.isnan(a)
    np.testing.assert_array_equal(np.signbit(a[both]), np.signbit(b[both]))


@settings(max_examples=250, deadline=None)
@given(n=st.integers(1, 9), trials=st.integers(1, 70), block=st.sampled_from([1, 7, 16, 64]),
       mark=st.booleans(), keep=st.booleans(), grid=st.sampled_from(sorted(GRIDS)),
       failures=st.booleans(), data=st.data())
def test_the_kernel_gives_the_numpy_reductions_bits(n, trials, block, mark, keep, grid,
                                                      failures, data):
    r = data.draw(st.integers(1, n), label="r")
    w = data.draw(st.integers(1, n), label="w")
    cells = st.lists(st.sampled_from(VALUES), min_size=n * trials, max_size=n * trials)
    W, A, R, S = (np.array(data.draw(cells), dtype=float).reshape(n, trials) for _ in range(4))
    copies = [x.copy() for x in (W, A, R, S)]
    ts = GRIDS[grid]
    expected_counter = Counter(ts, failures=failures) if grid != "none" else None
    got_counter = Counter(ts, failures=failures) if grid != "none" else None
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outcome, "BLOCK", block)
        expected = numpy_reduction(W, A, R, S, r, w, mark, expected_counter, keep)
        got = _reduce_compiled(W, A, R, S, r, w, mark, got_counter, keep)
    for x, before in zip((W, A, R, S), copies, strict=True):
        same_bits(x, before)  # the delays are left as they were
    if keep:
        for a, b in zip(expected, got, strict=True):
            same_bits(a, b)
    else:
        assert [x.size for x in got] == [0, 0, 0]
    if expected_counter is not None:
        assert got_counter is not None
        np.testing.assert_array_equal(got_counter.bins, expected_counter.bins)
        assert (got_counter.read_ok, got_counter.write_ok) == (
            expected_counter.read_ok, expected_counter.write_ok)


def test_large_batches_take_the_kernel_and_small_ones_numpy(monkeypatch):
    from replab.quorum import kernel

    calls = []
    real = kernel.reduce_block

    def spy(*args):  # type: ignore[no-untyped-def]
        calls.append(args[7] - args[6])  # trials in the block
        return real(*args)

    monkeypatch.setattr(kernel, "reduce_block", spy)
    least = outcome.KERNEL_FROM
    small = replab.simulate_wars(3, 1, 1, "LNKD-DISK", trials=least - 1, seed=3)
    assert calls == [] and small.trials == least - 1
    big = replab.simulate_wars(3, 2, 1, "LNKD-DISK", trials=least, seed=3, p_fail=0.01)
    assert sum(calls) == least and max(calls) == outcome.BLOCK
    # the same run reduced by NumPy alone is the same, bit for bit
    monkeypatch.setattr(outcome, "KERNEL_FROM", 1 << 62)
    again = replab.simulate_wars(3, 2, 1, "LNKD-DISK", trials=least, seed=3, p_fail=0.01)
    for name in ("wait", "read_latency", "write_latency"):
        np.testing.assert_array_equal(getattr(big, name), getattr(again, name))


def test_many_replicas_stay_in_numpy(monkeypatch):
    # Past 16 replicas NumPy partitions each trial; the kernel ranks only small columns.
    from replab.quorum import kernel

    monkeypatch.setattr(outcome, "KERNEL_FROM", 1)
    monkeypatch.setattr(kernel, "reduce_block", None)  # would fail if called
    res = replab.simulate_wars(17, 3, 5, "LNKD-DISK", trials=2_000, seed=1)
    assert np.isfinite(res.wait).all()


def test_a_small_run_never_imports_numba():
    # numba's import and cache load (about 0.3 s) is paid only by runs that repay it.
    code = ("import sys, replab; replab.simulate_wars(3, 1, 1, 'LNKD-DISK', trials=50_000, "
            "seed=1).staleness([1.0]); print('numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("spec", [replab.latency.Constant(-0.0),
                                  replab.latency.Empirical(np.array([-0.0, 1.0]))])
def test_no_delay_is_a_negative_zero(spec):
    draws = spec.sample(np.random.default_rng(0), 1000)
    assert (draws == 0).any() and not np.signbit(draws).any()
