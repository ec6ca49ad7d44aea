"""The MariaDB lab on real servers (127.0.0.1, temp dirs): each test bounded, PIDs checked."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket

import pandas as pd
import pytest

from replab.checks import lost_write
from replab.cli import main
from replab.errors import ConfigError
from replab.history import History
from replab.real.mariadb import MariaDBConfig, run_mariadb
from replab.real.mariadb.experiments import conflicting_updates, ring_write_once
from replab.real.mariadb.server import LIVE, ServerSet, _parent
from replab.real.mariadb.topology import gtid_pos, links, parse_gtids

pytestmark = pytest.mark.skipif(
    shutil.which("mariadbd", path="/usr/sbin:/usr/bin") is None,
    reason="MariaDB is not installed (tasks.py installs mariadb-server as root)")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead, only not yet reaped
        return fh.read().split(") ")[1][0] != "Z"


@pytest.fixture(autouse=True)
def _nothing_left_behind():
    yield
    assert LIVE == {}


def test_config_errors_name_the_parameter():
    with pytest.raises(ConfigError, match=r"^The 'servers' parameter of MariaDBConfig must be "
                                          r"an int in \[2, 5\]\. Got 9 instead\.$"):
        MariaDBConfig(servers=9)
    with pytest.raises(ConfigError, match="'binlog' parameter of MariaDBConfig must be one of "
                                          "'statement', 'row', 'mixed'. Got 'ROWS' instead."):
        MariaDBConfig(binlog="ROWS")
    with pytest.raises(ConfigError, match="'stall_ms' parameter .* when fault='stall'"):
        MariaDBConfig(fault="stall", stall_ms=0)


def test_topology_links_and_gtid_parsing():
    assert links("circular", 3) == [(0, 1), (1, 2), (2, 0)]
    assert sorted(links("all-to-all", 3)) == [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    assert parse_gtids("0-1-5,2-3-9") == {0: (1, 5), 2: (3, 9)}


def test_servers_stopped_by_pid_even_on_error():
    with pytest.raises(RuntimeError, match="boom"), ServerSet(2) as lab:
        lab.start([["--log-bin=binlog"]] * 2)
        pids, ports = lab.pids, [s.port for s in lab.servers]
        assert len(pids) == 2 and all(_listening(p) for p in ports)
        raise RuntimeError("boom")
    assert not any(_alive(p) for p in pids)
    assert not any(_listening(p) for p in ports)
    assert not lab.root.exists()


def test_statement_diverges_on_nondeterministic_workload_row_does_not():
    cfg = MariaDBConfig(workload="nondeterministic", servers=2, duration_s=0.5)
    stmt = run_mariadb(dataclasses.replace(cfg, binlog="statement"), seed=3)
    row = run_mariadb(cfg, seed=3)
    assert stmt.metrics["divergent_rows"] > 0 and stmt.metrics["unsafe_warnings"] > 0
    assert row.metrics["divergent_rows"] == 0 and row.metrics["unsafe_warnings"] == 0
    table = stmt.functions[stmt.functions["replica"] == "db2"].set_index("source")
    per, unsafe = table["divergent_rows"], table["unsafe_warnings"]
    # The server pins NOW(), RAND(), CONNECTION_ID() and AUTO_INCREMENT values in the
    # event; UUID() and SYSDATE() are evaluated again by the replica, and so is the
    # trigger's UUID().
    assert per["NOW()"] == per["RAND()"] == per["CONNECTION_ID()"] == 0
    assert per["AUTO_INCREMENT"] == 0
    assert per["UUID()"] > 0 and per["SYSDATE()"] > 0 and per["trigger: UUID()"] > 0
    # Its warnings name the diverging statements, and conservatively RAND() too; NOW()
    # and CONNECTION_ID() alone draw none.
    assert unsafe["UUID()"] > 0 and unsafe["SYSDATE()"] > 0 and unsafe["RAND()"] > 0
    assert unsafe["CONNECTION_ID()"] == unsafe["NOW() in UPDATE"] == 0


def test_circular_write_applied_exactly_once_on_each_server():
    ring = ring_write_once("statement", "circular")
    assert ring["counter"].tolist() == [1, 1, 1]  # n = n + 1 once: it did not go round again
    assert ring["events_rows"].tolist() == [1, 1, 1]
    assert ring["origin_copies"].tolist() == [1, 1, 1]  # db1 did not log it a second time
    assert ring["gtid_binlog_pos"].nunique() == 1


def test_conflicting_updates_on_two_leaders_diverge():
    rows = conflicting_updates("statement", "circular").set_index("server")
    assert rows["n"].tolist() == [2, 2, 2]  # n = n + 1 replayed as text: both survive
    assert rows.loc["db1", "v"] == 2 and rows.loc["db2", "v"] == 1  # each kept the other's
    assert rows["events_ids"].tolist() == ["1,2"] * 3  # offsets 1 and 2: no collision
    assert (rows["link_errors"] == "").all()
    clash = conflicting_updates("row", "circular", auto_increment_offsets=False)
    assert clash["n"].tolist() == [1, 1, 1]  # row images: one increment lost everywhere
    assert clash["link_errors"].str.contains(": 1062").sum() == 2  # duplicate key stops links


def test_semi_sync_loses_no_acked_write_on_crash_where_async_does():
    base = dict(fault="crash", duration_s=1.0, stall_ms=300, servers=3)
    sync = run_mariadb(MariaDBConfig(semi_sync=True, semi_sync_timeout_ms=10_000, **base),
                       seed=2)
    lazy = run_mariadb(MariaDBConfig(semi_sync=False, **base), seed=2)
    # Async: every write acknowledged while db1's links were cut (300 ms) is lost.
    assert lazy.metrics["acked_writes_lost"] > 0
    assert sync.metrics["acked_writes_lost"] == 0
    assert sync.metrics["acked_writes"] > 0
    # The history tells the same story to replab's own checker (final reads on the new
    # primary): every acknowledged write the positions call lost, and no other.
    unknowable = int(((lazy.writes["status"] == "ok") & (lazy.writes["gtid"] == "")).sum())
    gap = lost_write(lazy.history).count - lazy.metrics["acked_writes_lost"]
    assert 0 <= gap <= unknowable  # acked just before the crash, position never learnt
    assert lost_write(sync.history).count == 0
    assert sync.metrics["reference"] in ("db2", "db3")  # the promoted replica
    faults = [op["f"] for op in sync.history if op["process"] == "nemesis"]
    assert faults[-2:] == ["crash", "promote"] and "break-link" in faults


def test_semi_sync_falls_back_to_async_when_the_replicas_stall():
    r = run_mariadb(MariaDBConfig(semi_sync=True, semi_sync_timeout_ms=100, fault="stall",
                                  stall_ms=400, duration_s=1.0, servers=2), seed=4)
    m = r.metrics
    assert m["semi_sync_fallbacks"] >= 1  # Rpl_semi_sync_master_no_times
    assert m["semi_sync_unacked_commits"] > 0  # commits acknowledged without a replica
    assert r.writes["latency_ms"].max() >= 100  # one commit waited out the timeout ...
    assert m["write_latency_p50_ms"] < 100  # ... the rest did not wait at all
    assert m["acked_writes_lost"] == 0 and m["converged"]  # nothing crashed: it caught up


def test_cli_runs_a_ring_with_a_broken_link_and_saves_a_checkable_history(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()  # --out names the history file; a folder means FOLDER/history.jsonl
    code = main(["record", "mariadb", "--topology", "circular", "--fault", "break-link",
                 "--duration-s", "0.6", "--seed", "1", "--out", str(out), "--format", "json"])
    assert code == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["unreplicated_before_heal"] > 0  # db1's writes stopped at the cut link
    assert metrics["converged"] and metrics["acked_writes_lost"] == 0
    history = History.read_jsonl(out / "history.jsonl")
    nemesis = [op for op in history if op["process"] == "nemesis"]
    assert [op["f"] for op in nemesis] == ["break-link", "heal-link"]
    assert {"history.positions.csv", "history.writes.csv", "history.metrics.json"} <= {
        p.name for p in out.iterdir()}
    assert main(["check", str(out / "history.jsonl")]) == 0
    positions = pd.read_csv(out / "history.positions.csv")
    assert set(positions["server"]) == {"db1", "db2", "db3"}
    assert set(positions["domain"]) == {0, 1, 2}  # one GTID domain a leader
    for _, g in positions.groupby(["server", "domain"]):
        assert g["seq_no"].is_monotonic_increasing


def test_cli_bad_value_is_one_line_exit_2(capsys):
    assert main(["record", "mariadb", "--duration-s", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'duration_s' parameter of MariaDBConfig" in err


def test_sigterm_handler_stops_servers():
    from replab.real.mariadb import server as mariadb_server

    lab = ServerSet(1)
    lab.start([[]])
    pid = lab.pids[0]
    try:
        if signal.getsignal(signal.SIGTERM) is mariadb_server._on_sigterm:
            with pytest.raises(SystemExit):
                mariadb_server._on_sigterm(signal.SIGTERM, None)
            assert not _alive(pid) and LIVE == {}
        else:  # someone else owns SIGTERM here: the atexit path does the same
            mariadb_server.stop_all()
            assert not _alive(pid)
        assert not lab.root.exists()  # never closed, yet its directory is gone
    finally:
        lab.close()


def test_kept_lab_shuts_down_cleanly_a_thrown_away_one_is_killed():
    """keep=True: SIGTERM, a clean shutdown (the datadirs can be opened again); keep=False:
    SIGKILL, since the data is deleted next. Either way every PID is reaped."""
    kept = ServerSet(1, keep=True)
    try:
        kept.start([[]])
        pid = kept.pids[0]
        kept.close()
        assert not _alive(pid) and kept[0].proc is not None
        assert kept[0].proc.returncode == 0
        assert "Shutdown complete" in kept[0].log.read_text()
    finally:
        shutil.rmtree(kept.root, ignore_errors=True)
    assert not str(kept.root).startswith("/dev/shm/")  # kept: on disk, not in memory
    with ServerSet(1) as lab:
        lab.start([[]])
        pid = lab.pids[0]
        if _parent(False) is not None:  # thrown away: in memory where there is room
            assert str(lab.root).startswith("/dev/shm/replab-mariadb-")
    assert not _alive(pid) and lab[0].proc is not None
    assert lab[0].proc.returncode == -signal.SIGKILL and not lab.root.exists()


def test_a_new_lab_logs_only_its_schema():
    """Every server's binary log starts empty (no RESET MASTER needed on fresh servers):
    after start_lab each holds exactly db1's schema transactions, one GTID each."""
    from replab.real.mariadb import start_lab
    from replab.real.mariadb.workload import schema_sql

    with start_lab(MariaDBConfig(servers=2)) as lab:
        for s in lab.servers:
            with contextlib.closing(s.connect()) as conn:
                assert gtid_pos(conn) == {0: (1, 1 + len(schema_sql("counters", 5)))}
                assert gtid_pos(conn, "slave") == ({} if s.name == "db1" else
                                                   {0: (1, 1 + len(schema_sql("counters", 5)))})
