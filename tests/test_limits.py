"""Resource checks (replab.limits), list settings and --help tables (replab.cli._settings),
tasks.py's commands, and the dashboard's Ctrl-C stop."""

from __future__ import annotations

import importlib.util
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from replab.cli import main
from replab.cli._settings import allowed_values, parse_list, settings_help
from replab.errors import ConfigError
from replab.limits import (
    check_folder,
    check_output_file,
    check_simulation,
    check_wars_memory,
    check_wars_time,
    estimate_events,
    wars_chunk_trials,
)
from replab.models import SingleLeaderConfig
from replab.models.multi_leader import MultiLeaderConfig

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ memory


def test_wars_memory_is_one_chunk_whatever_the_trials(monkeypatch):
    assert check_wars_memory(3, 1000, "x") == 64 * 4 * 1000
    one_chunk = 64 * 4 * 2**20
    assert check_wars_memory(3, 2**20, "x") == one_chunk
    monkeypatch.setenv("REPLAB_MAX_MEMORY_GB", "0.5")  # 10^13 trials no longer refused
    assert check_wars_memory(3, 10**13, "replab staleness") == one_chunk < 2**30


def test_an_impossible_n_is_blamed_on_n():
    with pytest.raises(ConfigError, match=re.escape(
            "The 'n' parameter of s must be at most 33,553 replicas with chunks of 1,000 "
            "trials (memory limit 2 GiB; set REPLAB_MAX_MEMORY_GB to raise it). "
            "Got 100000000 instead.")):
        check_wars_memory(10**8, 1000, "s")
    assert check_wars_memory(33_553, 1000, "s") <= 2**31
    assert check_wars_memory(32_767, 10**9, "s") <= 2**31  # chunks of 1,024 trials


def test_chunk_rule_of_the_limits_is_the_estimators():
    from replab.quorum.chunks import default_chunk_size

    for n in [1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 1000, 8191, 8192, 10**5]:
        assert wars_chunk_trials(n) == default_chunk_size(n)


def test_wars_time_refuses_above_the_limit_naming_it(monkeypatch):
    assert check_wars_time(3, 10**9, "x", passes=2) == pytest.approx(600.0)
    with pytest.raises(ConfigError, match=re.escape(
            "The 'trials' parameter of replab t-visibility must be at most 6,000,000,000 "
            "with n=3 on 1 worker (about 16.7 h estimated, limit 1 h; raise it with "
            "--max-seconds or REPLAB_MAX_SECONDS). Got 100000000000 instead.")):
        check_wars_time(3, 10**11, "replab t-visibility", passes=2)
    assert check_wars_time(3, 10**11, "x", passes=2, workers=100) == pytest.approx(600.0)
    with pytest.raises(ConfigError, match=re.escape(
            "must be at most 6,666 with n=3 on 2 workers (about 1.5 s estimated, limit 0.001 s;")):
        check_wars_time(3, 10**7, "x", passes=1, workers=2, limit=1e-3)
    monkeypatch.setenv("REPLAB_MAX_SECONDS", "86400")
    assert check_wars_time(3, 10**11, "x", passes=2) > 3600


@pytest.mark.parametrize("raw", ["0", "-1", "nan", "lots"])
def test_a_bad_limit_in_the_environment_is_named(monkeypatch, raw):
    monkeypatch.setenv("REPLAB_MAX_MEMORY_GB", raw)
    with pytest.raises(ConfigError, match=re.escape(
            f"The environment variable REPLAB_MAX_MEMORY_GB must be a number > 0. "
            f"Got {raw!r} instead.")):
        check_wars_memory(3, 10, "x")


def test_raising_the_limit_lets_a_wide_quorum_through(monkeypatch):
    monkeypatch.setenv("REPLAB_MAX_MEMORY_GB", "4096")
    assert check_wars_memory(10**7, 10**10, "x") > 2**39


# ------------------------------------------------------------------ simulations


def test_event_estimate_counts_operations_and_ticks():
    events, blame = estimate_events(SingleLeaderConfig())
    # 2 s x 200 ops/s + 2000/50 heartbeats + 2000/10 samples, about 10 events each
    assert 5_000 < events < 20_000 and blame == "duration_ms"
    events, blame = estimate_events(SingleLeaderConfig(duration_ms=1e6))
    assert blame == "duration_ms" and events > 2e6


def test_simulated_time_and_events_are_bounded_with_the_parameter_named(monkeypatch):
    with pytest.raises(ConfigError, match=re.escape(
            "The 'duration_ms' parameter of SLC must be at most 1e+09 ms of simulated time "
            "(about 11.6 days). Got 1e+300 instead.")):
        check_simulation(SingleLeaderConfig(duration_ms=1e300), "SLC")
    with pytest.raises(ConfigError, match="^The 'heartbeat_interval_ms' parameter of SLC must "
                       "be small enough for at most 1e"):
        check_simulation(SingleLeaderConfig(heartbeat_interval_ms=1e-6), "SLC")
    monkeypatch.setenv("REPLAB_MAX_EVENTS", "1000")
    with pytest.raises(ConfigError, match="at most 1e\\+03 simulated events"):
        check_simulation(SingleLeaderConfig(), "SLC")


def test_defaults_of_every_model_pass_the_checks():
    from replab.cli.simulate_cmd import MODELS

    for config_cls, _ in MODELS.values():
        check_simulation(config_cls(), config_cls.__name__)


# ------------------------------------------------------------------ files


def test_output_file_needs_an_existing_folder(tmp_path):
    assert check_output_file(tmp_path / "r.csv", "--out") == tmp_path / "r.csv"
    with pytest.raises(ConfigError, match=re.escape(
            "The '--out' option must name a file in an existing folder ('/nonexistent/dir' "
            "does not exist). Got '/nonexistent/dir/r.csv' instead.")):
        check_output_file("/nonexistent/dir/r.csv", "--out")
    with pytest.raises(ConfigError, match="must name a file, not a folder"):
        check_output_file(tmp_path, "--out")
    with pytest.raises(ConfigError, match="must name an existing folder"):
        check_folder(tmp_path / "nope", "--notebooks")


def test_sweep_out_in_a_missing_folder_creates_nothing(tmp_path, capsys):
    out = tmp_path / "missing" / "r.csv"
    assert main(["sweep", str(ROOT / "data/sweeps/availability.toml"), "--out", str(out)]) == 2
    assert "existing folder" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()


# ------------------------------------------------------------------ list settings


@pytest.mark.parametrize("raw, parsed", [
    ("", ()),
    ("500,crash,node=0; 1500,restart,node=0",
     ((500, "crash", {"node": 0}), (1500, "restart", {"node": 0}))),
    ("100,partition,groups=[[0],[1,2]],duration_ms=50",
     ((100, "partition", {"groups": [[0], [1, 2]], "duration_ms": 50}),)),
    ("dc0,dc2,const:300", (("dc0", "dc2", "const:300"),)),
    ('[[500, "crash", {"node": 0}]]', ((500, "crash", {"node": 0}),)),
    ("nan,crash,node=0", (("nan", "crash", {"node": 0}),)),
])
def test_list_settings_short_form_and_json(raw, parsed):
    assert parse_list(raw, "faults", "X") == parsed


def test_bad_json_list_names_the_syntax():
    with pytest.raises(ConfigError, match="^The 'faults' parameter of X must be a list written "
                       "as ITEM;ITEM;"):
        parse_list("[1, 2", "faults", "X")


def test_faults_from_the_command_line_reach_the_model(capsys):
    assert main(["simulate", "single-leader", "--set", "faults=500,crash,node=0",
                 "--format", "json"]) == 0
    assert '"failovers": 1' in capsys.readouterr().out
    assert main(["simulate", "multi-leader", "--set", "link_delays=dc0,dc2,const:300"]) == 0


def test_a_bad_list_setting_shows_the_syntax(capsys):
    assert main(["simulate", "single-leader", "--set", "faults=garbage"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("replab simulate: error: The 'faults' parameter of "
                          "SingleLeaderConfig must be a list of (time, action, args) faults.")
    assert "On the command line write --set faults=ITEM;ITEM;" in err


def test_help_lists_type_default_and_allowed_values_from_the_validator():
    text = settings_help(SingleLeaderConfig)
    assert "  mode : str = 'async'\n      one of 'async', 'sync', 'semi-sync'" in text
    assert "  followers : int = 2\n      an int in [0, 64]" in text
    assert "  faults : tuple = ()" in text and "on the command line: ITEM;ITEM;" in text
    assert allowed_values(MultiLeaderConfig, "link_delays").startswith("a list of (leader,")


def test_simulate_help_shows_the_settings(capsys):
    with pytest.raises(SystemExit) as e:
        main(["simulate", "leaderless", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "settings (--set KEY=VALUE, repeatable; LeaderlessConfig):" in out
    assert "  resolution : str = 'lww'\n      one of 'lww', 'siblings'" in out


# ------------------------------------------------------------------ tasks.py


def _tasks():
    spec = importlib.util.spec_from_file_location("tasks_under_test", ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tasks_help_lists_every_command():
    done = subprocess.run([sys.executable, str(ROOT / "tasks.py"), "--help"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    for command in ("lab", "test", "replab"):
        assert re.search(rf"^  {command} +install into \.venv", done.stdout, re.M)


def test_tasks_without_a_command_prints_usage_and_fails():
    # (an unknown command is named instead: tests/test_sweep_stop.py)
    done = subprocess.run([sys.executable, str(ROOT / "tasks.py")],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and "usage: python3 tasks.py COMMAND" in done.stderr


def test_tasks_replab_runs_the_cli_from_the_venv(monkeypatch):
    tasks = _tasks()
    calls = []
    monkeypatch.setattr(tasks, "ensure_env", lambda: calls.append("env"))
    monkeypatch.setattr(tasks.os, "execv", lambda path, argv: calls.append(argv))
    tasks.replab(["staleness", "--help"])
    assert calls == ["env", [str(tasks.PY), "-m", "replab.cli", "staleness", "--help"]]


def test_tasks_test_uses_two_workers_unless_told(monkeypatch):
    tasks = _tasks()
    assert tasks._wants_workers([]) and tasks._wants_workers(["-k", "quorum"])
    assert not tasks._wants_workers(["-n", "0"]) and not tasks._wants_workers(["-n4"])
    assert not tasks._wants_workers(["-p", "no:xdist"])


# ------------------------------------------------------------------ dashboard


def test_dashboard_stop_survives_more_ctrl_c_and_returns_0():
    from replab.dashboard import stop

    # A child that, like Voila, needs a moment to shut down after SIGINT.
    child = subprocess.Popen([sys.executable, "-c", (
        "import signal, time, sys\n"
        "signal.signal(signal.SIGINT, lambda *a: (time.sleep(0.5), sys.exit(0)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(30)\n")], stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert child.stdout.readline() == b"ready\n"
        previous = signal.getsignal(signal.SIGINT)
        assert stop(child) == 0
        assert child.returncode == 0
        assert signal.getsignal(signal.SIGINT) is previous
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_busy_port_is_refused_before_voila_starts():
    import socket

    from replab.dashboard import check_port_free

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(ConfigError, match=f"must be a free port on 127.0.0.1; {port} is"):
            check_port_free(port)


# ------------------------------------------------------------------ specs and latency files


def test_a_top_level_key_in_a_sweep_spec_names_its_table():
    from replab.sweeps.spec import spec_from_dict

    with pytest.raises(ConfigError, match=re.escape(
            "The key 'target' is at the top of the sweep spec, outside any table; put it "
            "under [sweep] (a key belongs to the last [table] line above it).")):
        spec_from_dict({"target": "staleness", "sweep": {"seed": 1}, "grid": {"n": [3]}})
    with pytest.raises(ConfigError, match="The key 'n' is at the top .* under \\[fixed\\] or "
                       "\\[grid\\]"):
        spec_from_dict({"n": 3})


def test_every_shipped_sweep_spec_loads():
    from replab.sweeps.spec import load_spec

    specs = sorted((ROOT / "data" / "sweeps").glob("*.toml"))
    assert len(specs) >= 4
    for path in specs:
        load_spec(path)


def test_the_example_latency_file_is_real_data():
    from replab.latency import Empirical

    dist = Empirical.from_csv(ROOT / "data" / "example_latencies.csv")
    assert dist.values.size == 2000 and 0 < dist.values.min() < dist.mean < 10
    assert len(set(dist.values.tolist())) > 500  # measured, not a handful of made-up numbers


def test_a_csv_that_is_not_one_column_of_numbers_is_named(tmp_path):
    from replab.latency import parse_spec

    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2,3,4\n")
    with pytest.raises(ConfigError, match="must name a CSV with one column of latencies"):
        parse_spec(f"empirical:{bad}")


@pytest.mark.parametrize("spec", ["exp:1e-308", "1e308+exp:1", "0.5*const:1e300|0.5*exp:1"])
def test_a_latency_spec_with_an_absurd_mean_is_refused(spec):
    from replab.latency import parse_spec

    with pytest.raises(ConfigError, match="mean delay .* ms is beyond 1e\\+12 ms"):
        parse_spec(spec)
