"""The replication-lag explorer, driven headless."""

from replab.widgets.lag_anomalies import LagAnomalyExplorer, compute_lag_view

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
