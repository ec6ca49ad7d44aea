"""plot_history_timeline, fault_windows and plot_anomaly draw what the history holds."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from replab.checks import read_your_writes  # noqa: E402
from replab.history import History  # noqa: E402
from replab.plots import (  # noqa: E402
    COLORS,
    anomaly_operations,
    fault_windows,
    lint_figure,
    plot_anomaly,
    plot_history_timeline,
)
from replab.sim.network import EVENT_COLUMNS  # noqa: E402
from tests.figures import clipped  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _history() -> History:
    h = History()
    h.record(0.0, 0, "invoke", "write", "x", 1)
    h.record(2.0, 0, "ok", "write", "x", 1, node=0)
    h.record(3.0, 1, "invoke", "read", "x", None)
    h.record(3.0, 1, "ok", "read", "x", None, node=1)  # zero latency: drawn at the floor
    h.record(5.0, 0, "invoke", "write", "x", 2)
    h.record(9.0, 0, "info", "write", "x", 2)
    h.record(10.0, 1, "invoke", "read", "x", None)
    h.record(12.0, 1, "fail", "read", "x", None)
    h.record(13.0, 2, "invoke", "read", "x", None)  # never completes
    h.record(20.0, 0, "invoke", "read", "x", None)
    h.record(21.0, 0, "ok", "read", "x", 2, node=1)
    return h


def _events(rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame([dict(zip(["time", "end_time", "kind", "node", "detail"], r,
                                strict=True)) for r in rows], columns=EVENT_COLUMNS)
    df["node"] = pd.Series([r[3] for r in rows], dtype=object)  # ids, as the simulator's
    return df


def _points(ax) -> dict[str, list[tuple[float, float]]]:
    """Scatter points by legend label."""
    out: dict[str, list[tuple[float, float]]] = {}
    for coll in ax.collections:
        if coll.get_label().startswith(("read", "write")):
            out[coll.get_label()] = [tuple(p) for p in coll.get_offsets().tolist()]
    return out


def test_timeline_draws_each_operation_at_its_invocation_with_its_latency():
    ax = plot_history_timeline(_history())
    pts = _points(ax)
    assert pts == {"write ok": [(0.0, 2.0)], "read ok": [(3.0, 0.01), (20.0, 1.0)],
                   "write info (outcome unknown)": [(5.0, 4.0)], "read fail": [(10.0, 2.0)],
                   "read info (outcome unknown)": [(13.0, 8.0)]}  # pending: to the end
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "latency (ms, log scale)\n(below 0.01 ms drawn at 0.01)"
    colors = {c.get_label(): to_hex(c.get_facecolor()[0], keep_alpha=False)
              for c in ax.collections}
    assert colors["read fail"] == COLORS["fail"] and colors["write ok"] == COLORS["ok"]
    assert colors["write info (outcome unknown)"] == COLORS["info"]
    assert not clipped(ax.figure)


def test_timeline_linear_axis_states_no_floor():
    ax = plot_history_timeline(_history(), log=False)
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == "latency (ms)"
    assert (3.0, 0.0) in _points(ax)["read ok"]


def test_legend_sits_outside_the_data():
    ax = plot_history_timeline(_history(), faults=[(4.0, 8.0, "partition"), (15.0, None,
                                                                               "failover")])
    ax.figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1


def test_fault_windows_from_a_simulator_event_log():
    ev = _events([(0.0, None, "leader", 0, ""), (10.0, None, "partition", None, "p1: [[0], [1]]"),
                  (15.0, None, "crash", 1, ""), (20.0, None, "heal", None, "p1"),
                  (22.0, None, "leader", 2, ""), (25.0, None, "restart", 1, ""),
                  (30.0, 33.0, "pause", 2, ""), (40.0, None, "crash", 0, "")])
    w = fault_windows(ev, end=50.0)
    spans = w[w.end > w.start]
    assert list(spans.itertuples(index=False, name=None)) == [
        (10.0, 20.0, "partition", "partition"), (15.0, 25.0, "crash", "node 1 down"),
        (30.0, 33.0, "pause", "node 2 paused"), (40.0, 50.0, "crash", "node 0 down")]
    marks = w[w.end == w.start]
    assert list(zip(marks.start, marks.label, strict=True)) == [
        (15.0, "crash 1"), (22.0, "failover: node 2 leads"), (25.0, "restart 1"),
        (40.0, "crash 0")]  # the first leader at t=0 is no fault


def test_fault_windows_from_nemesis_ops_and_tuples():
    h = History([
        {"index": 0, "time": 1.0, "process": "nemesis", "type": "info", "f": "start-partition"},
        {"index": 1, "time": 2.0, "process": 0, "type": "invoke", "f": "read", "key": "x"},
        {"index": 2, "time": 3.0, "process": 0, "type": "ok", "f": "read", "key": "x"},
        {"index": 3, "time": 6.0, "process": "nemesis", "type": "info", "f": "stop-partition"},
        {"index": 4, "time": 7.0, "process": "nemesis", "type": "info", "f": "kill"},
        {"index": 5, "time": 8.0, "process": "nemesis", "type": "info", "f": "promote"},
    ])
    w = fault_windows(h)
    assert list(w.itertuples(index=False, name=None)) == [
        (1.0, 6.0, "nemesis", "start-partition"), (7.0, 8.0, "nemesis", "kill"),
        (8.0, 8.0, "nemesis", "promote")]
    ax = plot_history_timeline(h)  # the nemesis ops are faults, not points
    assert _points(ax) == {"read ok": [(2.0, 1.0)]}
    t = fault_windows([(5.0, 9.0, "outage"), {"start": 3.0, "label": "failover"}])
    assert list(t.itertuples(index=False, name=None)) == [
        (3.0, 3.0, "window", "failover"), (5.0, 9.0, "window", "outage")]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.sampled_from(["partition", "heal", "crash",
                                                               "restart"]),
                          st.sampled_from(["a", "b"])), max_size=12))
def test_windows_stay_inside_the_run_and_never_overlap_themselves(raw):
    rows = sorted(raw)
    ev = _events([(t, None, k, who if k in ("crash", "restart") else None,
                   f"{who}: x" if k == "partition" else who) for t, k, who in rows])
    w = fault_windows(ev, end=100.0)
    spans = w[w.end > w.start]
    assert (w.start >= 0).all() and (w.end <= 100.0).all() and (w.end >= w.start).all()
    for _, same in spans[spans.kind == "crash"].groupby("label"):  # one node, one outage
        ordered = same.sort_values("start")
        assert (ordered.start.to_numpy()[1:] >= ordered.end.to_numpy()[:-1]).all()
    opens = sum(1 for _, k, _ in rows if k in ("partition", "crash"))
    assert len(spans) <= opens


def _ryw_history() -> History:
    h = History()
    h.record(1.0, 1, "invoke", "write", "k", 4)
    h.record(2.0, 1, "ok", "write", "k", 4, version=1, node=0)
    h.record(2.5, 2, "invoke", "read", "k", None)
    h.record(3.0, 1, "invoke", "read", "k", None)
    h.record(3.1, 2, "ok", "read", "k", 4, node=0)
    h.record(3.4, 1, "ok", "read", "k", None, node=2)
    return h


def test_anomaly_diagram_draws_the_checkers_example():
    h = _ryw_history()
    ex = read_your_writes(h).examples[0]
    assert ex["indices"] == [0, 1, 3, 5]
    ops = anomaly_operations(h, ex)
    assert [(o.index, o.f, o.node, o.done) for o in ops] == [(0, "write", 0, 1),
                                                              (3, "read", 2, 5)]
    ax = plot_anomaly(h, ex, anomaly="read-your-writes", node_names={0: "leader"})
    assert [t.get_text() for t in ax.get_yticklabels()] == ["replica 2", "leader", "client 1"]
    arrows = [a for a in ax.texts if a.arrow_patch is not None and not a.get_text()]
    assert len(arrows) == 4  # a request and a response per operation
    labels = {t.get_text(): to_hex(t.get_color()) for t in ax.texts if t.get_text()}
    assert labels == {"write k = 4": COLORS["write"], "ok": COLORS["write"],
                      "read k": COLORS["read-your-writes"],
                      "→ not found": COLORS["read-your-writes"]}
    assert "violates read-your-writes" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert not clipped(ax.figure)


def test_anomaly_labels_do_not_collide():
    h = _ryw_history()
    ax = plot_anomaly(h, [0, 2, 3, 4, 5])
    ax.figure.canvas.draw()
    r = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in ax.texts if t.get_text()]
    assert len(boxes) == 6
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)


def test_anomaly_real_time_and_bad_input():
    h = _ryw_history()
    ax = plot_anomaly(h, [1, 5], time="real")
    assert ax.get_xlabel() == "time (ms)"
    xs = sorted(np.round(a.xy[0], 2) for a in ax.texts if a.arrow_patch is not None)
    assert xs == [1.5, 2.0, 3.2, 3.4]  # responses end at the completions, in ms
    with pytest.raises(ValueError, match=r"The example names op indices \[99\] that the "
                                         r"history does not hold \(6 operations\)\."):
        plot_anomaly(h, [1, 99])
    with pytest.raises(ValueError, match="The 'time' parameter of plot_anomaly must be "
                                         "'order' or 'real'. Got 'wall' instead."):
        plot_anomaly(h, [1], time="wall")


def test_anomaly_long_first_and_last_labels_stay_inside_the_axes():
    """A long label at the first or last event (the shopping cart's merged read) is
    aligned to its arrow instead of centred on it, so it is not clipped."""
    h = History()
    h.record(0.0, 0, "invoke", "write", "cart", "milk+eggs+flour+butter+jam")
    h.record(3.0, 0, "ok", "write", "cart", "milk+eggs+flour+butter+jam", node=1)
    h.record(10.0, 1, "invoke", "read", "cart", None)
    h.record(13.0, 1, "ok", "read", "cart", "milk+eggs+flour+butter+jam", node=2)
    ax = plot_anomaly(h, [0, 1, 2, 3])
    aligned = {t.get_text(): t.get_horizontalalignment() for t in ax.texts if t.get_text()}
    assert aligned == {'write cart = "milk+eggs+flour+butter+jam"': "left", "ok": "center",
                       "read cart": "center", '→ "milk+eggs+flour+butter+jam"': "right"}
    assert lint_figure(ax.figure) == []
