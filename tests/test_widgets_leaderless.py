"""The leaderless explorer: a pure seeded compute call and a dashboard redrawn in place."""

import numpy as np

from replab.models import LeaderlessConfig, simulate_leaderless
from replab.widgets import LeaderlessExplorer, LeaderlessView, compute_leaderless_view
from replab.widgets.leaderless import BARS

SMALL = {"duration_ms": 300.0}


def test_compute_is_pure_seeded_and_matches_the_simulation():
    args = (3, 2, 2, 0.2, 0.0, False, False, False)
    a = compute_leaderless_view(*args, **SMALL, seed=3)
    compute_leaderless_view.cache_clear()
    b = compute_leaderless_view(*args, **SMALL, seed=3)
    assert a is not b and a.bars.equals(b.bars) and a.metrics == b.metrics
    assert isinstance(a, LeaderlessView) and list(a.bars.metric) == list(BARS)
    m = simulate_leaderless(LeaderlessConfig(n=3, r=2, w=2, p_fail=0.2, sessions=8,
                                             duration_ms=300.0), seed=3).metrics
    assert a.bars.value.tolist() == [m[k] for k in BARS]
    assert (a.bars.ci_low <= a.bars.value).all() and (a.bars.value <= a.bars.ci_high).all()
    other = compute_leaderless_view(*args, **SMALL, seed=4)
    assert other.metrics != a.metrics


def test_toggles_reach_the_simulation():
    on = compute_leaderless_view(3, 1, 1, 0.3, 0.0, True, True, True, **SMALL, seed=1)
    off = compute_leaderless_view(3, 1, 1, 0.3, 0.0, False, False, False, **SMALL, seed=1)
    assert on.anti_entropy_keys + on.read_repairs + on.hinted_handoffs > 0
    assert off.anti_entropy_keys == off.read_repairs == off.hinted_handoffs == 0
    assert "hints handed off" in LeaderlessExplorer(**SMALL).title.get_text()


def test_moving_a_control_recomputes_in_place():
    e = LeaderlessExplorer(**SMALL)
    fig, image, bars, png = e.fig, e.image, e.bars, e.image.value
    first = e.result
    e.p_fail.value = 0.4
    assert e.fig is fig and e.image is image and e.bars is bars
    assert e.result is not None and e.result is not first
    assert e.image.value != png
    widths = np.array([b.get_width() for b in e.bars])
    assert widths.tolist() == e.result.bars.value.tolist()
    assert e.last_update_ms > 0 and not e.errors.outputs


def test_n_slider_bounds_r_and_w():
    e = LeaderlessExplorer(**SMALL)
    e.n.value = 5
    assert e.r.max == 5 and e.w.max == 5
    e.w.value = 5
    e.n.value = 2
    assert e.w.value == 2 and e.r.value <= 2
    assert e.result is not None and (e.result.n, e.result.w) == (2, 2)


def test_errors_are_shown_not_raised():
    e = LeaderlessExplorer(**SMALL)
    good = e.result
    e.duration_ms = -1.0  # a bad value reaching the compute call
    e.sloppy.value = True
    assert e.result is good
    assert len(e.errors.outputs) == 1
    text = e.errors.outputs[0]["text"]
    assert "ConfigError" in text and "duration_ms" in text


def test_sweeps_average_over_seeds_and_plot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from replab.models import anti_entropy_sweep, availability_sweep, leaderless_metrics
    from replab.plots import plot_convergence, plot_leaderless_availability
    from replab.rng import spawn_seeds

    a = availability_sweep([0.0, 0.3], seeds=2, duration_ms=200.0, seed=1)
    assert list(a.columns[:2]) == ["p_fail", "sloppy"] and len(a) == 4
    # common random numbers: run j of every setting uses the j-th seed spawned from the root
    seeds = [int(s.generate_state(1)[0]) for s in spawn_seeds(1, 2)]
    runs = [leaderless_metrics(p_fail=0.3, sloppy=True, sessions=8, duration_ms=200.0,
                               seed=s)["write_availability"] for s in seeds]
    row = a[(a.p_fail == 0.3) & a.sloppy]
    assert row.write_availability.item() == sum(runs) / 2
    assert row.write_availability_min.item() == min(runs)
    assert row.write_availability_max.item() == max(runs) and row.runs.item() == 2
    assert a.equals(availability_sweep([0.0, 0.3], seeds=2, duration_ms=200.0, seed=1))
    ae = anti_entropy_sweep([50.0], seeds=1, duration_ms=200.0)
    assert ae.anti_entropy_keys.item() > 0
    axes = plot_leaderless_availability(a)
    assert len(axes[0].containers) == 2 and axes[2].get_title() == "stale-read probability"
    assert len(plot_convergence(ae).containers) == 1  # one errorbar: mean, min–max
    plt.close("all")
