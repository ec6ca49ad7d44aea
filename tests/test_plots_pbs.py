"""PBS's pictures (issue 21): the trade-off, latency CDFs, t-visibility panels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import replab
from replab import plots
from replab.errors import ConfigError
from replab.quorum import latency_cdf, latency_staleness_tradeoff

CONFIGS = [(1, 1), (1, 2), (2, 1), (2, 2)]


@pytest.fixture(scope="module")
def tradeoff() -> pd.DataFrame:
    return latency_staleness_tradeoff(3, CONFIGS, "LNKD-DISK", trials=4_000, seed=3)


def test_tradeoff_uses_common_random_numbers(tradeoff):
    """One seed for every (R, W): read latency depends on R only, write latency on W only,
    so equal R (W) gives exactly equal read (write) percentiles."""
    by = tradeoff.set_index(["r", "w"])
    assert by.loc[(1, 1), "read_ms"] == by.loc[(1, 2), "read_ms"]
    assert by.loc[(1, 1), "write_ms"] == by.loc[(2, 1), "write_ms"]
    assert by.loc[(2, 2), "t_visibility"] == 0.0  # strict quorum
    assert (tradeoff.t_ci_low <= tradeoff.t_visibility).all()
    assert (tradeoff.t_visibility <= tradeoff.t_ci_high).all()
    for op in ("read", "write"):
        assert (tradeoff[f"{op}_ci_low"] <= tradeoff[f"{op}_ms"]).all()
        assert (tradeoff[f"{op}_ms"] <= tradeoff[f"{op}_ci_high"]).all()


def test_tradeoff_matches_the_batch_it_summarises(tradeoff):
    res = replab.simulate_wars(3, 2, 1, "LNKD-DISK", trials=4_000, seed=3)
    row = tradeoff.set_index(["r", "w"]).loc[(2, 1)]
    assert row.t_visibility == res.t_visibility([0.999]).t.item()
    lat = res.latency_percentiles([99.9]).set_index("operation").latency_ms
    assert (row.read_ms, row.write_ms) == (lat["read"], lat["write"])


def test_latency_cdf_is_the_empirical_cdf_inside_its_dkw_band():
    res = replab.simulate_wars(3, 1, 2, "WAN", trials=3_000, seed=1)
    df = latency_cdf(res, points=50)
    eps = np.sqrt(np.log(2 / 0.05) / (2 * 3_000))
    for op, values in (("read", res.read_latency), ("write", res.write_latency)):
        sub = df[df.operation == op]
        direct = [(values <= x).mean() for x in sub.latency_ms]
        assert sub.cdf.to_numpy() == pytest.approx(direct)
        assert np.all(np.diff(sub.cdf) >= 0) and sub.cdf.iloc[-1] == 1.0
        assert (sub.ci_high - sub.cdf).max() == pytest.approx(eps)
    with pytest.raises(ConfigError, match=r"'points' parameter of latency_cdf .* Got 1"):
        latency_cdf(res, points=1)


@pytest.mark.parametrize("profile", ["LNKD-SSD", "LNKD-DISK", "YMMR", "WAN"])
def test_latency_cdf_panels_label_their_ticks_without_collisions(profile):
    """Notebook 02 at its default size: four narrow panels, WAN spanning 0.05 to 200 ms
    printed '50100200' under a tick every 1, 2, 5 x 10^k."""
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.4), sharey=True, layout="constrained")
    try:
        for ax in axes:
            res = replab.simulate_wars(3, 1, 1, profile, trials=200_000, seed=1)
            plots.plot_latency_cdf(latency_cdf(res), ax=ax)
        assert plots.lint_figure(fig) == []
    finally:
        plt.close(fig)


def test_tradeoff_figure_passes_the_lint_and_draws_every_interval(tradeoff):
    ax = plots.plot_tradeoff(tradeoff)
    assert plots.lint_figure(ax.figure, tight=True) == []
    labels = ax.get_legend_handles_labels()[1]
    assert labels[2:] == ["R=1 W=1", "R=1 W=2", "R=2 W=1", "R=2 W=2"]
    assert labels[:2] == ["write p99.9 (filled)", "read p99.9 (open)"]
    assert len(ax.containers) == 2 * len(CONFIGS)  # an errorbar per (config, operation)
    assert ax.containers[0].lines[0].get_color() == plots.COLORS["R=1 W=1"]
    plt.close(ax.figure)


def test_staleness_panels_one_legend_floor_in_view_and_coinciding_curves_named():
    ts = np.linspace(0, 40, 41)
    frames = [replab.simulate_wars(3, r, w, "LNKD-DISK", trials=2_000, seed=seed)
              .staleness(ts).assign(profile=name, r=r, w=w)
              for name, seed in (("A", 1), ("B", 2)) for r, w in [(1, 1), (2, 1)]]
    # R=1 W=1 again from another seed, labelled R=1 W=3: a curve inside the first's band
    frames.append(replab.simulate_wars(3, 1, 1, "LNKD-DISK", trials=2_000, seed=9)
                  .staleness(ts).assign(profile="A", r=1, w=3))
    fig = plots.plot_staleness_panels(pd.concat(frames))
    assert plots.lint_figure(fig, tight=True) == []
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["floor 1/2,000: no stale read in the trials", "R=1 W=1", "R=2 W=1",
                      "R=1 W=3"]
    title_a, title_b = (ax.get_title() for ax in fig.axes)
    assert title_a.startswith("A\nR=1 W=3 ≈ R=1 W=1: bands overlap at ")
    assert title_b == "B"
    assert all(ax.get_ylim()[0] <= 1 / 2_000 / 2 for ax in fig.axes)
    plt.close(fig)


@pytest.mark.parametrize("p, text", [(0.99988, ">0.999"), (0.425, "0.425"), (0.4249, "0.425"),
                                     (1.0, "1"), (0.0, "0"), (3e-7, "3e-07"),
                                     (float("nan"), "n/a")])
def test_a_probability_below_one_is_never_printed_as_one(p, text):
    """Issue 21: an availability of 0.99988 was printed as "1"."""
    assert plots.format_probability(p) == text


def test_heatmap_cells_carry_their_interval_and_never_a_rounded_one():
    grid = replab.quorum.quorum_grid(3, "LNKD-DISK", 1.0, p_fail=0.01, trials=2_000, seed=1)
    ax = plots.plot_quorum_heatmap(grid, "p_stale")
    row = grid.set_index(["r", "w"]).loc[(1, 1)]
    half = max(row.p_stale - row.ci_low, row.ci_high - row.p_stale)
    assert ax.texts[0].get_text() == f"{plots.format_probability(row.p_stale)}\n±{half:.2g}"
    plt.close(ax.figure)
    ax = plots.plot_quorum_heatmap(grid, "p_both_available")
    shown = [t.get_text() for t in ax.texts]
    assert "1" not in shown and ">0.999" in shown  # 0.9999...: below one, said so
    assert plots.lint_figure(ax.figure, tight=True) == []
    plt.close(ax.figure)


def test_the_quorum_explorers_latency_bars_carry_their_intervals(monkeypatch):
    """Issue 21: every estimate from random runs shows its uncertainty, explorers too."""
    monkeypatch.setenv("REPLAB_CACHE", "off")
    from replab.widgets import QuorumExplorer

    explorer = QuorumExplorer(n=3, trials=4_000, grid_trials=1_000, prefetch=False)
    explorer.w.value = 2
    assert explorer.result is not None
    latency = explorer.result.latency
    segments = explorer.lat_whiskers.get_segments()
    assert len(segments) == 6
    assert [s[1][1] for s in segments] == pytest.approx(list(latency.ci_high))
    assert [s[0][1] for s in segments] == pytest.approx(list(latency.ci_low))
    bars = [b.get_height() for b in explorer.lat_bars]
    assert all(s[0][1] <= h <= s[1][1] for s, h in zip(segments, bars, strict=True))
    assert explorer.ax_lat.get_ylim()[1] >= max(s[1][1] for s in segments)
    assert plots.lint_figure(explorer.fig) == []


def test_log_curves_within_20_percent_are_said_to_coincide():
    """Issue 21: 'say when W=1 and W=2 coincide' (YMMR: the lines draw as one)."""
    t = np.linspace(0, 10, 11)
    base = pd.DataFrame({"t": t, "p_consistent": 1 - 0.1 * np.exp(-t), "trials": 10**6})
    near = base.assign(p_consistent=1 - 0.11 * np.exp(-t))
    far = base.assign(p_consistent=1 - 0.5 * np.exp(-t))
    fig, ax = plt.subplots()
    for label, df in (("R=1 W=1", base), ("R=1 W=2", near), ("R=2 W=1", far)):
        band = df.assign(ci_low=df.p_consistent - 1e-6, ci_high=df.p_consistent + 1e-6)
        plots.plot_staleness(band, ax=ax, label=label, logy=True)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels[2] == "R=1 W=2 (coincides with R=1 W=1: within 20% at 100% of t)"
    assert labels[3].startswith("R=2 W=1") and "coincides" not in labels[3]
    plt.close(fig)
