"""Every simulation model is a sweep target: same settings as ``replab simulate``, one row
per run, summaries with Wilson and t intervals, ``sweep_model`` equal to the CLI."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest

import replab
from replab.cli import main
from replab.errors import ConfigError
from replab.stats import wilson
from replab.sweeps.engine import plan
from replab.sweeps.model_targets import MODELS, model_named
from replab.sweeps.spec import SweepSpec, run_spec, spec_from_dict
from replab.sweeps.summary import PROPORTIONS, _pairs, summarize, t_quantile
from replab.sweeps.targets import target_names

#: settings that keep every model's run to a fraction of a second
SMALL = {
    "single-leader": {"duration_ms": 300},
    "lag-anomalies": {"duration_ms": 300},
    "partitioned": {"duration_ms": 300},
    "leaderless": {"duration_ms": 300},
    "multi-leader": {"duration_ms": 300},
    "replog": {"transactions": 30},
}
#: one setting per model to sweep over
GRID = {
    "single-leader": {"followers": [1, 2]},
    "lag-anomalies": {"lag_ms": [5.0, 50.0]},
    "partitioned": {"partitions": [2, 3]},
    "leaderless": {"w": [1, 3]},
    "multi-leader": {"write_rate": [50.0, 100.0]},
    "replog": {"followers": [1, 2]},
}


def test_every_model_of_replab_simulate_is_a_target() -> None:
    from replab.cli.simulate_cmd import MODELS as CLI_MODELS

    assert set(SMALL) == set(MODELS) == set(CLI_MODELS)
    assert {n: c for n, (c, _) in CLI_MODELS.items()} == {n: m.config_cls
                                                         for n, m in MODELS.items()}


@pytest.mark.parametrize("model", sorted(SMALL))
def test_a_model_sweep_row_is_the_models_own_run(model: str) -> None:
    """Oracle: each row equals ``simulate(config, seed=row.seed).metrics`` run directly."""
    spec = SweepSpec(target=model, seed=3, grid=GRID[model], fixed=SMALL[model],
                     replications=2)
    frame = run_spec(spec, progress=False).frame
    name = next(iter(GRID[model]))
    assert list(frame.columns[:2]) == [name, "replication"] and frame.columns[-1] == "seed"
    assert frame[name].tolist() == [v for v in GRID[model][name] for _ in range(2)]
    m = model_named(model)
    config = m.config_cls(**SMALL[model], **{name: GRID[model][name][-1]})
    direct = m.simulate(config, seed=int(frame["seed"].iloc[-1])).metrics
    for key, value in direct.items():
        got = frame[key].iloc[-1]  # (a row as a Series would turn the seed into a float)
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(got), key
        elif key.endswith("seconds") or key in ("apply_rate", "leader_ms_per_write", name):
            continue  # wall-clock timings of the SQLite replog differ run to run (and a
            # metric named like the swept setting gives way to the setting)
        else:
            assert got == (value if value != "" else None) or got == value, key


def test_the_proportions_are_their_counts_in_every_model() -> None:
    """The Wilson rule pools num/den; check num/den is the rate in every model's run."""
    seen = set()
    for model, small in SMALL.items():
        m = model_named(model)
        metrics = m.simulate(m.config_cls(**small), seed=5).metrics
        for rate, (num, den) in _pairs(list(metrics)).items():
            if metrics[den]:
                assert metrics[num] / metrics[den] == pytest.approx(metrics[rate]), rate
            seen.add(rate)
    assert {r for r, _, _ in PROPORTIONS} <= seen
    assert "stale_read_rate" in seen and "read_your_writes_rate" in seen


def test_summary_pools_counts_for_wilson_and_uses_t_otherwise() -> None:
    runs = pd.DataFrame({
        "w": [1] * 5 + [2] * 5,
        "replication": list(range(5)) * 2,
        "stale_read_count": [1, 2, 0, 3, 1, 0, 0, 0, 0, 0],
        "stale_read_examined": [10, 20, 10, 30, 10, 10, 10, 10, 10, 10],
        "stale_read_rate": [0.1, 0.1, 0.0, 0.1, 0.1, 0, 0, 0, 0, 0],
        "stale_read_ci_low": [0.0] * 10,
        "latency_ms": [1.0, 2.0, 3.0, 4.0, 5.0, 1, 1, 1, 1, math.nan],
        "converged": [True, True, False, True, True] + [True] * 5,
        "kind": ["x"] * 10,
        "seed": range(10),
    })
    s = summarize(runs, ["w"])
    assert s.w.tolist() == [1, 2] and s.runs.tolist() == [5, 5]
    lo, hi = wilson(7, 80)
    assert s.stale_read_rate[0] == 7 / 80
    assert (s.stale_read_rate_ci_low[0], s.stale_read_rate_ci_high[0]) == (lo, hi)
    half = 2.776 * np.std([1, 2, 3, 4, 5], ddof=1) / math.sqrt(5)
    assert s.latency_ms[0] == 3.0
    assert s.latency_ms_ci_low[0] == pytest.approx(3 - half)
    assert s.latency_ms_ci_high[0] == pytest.approx(3 + half)
    assert s.latency_ms_runs[1] == 4  # the NaN run is left out, and said so
    assert s.converged[0] == 0.8 and s.converged_ci_low[0] == wilson(4, 5)[0]
    assert s.kind.tolist() == ["x", "x"]
    assert "seed" not in s and "replication" not in s and "stale_read_ci_low_ci_low" not in s


def test_t_quantile_table_and_expansion_agree() -> None:
    assert t_quantile(30) == 2.042
    assert t_quantile(31) == pytest.approx(2.0395, abs=2e-4)
    assert t_quantile(120) == pytest.approx(1.9799, abs=2e-4)


def test_sweep_model_returns_the_frames_of_the_cli(tmp_path, capsys) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('[sweep]\ntarget = "leaderless"\nseed = 4\nreplications = 2\n'
                    '[fixed]\nduration_ms = 300\n[grid]\nw = [1, 3]\n')
    for summary in (False, True):
        assert main(["sweep", str(spec), "--format", "csv", "--no-progress",
                     *(["--summary"] if summary else [])]) == 0
        cli = pd.read_csv(io.StringIO(capsys.readouterr().out))
        api = replab.sweep_model("leaderless", {"w": [1, 3]}, fixed={"duration_ms": 300},
                                 replications=2, seed=4, summary=summary)
        roundtrip = pd.read_csv(io.StringIO(api.to_csv(index=False)))
        pd.testing.assert_frame_equal(cli, roundtrip)
    assert len(api) == 2 and len(cli) == 2


def test_spec_settings_have_the_cli_names_types_and_checks() -> None:
    base = {"sweep": {"target": "single-leader", "seed": 1}, "grid": {"followers": [1]}}
    with pytest.raises(ConfigError, match="Unknown parameter 'folowers' in \\[fixed\\]"):
        spec_from_dict({**base, "fixed": {"folowers": 1}})
    # text is read as on the command line; a TOML list is a list setting
    spec = spec_from_dict({**base, "fixed": {"duration_ms": "300",
                                             "faults": [[100, "crash", {"node": 1}]]}})
    frame = run_spec(spec, progress=False).frame
    config = replab.SingleLeaderConfig(duration_ms=300, followers=1,
                                       faults=((100, "crash", {"node": 1}),))
    direct = replab.simulate_single_leader(config, seed=int(frame.seed[0])).metrics
    assert (frame.writes[0], frame.writes_fail[0]) == (direct["writes"], direct["writes_fail"])
    # a point the model refuses is skipped with the model's own message
    spec = spec_from_dict({"sweep": {"target": "leaderless", "seed": 1},
                           "fixed": {"duration_ms": 300}, "grid": {"n": [3], "r": [1, 4]}})
    result = run_spec(spec, progress=False)
    assert result.skipped.reason.tolist() == [
        "The 'r' parameter of LeaderlessConfig must be an int in [1, n=3]. Got 4 instead."]


def test_a_point_beyond_the_simulation_limits_is_an_error(monkeypatch) -> None:
    monkeypatch.setenv("REPLAB_MAX_EVENTS", "1000")
    spec = SweepSpec(target="leaderless", seed=1, grid={"duration_ms": [1e6]})
    with pytest.raises(ConfigError, match="The 'duration_ms' parameter of LeaderlessConfig "
                                          "must be small enough"):
        run_spec(spec, progress=False)


def test_a_bad_fault_names_the_field_not_the_list(capsys) -> None:
    for model in ("single-leader", "leaderless", "multi-leader"):
        node = "dc0" if model == "multi-leader" else 0
        assert main(["simulate", model, "--set", f"faults=-5,crash,node={node}"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "The 'time' parameter of Fault must be a finite number in [0, inf). Got -5 " \
               "instead. (in the 'faults' setting)" in err, err


def test_simulate_replications_summarises_the_runs(capsys) -> None:
    argv = ["simulate", "lag-anomalies", "--set", "duration_ms=300", "--seed", "9",
            "--replications", "3", "--format", "json"]
    assert main(argv) == 0
    import json

    table = pd.DataFrame(json.loads(capsys.readouterr().out)).set_index("metric")
    seeds = [t.seed for t in plan([{}], 9, 3)]
    runs = [replab.simulate_lag_anomalies(replab.LagAnomalyConfig(duration_ms=300), seed=s)
            .metrics for s in seeds]
    counts = sum(r["stale_read_count"] for r in runs)
    examined = sum(r["stale_read_examined"] for r in runs)
    assert table.loc["stale_read_rate", "mean"] == pytest.approx(counts / examined)
    assert table.loc["stale_read_rate", "ci_low"] == pytest.approx(
        float(wilson(counts, examined)[0]))
    assert table.loc["reads", "mean"] == pytest.approx(np.mean([r["reads"] for r in runs]))
    assert main(["simulate", "leaderless", "--replications", "2", "--history", "h.jsonl"]) == 2
    assert capsys.readouterr().err == ("replab simulate: error: --history records one run; "
                                       "drop it or --replications.\n")


def test_real_labs_must_run_serially() -> None:
    with pytest.raises(ConfigError, match="The 'sweep.executor' parameter of SweepSpec must "
                                          "be 'serial' for the real lab 'record-postgres'"):
        SweepSpec(target="record-postgres", seed=1, grid={"standbys": [1]})
    spec = SweepSpec(target="record-postgres", seed=1, grid={"standbys": [1, 2]},
                     executor="serial", fixed={"duration_s": 1.0})
    assert spec.executor == "serial"
    with pytest.raises(ConfigError, match="Unknown parameter 'nosuch'"):
        SweepSpec(target="record-mariadb", seed=1, grid={"nosuch": [1]}, executor="serial")
    names = target_names()  # the labs, loaded now, are listed once
    assert len(names) == len(set(names)) and {"record-postgres", "record-mariadb"} <= set(names)


def test_common_seeds_give_every_point_the_same_seeds_and_keep_replication_0():
    points = [{"w": 1}, {"w": 2}, {"w": 3}]
    common = plan(points, 11, replications=3, common_seeds=True)
    by_rep = {j: {t.seed for t in common if t.replication == j} for j in range(3)}
    assert all(len(seeds) == 1 for seeds in by_rep.values())  # one seed per replication
    assert len(set().union(*by_rep.values())) == 3  # and a new one for each replication
    independent = plan(points, 11, replications=3)
    assert [t.seed for t in independent if t.replication == 0][0] == by_rep[0].pop()
    assert len({t.seed for t in independent}) == 9
    with pytest.raises(ConfigError, match="'common_seeds' parameter of sweep must be a bool"):
        plan(points, 11, common_seeds="yes")


def test_common_seeds_compare_settings_on_the_same_runs():
    """On common seeds the client workload is the same run at every w: the same number of
    writes is attempted, so only the setting differs (the point of common random numbers)."""
    grid = {"w": [1, 3]}
    fixed = {"duration_ms": 300, "n": 3}
    crn = replab.sweep_model("leaderless", grid, fixed=fixed, replications=2, seed=5,
                             common_seeds=True)
    assert crn.groupby("replication").seed.nunique().eq(1).all()
    assert crn.groupby("replication").writes.nunique().eq(1).all()
    spec = spec_from_dict({"sweep": {"target": "leaderless", "seed": 5, "replications": 2,
                                     "common_seeds": True},
                           "fixed": fixed, "grid": grid})
    pd.testing.assert_frame_equal(run_spec(spec, progress=False).frame, crn)
    independent = replab.sweep_model("leaderless", grid, fixed=fixed, replications=2, seed=5)
    assert independent.seed.nunique() == 4
