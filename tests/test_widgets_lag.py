"""The replication-lag explorer, driven headless."""

from replab.widgets.lag_anomalies import LagAnomalyExplorer, compute_lag_view
from tests.figures import clipped

KW = {"lags": (0.0, 50.0), "duration_ms": 800.0, "seed": 2}


def test_compute_is_pure_and_seeded():
    a = compute_lag_view("read-your-writes", "position-wait", 50.0, **KW)
    compute_lag_view.cache_clear()
    b = compute_lag_view("read-your-writes", "position-wait", 50.0, **KW)
    assert a.sweep.equals(b.sweep) and a.run == b.run
    assert list(a.sweep.mitigation.unique()) == ["none", "position-wait"]
    assert a.run["read_your_writes_count"] == 0 and a.run["reads_waited"] > 0


def test_controls_recompute_and_redraw():
    e = LagAnomalyExplorer(lag_ms=50.0, **KW)
    first = e.image.value
    assert e.result.mitigation == "position-wait" and first
    e.followers.value = 3
    assert e.result.sweep is not None and e.image.value != first
    e.read_fraction.value = 0.5
    assert "read-your-writes" in e.summary.value
    e.anomaly.value = "consistent-prefix"  # the mitigation list follows the anomaly
    assert list(e.mitigation.options) == ["none", "co-partition"]
    assert e.result.mitigation == "co-partition" and e.result.run["consistent_prefix_count"] == 0
    e.mitigation.value = "none"
    assert e.result.run["consistent_prefix_count"] > 0
    assert not e.errors.outputs


def test_errors_are_shown_not_raised():
    e = LagAnomalyExplorer(lag_ms=50.0, **KW)
    e.lags = ()  # an empty sweep is a ConfigError inside the callback
    e.lag.value = 10.0
    assert "lags" in "".join(o["text"] for o in e.errors.outputs)


def test_a_remembered_picture_is_the_picture_of_the_setting_shown():
    from replab.widgets import lag_anomalies

    e = LagAnomalyExplorer(lag_ms=50.0, **KW)
    first, first_summary = e.image.value, e.summary.value
    e.followers.value = 3
    assert e.image.value != first
    draws = e.view.full_draws
    e.followers.value = 2  # back: remembered, not drawn
    assert e.image.value == first and e.summary.value == first_summary
    assert e.view.full_draws == draws
    e.lag.value = 10.0  # the figure still held followers=3: replotted for 2
    assert e._drawn is e.result.sweep
    assert e._drawn is compute_lag_view("read-your-writes", "position-wait", 10.0, 2, 0.8,
                                        **KW).sweep
    moved = e.image.value
    lag_anomalies._PICTURES._memory.clear()
    e.lag.value = 50.0  # drawn again from the figure: the same followers=2 picture
    assert e.image.value != moved and e.summary.value == first_summary


def test_a_new_sweep_replaces_the_lines_and_keeps_the_background():
    e = LagAnomalyExplorer(lag_ms=50.0, **KW)
    limits = [(ax.get_xlim(), ax.get_ylim()) for ax in e.axes]
    draws = e.view.full_draws
    e.followers.value = 3
    same = limits == [(ax.get_xlim(), ax.get_ylim()) for ax in e.axes]
    assert e.view.full_draws == draws + (0 if same else 1)
    for ax in e.axes:  # per mitigation a line, two caps, one bar set; the lag marker
        assert len(ax.containers) == 2 and len(ax.collections) == 2
        assert len(ax.lines) == 2 * 3 + 1
    assert len(e.fig.legends) == 1  # one legend for the three panels: nothing stale
    labels = [t.get_text() for t in e.fig.legends[0].get_texts()]
    assert labels[0] == "none" and labels[1].startswith("position-wait")
    top = e.result.sweep["ci_high"].max()
    assert top <= e.axes[0].get_ylim()[1]
    e.anomaly.value = "monotonic-reads"  # new titles: a full draw
    assert e.axes[0].get_title() == "monotonic-reads anomalies"
    assert e.view.full_draws > draws
    assert len(e.fig.legends) == 1 and all(len(ax.containers) == 2 for ax in e.axes)
    assert [t.get_text() for t in e.fig.legends[0].get_texts()] == \
        ["none", "sticky-user (0 at every lag)"]


def test_guesses_follow_the_way_a_slider_moved():
    e = LagAnomalyExplorer(lag_ms=20.0, prefetch=False, **KW)
    e.followers.value = 3
    e.followers.value = 2  # moving down
    assert e._nearby()[0][2] == 1
    assert [k[2] for k in e._nearby_runs()][:2] == [21.0, 19.0]  # the lag: up by default
    e.lag.value = 19.0
    assert [k[2] for k in e._nearby_runs()][:2] == [18.0, 20.0]
    e.read_fraction.value = 0.85
    assert e._nearby()[0][3] == 0.9


def test_no_label_is_clipped_for_any_anomaly():
    e = LagAnomalyExplorer(lag_ms=50.0, prefetch=False, **KW)
    for anomaly in e.anomaly.options:
        e.anomaly.value = anomaly
        assert not clipped(e.fig), anomaly
