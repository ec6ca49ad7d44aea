"""Figures and tables worth publishing: one colour per concept, words not column names,
intervals and zeros that do not vanish silently, coinciding lines said so (issue 14)."""

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import replab
from replab import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def curve(p: list[float], trials: int = 1000, half_width: float = 0.0) -> pd.DataFrame:
    p_arr = np.asarray(p, dtype=float)
    return pd.DataFrame({"t": np.arange(len(p_arr), dtype=float), "p_consistent": p_arr,
                         "ci_low": p_arr - half_width, "ci_high": p_arr + half_width,
                         "trials": trials})


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_log_staleness_draws_zero_at_the_resolution_instead_of_dropping_it():
    ax = plots.plot_staleness(curve([0.5, 0.9, 1.0], trials=1000, half_width=0.0),
                              label="LNKD-DISK", logy=True)
    line = next(ln for ln in ax.get_lines() if ln.get_label().startswith("LNKD-DISK"))
    assert np.asarray(line.get_ydata()).tolist() == pytest.approx([0.5, 0.1, 1e-3])
    assert "floor 1/1,000: no stale read in the trials" in legend_texts(ax)
    assert ax.get_ylim()[0] <= 1e-3 / 2  # the floor is in view (issue 21)
    assert ax.get_ylabel() == "P(stale read), log scale"


def test_profile_colour_and_narrow_band_are_stated():
    ax = plots.plot_staleness(curve([0.5, 0.7, 0.9], half_width=0.0001), label="YMMR")
    assert mcolors.to_hex(ax.get_lines()[0].get_color()) == plots.COLORS["YMMR"]
    assert legend_texts(ax) == ["YMMR (95 % CI narrower than the line)"]
    ax2 = plots.plot_staleness(curve([0.5, 0.7, 0.9], half_width=0.05), label="YMMR")
    assert legend_texts(ax2) == ["YMMR"]


def test_a_line_hiding_another_is_named_in_the_legend():
    _, ax = plt.subplots()
    plots.plot_staleness(curve([0.5, 0.7, 0.9], half_width=0.05), ax=ax, label="r=1 w=2")
    plots.plot_staleness(curve([0.5, 0.7, 0.9], half_width=0.05), ax=ax, label="r=2 w=1")
    plots.plot_staleness(curve([0.2, 0.4, 0.9], half_width=0.05), ax=ax, label="r=1 w=1")
    assert legend_texts(ax) == ["r=1 w=2", "r=2 w=1 (coincides with r=1 w=2)", "r=1 w=1"]


def test_read_and_write_have_one_colour_everywhere_and_r_equals_w_is_noted():
    av = plots.plot_availability(replab.availability(5, 3, 3, np.linspace(0, 0.5, 6)))
    assert [mcolors.to_hex(ln.get_color()) for ln in av.get_lines()] == [
        plots.COLORS["read"], plots.COLORS["write"]]
    assert legend_texts(av) == ["read quorum", "write quorum (coincides with read: r = w)"]
    lat = replab.simulate_wars(3, 1, 2, "LNKD-SSD", trials=2000, seed=1).latency_percentiles(
        [50, 99])
    ax = plots.plot_latency(lat)
    colours = {mcolors.to_hex(c.patches[0].get_facecolor()) for c in ax.containers
               if hasattr(c, "patches")}
    assert colours == {plots.COLORS["read"], plots.COLORS["write"]}


def test_axis_labels_are_words_not_column_names():
    df = pd.DataFrame({"minute": [0.0, 1.0], "p_fresh_read": [0.9, 0.8]})
    ax = plots.plot_timeseries(df, "minute", "p_fresh_read")
    assert ax.get_ylabel() == "P(read returns the write | write committed)"
    assert legend_texts(ax) == ["P(read returns the write | write committed)"]
    assert plots.human("lost_writes_fraction") == "acknowledged writes lost"
    assert plots.human("some_new_column") == "some new column"


def test_metrics_table_is_two_columns_rounded():
    table = plots.metrics_table({"writes_ok": 120, "write_availability": 0.98765432})
    assert table.index.name == "metric" and list(table.columns) == ["value"]
    assert table.loc["writes available", "value"] == 0.988
    assert table.loc["writes ok", "value"] == 120


def test_tidy_table_rounds_renames_and_replaces_a_meaningless_index():
    rows = pd.concat([pd.DataFrame({"r": [r], "p_fresh_read": [1 / 3]}) for r in (1, 2)])
    assert rows.index.tolist() == [0, 0]  # what concat of one-row frames gives
    table = plots.tidy_table(rows)
    assert table.index.tolist() == [1, 2]
    assert list(table.columns) == ["r", "P(read returns the write | write committed)"]
    assert table.iloc[0, 1] == 0.333
    assert plots.tidy_table(rows, index="r").index.name == "r"
