"""The postgres lab's configuration, command line and simulator mapping (no servers)."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from replab.cli import main
from replab.cli.record_postgres import parse_delays
from replab.errors import ConfigError, ReplabError
from replab.real.postgres import PgLabConfig
from replab.real.postgres import servers as postgres_servers
from replab.real.postgres.cluster import standby_names
from replab.real.postgres.compare import intervals_overlap, simulator_config
from replab.real.postgres.sweeps import agreement, agreement_table, explain_agreement


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"standbys": 4},
     "The 'standbys' parameter of PgLabConfig must be an int in [1, 3]. Got 4 instead."),
    ({"mode": "quorum"},
     "The 'mode' parameter of PgLabConfig must be one of 'async', 'sync', 'semi-sync'. "
     "Got 'quorum' instead."),
    ({"routing": "leader"},
     "The 'routing' parameter of PgLabConfig must be one of 'standby', 'primary', "
     "'own-writes-primary', 'wait-lsn', 'sticky'. Got 'leader' instead."),
    ({"standbys": 2, "apply_delay_ms": (1.0, 2.0, 3.0)},
     "The 'apply_delay_ms' parameter of PgLabConfig must be a float, or a tuple of one "
     "float per standby (standbys=2). Got (1.0, 2.0, 3.0) instead."),
    ({"apply_delay_ms": -5.0},
     "The 'apply_delay_ms' parameter of PgLabConfig must be a finite number in [0, 600000]. "
     "Got -5.0 instead."),
    ({"fault": "failover", "duration_s": 3.0, "stall_s": 2.5},
     "The 'stall_s' parameter of PgLabConfig must be a float in (0, duration_s - "
     "fault_at_s = 2]. Got 2.5 instead."),
    ({"fault": "stall", "fault_at_s": 10.0, "duration_s": 2.0},
     "The 'fault_at_s' parameter of PgLabConfig must be a float in [0, duration_s=2) when "
     "there is a fault. Got 10.0 instead."),
    ({"clients": 8, "keys": 4},
     "The 'keys' parameter of PgLabConfig must be an int in [clients=8, inf). Got 4 "
     "instead."),
])
def test_bad_config_names_parameter_range_and_value(kwargs, message):
    with pytest.raises(ConfigError) as info:
        PgLabConfig(**kwargs)
    assert str(info.value) == message


def test_delays_one_for_all_or_one_each():
    assert PgLabConfig(standbys=3, apply_delay_ms=50.0).delays() == (50.0, 50.0, 50.0)
    assert PgLabConfig(standbys=2, apply_delay_ms=(0.0, 200.0)).delays() == (0.0, 200.0)
    assert PgLabConfig(duration_s=6.0).fault_start_s() == 2.0
    assert parse_delays("100") == 100.0
    assert parse_delays("0,200") == (0.0, 200.0)
    with pytest.raises(ConfigError, match="comma-separated numbers. Got 'fast' instead"):
        parse_delays("fast")


def test_synchronous_standby_names_per_mode():
    names = ["s1", "s2", "s3"]
    assert standby_names("async", names) == ""
    assert standby_names("sync", names) == 'FIRST 3 ("s1", "s2", "s3")'
    assert standby_names("semi-sync", names) == 'FIRST 1 ("s1", "s2", "s3")'


def test_missing_server_binaries_say_what_to_install(monkeypatch):
    monkeypatch.setattr(postgres_servers.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres_servers.glob, "glob", lambda pattern: [])
    with pytest.raises(ReplabError) as info:
        postgres_servers.find_bindir()
    assert "install the 'postgresql' package" in str(info.value)
    assert "\n" not in str(info.value)


def test_cli_bad_input_is_one_line_exit_2(capsys, tmp_path):
    out = str(tmp_path / "h.jsonl")
    assert main(["record", "postgres", "--standbys", "5", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err == ("replab record: error: The 'standbys' parameter of PgLabConfig must be an "
                   "int in [1, 3]. Got 5 instead.\n")
    assert main(["record", "postgres", "--fault", "stall", "--compare", "--out", out]) == 2
    assert "--compare needs --fault none" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["record", "postgres", "--routing", "nearest", "--out", out])
    assert info.value.code == 2
    assert "invalid choice: 'nearest'" in capsys.readouterr().err


def _fake_result(routing: str, lag: float = 42.0) -> SimpleNamespace:
    config = PgLabConfig(standbys=2, routing=routing, apply_delay_ms=50.0, clients=3, keys=9,
                         own_reads=0.7, recent_window_ms=500.0)
    metrics = {"replay_lag_mean_ms": lag, "workload_s": 3.0, "ops_per_s": 300.0,
               "read_fraction": 0.75}
    return SimpleNamespace(config=config, metrics=metrics)


@pytest.mark.parametrize(("routing", "mitigation"), [
    ("standby", "none"), ("sticky", "sticky-user"), ("wait-lsn", "position-wait"),
    ("own-writes-primary", "recent-write-leader"), ("primary", "none"),
])
def test_simulator_gets_the_measured_shape(routing, mitigation):
    sim = simulator_config(_fake_result(routing))
    assert sim.mitigation == mitigation
    assert sim.lag_ms == (0.0 if routing == "primary" else 42.0)
    assert (sim.followers, sim.users, sim.keys, sim.rate, sim.read_fraction) == \
        (2, 3, 9, 300.0, 0.75)
    assert (sim.own_reads, sim.window_ms, sim.lag_dist) == (0.7, 500.0, "const")
    assert sim.duration_ms == 10000.0


def test_simulator_falls_back_to_configured_delay_without_lag_samples():
    assert simulator_config(_fake_result("standby", lag=float("nan"))).lag_ms == 50.0


def test_intervals_overlap_per_check():
    frame = pd.DataFrame({
        "check": ["stale-read", "stale-read", "read-your-writes", "read-your-writes"],
        "source": ["measured", "simulated", "measured", "simulated"],
        "ci_low": [0.10, 0.15, 0.10, 0.30], "ci_high": [0.20, 0.25, 0.20, 0.40]})
    got = intervals_overlap(frame)
    assert bool(got["stale-read"]) and not bool(got["read-your-writes"])


def _compare_rows(routing: str, delay: float, rates: dict[str, tuple[float, float, float]]):
    return [{"check": "stale-read", "source": src, "count": 1, "examined": 10, "rate": r,
             "ci_low": lo, "ci_high": hi, "lag_ms": 7.0 if src != "simulated-at-delay" else delay,
             "apply_delay_ms": delay, "routing": routing}
            for src, (r, lo, hi) in rates.items()]


def test_agreement_reads_both_predictions_and_explains_with_numbers():
    frame = pd.DataFrame(
        _compare_rows("standby", 10.0, {"measured": (0.05, 0.04, 0.08),
                                        "simulated": (0.02, 0.015, 0.03),
                                        "simulated-at-delay": (0.045, 0.038, 0.052)})
        + _compare_rows("sticky", 50.0, {"measured": (0.2, 0.17, 0.24),
                                         "simulated": (0.19, 0.18, 0.2),
                                         "simulated-at-delay": (0.3, 0.28, 0.32)}))
    table = agreement(frame)
    assert list(table["agree"]) == [False, True]
    assert list(table["agree_at_delay"]) == [True, False]
    assert list(table["lag_ms"]) == [7.0, 7.0]  # the measured lag, not the delay
    lines = explain_agreement(table)
    assert lines[0] == ("standby, apply delay 10 ms (measured lag 7.0 ms): measured stale-read "
                        "0.050 [0.040, 0.080], simulated 0.020 [0.015, 0.030]: DISAGREE; "
                        "simulated at the configured delay 0.045 [0.038, 0.052]: agree")
    assert lines[1].endswith("simulated 0.190 [0.180, 0.200]: agree")
    shown = agreement_table(table)
    assert list(shown["agree"]) == ["no", "yes"]
    assert shown.loc[0, "measured"] == "0.050 [0.040, 0.080]"


def test_free_ports_are_never_handed_out_twice_by_one_process():
    # two labs started at once (threads) pick ports before their servers bind them: a
    # port this process already handed out is not chosen again (1000 random picks among
    # 16384 ports would repeat one almost surely)
    from concurrent.futures import ThreadPoolExecutor

    from replab.real.processes import free_port

    with ThreadPoolExecutor(4) as pool:
        ports = list(pool.map(lambda _: free_port(below=32768), range(1000)))
    assert len(set(ports)) == len(ports) and all(16384 <= p < 32768 for p in ports)
