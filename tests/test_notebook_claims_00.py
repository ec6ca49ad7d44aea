"""The tour's (00) claims, checked with its own calls at its sizes (default and small)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import replab

OUTAGE = (20.0, 36.0)


def fault_timeseries(trials: int, seed: int = 1) -> pd.DataFrame:
    """The cell 'fault_timeseries' of 00_tour, at ``trials`` = the notebook's TRIALS."""
    rows = []
    for i, m in enumerate(np.arange(0, 60, 2.0)):
        p_fail = 0.4 if OUTAGE[0] <= m < OUTAGE[1] else 0.02
        rows.append(replab.fresh_read_probability(5, 1, 2, "LNKD-DISK", [5.0], p_fail,
                                                  trials=trials // 20, seed=seed + i)
                    .assign(minute=m))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("trials", [20_000, 200_000])  # metadata small, and the default
def test_an_outage_makes_operations_fail_yet_committed_writes_are_read_fresher(trials):
    """'Writes and reads fail more often, yet a read 5 ms after a committed write is
    fresher', as the means outside and inside the outage."""
    frame = fault_timeseries(trials)
    during = frame.minute.between(*OUTAGE, inclusive="left")
    inside, outside = frame[during], frame[~during]
    assert inside.p_write_ok.mean() < outside.p_write_ok.mean()
    assert inside.p_read_ok.mean() < outside.p_read_ok.mean()
    assert inside.p_fresh_read.mean() > outside.p_fresh_read.mean()
    # and not by noise: the intervals of the pooled means are apart
    assert inside.ci_low.mean() > outside.ci_high.mean()


def test_the_outage_starts_at_the_sample_that_first_sees_it():
    """Drawn as steps, the drop starts at minute 20 (the window), not at the sample before."""
    frame = fault_timeseries(20_000)
    before = frame[frame.minute == 18.0].p_write_ok.item()
    first = frame[frame.minute == 20.0].p_write_ok.item()
    assert before > 0.99 and first < 0.95
