"""The model sweep examples in data/sweeps/ run serially, on 2 workers and on Dask with
identical results, and resume after Ctrl-C to the same result (at small sizes)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from replab.cli import main
from replab.cli.sweep_cmd import store_path
from replab.sweeps.engine import open_executor
from replab.sweeps.spec import run_spec, spec_from_dict

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["leaderless_stale_reads", "single_leader_failover", "anomaly_mitigation"]


def shrunk(name: str) -> dict[str, Any]:
    """The example's tables, with two values an axis, two runs a point, short runs."""
    data = tomllib.loads((ROOT / "data" / "sweeps" / f"{name}.toml").read_text())
    data["sweep"]["replications"] = 2
    data["grid"] = {k: v[:2] for k, v in data["grid"].items()}
    data["fixed"]["duration_ms"] = 400
    if "leader_crash_at_ms" in data["fixed"]:
        data["fixed"]["leader_crash_at_ms"] = 200
    return data


def as_toml(data: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        return f'"{v}"' if isinstance(v, str) else str(v).lower() if isinstance(v, bool) \
            else f"[{', '.join(value(x) for x in v)}]" if isinstance(v, list) else repr(v)

    return "".join(f"[{table}]\n" + "".join(f"{k} = {value(v)}\n" for k, v in rows.items())
                   for table, rows in data.items())


@pytest.fixture(scope="module")
def dask() -> Any:
    pytest.importorskip("distributed")
    from replab.sweeps.executors import dask_client

    with dask_client(workers=2, processes=False) as client:
        yield client


def test_the_examples_load_and_name_model_targets() -> None:
    for name in EXAMPLES:
        spec = spec_from_dict(tomllib.loads((ROOT / "data/sweeps" / f"{name}.toml").read_text()))
        assert spec.replications >= 3 and spec.target in ("leaderless", "single-leader",
                                                          "lag-anomalies")


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_example_gives_the_same_frame_serially_on_2_workers_and_on_dask(name, dask) -> None:
    spec = spec_from_dict(shrunk(name))
    serial = run_spec(spec, progress=False).frame
    with open_executor("processes", workers=2) as pool:
        on_pool = run_spec(spec, executor=pool, progress=False).frame
    on_dask = run_spec(spec, executor=dask, progress=False).frame
    pd.testing.assert_frame_equal(serial, on_pool)
    pd.testing.assert_frame_equal(serial, on_dask)
    assert len(serial) == 2 * (4 if len(spec.grid) == 2 else 2)  # runs: points x 2


def test_the_cli_runs_an_example_on_a_dask_cluster(tmp_path, capsys, dask) -> None:
    spec = tmp_path / "anomalies.toml"
    spec.write_text(as_toml(shrunk("anomaly_mitigation")))
    assert main(["sweep", str(spec), "--format", "csv", "--no-progress", "--summary"]) == 0
    serial = capsys.readouterr().out
    assert main(["sweep", str(spec), "--format", "csv", "--no-progress", "--summary",
                 "--scheduler", dask.scheduler.address]) == 0
    assert capsys.readouterr().out == serial
    summary = pd.read_csv(io.StringIO(serial))
    assert summary.runs.tolist() == [2, 2, 2, 2]
    assert {"read_your_writes_rate_ci_low", "read_your_writes_rate_ci_high"} <= set(summary)


def test_an_example_resumes_after_ctrl_c_to_the_same_result(tmp_path) -> None:
    data = shrunk("leaderless_stale_reads")
    data["sweep"]["batch_size"] = 1  # one point a part: Ctrl-C lands between parts
    spec = tmp_path / "stale.toml"
    spec.write_text(as_toml(data))
    out = tmp_path / "stale.csv"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "replab.cli", "sweep", str(spec), "--out",
                             str(out), "--workers", "2", "--no-progress"], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(store_path(out).glob("part-*.csv")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.count("\n") == 1, err
    assert "finished points are kept, rerun with --resume" in err and not out.exists()
    assert main(["sweep", str(spec), "--out", str(out), "--resume", "--workers", "2",
                 "--no-progress"]) == 0
    resumed = pd.read_csv(out)
    serial = run_spec(spec_from_dict(data), progress=False).frame
    pd.testing.assert_frame_equal(resumed, pd.read_csv(io.StringIO(serial.to_csv(index=False))))
