import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.stats import quantile_ci, wilson


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(-5, 5) | st.floats(-1e6, 1e6), min_size=1, max_size=300),
       q=st.lists(st.floats(0, 1), min_size=1, max_size=6))
def test_selection_matches_full_sort(values, q):
    x = np.array(values, dtype=float)
    fast = quantile_ci(x, q)
    slow = quantile_ci(np.sort(x), q, assume_sorted=True)
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a, b)


def test_quantile_is_inverted_cdf_and_ci_brackets_it():
    x = np.arange(1.0, 1001.0)
    est, lo, hi = quantile_ci(x, [0.1, 0.5, 0.999])
    assert est.tolist() == [100.0, 500.0, 999.0]
    assert (lo <= est).all() and (est <= hi).all()


def test_quantile_ci_coverage_is_about_95_percent():
    rng = np.random.default_rng(3)
    truth = np.log(2)  # median of exp(1)
    covered = sum(lo[0] <= truth <= hi[0] for lo, hi in (
        quantile_ci(rng.exponential(1.0, 400), 0.5)[1:] for _ in range(400)))
    assert 0.91 <= covered / 400 <= 0.99


def test_wilson_edges_and_vectorised():
    lo, hi = wilson(np.array([0, 10, 5]), np.array([10, 10, 0]))
    z2 = 1.959963984540054**2
    # closed forms at the edges: k = 0 -> [0, z^2/(n+z^2)], k = n -> [n/(n+z^2), 1]
    assert lo[0] == 0.0 and hi[0] == pytest.approx(z2 / (10 + z2))
    assert lo[1] == pytest.approx(10 / (10 + z2)) and hi[1] == 1.0
    assert (lo[2], hi[2]) == (0.0, 1.0)
