"""Simulation plots draw what the frames hold (and nothing is computed there)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from replab import plots  # noqa: E402
from replab.models import SingleLeaderConfig, simulate_single_leader  # noqa: E402


@pytest.fixture(scope="module")
def run():
    cfg = SingleLeaderConfig(duration_ms=500.0, write_rate=30.0, read_rate=10.0,
                             partition_at_ms=100.0, partition_ms=250.0, fencing=False,
                             failover_timeout_ms=120.0, trace_messages=True)
    return simulate_single_leader(cfg, seed=2)


def test_timeline_marks_nodes_messages_and_events(run):
    ax = plots.plot_timeline(run.events)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["0", "1", "2", "ctl"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"partition", "becomes leader", "steps down"} <= set(legend)
    n_msgs = ((run.events.kind == "message") & ~run.events.node.astype(str).str.startswith("c")
              & ~run.events.peer.astype(str).str.startswith("c")).sum()
    assert len(ax.texts) >= min(n_msgs, 400)  # one arrow annotation per message (+ labels)
    plt.close("all")


def test_lag_plot_one_line_per_follower(run):
    ax = plots.plot_lag(run.lag)
    assert len(ax.lines) == run.lag.node.nunique()
    ax2 = plots.plot_lag(run.lag, value="positions_behind")
    assert "entries" in ax2.get_ylabel()
    plt.close("all")


def test_lost_writes_and_tradeoff_plots():
    df = pd.DataFrame({"failover_timeout_ms": [100, 100, 200, 200] * 2,
                       "lag": ["a"] * 4 + ["b"] * 4,
                       "acked_writes_lost": [3, 5, 1, 1, 6, 8, 2, 2],
                       "unnecessary_failovers": [2, 1, 0, 0, 2, 2, 1, 0],
                       "unavailable_ms": [150.0, 160, 250, 260, 150, 150, 250, 250]})
    ax = plots.plot_lost_writes(df)
    assert len(ax.get_legend().get_texts()) == 2
    assert list(ax.lines[0].get_ydata()) == [4.0, 1.0]  # the mean of the repeats
    ax = plots.plot_failover_tradeoff(df)
    assert list(ax.lines[0].get_ydata()) == [1.75, 0.25]
    plt.close("all")
