"""The tail table (quorum.tail_visibility) and its picture (plots.plot_tail), issue 23."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from replab import plots  # noqa: E402
from replab.quorum import TAIL_TARGETS, simulate_wars, tail_visibility  # noqa: E402
from replab.stats import quantile_ranks  # noqa: E402


@pytest.fixture(scope="module")
def tail() -> pd.DataFrame:
    return tail_visibility(["LNKD-SSD", "YMMR"], trials=200_000, seed=2)


def test_rows_are_the_estimators_quantiles_with_their_cost(tail):
    assert list(tail.columns) == ["profile", "p_target", "t", "ci_low", "ci_high",
                                  "relative_width", "bounded", "trials", "trials_needed"]
    assert tail.p_target.tolist() == list(TAIL_TARGETS) * 2
    for name, sub in tail.groupby("profile", sort=False):
        want = simulate_wars(3, 1, 1, name, trials=200_000, seed=2).t_visibility(TAIL_TARGETS)
        np.testing.assert_array_equal(sub.t, want.t)
        np.testing.assert_array_equal(sub.ci_high, want.ci_high)
    width = (tail.ci_high - tail.ci_low) / tail.t
    np.testing.assert_allclose(tail.relative_width, width)
    np.testing.assert_allclose(tail.trials_needed, np.ceil(200_000 * (width / 0.01) ** 2))


def test_bounded_means_the_upper_rank_is_inside_the_sample(tail):
    for row in tail.itertuples():
        _, _, hi = quantile_ranks(200_000, np.array([row.p_target]))
        # stats clips the upper rank at the last value: then the interval is open-ended
        assert row.bounded == (hi[0] < 200_000 - 1)
    assert tail.bounded.tolist() == [True, False, False] * 2  # 20, 2 and 0.2 trials beyond


def test_a_wider_relative_target_needs_fewer_trials(tail):
    loose = tail_visibility(["LNKD-SSD"], [0.9999], trials=200_000, seed=2, relative=0.1)
    assert loose.trials_needed.iloc[0] == pytest.approx(tail.trials_needed.iloc[0] / 100,
                                                         rel=1e-3)
    with pytest.raises(ValueError, match="The 'relative' parameter of tail_visibility"):
        tail_visibility(["LNKD-SSD"], trials=10, relative=0)


def test_plot_tail_draws_each_profile_with_its_colour_and_marks_open_intervals(tail):
    ax = plots.plot_tail(tail)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["LNKD-SSD", "YMMR"] and "largest wait seen" in labels[2]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["99.99 %", "99.999 %",
                                                            "99.9999 %"]
    assert ax.get_yscale() == "log" and "ms" in ax.get_ylabel()
    bars = {c.get_label(): c for c in ax.containers}
    for name in ("LNKD-SSD", "YMMR"):
        assert bars[name].lines[0].get_color() == plots.COLORS[name]
        np.testing.assert_allclose(np.sort(np.asarray(bars[name].lines[0].get_ydata(), float)),
                                   np.sort(tail[tail.profile == name].t))
    triangles = [ln for ln in ax.get_lines() if ln.get_marker() == "^" and len(ln.get_xdata())]
    assert sum(len(ln.get_xdata()) for ln in triangles) == int((~tail.bounded).sum())
