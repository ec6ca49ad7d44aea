"""The lab against real PostgreSQL servers (one shared cluster; each run a few seconds)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from replab.cli import main
from replab.errors import ConfigError, ReplabError
from replab.real.postgres import PgLabConfig, run_postgres_lab
from replab.real.postgres.cluster import PgCluster
from replab.real.postgres.compare import compare_with_simulator, intervals_overlap
from replab.real.postgres.faults import NEMESIS_FS

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cluster():
    with PgCluster(standbys=2) as c:
        yield c
    assert_nothing_left(c.pids() or _all_pids(c), c.ports())


def _all_pids(c: PgCluster) -> list[int]:
    return [s.proc.pid for s in c.servers() + c.retired if s.proc is not None]


def assert_nothing_left(pids: list[int], ports: list[int]) -> None:
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", f"PID {pid} still runs"
    for port in ports:
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still listens"


def run(cluster, seed=1, **kw):
    cfg = PgLabConfig(standbys=2, duration_s=kw.pop("duration_s", 1.5), **kw)
    return run_postgres_lab(cfg, seed=seed, cluster=cluster)


def counts(result) -> dict[str, tuple[int | None, int]]:
    """check -> (count, examined); count None when the check did not examine (pd.NA)."""
    return {r["check"]: (None if pd.isna(r["count"]) else int(r["count"]), int(r["examined"]))
            for r in result.checks.to_dict("records")}


def assert_history_well_formed(history) -> None:
    """Every completion matches its process's pending invoke (same f and key); ok writes
    carry a version, ok reads a version and a node; faults are nemesis info ops."""
    pending: dict[object, dict] = {}
    for op in history:
        if op["process"] == "nemesis":
            assert op["type"] == "info" and op["f"] in NEMESIS_FS and op["key"] is None
            continue
        if op["type"] == "invoke":
            assert op["process"] not in pending
            pending[op["process"]] = op
            continue
        inv = pending.pop(op["process"])
        assert (inv["f"], inv["key"]) == (op["f"], op["key"])
        if op["type"] == "ok":
            assert isinstance(op["version"], int) and op["node"]
            if op["f"] == "write":
                assert op["value"] == inv["value"]
    assert not pending


def test_async_with_apply_delay_reads_stale_from_standbys(cluster):
    res = run(cluster, apply_delay_ms=100.0, routing="standby")
    c = counts(res)
    assert c["stale-read"][0] > 0 and c["read-your-writes"][0] > 0
    assert c["lost-write"] == (0, res.metrics["writes_ok"])
    assert_history_well_formed(res.history)
    nodes = set(res.history.df.query("type == 'ok' and f == 'read'")["node"])
    assert nodes <= {"s1", "s2", "primary"} and {"s1", "s2"} <= nodes
    lag = res.lag
    assert set(lag["standby"]) == {"s1", "s2"}
    assert lag["replay_lag_ms"].max() > 50.0  # the 100 ms delay shows in the lag
    assert (lag["replay_distance_bytes"] >= 0).all()


def test_primary_routing_reads_nothing_stale(cluster):
    res = run(cluster, apply_delay_ms=100.0, routing="primary", max_ops=400)
    assert res.metrics["ops"] <= 400  # bounded by operations before the 1.5 s
    c = counts(res)
    assert c["stale-read"][0] == 0 and c["stale-read"][1] > 100
    assert c["read-your-writes"][0] == 0 and c["read-your-writes"][1] > 50
    assert res.metrics["reads_on_primary_share"] == 1.0


def test_wait_lsn_reads_your_writes(cluster):
    res = run(cluster, apply_delay_ms=100.0, routing="wait-lsn")
    c = counts(res)
    assert c["read-your-writes"][0] == 0 and c["read-your-writes"][1] > 10
    assert res.metrics["reads_waited"] > 0
    assert res.metrics["reads_on_primary_share"] < 0.5  # it waited, it did not redirect


def test_sync_remote_apply_never_reads_stale_after_the_ack(cluster):
    res = run(cluster, mode="sync", commit_level="remote_apply", apply_delay_ms=30.0)
    c = counts(res)
    assert c["stale-read"][0] == 0 and c["stale-read"][1] > 20
    assert c["read-your-writes"][0] == 0
    df = res.history.df
    writes = df[df["f"] == "write"]
    inv = writes[writes["type"] == "invoke"].groupby("process")["time"].apply(list)
    ok = writes[writes["type"] == "ok"].groupby("process")["time"].apply(list)
    latency = [b - a for p in ok.index for a, b in zip(inv[p], ok[p], strict=False)]
    assert min(latency) >= 25.0  # every commit waited for the delayed apply


def test_stall_is_recorded_and_resumed(cluster):
    res = run(cluster, fault="stall", stall_s=0.5, duration_s=1.5, fault_at_s=0.3)
    assert list(res.faults["f"]) == ["stall", "resume"]
    assert res.faults["value"].iloc[0] == ["s1", "s2"]
    nemesis = [op for op in res.history if op["process"] == "nemesis"]
    assert [op["f"] for op in nemesis] == ["stall", "resume"]
    assert_history_well_formed(res.history)
    cluster.wait_caught_up(timeout_s=10.0)  # the walsenders run again


def test_simulator_agrees_at_a_moderate_delay(cluster):
    res = run(cluster, apply_delay_ms=50.0, routing="standby", duration_s=3.0, seed=7)
    frame = compare_with_simulator(res, seed=7)
    assert set(frame["source"]) == {"measured", "simulated", "simulated-at-delay"}
    at_delay = frame[frame["source"] == "simulated-at-delay"]
    assert (at_delay["lag_ms"] == 50.0).all()
    assert bool(intervals_overlap(frame)["stale-read"]), frame.to_string()


def _shm_segments() -> set[str]:
    return {p.name for p in Path("/dev/shm").glob("PostgreSQL.*")}


def test_failover_loses_acknowledged_writes_and_the_data_confirms_it():
    shm = _shm_segments()  # the killed primary's dynamic shared memory must not outlive it
    with PgCluster(standbys=1) as c:
        cfg = PgLabConfig(standbys=1, fault="failover", stall_s=0.8, duration_s=2.0,
                          fault_at_s=0.3)
        res = run_postgres_lab(cfg, seed=3, cluster=c)
        assert list(res.faults["f"]) == ["stall", "kill", "promote", "rewind"]
        m = res.metrics
        assert m["lost_acknowledged"] > 0
        # the checker's count is the old primary's data: every acknowledged write only it
        # held; the rest of what only it held was still in flight (info) at the crash
        assert m["lost_acknowledged"] == m["lost_in_data_acknowledged"]
        assert m["lost_in_data"] - m["lost_in_data_acknowledged"] <= m["writes_in_doubt"]
        assert res.failover["old_values_match"]
        with c.get_primary().connect() as conn:
            shown = conn.execute("SHOW dynamic_shared_memory_type").fetchone()
        assert shown == ("mmap",)
        assert res.failover["new_primary"] == "s1"
        assert [s.name for s in c.standbys] == ["primary"]  # rewound into a follower
        assert_history_well_formed(res.history)
        semi = PgLabConfig(standbys=1, mode="semi-sync", fault="failover", stall_s=0.8,
                           duration_s=2.0, fault_at_s=0.3)
        res2 = run_postgres_lab(semi, seed=3, cluster=c)  # the same cluster, roles swapped
        m2 = res2.metrics
        assert m2["lost_acknowledged"] == m2["lost_in_data_acknowledged"] == 0
        assert m2["lost_in_data"] <= m2["writes_in_doubt"]  # only writes still in flight
        assert res2.failover["new_primary"] == "primary"
        pids, ports = _all_pids(c), c.ports()
    assert_nothing_left(pids, ports)
    assert _shm_segments() - shm == set()


def test_ctrl_c_inside_the_cluster_stops_every_server():
    with pytest.raises(KeyboardInterrupt), PgCluster(standbys=1) as c:
        pids, ports = c.pids(), c.ports()
        assert len(pids) == 2
        raise KeyboardInterrupt  # what Ctrl-C raises in the main thread
    assert_nothing_left(pids, ports)
    assert not c.base.exists()


def test_sigterm_stops_every_server():
    code = ("from replab.real.postgres.cluster import PgCluster\n"
            "import json, time\n"
            "with PgCluster(standbys=1) as c:\n"
            "    print(json.dumps([c.pids(), c.ports(), str(c.base)]), flush=True)\n"
            "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        pids, ports, base = json.loads(line)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    time.sleep(0.2)
    assert_nothing_left(pids, ports)
    assert not Path(base).exists()


def test_cli_records_a_history_that_replab_check_reads(tmp_path, capsys):
    out = tmp_path / "history.jsonl"
    assert main(["record", "postgres", "--apply-delay-ms", "80", "--duration-s", "1.5",
                 "--seed", "2", "--out", str(out), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    recorded = {r["check"]: r["count"] for r in report["checks"]}
    assert recorded["stale-read"] > 0
    assert main(["check", str(out), "--format", "json"]) == 0
    checked = json.loads(capsys.readouterr().out)["checks"]
    assert {name: r["count"] for name, r in checked.items()} == recorded
    first = json.loads(out.read_text().splitlines()[0])
    assert {"index", "time", "process", "type", "f", "key", "value"} <= set(first)


def test_server_error_is_fail_and_lost_connection_is_info(cluster):
    from replab.real.postgres.workload import _outcome

    primary = cluster.get_primary()
    with primary.connect() as conn, primary.connect() as killer:
        with pytest.raises(psycopg.Error):
            conn.execute("SELECT 1 / 0")
        assert _outcome(conn) == "fail"  # the server answered with an error
        pid = conn.info.backend_pid
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
        assert _outcome(conn) == "info"  # the connection broke: the outcome is unknown


def test_explorer_runs_the_chosen_setting_headless(cluster):
    from replab.widgets.real_postgres import PostgresExplorer

    explorer = PostgresExplorer(cluster, duration_s=1.0, seed=4)
    explorer.mode.value, explorer.commit_level.value = "sync", "remote_apply"
    explorer.delay.value, explorer.routing.value = 20, "sticky"
    explorer.update()
    assert explorer.errors.outputs == ()
    res = explorer.result
    assert (res.config.mode, res.config.commit_level, res.config.routing) == \
        ("sync", "remote_apply", "sticky")
    assert res.config.delays() == (20.0, 20.0)
    assert counts(res)["stale-read"][0] == 0
    assert explorer.image.value[:4] == b"\x89PNG"
    assert "stale-read" in explorer.table.value and "<b>sync</b>" in explorer.summary.value
    assert not explorer.button.disabled


def test_explorer_shows_errors_instead_of_raising():
    from replab.widgets.real_postgres import PostgresExplorer

    explorer = PostgresExplorer(PgCluster(standbys=1))  # never started
    explorer.update()
    shown = "".join(o["text"] for o in explorer.errors.outputs)
    assert "the cluster is not running" in shown
    assert explorer.result is None


def test_a_cluster_of_another_size_is_refused(cluster):
    with pytest.raises(ConfigError) as info:
        run_postgres_lab(PgLabConfig(standbys=1), cluster=cluster)
    assert str(info.value) == ("The 'cluster' parameter of run_postgres_lab must be a "
                               "PgCluster with 1 running standbys (config.standbys). Got "
                               "'2 standbys' instead.")
    with pytest.raises(ReplabError, match="the cluster is not running: start it"):
        run_postgres_lab(PgLabConfig(standbys=1), cluster=PgCluster(standbys=1))


def test_a_port_taken_before_the_server_binds_it_is_chosen_again(monkeypatch):
    from replab.real.postgres import servers as servers

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        ports = iter([taken, taken])  # PgServer() and its first start get a taken port
        real = servers.free_port
        monkeypatch.setattr(servers, "free_port", lambda: next(ports, None) or real())
        base, server = servers.make_base_dir(), None
        try:
            server = servers.init_primary(base, servers.find_bindir())
            assert server.port != taken and server.pid is not None
            assert "Address already in use" in server.log_path.read_text()
        finally:
            if server is not None:
                server.stop()
            servers.remove_base(base)
