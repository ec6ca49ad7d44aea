import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from replab.cli import main
from replab.quorum import availability, simulate_wars, staleness


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_staleness_json_round_trip_matches_python(capsys):
    code, out, err = run(capsys, "staleness", "--n", "3", "--r", "1", "--w", "1",
                         "--profile", "LNKD-DISK", "--t", "0", "10", "--trials", "5000",
                         "--seed", "4", "--format", "json")
    assert code == 0 and err == ""
    got = pd.DataFrame(json.loads(out))
    want = staleness(3, 1, 1, "LNKD-DISK", [0, 10], trials=5000, seed=4)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_staleness_csv_with_spec_and_k(capsys):
    code, out, _ = run(capsys, "staleness", "--n", "3", "--r", "1", "--w", "1",
                       "--latency", "5+exp:0.1", "--t", "1", "--k", "2", "--trials", "2000",
                       "--seed", "1", "--format", "csv")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "t,p_consistent,ci_low,ci_high,trials"
    assert len(lines) == 2


def test_staleness_table_default_times(capsys):
    code, out, _ = run(capsys, "staleness", "--n", "3", "--r", "2", "--w", "2",
                       "--profile", "ymmr", "--trials", "1000", "--seed", "1")
    assert code == 0
    assert "p_consistent" in out and len(out.strip().splitlines()) == 9


def test_latency_and_t_visibility_and_availability(capsys):
    code, out, _ = run(capsys, "latency", "--n", "3", "--r", "1", "--w", "2", "--profile",
                       "WAN", "--q", "50", "99.9", "--trials", "2000", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and [(r["operation"], r["percentile"]) for r in rows] == [
        ("read", 50.0), ("read", 99.9), ("write", 50.0), ("write", 99.9)]
    code, out, _ = run(capsys, "t-visibility", "--n", "3", "--r", "1", "--w", "1",
                       "--profile", "LNKD-SSD", "--p", "0.999", "--trials", "5000",
                       "--format", "json")
    assert code == 0 and json.loads(out)[0]["p_target"] == 0.999
    code, out, _ = run(capsys, "availability", "--n", "5", "--r", "3", "--w", "3",
                       "--p-fail", "0.1", "--format", "json")
    assert code == 0
    assert json.loads(out)[0]["p_read_available"] == pytest.approx(
        availability(5, 3, 3, 0.1).p_read_available[0])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["staleness", "--n", "3", "--r", "4", "--w", "1", "--profile", "YMMR"],
         "replab staleness: error: The 'r' parameter of QuorumConfig must be an int in "
         "[1, n=3]. Got 4 instead."),
        (["staleness", "--n", "0", "--r", "1", "--w", "1", "--profile", "YMMR"],
         "replab staleness: error: The 'n' parameter of QuorumConfig must be an int in "
         "[1, inf). Got 0 instead."),
        (["staleness", "--n", "3", "--r", "1", "--w", "1", "--profile", "YMMR", "--t", "-2"],
         "replab staleness: error: The 't' parameter must be a finite time >= 0 (ms). "
         "Got -2.0 instead."),
        (["staleness", "--n", "3", "--r", "1", "--w", "1", "--profile", "nope"],
         "replab staleness: error: The 'profile' parameter must be one of LNKD-SSD, "
         "LNKD-DISK, YMMR, WAN. Got 'nope' instead."),
        (["availability", "--n", "3", "--r", "1", "--w", "1", "--p-fail", "nan"],
         "replab availability: error: The 'p_fail' parameter of availability must be a "
         "finite number in [0, 1]. Got nan instead."),
        (["availability", "--n", "3", "--r", "1", "--w", "1", "--p-fail", "-0.1"],
         "replab availability: error: The 'p_fail' parameter of availability must be a "
         "finite number in [0, 1]. Got -0.1 instead."),
        (["staleness", "--n", "3", "--r", "1", "--w", "1", "--profile", "YMMR",
          "--trials", "-5"],
         "replab staleness: error: The 'trials' parameter of simulate_wars must be an int "
         "in [1, inf). Got -5 instead."),
        (["staleness", "--n", "x", "--r", "1", "--w", "1", "--profile", "YMMR"],
         "replab staleness: error: argument --n: invalid int value: 'x'"),
        (["t-visibility", "--n", "3", "--r", "1", "--w", "1", "--profile", "YMMR",
          "--trials", "100000000000"],
         "replab t-visibility: error: The 'trials' parameter of replab t-visibility must be "
         "at most 6,000,000,000 with n=3 on 1 worker (about 16.7 h estimated, limit 1 h; "
         "raise it with --max-seconds or REPLAB_MAX_SECONDS). Got 100000000000 instead."),
        (["staleness", "--n", "3", "--r", "1", "--w", "1", "--profile", "YMMR",
          "--trials", "100000", "--max-seconds", "0.01"],
         "replab staleness: error: The 'trials' parameter of replab staleness must be at "
         "most 33,333 with n=3 on 1 worker (about 0.03 s estimated, limit 0.01 s; raise it "
         "with --max-seconds or REPLAB_MAX_SECONDS). Got 100000 instead."),
        (["latency", "--n", "3", "--r", "1", "--w", "1", "--profile", "YMMR",
          "--workers", "0"],
         "replab latency: error: The 'workers' parameter of replab latency must be an int "
         "in [1, inf). Got 0 instead."),
        (["latency", "--n", "3", "--r", "1", "--w", "1", "--profile", "YMMR",
          "--max-seconds", "nan"],
         "replab latency: error: The 'max_seconds' parameter of replab latency must be a "
         "finite number > 0. Got nan instead."),
        (["latency", "--n", "3", "--r", "1", "--w", "1", "--profile", "YMMR",
          "--chunk-size", "-1"],
         "replab latency: error: The 'chunk_size' parameter of replab latency must be an "
         "int in [1, inf). Got -1 instead."),
        (["latency", "--n", "3", "--r", "1", "--w", "1", "--profile", "YMMR",
          "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
         "replab latency: error: argument --scheduler: not allowed with argument --workers"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, message):
    code = None
    try:
        code = main(argv)
    except SystemExit as e:  # argparse errors exit directly
        code = e.code
    out, err = capsys.readouterr()
    assert code == 2
    assert err == message + "\n"
    assert out == ""


def test_malformed_spec_is_one_line(capsys):
    code, _, err = run(capsys, "staleness", "--n", "3", "--r", "1", "--w", "1",
                       "--latency", "exp:abc")
    assert code == 2
    assert err.count("\n") == 1
    assert "Got 'exp:abc' instead." in err


def test_console_script_subprocess():
    p = subprocess.run([sys.executable, "-m", "replab.cli", "staleness", "--n", "3", "--r",
                        "9", "--w", "1", "--profile", "YMMR"], capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "replab staleness: error: The 'r' parameter of QuorumConfig must be an int in "
        "[1, n=3]. Got 9 instead."]
    assert "Traceback" not in p.stderr
    ok = subprocess.run([sys.executable, "-m", "replab.cli", "availability", "--n", "3",
                         "--r", "2", "--w", "2", "--p-fail", "0.5", "--format", "csv"],
                        capture_output=True, text=True, check=True)
    assert ok.stdout.splitlines()[1] == "0.5,0.5,0.5,0.5"


BIG = ["--n", "3", "--r", "1", "--w", "1", "--profile", "LNKD-DISK", "--trials", "60000",
       "--chunk-size", "16384", "--seed", "9", "--format", "json"]


@pytest.mark.parametrize("command, extra", [
    ("staleness", ["--t", "0", "5", "50"]),
    ("t-visibility", ["--p", "0.5", "0.999"]),
    ("latency", ["--q", "50", "99.9"]),
])
def test_workers_stream_the_same_numbers_as_python(capsys, command, extra):
    code, serial, err = run(capsys, command, *BIG, *extra)
    assert code == 0 and err == ""
    code, pooled, err = run(capsys, command, *BIG, *extra, "--workers", "2")
    assert code == 0 and err == "" and pooled == serial
    res = simulate_wars(3, 1, 1, "LNKD-DISK", trials=60_000, chunk_size=16_384, seed=9)
    want = {"staleness": lambda: res.staleness([0, 5, 50]),
            "t-visibility": lambda: res.t_visibility([0.5, 0.999]),
            "latency": lambda: res.latency_percentiles([50, 99.9])}[command]()
    pd.testing.assert_frame_equal(pd.DataFrame(json.loads(serial)), want, check_dtype=False)


def test_ctrl_c_stops_a_long_run_with_one_line():
    p = subprocess.Popen([sys.executable, "-m", "replab.cli", "t-visibility", "--n", "3",
                          "--r", "1", "--w", "1", "--profile", "LNKD-DISK", "--trials",
                          "100000000", "--chunk-size", "65536", "--workers", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        children = Path(f"/proc/{p.pid}/task/{p.pid}/children")
        deadline = time.monotonic() + 60
        while not children.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.1)  # until the pool's workers run chunks (imports are done)
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    assert p.returncode == 130
    assert err == "replab t-visibility: interrupted\n" and out == ""


def test_scheduler_runs_the_chunks_on_a_dask_cluster(capsys):
    distributed = pytest.importorskip("distributed")
    argv = ["t-visibility", *BIG, "--p", "0.5", "0.999"]
    code, serial, _ = run(capsys, *argv)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  host="127.0.0.1", protocol="tcp://",
                                  dashboard_address=None) as cluster:
        code, on_dask, err = run(capsys, *argv, "--scheduler", cluster.scheduler_address)
    assert code == 0 and on_dask == serial


KEEP = """
import resource, numpy as np
from replab.sweeps.executors import keep_freed_memory
kept = keep_freed_memory() if {keep} else None
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):  # a chunk's arrays (n = 3), drawn and dropped again and again
    a, b = np.ones((3, 1 << 20)), np.ones((3, 1 << 20))
    del a, b
before = faults()
a, b = np.ones((3, 1 << 20)), np.ones((3, 1 << 20))
print(kept, faults() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_streamed_commands_reuse_freed_chunk_memory():
    # the next chunk's arrays reuse the last one's pages instead of faulting in new ones
    def run(keep: bool) -> list[str]:
        out = subprocess.run([sys.executable, "-c", KEEP.format(keep=keep)], check=True,
                             capture_output=True, text=True).stdout
        return out.split()

    if int(run(False)[1]) < 200:  # glibc's default gives the memory back, faults it in
        pytest.skip("this kernel maps the arrays in with few faults anyway")
    kept, faults = run(True)
    assert kept == "True" and int(faults) < 50
