"""``replab sweep``: round trips, errors, and a sweep killed mid-run then resumed."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import replab
from replab.cli import main
from replab.cli.sweep_cmd import store_path
from replab.sweep import ResultStore
from replab.sweeps.spec import load_spec, run_spec

ROOT = Path(replab.__file__).resolve().parents[1]
SPEC = """
[sweep]
target = "staleness"
seed = 7
[fixed]
latency = "LNKD-SSD"
t = [0, 1, 10]
trials = 2000
[grid]
n = [3]
r = [1, 2, 3, 4]
w = [1, 2, 3]
"""
# Slow enough (about 25 ms a point, 36 points) to be killed part-way.
SLOW_SPEC = SPEC.replace("trials = 2000", "trials = 50000").replace(
    "seed = 7", "seed = 7\nreplications = 4\nbatch_size = 1"
).replace("r = [1, 2, 3, 4]", "r = [1, 2, 3]")


def _write(tmp_path: Path, text: str = SPEC, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _expected_csv(spec_path: Path) -> str:
    frame = run_spec(load_spec(spec_path), progress=False).frame
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return buf.getvalue()


def test_stdout_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _write(tmp_path)
    assert main(["sweep", str(spec), "--format", "csv", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert out == _expected_csv(spec)
    assert err == ("replab sweep: note: skipped 3 infeasible grid point(s), e.g. n=3, r=4, "
                   "w=1: r=4 > n=3\n")
    assert main(["sweep", str(spec), "--format", "json", "--no-progress"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 27 and records[0]["n"] == 3


def test_out_file_with_workers_and_summary(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    spec, out = _write(tmp_path), tmp_path / "res.csv"
    assert main(["sweep", str(spec), "--workers", "2", "--out", str(out), "--no-progress",
                 "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary == {"target": "staleness", "points": 9, "computed": 9, "reused": 0,
                       "skipped": 3, "rows": 27, "seconds": summary["seconds"],
                       "executor": "processes", "out": str(out)}
    assert out.read_text() == _expected_csv(spec)
    assert not store_path(out).exists()  # the parts are removed once the CSV is written


def test_dask_local_cluster_from_the_cli(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    spec, out = _write(tmp_path), tmp_path / "res.csv"
    assert main(["sweep", str(spec), "--workers", "2", "--executor", "dask", "--out",
                 str(out), "--no-progress"]) == 0
    assert "executor  dask" in capsys.readouterr().out
    assert out.read_text() == _expected_csv(spec)


@pytest.mark.parametrize(("args", "message"), [
    (["missing.toml"], "replab sweep: error: The sweep spec 'missing.toml' does not exist.\n"),
    (["{spec}", "--workers", "0"],
     "replab sweep: error: The '--workers' parameter must be an int in [1, inf). "
     "Got 0 instead.\n"),
    (["{spec}", "--resume"],
     "replab sweep: error: --resume needs --out PATH (the sweep's results live beside it).\n"),
    (["{bad}"],
     "replab sweep: error: The 'sweep.target' parameter of SweepSpec must be one of "
     "'availability', 'availability_correlated', 'fresh_read_probability', 'k_staleness', "
     "'lag-anomalies', 'latency_percentiles', 'leaderless', 'multi-leader', 'partitioned', "
     "'record-mariadb', 'record-postgres', 'replog', 'single-leader', 'staleness', "
     "'t_visibility'. Got 'nope' instead.\n"),
])
def test_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch, args: list[str],
                                    message: str) -> None:
    monkeypatch.chdir(tmp_path)
    spec = _write(tmp_path)
    bad = _write(tmp_path, SPEC.replace('"staleness"', '"nope"'), "bad.toml")
    argv = [a.format(spec=spec, bad=bad) for a in args]
    assert main(["sweep", *argv, "--no-progress"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", message)


def test_workers_and_scheduler_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["sweep", "s.toml", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])
    assert e.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_scheduler_needs_dask(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _write(tmp_path)
    assert main(["sweep", str(spec), "--scheduler", "tcp://127.0.0.1:1", "--executor",
                 "threads"]) == 2
    assert capsys.readouterr().err == (
        "replab sweep: error: --scheduler runs on Dask; it cannot be combined with "
        "--executor threads.\n")


def _cli(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "replab.cli", "sweep", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_sweep_resumes_to_exactly_the_serial_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sig: signal.Signals
) -> None:
    spec, out = _write(tmp_path, SLOW_SPEC), tmp_path / "res.csv"
    proc = _cli(str(spec), "--out", str(out), "--no-progress")
    parts = store_path(out)
    deadline = time.monotonic() + 60
    while len(list(parts.glob("part-*.csv"))) < 4 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(sig)  # SIGKILL: no chance to clean up; SIGINT: Ctrl-C
    _, err = proc.communicate(timeout=60)
    kept = len(ResultStore(parts))
    assert 4 <= kept < 36 and not out.exists()
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert err == (f"replab sweep: interrupted; {kept} finished points are kept, rerun "
                       "with --resume to continue\n")

    assert main(["sweep", str(spec), "--out", str(out), "--no-progress"]) == 2
    assert "pass --resume to continue it" in capsys.readouterr().err

    assert main(["sweep", str(spec), "--out", str(out), "--resume", "--no-progress",
                 "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["reused"], summary["computed"]) == (kept, 36 - kept)
    assert out.read_text() == _expected_csv(spec)
    frame = pd.read_csv(out)
    assert len(frame) == 36 * 3
    assert not frame.duplicated(["r", "w", "replication", "t"]).any()


def test_subprocess_matches_in_process(tmp_path: Path) -> None:
    spec = _write(tmp_path)
    proc = _cli(str(spec), "--format", "csv", "--no-progress")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out == _expected_csv(spec)
    bad = _cli(str(tmp_path / "missing.toml"))
    _, err = bad.communicate(timeout=60)
    assert bad.returncode == 2 and err.count("\n") == 1 and "does not exist" in err
