"""Real PostgreSQL servers for the lab: a primary and hot standbys on 127.0.0.1.

Every server runs from its own directory under one temporary folder, listens on a free
TCP port of 127.0.0.1 and on a unix socket inside that folder, and is started directly as
``postgres`` (never through ``pg_ctl``) so the lab knows each postmaster's PID. As root the
servers run as the ``postgres`` user (``initdb`` refuses root). Every server started is
registered; :func:`stop_all` (run by ``atexit``, by SIGTERM and by the cluster's context
manager) stops each one by its PID and waits for it, so nothing is left running.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psycopg

from replab.errors import ReplabError
from replab.real import processes
from replab.real.processes import children, free_port, live_pids, run_as, spawn, stop_process

__all__ = ["PgServer", "find_bindir", "free_port", "stop_all", "live_pids", "INSTALL_HINT"]

INSTALL_HINT = ("PostgreSQL server binaries (initdb, postgres, pg_basebackup, pg_rewind) not "
                "found: install the 'postgresql' package (apt-get install postgresql)")
_TOOLS = ("initdb", "postgres", "pg_basebackup", "pg_rewind")
USER = "postgres"  # as root, the servers run as this user (initdb refuses root)
# Settings every server of the lab shares; the replication knobs are set with ALTER SYSTEM.
_BASE_CONF = """
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
wal_log_hints = on
wal_keep_size = 64MB
min_wal_size = 8MB
max_wal_size = 256MB
fsync = off
full_page_writes = on
shared_buffers = 16MB
max_connections = 60
autovacuum = off
wal_receiver_status_interval = 1s
wal_sender_timeout = 60s
log_min_messages = warning
# dynamic shared memory as files under the data dir (pg_dynshmem), not /dev/shm: a server
# killed with SIGKILL (the failover fault) leaves them in its temp dir, removed with it
dynamic_shared_memory_type = mmap
"""


def find_bindir() -> Path:
    """The folder of the server binaries: ``pg_config --bindir``, else the newest
    ``/usr/lib/postgresql/*/bin``. Raises ReplabError (one line: what to install)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout.strip()
            candidates.append(Path(out))
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0)
    candidates += [Path(p) for p in reversed(versioned)]
    for d in candidates:
        if all((d / tool).exists() for tool in _TOOLS):
            return d
    raise ReplabError(INSTALL_HINT)


def make_base_dir() -> Path:
    """A fresh temporary folder the servers' user owns."""
    return processes.make_temp_dir("replab-pg-", USER)


def run_tool(bindir: Path, tool: str, *args: str, timeout: float = 60.0) -> str:
    """Run one server tool as the servers' user; a failure raises ReplabError with its
    last line of output."""
    try:
        res = subprocess.run([str(bindir / tool), *args], capture_output=True, text=True,
                             timeout=timeout, cwd="/", **run_as(USER))
    except subprocess.TimeoutExpired:
        raise ReplabError(f"{tool} did not finish within {timeout:g} s") from None
    if res.returncode != 0:
        last = (res.stderr.strip() or res.stdout.strip()).splitlines()[-1:] or ["?"]
        raise ReplabError(f"{tool} failed (exit {res.returncode}): {last[0]}")
    return res.stdout


class PgServer:
    """One PostgreSQL server (postmaster) of the lab, known by name, port and PID."""

    def __init__(self, name: str, datadir: Path, bindir: Path, sockdir: Path) -> None:
        self.name = name
        self.datadir = datadir
        self.bindir = bindir
        self.sockdir = sockdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The postmaster's PID while it runs."""
        return None if self.proc is None or self.proc.poll() is not None else self.proc.pid

    def dsn(self, **extra: Any) -> str:
        parts = {"host": "127.0.0.1", "port": self.port, "user": "postgres",
                 "dbname": "postgres", **extra}
        return " ".join(f"{k}={v}" for k, v in parts.items())

    def connect(self, timeout_s: float = 3.0, **options: str) -> psycopg.Connection[Any]:
        """An autocommit connection with a short connect timeout (``options``: GUCs)."""
        opts = " ".join(f"-c {k}={v}" for k, v in options.items())
        return psycopg.connect(self.dsn(connect_timeout=max(1, round(timeout_s))),
                               autocommit=True, options=opts)

    def start(self, timeout_s: float = 30.0) -> None:
        """Start the postmaster and wait (bounded) until it accepts connections; a port
        taken between choosing and binding it (another process was faster) is chosen
        again, up to three times."""
        if self.pid is not None:
            return
        for attempt in range(3):
            self.port = free_port()  # the old one may have been taken while it was down
            self._spawn()
            try:
                self.wait_ready(timeout_s)
                return
            except ReplabError:
                if attempt == 2 or "Address already in use" not in self.log_tail():
                    raise

    def _spawn(self) -> None:
        self.proc = spawn([str(self.bindir / "postgres"), "-D", str(self.datadir),
                           "-p", str(self.port), "-k", str(self.sockdir),
                           "-c", "listen_addresses=127.0.0.1"], user=USER, log=self.log_path)

    @property
    def log_path(self) -> Path:
        return self.datadir.parent / f"{self.name}.log"

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of the server's log (for error messages)."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.pid is None:
                self.stop()  # reap it
                last = self.log_tail(1).split("  ", 1)[-1]
                raise ReplabError(f"PostgreSQL server {self.name} exited while starting "
                                  f"({last.strip()}); see {self.log_path}")
            try:
                with self.connect(timeout_s=1.0) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                time.sleep(0.05)
        self.stop()
        raise ReplabError(f"PostgreSQL server {self.name} did not accept connections "
                          f"within {timeout_s:g} s")

    def send_signal(self, sig: int) -> None:
        """Send a signal to the postmaster (SIGKILL for a crash)."""
        if self.pid is not None:
            os.kill(self.pid, sig)

    def stop(self, sig: int = signal.SIGINT, timeout_s: float = 15.0) -> None:
        """Stop by PID (SIGINT: fast shutdown; SIGKILL after ``timeout_s``), reap it and
        wait for its backends (which outlive a killed postmaster for a moment)."""
        proc = self.proc
        if proc is None:
            return
        backends = children(proc.pid) if proc.poll() is None else []
        stop_process(proc, sig, timeout_s)
        _reap_backends(backends, timeout_s)

    def crash(self) -> None:
        """The machine dies: SIGKILL the postmaster and every process of it at once (a
        stopped walsender sends nothing more; a postmaster left alive would restart)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        backends = children(proc.pid)
        for pid in backends:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        stop_process(proc, signal.SIGKILL)
        _reap_backends(backends, 15.0)

    def __repr__(self) -> str:
        return f"PgServer({self.name!r}, port={self.port}, pid={self.pid})"


def _is_backend(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"postgres:")
    except OSError:
        return False


def _reap_backends(pids: list[int], timeout_s: float) -> None:
    """Wait (bounded) for a stopped postmaster's backends to exit; SIGKILL stragglers."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        left = [p for p in pids if _is_backend(p)]
        if not left:
            return
        time.sleep(0.05)
    for p in pids:
        if _is_backend(p):
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)


def stop_all() -> None:
    """Stop every server this process started that still runs (by PID) and remove the
    temporary folders."""
    processes.stop_all()


def remove_base(base: Path) -> None:
    """Remove a temporary folder of the lab (its servers stopped)."""
    processes.remove_temp_dir(base)


def install_sigterm_handler() -> None:
    """Turn SIGTERM into a clean exit (servers stopped) when nobody else handles it."""
    processes.install_handlers()


def write_conf(datadir: Path, text: str, name: str = "postgresql.conf") -> None:
    """Append settings to a server's configuration file (and keep its owner)."""
    path = datadir / name
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)
    processes.chown_tree(path, USER)


def init_primary(base: Path, bindir: Path) -> PgServer:
    """initdb a primary under ``base`` and start it."""
    datadir = base / "primary"
    # 1 MB WAL segments: a lab writes little WAL, and keeping enough of it for pg_rewind
    # (wal_keep_size) then costs megabytes, not the hundreds of 16 MB segments would
    run_tool(bindir, "initdb", "-D", str(datadir), "-U", "postgres", "--auth=trust",
             "--no-sync", "-E", "UTF8", "--locale=C", "--wal-segsize=1")
    write_conf(datadir, _BASE_CONF)
    server = PgServer("primary", datadir, bindir, base)
    server.start()
    return server


def clone_standby(primary: PgServer, base: Path, name: str) -> PgServer:
    """pg_basebackup ``primary`` into a hot standby called ``name`` (its
    ``application_name``) and start it streaming."""
    datadir = base / name
    run_tool(primary.bindir, "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port),
             "-U", "postgres", "-D", str(datadir), "-X", "stream", "--checkpoint=fast",
             "--no-sync")
    server = PgServer(name, datadir, primary.bindir, base)
    follow(server, primary)
    server.start()
    return server


def follow(standby: PgServer, primary: PgServer) -> None:
    """Make ``standby`` (stopped) a hot standby streaming from ``primary``."""
    (standby.datadir / "standby.signal").touch()
    processes.chown_tree(standby.datadir / "standby.signal", USER)
    write_conf(standby.datadir, f"\nprimary_conninfo = '{primary_conninfo(primary, standby)}'\n"
               "recovery_target_timeline = 'latest'\n", "postgresql.auto.conf")


def primary_conninfo(primary: PgServer, standby: PgServer) -> str:
    return (f"host=127.0.0.1 port={primary.port} user=postgres "
            f"application_name={standby.name}")
