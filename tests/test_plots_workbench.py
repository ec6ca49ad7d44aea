"""The workbench pictures in replab.plots: they draw what they are given, and only that."""

import matplotlib as mpl
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch

from replab import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def lag_frame() -> pd.DataFrame:
    t = np.arange(0.0, 50.0, 1.0)
    return pd.concat([pd.DataFrame({"time": t, "lag": (t % 7) * (i + 1), "ops": t * i,
                                    "node": f"n{i}"}) for i in range(3)], ignore_index=True)


# ------------------------------------------------------------------------- style


def test_plot_style_is_scoped_and_use_style_is_global():
    with mpl.rc_context():
        mpl.rcParams["axes.spines.top"] = True
        with plots.plot_style():
            assert mpl.rcParams["axes.spines.top"] is False
            assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == plots.PALETTE
        assert mpl.rcParams["axes.spines.top"] is True
        plots.use_style()
        assert mpl.rcParams["axes.spines.top"] is False


def test_plot_style_keeps_settings_changed_inside_it():
    # Jupyter's inline backend turns interactive mode on when the first figure is made;
    # if that happens inside a plot function, leaving the style must not undo it.
    with mpl.rc_context():
        mpl.interactive(False)
        with plots.plot_style():
            mpl.interactive(True)
        assert mpl.is_interactive()


def test_every_picture_is_drawn_in_the_shared_style():
    ax = plots.plot_timeseries(lag_frame(), "time", "lag", hue="node")
    assert [line.get_color() for line in ax.lines] == plots.PALETTE[:3]
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
    assert mpl.rcParams["axes.spines.top"] == mpl.rcParamsDefault["axes.spines.top"]


# -------------------------------------------------------------------- time series


def test_timeseries_draws_one_line_per_column_and_one_span_per_fault():
    df = lag_frame()[lambda d: d.node == "n1"]
    faults = pd.DataFrame({"start": [5.0, 20.0, 30.0], "end": [10.0, 25.0, np.inf],
                           "kind": ["partition", "crash", "partition"]})
    ax = plots.plot_timeseries(df, "time", ["lag", "ops"], faults=faults)
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 2 and len(ax.patches) == 3
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), df.time)
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), df.ops)  # drawn as given
    spans = [p.get_x() for p in ax.patches], [p.get_x() + p.get_width() for p in ax.patches]
    assert spans == ([5.0, 20.0, 30.0], [10.0, 25.0, 49.0])  # inf ends at the last sample
    colors = [p.get_facecolor() for p in ax.patches]
    assert colors[0] == colors[2] != colors[1]  # one colour per kind
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "lag", "ops", "partition", "crash"]


def test_timeseries_accepts_tuples_hue_and_an_existing_axes():
    _, given = plt.subplots()
    ax = plots.plot_timeseries(lag_frame(), "time", "lag", faults=[(1, 2), (3, 4, "gc pause")],
                               ax=given, hue="node")
    assert ax is given
    assert len(ax.lines) == 3 and len(ax.patches) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "n0", "n1", "n2", "fault", "gc pause"]
    assert ax.get_xlabel() == "time" and ax.get_ylabel() == "lag"


def test_timeseries_without_faults_has_no_spans():
    ax = plots.plot_timeseries(lag_frame(), "time", "lag")
    assert len(ax.patches) == 0 and len(ax.lines) == 1


# ----------------------------------------------------------------------- topology


def leader_cluster() -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_node("L", role="leader", pos=(0, 0))
    g.add_node("F1", role="follower", pos=(1, 1))
    g.add_node("F2", role="follower", pos=(1, -1), up=False)
    g.add_node("C", role="client", pos=(-1, 0))
    g.add_edges_from([("C", "L"), ("L", "F1")])
    g.add_edge("L", "F2", up=False)
    return g


def test_topology_draws_nodes_at_their_positions_and_one_arrow_per_edge():
    g = leader_cluster()
    ax = plots.plot_topology(g)
    assert isinstance(ax, Axes)
    (nodes,) = ax.collections
    np.testing.assert_array_equal(nodes.get_offsets(), [g.nodes[v]["pos"] for v in g])
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == g.number_of_edges() == 3
    assert sorted(t.get_text() for t in ax.texts) == sorted(g.nodes)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["leader", "follower", "client"]


def test_topology_marks_crashed_nodes_and_broken_links():
    ax = plots.plot_topology(leader_cluster())
    faces = ax.collections[0].get_facecolors()
    down = list(leader_cluster()).index("F2")
    assert tuple(faces[down]) == (1.0, 1.0, 1.0, 1.0)  # hollow
    assert sum(tuple(f) == (1.0, 1.0, 1.0, 1.0) for f in faces) == 1
    styles = [p.get_linestyle() for p in ax.patches]
    assert styles == ["solid", "solid", "dashed"]
    assert ax.patches[2].get_edgecolor() == mpl.colors.to_rgba(plots.PALETTE[1])  # red


def test_undirected_topology_without_positions_uses_a_circle():
    g = nx.cycle_graph(5)
    ax = plots.plot_topology(g)
    np.testing.assert_allclose(ax.collections[0].get_offsets(),
                               [nx.circular_layout(g)[v] for v in g])
    assert len(ax.texts) == 5


# ------------------------------------------------------------------ message timeline


def quorum_write() -> pd.DataFrame:
    return pd.DataFrame({
        "send_time": [0.0, 0.0, 0.0, 1.0, 2.0],
        "time": [1.0, 2.0, np.nan, 1.5, 2.5],
        "src": ["client", "client", "client", "A", "B"],
        "dst": ["A", "B", "C", "client", "client"],
        "kind": ["write", "write", "write", "ack", "ack"],
    })


def test_message_timeline_draws_one_lane_per_node_and_one_arrow_per_message():
    events = quorum_write()
    ax = plots.plot_message_timeline(events)
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 4  # lanes: client, A, B, C
    assert len(ax.patches) == len(events)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["client", "A", "B", "C"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["write", "ack"]
    lane = {"client": 0, "A": -1, "B": -2, "C": -3}
    delivered = events.dropna()
    for patch, row in zip(np.array(ax.patches)[delivered.index], delivered.itertuples(),
                          strict=True):
        assert patch._posA_posB == [(row.send_time, lane[row.src]), (row.time, lane[row.dst])]


def test_lost_message_is_a_dashed_stub_with_a_cross():
    ax = plots.plot_message_timeline(quorum_write())
    lost = ax.patches[2]
    assert lost.get_linestyle() == "--"
    median_delay = 0.75  # of the delivered delays 1.0, 2.0, 0.5, 0.5
    assert lost._posA_posB == [(0.0, 0), (0.5 * median_delay, -1.5)]
    assert [t.get_text() for t in ax.texts] == ["x"]
    left, right = ax.get_xlim()
    assert left < 0.0 and right > 2.5  # every message is inside the view


def test_message_timeline_lane_order_can_be_given():
    ax = plots.plot_message_timeline(quorum_write(), nodes=["A", "B", "C", "client"])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C", "client"]


# -------------------------------------------------------- existing plots keep working


def test_existing_plots_still_return_axes():
    curve = pd.DataFrame({"t": [0.0, 1.0], "p_consistent": [0.5, 0.9], "ci_low": [0.4, 0.85],
                          "ci_high": [0.6, 0.95]})
    assert isinstance(plots.plot_staleness(curve, label="x"), Axes)
    grid = pd.DataFrame({"r": [1, 1, 2, 2], "w": [1, 2, 1, 2], "p_stale": [0.4, 0.1, 0.1, 0.0]})
    ax = plots.plot_quorum_heatmap(grid)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2"]
    assert len(ax.texts) == 4
