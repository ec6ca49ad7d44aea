"""The Patroni lab on real servers: an async failover on a shared cluster (closed by a
Ctrl-C) and, at the same time, a sync failover on a second cluster (started async, so the
lab switches its mode) in a thread; every process stopped at the end, SIGTERM, the
interpreter check, the settings and the CLI's one-line errors. A failover mostly waits
for Patroni's ttl (at least 20 s), so the two overlap."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from replab.checks import lost_write
from replab.cli import main
from replab.errors import ConfigError, ReplabError
from replab.real import processes
from replab.real.patroni import PatroniCluster, PatroniConfig, check_interpreter, run_patroni
from replab.real.patroni.cluster import PORT_CEILING
from replab.real.patroni.interpreter import _unreadable_dir, patroni_python
from replab.real.patroni.measure import completed_writes

ROOT = Path(__file__).resolve().parents[1]
# A pause 4 s over ttl: the lock expires (after ttl less up to loop_wait), a replica's next
# loop takes it, and the old leader is still frozen then.
FAILOVER = dict(fault="pause-leader", pause_s=24.0, fault_at_s=2.0, duration_s=31.0)
LEFT: dict[str, list[int]] = {}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class SyncRun(threading.Thread):
    """The sync failover on a cluster of its own, in a thread."""

    def __init__(self) -> None:
        super().__init__(name="patroni-sync-failover", daemon=True)
        self.result: object = None
        self.error: BaseException | None = None
        self.pids: list[int] = []
        self.ports: list[int] = []
        self.mode_after = ""

    def run(self) -> None:
        try:
            with PatroniCluster(3) as c:
                assert c.mode == "async"  # run_patroni switches it to sync
                self.pids, self.ports = c.pids(), c.ports()
                self.result = run_patroni(PatroniConfig(mode="sync", **FAILOVER), seed=1,
                                          cluster=c)
                self.pids = sorted(set(self.pids) | set(c.pids()))
                self.mode_after = c.mode
        except BaseException as e:  # noqa: BLE001  (the test reports it)
            self.error = e

    def outcome(self) -> object:
        self.join(180.0)  # bounded: two cluster starts and a 31 s run take about 50 s
        assert not self.is_alive(), "the sync failover did not finish within 180 s"
        if self.error is not None:
            raise self.error
        return self.result


@pytest.fixture(scope="module")
def sync_run():
    run = SyncRun()
    run.start()
    yield run
    run.join(180.0)


@pytest.fixture(scope="module")
def cluster(sync_run):
    with pytest.raises(KeyboardInterrupt), PatroniCluster(3) as c:
        LEFT["pids"], LEFT["ports"] = c.pids(), c.ports()
        yield c
        LEFT["pids"] = sorted(set(LEFT["pids"]) | set(c.pids()))
        raise KeyboardInterrupt  # what Ctrl-C raises: the cluster must stop all the same
    sync_run.join(180.0)  # its cluster is stopped too before anything is counted
    time.sleep(0.3)
    left = LEFT["pids"] + sync_run.pids
    assert not [p for p in left if _alive(p)]  # nothing left running ...
    assert not set(LEFT["ports"] + sync_run.ports) & processes.listening_ports()  # ... or listening
    assert not processes.LIVE and c.base is not None and not c.base.exists()


@pytest.fixture(scope="module")
def async_run(cluster):
    return run_patroni(PatroniConfig(mode="async", **FAILOVER), seed=1, cluster=cluster)


def test_the_cluster_runs_as_postgres_on_loopback_ports_below_32768(cluster):
    assert len(cluster.pids()) >= 6 and all(p < PORT_CEILING for p in cluster.ports())
    patroni = cluster.nodes[0].patroni
    assert patroni is not None and patroni.pid in processes.LIVE  # the real PID, tracked
    status = Path(f"/proc/{patroni.pid}/status").read_text()
    uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert os.geteuid() != 0 or uid == processes.user_ids("postgres")[0]  # type: ignore[index]
    config = json.loads((cluster.nodes[0].dir / "patroni.yml").read_text())
    assert config["raft"]["bind_addr"] == config["raft"]["self_addr"]
    assert config["raft"]["bind_addr"].startswith("127.0.0.1:")


def test_async_failover_loses_or_splits_and_both_loss_counts_agree(async_run):
    m = async_run.metrics
    assert m["failover"] and m["new_leader"] != m["old_leader"]
    assert 20.0 - 2.0 - 1.0 <= m["failover_s"] <= 24.0
    assert m["split_brain_writes"] > 0 or m["lost_acknowledged"] > 0, m["verdict"]
    assert m["lost_acknowledged"] == m["lost_in_data"]  # the history and the data agree
    # the row watcher samples every node, so it may miss rows acknowledged in the old
    # leader's last moments before pg_rewind erases them: a lower bound, seen if any lost
    assert m["lost_in_data"] == 0 or 0 < m["lost_seen_on_old_leader"] <= m["lost_in_data"]
    # rejoin_s is NaN when the role monitor stopped before the old leader streamed again
    assert m["nodes_agree"] and not m["rejoin_s"] <= 0 and m["settle_s"] == m["settle_s"]
    assert f"{m['split_brain_writes']} writes" in m["verdict"]
    assert lost_write(async_run.history).count == m["lost_acknowledged"]
    writes = completed_writes(async_run.history)
    brain = writes[(writes.node == m["old_leader"]) & (writes.type == "ok") &
                   (writes.done_s >= m["elected_s"])]
    assert len(brain) == m["split_brain_writes"]
    # the leadership intervals overlap exactly when there was a split brain
    spans = async_run.leadership.set_index("node")
    old_end = spans.loc[[m["old_leader"]], "end_s"].min()
    assert (old_end > m["elected_s"]) == (m["split_brain_writes"] > 0)


def test_async_history_records_node_and_version_and_timeouts_are_info(async_run):
    df = async_run.history.df
    ok = df[(df.f == "write") & (df.type == "ok")]
    assert ok.version.notna().all() and set(ok.node) <= {"n1", "n2", "n3"}
    assert set(df[df.f == "write"].type) <= {"invoke", "ok", "fail", "info"}
    nemesis = df[df.process == "nemesis"]
    assert nemesis.f.tolist() == ["pause", "resume"]
    m = async_run.metrics
    assert 0 < m["detection_s"] and m["unavailable_s"] >= m["failover_s"] - 1.0


def test_sync_failover_loses_no_acknowledged_write(sync_run):
    res = sync_run.outcome()
    assert res.config.mode == sync_run.mode_after == "sync"
    m = res.metrics
    assert m["failover"], m["verdict"]
    assert m["lost_acknowledged"] == m["lost_in_data"] == 0
    # an ack the old leader sent after the election was for a commit the sync standby
    # already held: it is counted as a split-brain write, and it survived
    assert not (res.writes.split_brain & res.writes.lost).any()
    assert m["nodes_agree"] and m["writes_ok"] > 50


def test_a_cluster_of_other_settings_is_refused(cluster):
    with pytest.raises(ConfigError, match=r"^The 'cluster' parameter of run_patroni must be "):
        run_patroni(PatroniConfig(ttl=30.0), cluster=cluster)
    with pytest.raises(ReplabError, match="the cluster is not running"):
        run_patroni(PatroniConfig(), cluster=PatroniCluster(3))


def test_config_errors_name_the_parameter():
    with pytest.raises(ConfigError, match=r"^The 'ttl' parameter of PatroniConfig must be a "
                                          r"finite number in \[20, 3600\]\. Got 10 instead\.$"):
        PatroniConfig(ttl=10)
    with pytest.raises(ConfigError, match=r"'loop_wait' parameter .* <= \(ttl - 2 \* "
                                          r"retry_timeout\) = 10 \(Patroni's rule\)"):
        PatroniConfig(loop_wait=15.0)
    with pytest.raises(ConfigError, match="'fault' parameter of PatroniConfig must be one of"):
        PatroniConfig(fault="pause")


def test_cli_bad_value_is_one_line_exit_2(capsys):
    assert main(["record", "patroni", "--ttl", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'ttl' parameter of PatroniConfig" in err
    assert "Got 5.0 instead" in err


def test_an_interpreter_postgres_cannot_read_is_named_in_one_line():
    if os.geteuid() != 0:
        pytest.skip("only root runs Patroni as another user")
    hidden = Path(tempfile.mkdtemp(prefix="replab-home-"))  # mode 700, like a home folder
    try:
        (hidden / "python").symlink_to(sys.executable)
        with pytest.raises(ReplabError) as info:  # and no base interpreter to fall back on
            check_interpreter(str(hidden / "python"), bases=[])
    finally:
        shutil.rmtree(hidden)
    msg = str(info.value)
    assert "\n" not in msg and f"{hidden} is not readable by postgres" in msg
    assert "clone replab under a directory postgres can read" in msg
    assert _unreadable_dir(Path(sys.executable)) is None
    assert patroni_python() == (sys.executable, {})  # this checkout's own interpreter works


def test_a_hidden_venv_falls_back_on_a_readable_copy_of_patroni():
    if os.geteuid() != 0:
        pytest.skip("only root runs Patroni as another user")
    hidden = Path(tempfile.mkdtemp(prefix="replab-home-"))
    try:
        (hidden / "python").symlink_to(sys.executable)
        python, env = patroni_python(str(hidden / "python"))
    finally:
        shutil.rmtree(hidden)
    assert Path(env["PYTHONPATH"], "patroni", "__init__.py").is_file()
    site = Path(env["PYTHONPATH"])
    assert site.stat().st_mode & 0o005 == 0o005  # others may enter and read it
    done = subprocess.run([python, "-c", "import patroni, psycopg, pysyncobj, yaml"],
                          env={"PYTHONPATH": str(site)}, capture_output=True,
                          **processes.run_as("postgres"))
    assert done.returncode == 0, done.stderr


def test_sigterm_stops_what_the_lab_started_and_runs_its_clean_ups(tmp_path):
    marker = tmp_path / "cleaned"
    code = (
        "import os, signal, sys, time\n"
        "from replab.real import processes\n"
        "p = processes.spawn(['sleep', '60'], user='postgres')\n"
        f"processes.on_stop(lambda: open({str(marker)!r}, 'w').write('yes'))\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    try:
        pid = int(proc.stdout.readline())  # type: ignore[union-attr]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert processes.wait_until(lambda: not _alive(pid), 5.0)
    assert marker.read_text() == "yes"


def test_cli_offers_every_flag_of_the_issue(capsys):
    with pytest.raises(SystemExit):
        main(["record", "patroni", "--help"])
    text = capsys.readouterr().out
    for flag in ("--nodes", "--mode", "--ttl", "--loop-wait", "--retry-timeout", "--fault",
                 "--pause-s", "--fault-at-s", "--duration-s", "--clients", "--seed", "--out",
                 "--format"):
        assert flag in text, flag
    for fault in ("none", "pause-leader", "kill-leader", "pause-replica", "stop-leader"):
        assert fault in text
