"""``replab simulate leaderless``: metrics, frames, history files, errors as one line."""

import hashlib
import json
import subprocess
import sys

import pytest

from replab.cli import main
from replab.history import History
from replab.models import LeaderlessConfig, simulate_leaderless

PBS = ["--set", "workload=pbs", "--set", "r=1", "--set", "w=1", "--set", "trials=500",
       "--set", "latency=LNKD-DISK", "--set", "read_delay=2"]


def test_pbs_metrics_as_json_match_the_api(capsys):
    assert main(["simulate", "leaderless", *PBS, "--seed", "4", "--format", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    cfg = LeaderlessConfig(workload="pbs", r=1, w=1, trials=500, latency="LNKD-DISK",
                           read_delay=2.0)
    want = simulate_leaderless(cfg, seed=4).metrics
    assert got["stale_read_rate"] == pytest.approx(want["stale_read_rate"])
    assert got["trials"] == 500


def test_table_and_frames(capsys):
    assert main(["simulate", "leaderless", "--set", "duration_ms=300", "--set", "read_repair=0.5",
                 "--set", "anti_entropy_interval_ms=100", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "stale_read_rate" in out and "write_availability" in out
    for show, column in (("staleness", "stale_fraction"), ("final-lag", "versions_behind"),
                         ("anti-entropy", "keys_exchanged"), ("writes", "discarded")):
        assert main(["simulate", "leaderless", "--set", "duration_ms=300", "--set",
                     "anti_entropy_interval_ms=100", "--show", show, "--seed", "1"]) == 0
        assert column in capsys.readouterr().out
    assert main(["simulate", "leaderless", *PBS, "--show", "trials", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 500


def test_scenarios(capsys):
    assert main(["simulate", "leaderless", "--show", "scenarios", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["anomaly"] for r in rows] == [True] * 4


@pytest.mark.parametrize(("argv", "message"), [
    (["--set", "w=9"], "The 'w' parameter of LeaderlessConfig must be an int in [1, n=3]. "
                       "Got 9 instead."),
    (["--set", "colour=red"], "Unknown setting 'colour' for LeaderlessConfig"),
    (["--set", "sloppy=perhaps"], "The 'sloppy' parameter of LeaderlessConfig must be bool."),
    (["--set", "n"], "--set expects KEY=VALUE. Got 'n' instead."),
    (["--set", "latency=nope:1"], "The 'latency' parameter of LeaderlessConfig must be"),
    (["--set", "workload=pbs", "--set", "read_repair=1"],
     "The 'read_repair' parameter of LeaderlessConfig must be False with workload='pbs'."),
    (["--seed", "-1"], "The 'seed' parameter of replab simulate leaderless must be an int >= 0."),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
    assert main(["simulate", "leaderless", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_subprocess_history_is_reproducible(tmp_path):
    paths = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for p in paths:
        proc = subprocess.run(
            [sys.executable, "-m", "replab.cli", "simulate", "leaderless", "--set",
             "duration_ms=300", "--set", "resolution=siblings", "--seed", "7", "--history", str(p)],
            capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
    a, b = (hashlib.sha256(p.read_bytes()).hexdigest() for p in paths)
    assert a == b
    in_process = tmp_path / "c.jsonl"
    simulate_leaderless(LeaderlessConfig(duration_ms=300.0, resolution="siblings"),
                        seed=7).history.to_jsonl(in_process)
    assert hashlib.sha256(in_process.read_bytes()).hexdigest() == a
    assert len(History.read_jsonl(paths[0])) > 50
    bad = subprocess.run([sys.executable, "-m", "replab.cli", "simulate", "leaderless",
                          "--set", "r=0"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
