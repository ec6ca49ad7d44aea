"""MariaDB server processes for the lab: temp datadirs, 127.0.0.1 ports, PIDs always stopped.

Every ``mariadbd`` the lab starts is registered in :data:`LIVE` (PID -> process) and
stopped by PID: by :class:`ServerSet` on exit (normal, error, Ctrl-C), by an ``atexit``
hook, and on ``SIGTERM`` (turned into ``SystemExit`` so the same clean-up runs). On Linux
each server also gets ``PR_SET_PDEATHSIG``: if the Python process is killed outright, the
kernel kills its servers too. Nothing here reads a system configuration file
(``--no-defaults``) or touches a system instance.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pymysql

from replab.errors import ReplabError
from replab.real import processes
from replab.real.processes import LIVE, _on_sigterm, free_port, run_as, spawn, stop_process

__all__ = ["MariaDBMissingError", "Server", "ServerSet", "LIVE", "find_binaries", "free_port",
           "sparse_copy", "stop_all", "_on_sigterm"]

USER = "mysql"  # as root, the servers run as this user (mariadbd refuses root otherwise)
_SEARCH = "/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/local/mysql/bin"
# Small buffers: three servers share a 2-core CI machine with everything else. A lab
# server is thrown away after one run: no warm-cache file is saved at shutdown or read at
# start-up (the buffer pool's contents, never what a run measures).
_COMMON = ["--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M",
           "--skip-name-resolve", "--performance-schema=OFF",
           "--innodb-buffer-pool-dump-at-shutdown=OFF",
           "--innodb-buffer-pool-load-at-startup=OFF"]
_BLOCK = 16384  # InnoDB's page size: a template's files are mostly pages of zeros
_RAM = "/dev/shm"
_RAM_FREE = 1 << 30  # bytes /dev/shm must have free to hold a lab


def _parent(keep: bool) -> str | None:
    """Where a lab's datadirs go: in memory (``/dev/shm``) where there is room, unless kept.

    A throwaway datadir in memory spares the disk's file creation and deletion (about
    0.6 s a lab on a busy disk). A run's commits do not fsync
    (``innodb_flush_log_at_trx_commit=2``, ``sync_binlog=0``), so they write to the OS
    page cache either way, and a SIGKILLed server loses nothing the OS holds in either;
    what the memory spares them is the shared disk's write-back stalls (the latency tail
    of other tenants' I/O, not of replication). A kept directory goes to the system's
    temporary folder, and so does every lab when ``/dev/shm`` has less than ``_RAM_FREE``
    bytes free (Docker's default is 64 MB; a lab's datadirs and logs grow to tens of MB).
    """
    if keep or not os.access(_RAM, os.W_OK | os.X_OK):
        return None
    fs = os.statvfs(_RAM)
    return _RAM if fs.f_bavail * fs.f_frsize >= _RAM_FREE else None


class MariaDBMissingError(ReplabError):
    """The MariaDB server binaries are not installed."""


def find_binaries() -> tuple[str, str]:
    """Paths of ``mariadbd`` and ``mariadb-install-db``; raise when missing."""
    server = shutil.which("mariadbd", path=_SEARCH) or shutil.which("mysqld", path=_SEARCH)
    install = shutil.which("mariadb-install-db", path=_SEARCH) or shutil.which(
        "mysql_install_db", path=_SEARCH)
    if not server or not install:
        raise MariaDBMissingError(
            "MariaDB is not installed (no mariadbd / mariadb-install-db): run "
            "`python3 tasks.py test` as root or `apt-get install mariadb-server`.")
    return server, install


def _chown(path: Path) -> None:
    processes.chown_tree(path, USER)


class Server:
    """One ``mariadbd`` on 127.0.0.1 with its own datadir, socket and error log."""

    def __init__(self, name: str, server_id: int, root: Path) -> None:
        self.name = name
        self.server_id = server_id
        self.dir = root / name
        self.datadir = self.dir / "data"
        self.socket = self.dir / "mariadb.sock"
        self.log = self.dir / "error.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.options: list[str] = []
        self.database: str | None = None  # the schema client connections start in

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, options: list[str], *, timeout: float = 30.0) -> None:
        """Start the server (again, after a crash: same port and datadir) and wait for it."""
        self.launch(options)
        self.wait_ready(timeout)

    def launch(self, options: list[str]) -> None:
        """Start the process and register its PID; do not wait for it to accept clients."""
        server, _ = find_binaries()
        self.options = list(options)
        self.port = self.port or free_port()
        args = [server, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
                "--bind-address=127.0.0.1", f"--socket={self.socket}",
                f"--pid-file={self.dir / 'mariadb.pid'}", f"--log-error={self.log}",
                f"--server-id={self.server_id}", f"--tmpdir={self._tmpdir()}", *_COMMON,
                *self.options]
        self.proc = spawn(args, user=USER, new_session=False)

    def _tmpdir(self) -> Path:
        """The server's own temporary folder: with the default (/tmp) another process
        cleaning /tmp can delete a temp table under a running server."""
        tmp = self.dir / "tmp"
        tmp.mkdir(exist_ok=True)
        _chown(tmp)
        return tmp

    def wait_ready(self, timeout: float) -> None:
        """Wait until the server accepts a client; stop it and raise if it does not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            with contextlib.suppress(pymysql.err.OperationalError):
                self.connect(connect_timeout=1).close()
                return
            time.sleep(0.05)
        tail = self.log.read_text(errors="replace")[-600:] if self.log.exists() else ""
        self.stop()
        raise ReplabError(f"MariaDB server {self.name} did not start within {timeout:g} s; "
                          f"its error log ends: {tail.strip()[-300:]!r}")

    def connect(self, *, connect_timeout: float = 5, read_timeout: float | None = None
                ) -> pymysql.connections.Connection[Any]:
        """A new autocommit client connection (root over TCP on 127.0.0.1)."""
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root",
                               database=self.database, autocommit=True,
                               connect_timeout=connect_timeout, read_timeout=read_timeout,
                               write_timeout=read_timeout)

    def signal(self, sig: int) -> None:
        """Send ``sig`` to this server's PID (SIGSTOP/SIGCONT stall and resume it)."""
        if self.running and self.proc is not None:
            os.kill(self.proc.pid, sig)

    def crash(self) -> None:
        """SIGKILL: the process dies at once, as in a power cut of the process."""
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        self._reap(5.0)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (a clean shutdown), SIGKILL after ``timeout`` seconds."""
        stop_process(self.proc, signal.SIGTERM, timeout)

    def _reap(self, timeout: float) -> None:
        stop_process(self.proc, signal.SIGKILL, timeout)


class ServerSet:
    """``n`` servers in one temporary directory; a context manager that always stops them.

    Parameters
    ----------
    n : int
        Servers, named ``db1`` ... ``dbn`` with server ids 1 ... n.
    keep : bool
        Keep the temporary directory (datadirs, error logs) after stopping.
    """

    def __init__(self, n: int, *, keep: bool = False) -> None:
        find_binaries()
        # removed at exit even if nobody closes this set (unless kept)
        self.root = processes.make_temp_dir("replab-mariadb-", USER, keep=keep,
                                            parent=_parent(keep))
        self.keep = keep
        self.servers = [Server(f"db{i + 1}", i + 1, self.root) for i in range(n)]

    def __enter__(self) -> ServerSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getitem__(self, i: int) -> Server:
        return self.servers[i]

    def __len__(self) -> int:
        return len(self.servers)

    def start(self, options: list[list[str]], *, timeout: float = 30.0) -> None:
        """Copy the installed system database to every datadir, start each server."""
        template = _template(timeout)
        for server, opts in zip(self.servers, options, strict=True):
            server.dir.mkdir(parents=True, exist_ok=True)
            shutil.copytree(template, server.datadir, copy_function=sparse_copy)
            _chown(server.dir)
            server.launch(opts)
        for server in self.servers:  # launched together: they start up side by side
            server.wait_ready(timeout)

    def close(self) -> None:
        """Stop every server by PID and remove the directory (unless ``keep``).

        A kept directory gets a clean shutdown (SIGTERM), so its datadirs can be opened
        again. Otherwise the data is deleted next and nothing is left to make durable:
        SIGKILL, which spares each server's shutdown (flushing the buffer pool, a clean
        InnoDB shutdown: about 0.7 s a lab). Either way every PID is reaped.
        """
        sig = signal.SIGTERM if self.keep else signal.SIGKILL
        for server in self.servers:  # all at once: a clean shutdown takes a moment
            if server.running and server.proc is not None:
                server.signal(signal.SIGCONT)
                server.signal(sig)
        for server in self.servers:
            stop_process(server.proc, sig, 15.0)
        if not self.keep:
            processes.remove_temp_dir(self.root)

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.servers if s.pid is not None and s.running]


def sparse_copy(src: str, dst: str) -> str:
    """Copy the file ``src`` to ``dst``, leaving blocks of zeros as holes.

    A fresh datadir is 26 MB, 20 of them zero pages (the system tablespace and redo log
    are preallocated); a sparse copy writes 7. Reads of a hole return zeros, so the
    server sees the same bytes. ``shutil.copytree``'s ``copy_function``.
    """
    zero = bytes(_BLOCK)
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while block := fin.read(_BLOCK):
            if block == zero:
                fout.seek(len(block), os.SEEK_CUR)
            else:
                fout.write(block)
        fout.truncate()
    shutil.copystat(src, dst)
    return dst


_TEMPLATE: list[Path] = []


def _template(timeout: float) -> Path:
    """A freshly installed system database, made once per process and copied per server
    (``mariadb-install-db`` costs about as much as starting three servers)."""
    if _TEMPLATE and _TEMPLATE[0].exists():
        return _TEMPLATE[0] / "data"
    _, install = find_binaries()
    root = processes.make_temp_dir("replab-mariadb-template-", USER, parent=_parent(False))
    (root / "tmp").mkdir()
    _chown(root / "tmp")
    cmd = [install, "--no-defaults", f"--datadir={root / 'data'}", f"--tmpdir={root / 'tmp'}",
           "--auth-root-authentication-method=normal", "--skip-test-db", *_COMMON]
    if run_as(USER):
        cmd.append("--user=mysql")
    done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise ReplabError("mariadb-install-db failed: "
                          + done.stderr.decode(errors="replace").strip()[-300:])
    _TEMPLATE[:] = [root]
    return root / "data"


def stop_all() -> None:
    """Kill every server this process started and still runs, remove unkept directories
    (atexit, SIGTERM)."""
    processes.stop_all()
