"""The PBS authors' first-crossing procedure and the YMMR-code profile (issue 12, item 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from replab.errors import ConfigError
from replab.latency import profile, profile_info, profile_names
from replab.quorum import first_crossing, pbs_grid, pbs_published, staleness, t_visibility


def test_pbs_grid_follows_the_authors_steps():
    assert pbs_grid("YMMR", 3.0).tolist() == [1.0, 2.0, 3.0]
    assert pbs_grid("ymmr-code", 2.0).tolist() == [1.0, 2.0]
    assert pbs_grid("LNKD-DISK", 0.3).tolist() == [0.0, 0.1, 0.2, 0.3]
    assert len(pbs_grid("LNKD-SSD", 2.0)) == 201
    with pytest.raises(ConfigError, match=r"^The 'profile' parameter of pbs_grid must be one "
                       r"of LNKD-SSD, LNKD-DISK, WAN, YMMR, YMMR-code\. Got 'x' instead\.$"):
        pbs_grid("x", 1.0)


def test_first_crossing_frame_and_seed():
    kw = dict(grid=np.arange(0.0, 3.0, 0.1), trials_per_t=2000, repeats=20,
              pool_trials=50_000)
    a = first_crossing(3, 1, 1, "exp:1", 0.95, seed=3, **kw)
    b = first_crossing(3, 1, 1, "exp:1", 0.95, seed=3, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["repeat", "t", "estimate", "crossed", "p", "trials_per_t"]
    assert len(a) == 20 and a.crossed.all() and (a.estimate >= 0.95).all()
    assert set(a.t) <= set(np.round(kw["grid"], 10)) | set(kw["grid"])


def test_a_grid_that_never_reaches_p_reports_nan():
    df = first_crossing(3, 1, 1, "exp:1", 0.999, grid=[0.0, 0.01], trials_per_t=100,
                        repeats=3, pool_trials=1000, seed=1)
    assert not df.crossed.any() and df.t.isna().all()


@pytest.mark.parametrize(("kw", "message"), [
    ({"grid": [1.0, 0.5]}, "The 'grid' parameter of first_crossing must be an increasing "
                           "sequence of finite times >= 0 (ms). Got [1.0, 0.5] instead."),
    ({"grid": [1.0], "method": "exact"}, "The 'method' parameter of first_crossing must be "
                                         "one of 'binomial', 'direct'. Got 'exact' instead."),
    ({"grid": [1.0], "trials_per_t": 0}, "The 'trials_per_t' parameter of first_crossing"),
])
def test_first_crossing_rejects_bad_parameters(kw, message):
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace(
            ")", r"\)").replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        first_crossing(3, 1, 1, "exp:1", **kw)


def test_binomial_and_direct_procedures_agree():
    # The fast method draws each batch's count from the curve; the direct one simulates
    # every batch. Both must report the same distribution of first crossings.
    q = float(t_visibility(3, 1, 1, "exp:1", 0.9, trials=200_000, seed=1).t.iloc[0])
    grid = np.round(q + np.arange(-0.3, 0.31, 0.05), 3)
    kw = dict(grid=grid, trials_per_t=400, repeats=400)
    fast = first_crossing(3, 1, 1, "exp:1", 0.9, seed=2, pool_trials=400_000, **kw)
    slow = first_crossing(3, 1, 1, "exp:1", 0.9, seed=3, method="direct", **kw)
    se = np.hypot(fast.t.std(), slow.t.std()) / np.sqrt(400)
    assert abs(fast.t.mean() - slow.t.mean()) < 4 * se
    assert fast.t.mean() < q and slow.t.mean() < q  # the first crossing comes early


def test_procedure_reproduces_the_published_lnkd_ssd_time_below_the_true_quantile():
    grid = pbs_grid("LNKD-SSD", 3.0)
    runs = first_crossing(3, 1, 1, "LNKD-SSD", grid=grid, repeats=200, seed=5,
                          pool_trials=1_000_000)
    truth = t_visibility(3, 1, 1, "LNKD-SSD", trials=1_000_000, seed=6).iloc[0]
    published = pbs_published().query("profile == 'LNKD-SSD' and metric == "
                                      "'t_visibility_999'").value.iloc[0]
    lo, hi = runs.t.quantile([0.05, 0.95])
    assert lo <= published <= hi  # the published 1.85 ms is a typical report
    assert hi < truth.ci_low  # ... and almost every report lies below the true quantile
    assert 1.8 < runs.t.median() < 1.9


def test_ymmr_code_profile_is_the_authors_write_tail():
    assert "YMMR-code" not in profile_names()
    assert "YMMR-code" in profile_names(variants=True)
    assert profile("YMMR-code").W.components[0].alpha == 3.5
    assert profile("YMMR").W.components[0].alpha == 3.35
    assert profile_info("ymmr-code")["variant_of"] == "YMMR"
    code = staleness(3, 1, 1, "YMMR-code", 0.0, trials=300_000, seed=1).iloc[0]
    table = staleness(3, 1, 1, "YMMR", 0.0, trials=300_000, seed=1).iloc[0]
    assert code.ci_low <= 0.893 <= code.ci_high  # the published t=0 value
    assert not table.ci_low <= 0.893 <= table.ci_high
