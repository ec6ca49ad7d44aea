import numpy as np

from replab.widgets import QuorumExplorer, compute_quorum_view


def test_compute_is_pure_and_seeded():
    a = compute_quorum_view(3, 1, 1, "LNKD-DISK", trials=5000, grid_trials=1000, seed=1)
    b = compute_quorum_view(3, 1, 1, "LNKD-DISK", trials=5000, grid_trials=1000, seed=1)
    assert a.curve.equals(b.curve) and a.grid.equals(b.grid)
    assert len(a.grid) == 9


def test_moving_sliders_recomputes_and_redraws_in_place():
    e = QuorumExplorer(trials=5000, grid_trials=1000, profile="LNKD-DISK")
    fig, line = e.fig, e.curve_line
    before = np.asarray(line.get_ydata()).copy()
    e.r.value = 2
    assert e.fig is fig and e.curve_line is line  # same artists, new data
    after = np.asarray(line.get_ydata())
    assert not np.array_equal(before, after)
    assert e.result is not None and e.result.curve.p_consistent.iloc[0] > before[0]
    assert e.last_update_ms > 0


def test_n_slider_bounds_r_and_w_and_reshapes_heatmaps():
    e = QuorumExplorer(trials=2000, grid_trials=500)
    e.n.value = 5
    assert e.r.max == 5 and e.w.max == 5
    assert e.result is not None and len(e.result.grid) == 25
    e.w.value = 5
    e.n.value = 2
    assert e.w.value <= 2 and e.result.grid.r.max() == 2


def test_errors_are_shown_not_raised():
    e = QuorumExplorer(trials=2000, grid_trials=500)
    e.trials = -1  # a bad value reaching the compute call
    e.r.value = 2
    assert len(e.errors.outputs) == 1
    assert "ConfigError" in e.errors.outputs[0]["text"]
