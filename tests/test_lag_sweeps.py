"""``anomaly_sweep``, ``replab simulate lag-anomalies|partitioned``, plots and the explorer."""

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from replab import plots
from replab.cli import main
from replab.errors import ConfigError
from replab.models import (
    ANOMALY_MITIGATIONS,
    LagAnomalyConfig,
    PartitionedConfig,
    anomaly_sweep,
    simulate_lag_anomalies,
)
from replab.models.anomalies.sweeps import SWEEP_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
from tests.figures import clipped  # noqa: E402

SMALL = LagAnomalyConfig(duration_ms=1500.0)


@pytest.fixture(scope="module")
def ryw():
    return anomaly_sweep("read-your-writes", ["none", "position-wait", "position-redirect"],
                         [0.0, 50.0], seed=4, base=SMALL)


def test_sweep_frame_columns_and_meaning(ryw):
    assert list(ryw.columns) == SWEEP_COLUMNS
    assert len(ryw) == 6 and set(ryw.anomaly) == {"read-your-writes"}
    # common random numbers: each lag its own seed, the same for every mitigation
    assert ryw.seed.nunique() == 2 and (ryw.groupby("lag_ms").seed.nunique() == 1).all()
    assert ((ryw.read_p99_ms_ci_low <= ryw.read_p99_ms)
            & (ryw.read_p99_ms <= ryw.read_p99_ms_ci_high)).all()
    none = ryw[ryw.mitigation == "none"].set_index("lag_ms")
    assert none.loc[0.0, "count"] == 0 and none.loc[50.0, "count"] > 20
    assert (ryw[ryw.mitigation != "none"]["count"] == 0).all()
    assert (none.extra_read_p50_ms == 0).all()
    wait = ryw[(ryw.mitigation == "position-wait") & (ryw.lag_ms == 50.0)].iloc[0]
    assert wait.extra_read_p99_ms == pytest.approx(wait.read_p99_ms - none.loc[50.0,
                                                                             "read_p99_ms"])
    assert wait.extra_read_p99_ms > 20 and wait.reads_waited > 0
    assert ((ryw.ci_low <= ryw.rate) & (ryw.rate <= ryw.ci_high)).all()


def test_same_seed_same_frame_whatever_the_executor(ryw):
    with ThreadPoolExecutor(2) as ex:
        again = anomaly_sweep("read-your-writes", ["none", "position-wait",
                                                   "position-redirect"],
                              [0.0, 50.0], seed=4, base=SMALL, executor=ex)
    pd.testing.assert_frame_equal(ryw, again)
    other = anomaly_sweep("read-your-writes", ["none"], [50.0], seed=5, base=SMALL)
    assert other["count"].iloc[0] != ryw["count"].iloc[1] or \
        other["examined"].iloc[0] != ryw["examined"].iloc[1]


def test_a_grid_of_more_fields_and_extra_latency_against_its_own_none():
    df = anomaly_sweep("cross-device-read-your-writes", ["none", "position-wait"], [40.0],
                       seed=2, grid={"memory": ["device", "shared"]},
                       base=LagAnomalyConfig(duration_ms=1500.0, devices_per_user=2))
    assert list(df.columns[:4]) == ["anomaly", "mitigation", "lag_ms", "memory"]
    counts = df.set_index(["mitigation", "memory"])["count"]
    assert counts[("position-wait", "device")] > 0 and counts[("position-wait", "shared")] == 0
    assert not df.extra_read_p50_ms.isna().any()


def test_consistent_prefix_and_monotonic_sweeps():
    cp = anomaly_sweep("consistent-prefix", lags=[60.0], seed=1,
                       base=PartitionedConfig(duration_ms=2000.0))
    assert list(cp.mitigation) == ["none", "co-partition"]
    assert cp["count"].iloc[0] > 0 and cp["count"].iloc[1] == 0
    assert cp.lag_mean_ms.isna().all() and (cp.reads_waited == 0).all()
    # same seeds: co-partition moves keys, not reads, so its costs are those of none
    costs = ["leader_read_share", "read_p50_ms", "read_p99_ms", "reads"]
    assert cp[costs].iloc[0].tolist() == cp[costs].iloc[1].tolist()
    mono = anomaly_sweep("monotonic-reads", lags=[60.0], seed=1,
                         base=LagAnomalyConfig(duration_ms=2000.0))
    assert list(mono.mitigation) == list(ANOMALY_MITIGATIONS["monotonic-reads"])
    assert mono["count"].iloc[0] > 0 and mono["count"].iloc[1] == 0


@pytest.mark.parametrize("args, message", [
    (("stale-read",), "The 'anomaly' parameter of anomaly_sweep must be one of "
     "'read-your-writes', 'cross-device-read-your-writes', 'monotonic-reads', "
     "'consistent-prefix'. Got 'stale-read' instead."),
    (("monotonic-reads", ["position-wait"]), "The 'mitigations' parameter of anomaly_sweep "
     "must be one of 'none', 'sticky-user'. Got 'position-wait' instead."),
    (("monotonic-reads", None, []), "The 'lags' parameter of anomaly_sweep must be a "
     "non-empty list of lags in ms. Got [] instead."),
    (("monotonic-reads", None, [-5.0]), "The 'lags' parameter of anomaly_sweep must be a "
     "finite number in [0, inf). Got -5.0 instead."),
])
def test_sweep_rejects_bad_input(args, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        anomaly_sweep(*args)


def test_sweep_rejects_a_base_of_the_wrong_model_and_unknown_grid_fields():
    with pytest.raises(ConfigError, match="The 'base' parameter of anomaly_sweep must be a "
                                          "PartitionedConfig"):
        anomaly_sweep("consistent-prefix", base=SMALL)
    with pytest.raises(ConfigError, match="The 'grid' parameter of anomaly_sweep"):
        anomaly_sweep("read-your-writes", grid={"lag_ms": [1.0]})


# -- plots -------------------------------------------------------------------------------------
def test_plots_draw_one_line_with_bars_per_mitigation(ryw):
    ax = plots.plot_anomaly_rates(ryw)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == \
        ["none", "position-wait (0 at every lag)", "position-redirect (0 at every lag)"]
    data = {c.get_label(): c.lines[0] for c in ax.containers}
    np.testing.assert_allclose(data["none"].get_ydata(), ryw[ryw.mitigation == "none"].rate)
    xs = {float(line.get_xdata()[0]) for line in data.values()}
    assert len(xs) == 3  # dodged: lines that coincide at 0 stay apart
    assert len(ax.collections) == 3 and "read-your-writes" in ax.get_ylabel()
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1  # outside
    ax2 = plots.plot_mitigation_costs(ryw, cost="read_p99_ms")
    assert ax2.get_ylabel() == "read latency p99 (ms)" and len(ax2.collections) == 3
    assert ax2.get_ylim()[0] == 0  # noise is not zoomed into a trend
    ax3 = plots.plot_mitigation_costs(ryw)
    assert len(ax3.collections) == 3 and ax3.get_ylim() == (-0.03, 1.03)
    axes = plots.plot_mitigation_panels(ryw, title="read-your-writes")
    assert len(axes) == 3 and axes[0].get_legend() is None
    assert "position-wait (0 at every lag)" in [t.get_text() for t in
                                                axes[-1].get_legend().get_texts()]
    assert not clipped(axes[0].figure)
    plt.close("all")


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_prints_anomaly_rates_and_costs(capsys):
    rc = main(["simulate", "lag-anomalies", "--set", "mitigation=position-redirect",
               "--set", "lag_ms=40", "--set", "duration_ms=1000", "--seed", "3",
               "--format", "json"])
    assert rc == 0
    m = json.loads(capsys.readouterr().out)
    assert m["read_your_writes_count"] == 0 and m["reads_redirected"] > 0
    for key in ("read_your_writes_ci_high", "monotonic_reads_rate", "leader_read_share",
                "read_p99_ms", "reads_waited", "reads_failed", "lag_mean_ms"):
        assert key in m
    rc = main(["simulate", "partitioned", "--set", "lag_ms=60", "--set", "duration_ms=1500",
               "--seed", "1"])
    out = capsys.readouterr().out
    assert rc == 0 and re.search(r"^consistent_prefix_count\s+[1-9]", out, re.M)


@pytest.mark.parametrize("args, needle", [
    (["lag-anomalies", "--set", "mitigation=cache"], "The 'mitigation' parameter of "
     "LagAnomalyConfig must be one of"),
    (["lag-anomalies", "--set", "lag_ms=-3"], "The 'lag_ms' parameter of LagAnomalyConfig "
     "must be a finite number in [0, inf). Got -3.0 instead."),
    (["lag-anomalies", "--set", "max_lag_ms=soon"], "The 'max_lag_ms' parameter of "
     "LagAnomalyConfig must be float"),
    (["partitioned", "--set", "partitions=0"], "The 'partitions' parameter of "
     "PartitionedConfig must be an int in [1, 64]. Got 0 instead."),
])
def test_cli_bad_input_is_one_line_exit_2(args, needle, capsys):
    assert main(["simulate", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_cli_subprocess_is_deterministic_and_matches_in_process():
    args = [sys.executable, "-m", "replab.cli", "simulate", "lag-anomalies", "--set",
            "duration_ms=600", "--set", "lag_ms=30", "--seed", "9", "--format", "json"]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = [subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
           for _ in range(2)]
    assert out[0] == out[1]
    m = json.loads(out[0])
    here = simulate_lag_anomalies(LagAnomalyConfig(duration_ms=600.0, lag_ms=30.0), seed=9)
    assert m["read_your_writes_count"] == here.metrics["read_your_writes_count"]
    assert m["reads"] == here.metrics["reads"]
    bad = subprocess.run(args[:5] + ["--set", "followers=0"], capture_output=True, text=True,
                         env=env)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
