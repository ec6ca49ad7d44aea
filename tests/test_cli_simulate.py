"""``replab simulate single-leader``."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from replab.cli import main
from replab.cli.simulate_cmd import MODELS
from replab.history import History

ROOT = Path(__file__).resolve().parents[1]


def test_json_metrics_and_history(tmp_path, capsys):
    path = tmp_path / "h.jsonl"
    rc = main(["simulate", "single-leader", "--set", "mode=sync", "--set", "duration_ms=400",
               "--set", "leader_crash_at_ms=200", "--seed", "3", "--history", str(path),
               "--format", "json"])
    assert rc == 0
    metrics = json.loads(capsys.readouterr().out)
    for key in ("acked_writes_lost", "write_availability", "max_lag_ms", "failovers",
                "unnecessary_failovers", "read_p50_ms", "write_p99_ms"):
        assert key in metrics
    assert metrics["acked_writes_lost"] == 0 and metrics["failovers"] == 1
    h = History.read_jsonl(path)
    final = [op for op in h if op.get("final")]  # the final-read phase: after the metrics
    assert len(h) - len(final) == 2 * metrics["writes"] + 2 * metrics["reads"]
    keys = {op["key"] for op in h if op["f"] == "write"}
    assert len(final) == 2 * len(keys) * len({op["process"] for op in final})


def test_table_output_is_deterministic(capsys):
    args = ["simulate", "single-leader", "--set", "duration_ms=300", "--seed", "5"]
    main(args)
    first = capsys.readouterr().out
    main(args)
    assert capsys.readouterr().out == first
    assert first.splitlines()[0].split()[0] == "writes"


@pytest.mark.parametrize(("args", "needle"), [
    (["--set", "mode=quorum"], "The 'mode' parameter of SingleLeaderConfig must be one of"),
    (["--set", "bogus=1"], "Unknown setting 'bogus' for SingleLeaderConfig"),
    (["--set", "followers=two"], "The 'followers' parameter of SingleLeaderConfig must be int"),
    (["--set", "lag=exp:-1"], "The 'lag' parameter of SingleLeaderConfig"),
    (["--set", "noequals"], "--set expects KEY=VALUE"),
    (["--history", "/no/such/dir/h.jsonl"], "The '--history' option"),
    (["--seed", "-1"], "--seed"),
])
def test_bad_input_is_one_line_exit_2(args, needle, capsys):
    with pytest.raises(SystemExit) if args[0] == "--seed" else _Nothing():
        rc = main(["simulate", "single-leader", "--set", "duration_ms=50", *args])
        assert rc == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_registry_shape():
    for config_cls, run in MODELS.values():
        assert callable(run) and config_cls.__dataclass_params__.frozen


def test_subprocess_exit_status():
    env = {"PYTHONPATH": str(ROOT), "PATH": ""}
    ok = subprocess.run([sys.executable, "-m", "replab.cli", "simulate", "single-leader",
                         "--set", "duration_ms=200", "--format", "json"],
                        capture_output=True, text=True, env=env)
    assert ok.returncode == 0 and "write_availability" in json.loads(ok.stdout)
    bad = subprocess.run([sys.executable, "-m", "replab.cli", "simulate", "single-leader",
                          "--set", "write_rate=-5"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "replab simulate: error: The 'write_rate' parameter of SingleLeaderConfig must be a "
        "finite number in [0, inf). Got -5.0 instead."]
    assert "Traceback" not in bad.stderr


def test_multi_leader_accepts_the_short_wan_key(capsys):
    import json

    from replab.cli import main

    argv = ["simulate", "multi-leader", "--set", "duration_ms=400", "--seed", "2",
            "--format", "json"]
    assert main([*argv, "--set", "wan=const:30"]) == 0
    short = json.loads(capsys.readouterr().out)
    assert main([*argv, "--set", "wan_delay=const:30"]) == 0
    assert json.loads(capsys.readouterr().out) == short
    assert main([*argv, "--set", "wan=exp:-1"]) == 2
    assert "Got 'exp:-1' instead." in capsys.readouterr().err
