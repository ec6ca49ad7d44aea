"""The quorum notebook's (01) claims, checked with its own calls at its sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import replab

P = np.linspace(0, 0.5, 26)
RACKS = [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("trials", [20_000, 100_000])  # metadata small, and the default
def test_rack_failures_hurt_writes_while_rare_and_help_when_common(trials):
    """'while failures are rare that makes losing the write quorum (4 of 6) likelier, but
    when they are common ... the comparison turns over' (n=6, r=2, w=4)."""
    corr = pd.concat([replab.availability_correlated(6, 2, 4, RACKS, pg, trials=trials,
                                                     seed=2).assign(p_group=pg) for pg in P])
    exact = replab.availability(6, 2, 4, P).p_write_available.to_numpy()
    writes = corr[corr.operation == "write"]
    worse = P[writes.ci_high.to_numpy() < exact]
    better = P[writes.ci_low.to_numpy() > exact]
    assert len(worse) and len(better) and worse.max() < better.min()


def test_the_conditional_fresh_read_can_exceed_the_read_quorum_answering():
    """'So the second can exceed the first': P(read answers and returns the write | write
    committed) > P(read quorum answers) for some r at the notebook's default size."""
    rows = pd.concat([replab.fresh_read_probability(5, r, 2, "LNKD-DISK", [5.0], 0.2,
                                                    trials=100_000, seed=3).assign(r=r)
                      for r in range(1, 6)])
    assert (rows.p_fresh_read > rows.p_read_ok).any()
    # the two differ in what they count: the conditional one can only be larger because
    # failed writes are left out of its denominator
    assert (rows.p_write_ok < 1).all()
