"""Stop cleanly, fail fast: bounded grids, a checked ``--scheduler``, ``--out`` checked before
anything starts, messages naming the real cause, and Ctrl-C: one line, exit 130, nothing
left running."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from replab.cli import main
from replab.errors import ConfigError
from replab.sweeps.bounds import check_grid_size
from replab.sweeps.executors import check_scheduler

ROOT = Path(__file__).resolve().parents[1]
QUICK = ('[sweep]\ntarget = "k_staleness"\nseed = 1\n[fixed]\nk = 1\n'
         '[grid]\nn = [3]\nr = [1]\nw = [1]\n')


def _spec(tmp_path: Path, text: str = QUICK, name: str = "s.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ------------------------------------------------------------------ bounded grids


def test_a_grid_of_1e15_points_is_refused_at_once(tmp_path, capsys) -> None:
    spec = _spec(tmp_path, QUICK.replace("n = [3]\nr = [1]\nw = [1]",
                                         "n = { from = 1, to = 100000 }\n"
                                         "r = { from = 1, to = 100000 }\n"
                                         "w = { from = 1, to = 100000 }"))
    start = time.perf_counter()
    assert main(["sweep", spec, "--no-progress"]) == 2
    assert time.perf_counter() - start < 2
    assert capsys.readouterr().err == (
        "replab sweep: error: The 'grid' parameter of SweepSpec must be at most 1,000,000 "
        "runs (points x replications; set REPLAB_MAX_POINTS to raise the limit). Got "
        "'1,000,000,000,000,000 runs (100,000 n x 100,000 r x 100,000 w x 1 replications)' "
        "instead.\n")


def test_the_memory_limit_bounds_a_grid_too(monkeypatch) -> None:
    monkeypatch.setenv("REPLAB_MAX_MEMORY_GB", "0.0078125")  # 8 MiB: 512 runs of 16 KiB
    assert check_grid_size({"a": range(256)}, 2, "sweep") == 512
    with pytest.raises(ConfigError, match=r"must be at most 512 runs to fit the memory "
                                          r"limit of 0.00781 GiB \(set REPLAB_MAX_MEMORY_GB"):
        check_grid_size({"a": range(257)}, 2, "sweep")
    monkeypatch.setenv("REPLAB_MAX_POINTS", "ten")
    with pytest.raises(ConfigError, match="REPLAB_MAX_POINTS must be a number >= 1. Got 'ten'"):
        check_grid_size({"a": [1]}, 1, "sweep")


def test_points_are_counted_without_building_them() -> None:
    from replab.sweeps.spec import SweepSpec

    spec = SweepSpec(target="k_staleness", seed=1, fixed={"k": 1},
                     grid={"n": {"from": 1, "to": 1000}, "r": [1], "w": [1]})
    assert isinstance(spec.grid["n"], range)  # a sized range, not a list of 1,000 ints


# ------------------------------------------------------------------ --scheduler


@pytest.fixture
def fake_ports() -> Iterator[dict[str, int]]:
    """A port that accepts and never speaks, and one that speaks first (an SSH banner)."""
    silent, chatty = socket.socket(), socket.socket()
    for s in (silent, chatty):
        s.bind(("127.0.0.1", 0))
        s.listen(8)
    held = []

    def banner() -> None:
        while True:
            try:
                conn, _ = chatty.accept()
            except OSError:
                return
            held.append(conn)
            conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian\r\n")

    threading.Thread(target=banner, daemon=True).start()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused = closed.getsockname()[1]
    closed.close()
    yield {"silent": silent.getsockname()[1], "chatty": chatty.getsockname()[1],
           "refused": refused}
    for s in (silent, chatty, *held):
        s.close()


@pytest.mark.parametrize(("kind", "message"), [
    ("silent", "is not a Dask scheduler: it sent no Dask handshake within 3 s."),
    ("chatty", "is not a Dask scheduler: it answered with something other than a Dask "
               "handshake."),
    ("refused", "Could not reach the Dask scheduler at 'tcp://127.0.0.1:{port}': Connection "
                "refused."),
])
def test_scheduler_is_checked_within_10_s(tmp_path, capsys, fake_ports, kind, message) -> None:
    port = fake_ports[kind]
    start = time.perf_counter()
    code = main(["sweep", _spec(tmp_path), "--no-progress", "--scheduler",
                 f"tcp://127.0.0.1:{port}"])
    took = time.perf_counter() - start
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and took < 10, (err, took)
    assert err.startswith("replab sweep: error: ") and message.format(port=port) in err


def test_scheduler_address_and_timeout_are_checked(tmp_path, capsys) -> None:
    with pytest.raises(ConfigError, match="The '--scheduler' address must look like "
                                          "tcp://HOST:PORT. Got 'tcp://nohost' instead."):
        check_scheduler("tcp://nohost")
    with pytest.raises(SystemExit):
        main(["sweep", _spec(tmp_path), "--scheduler", "tcp://127.0.0.1:1",
              "--scheduler-timeout", "0"])
    assert "--scheduler-timeout: must be a number of seconds in (0, 3600]" in \
        capsys.readouterr().err


def test_a_real_scheduler_passes_the_check() -> None:
    pytest.importorskip("distributed")
    from replab.sweeps.executors import dask_client

    with dask_client(workers=1, processes=False) as client:
        check_scheduler(client.scheduler.address, timeout=5)


# ------------------------------------------------------------------ --out


def test_sweep_out_is_a_file_and_a_folder_is_accepted_with_a_note(tmp_path, capsys) -> None:
    spec = _spec(tmp_path, name="quick.toml")
    folder = tmp_path / "results"
    folder.mkdir()
    assert main(["sweep", spec, "--out", str(folder), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err == (f"replab sweep: note: --out names a file; {str(folder)!r} is a folder, "
                   f"so writing {str(folder / 'quick.csv')!r}\n")
    assert (folder / "quick.csv").read_text().startswith("n,r,w,k,p_within_k,seed\n")
    assert main(["sweep", spec, "--out", str(tmp_path / "nodir" / "r.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.fixture
def no_servers(monkeypatch) -> None:
    """Fail the test if a lab would start a server."""
    import replab.real.mariadb as mariadb
    import replab.real.postgres as postgres

    def started(*args: object, **kwargs: object) -> None:
        raise AssertionError("a server was started")

    monkeypatch.setattr(postgres, "run_postgres_lab", started)
    monkeypatch.setattr(mariadb, "run_mariadb", started)


@pytest.mark.parametrize(("argv", "message"), [
    (["record", "postgres", "--out", "{exists}"],
     "replab record: error: The '--out' option names an existing file '{exists}'; remove it "
     "or choose another name (nothing was started).\n"),
    (["record", "postgres", "--out", "{tmp}/nodir/h.jsonl"],
     "replab record: error: The '--out' option must name a file in an existing folder "
     "('{tmp}/nodir' does not exist). Got '{tmp}/nodir/h.jsonl' instead.\n"),
    (["record", "postgres", "--out", "{tmp}/h.jsonl", "--lag-out", "{exists}"],
     "replab record: error: The '--lag-out' option names an existing file '{exists}'; remove "
     "it or choose another name (nothing was started).\n"),
    (["record", "mariadb", "--out", "{exists}"],
     "replab record: error: The '--out' option names an existing file '{exists}'; remove it "
     "or choose another name (nothing was started).\n"),
    (["record", "mariadb", "--out", "{tmp}/nodir/"],
     "replab record: error: The '--out' option names the folder '{tmp}/nodir/', which does "
     "not exist.\n"),
    (["record", "postgres", "--fault", "stall", "--fault-at-s", "10", "--duration-s", "2",
      "--out", "{tmp}/h.jsonl"],
     "replab record: error: The 'fault_at_s' parameter of PgLabConfig must be a float in "
     "[0, duration_s=2) (the fault must start before the run ends). Got 10.0 instead.\n"),
])
def test_record_outputs_are_checked_before_servers_start(tmp_path, capsys, no_servers, argv,
                                                         message) -> None:
    exists = tmp_path / "exists.jsonl"
    exists.write_text("x\n")
    fill = {"exists": str(exists), "tmp": str(tmp_path)}
    assert main([a.format(**fill) for a in argv]) == 2
    assert capsys.readouterr().err == message.format(**fill)


def test_mariadb_writes_the_history_file_and_its_companions(tmp_path, capsys) -> None:
    from replab.cli.record_mariadb import _check_out, companions

    history, others = _check_out(str(tmp_path) + "/")
    assert history == tmp_path / "history.jsonl"
    assert others["positions"] == tmp_path / "history.positions.csv"
    assert "note: --out names a file" in capsys.readouterr().err
    assert companions(tmp_path / "run.jsonl")["metrics"] == tmp_path / "run.metrics.json"
    (tmp_path / "run.writes.csv").write_text("")
    with pytest.raises(ConfigError, match="would overwrite .*run.writes.csv"):
        _check_out(str(tmp_path / "run.jsonl"))


# ------------------------------------------------------------------ messages


def test_tasks_py_names_an_unknown_command() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "tasks.py"), "nosuch"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("tasks.py: error: unknown command 'nosuch'; commands: lab, test, "
                           "replab (python3 tasks.py --help)\n")


# ------------------------------------------------------------------ Ctrl-C


#: the command line, once its libraries are loaded (Ctrl-C during ``import pandas`` comes
#: before any replab code runs; on a loaded machine that takes seconds)
READY = ("import sys; from replab.cli import main; print('ready', flush=True); "
         "sys.exit(main(sys.argv[1:]))")


def start(argv: list[str], cwd: Path) -> subprocess.Popen[str]:
    """``replab ARGV`` in a new session, returned once it starts running the command."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), REPLAB_MAX_EVENTS="1e12")
    proc = subprocess.Popen([sys.executable, "-c", READY, *argv], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def interrupt(proc: subprocess.Popen[str], after: float, timeout: float = 60
              ) -> tuple[int, str, list[psutil.Process]]:
    """Ctrl-C ``proc`` after ``after`` s, as a terminal does: to its whole process group
    (its worker processes too). Its status, stderr, and what it left running."""
    time.sleep(after)
    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=timeout)
    deadline = time.monotonic() + 5
    alive = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for p in alive:  # do not leave them to the next test
        p.kill()
    return proc.returncode, err, alive


def assert_stopped(code: int, err: str, left: list[psutil.Process], command: str) -> None:
    assert left == [], left
    assert code == 130, (code, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"replab {command}: interrupted"), err


@pytest.mark.parametrize("command", ["simulate", "sweep"])
def test_ctrl_c_is_one_line_and_exit_130(tmp_path, command) -> None:
    # long enough points that the sweep is still running at the Ctrl-C on a quiet machine
    spec = _spec(tmp_path, '[sweep]\ntarget = "leaderless"\nseed = 1\n[fixed]\n'
                 'duration_ms = 60000\n[grid]\nw = [1, 2, 3]\nr = [1, 2, 3]\n')
    argv = {"simulate": ["simulate", "leaderless", "--set", "duration_ms=10000000"],
            "sweep": ["sweep", spec, "--workers", "2", "--no-progress"]}[command]
    code, err, left = interrupt(start(argv, tmp_path), after=2.0)
    if command == "sweep":  # the sweep says what it kept
        assert err.startswith("replab sweep: interrupted") and code == 130 and not left, err
        return
    assert_stopped(code, err, left, command)


def test_ctrl_c_while_check_reads_a_history(tmp_path) -> None:
    fifo = tmp_path / "history.jsonl"
    os.mkfifo(fifo)
    proc = start(["check", str(fifo)], tmp_path)
    with open(fifo, "w") as writer:  # returns once check has opened it: it is reading
        writer.write('{"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "read", '
                     '"key": "x", "value": null}\n')
        writer.flush()
        code, err, left = interrupt(proc, after=0.5)
    assert_stopped(code, err, left, "check")


def test_ctrl_c_stops_reproduce_and_its_kernel(tmp_path) -> None:
    # Ctrl-C while the kernel starts: nbclient turned it into a 49-line AssertionError
    proc = start(["reproduce", "01", "--small", "--out", str(tmp_path / "out")], ROOT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        family = psutil.Process(proc.pid).children(recursive=True)
        if any("ipykernel" in " ".join(p.cmdline()) for p in family):
            break
        time.sleep(0.05)
    code, err, left = interrupt(proc, after=0.2)
    # jupyter_client interrupts the kernel before shutting it down, and a kernel still
    # starting prints that KeyboardInterrupt: to its own stderr, not the user's terminal
    assert_stopped(code, err, left, "reproduce")


def _wait_for_server(proc: subprocess.Popen[str], names: tuple[str, ...],
                     timeout: float = 90) -> None:
    """Until one of ``proc``'s descendants is a server called one of ``names``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            family = psutil.Process(proc.pid).children(recursive=True)
            if any(p.name() in names for p in family):
                return
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no {names} server started within {timeout} s")


@pytest.mark.parametrize(("system", "names"), [("postgres", ("postgres",)),
                                               ("mariadb", ("mariadbd", "mysqld"))])
def test_ctrl_c_stops_a_lab_and_its_servers(tmp_path, system, names) -> None:
    binary = "pg_ctl" if system == "postgres" else "mariadbd"
    if not (shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/lib/postgresql")):
        pytest.skip(f"{binary} is not installed")
    argv = ["record", system, "--duration-s", "30", "--out", str(tmp_path / "h.jsonl")]
    proc = start(argv, tmp_path)
    _wait_for_server(proc, names)
    code, err, left = interrupt(proc, after=1.0, timeout=60)
    assert_stopped(code, err, left, "record")
    assert not (tmp_path / "h.jsonl").exists()
