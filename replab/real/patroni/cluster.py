"""A Patroni cluster on 127.0.0.1: n nodes, each a Patroni with its PostgreSQL, Raft as DCS.

Every node gets three ports of 127.0.0.1 below 32768 (PostgreSQL, the REST API, Raft; Raft's
``bind_addr`` is set, or it would listen on every address) and its own folder under one
temporary directory owned by ``postgres``. Patroni runs as ``postgres`` (its PID is the
real one: we start it, not a wrapper) from an interpreter that it also re-runs to start
the postmaster (:mod:`~replab.real.patroni.interpreter` finds one ``postgres`` can run, or
says in one line what to do). Patroni starts each postmaster in a session of its own, so
the cluster also tracks the postmasters (from ``postmaster.pid``) and stops them by PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psycopg

from replab.errors import ReplabError
from replab.real import processes
from replab.real.patroni.interpreter import patroni_python
from replab.real.postgres.servers import find_bindir
from replab.real.processes import children, free_port, spawn, stop_process

__all__ = ["PatroniCluster", "Node", "USER"]

USER = "postgres"
PORT_CEILING = 32768  # every port below it: the kernel's ephemeral range starts there
KEYS_TABLE = "replab_writes"


class Node:
    """One Patroni node: its ports, folders and the two processes we track."""

    def __init__(self, name: str, base: Path) -> None:
        self.name = name
        self.dir = base / name
        self.pg_port = free_port(below=PORT_CEILING)
        self.api_port = free_port(below=PORT_CEILING)
        self.raft_port = free_port(below=PORT_CEILING)
        self.patroni: subprocess.Popen[bytes] | None = None
        self.frozen: list[int] = []

    @property
    def datadir(self) -> Path:
        return self.dir / "data"

    @property
    def log_path(self) -> Path:
        return self.dir / "patroni.log"

    @property
    def ports(self) -> list[int]:
        return [self.pg_port, self.api_port, self.raft_port]

    def postmaster_pid(self) -> int | None:
        """The postmaster's PID from ``postmaster.pid`` while that process lives."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((self.datadir / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, 0)
            return pid
        return None

    def pids(self) -> list[int]:
        """Patroni, the postmaster and its children: everything this node runs."""
        out = []
        if self.patroni is not None and self.patroni.poll() is None:
            out += [self.patroni.pid, *children(self.patroni.pid)]
        pm = self.postmaster_pid()
        if pm is not None:
            out += [pm, *children(pm)]
        return sorted(set(out))

    def dsn(self, timeout_s: float = 2.0) -> str:
        return (f"host=127.0.0.1 port={self.pg_port} user=postgres dbname=postgres "
                f"connect_timeout={max(1, round(timeout_s))}")

    def connect(self, timeout_s: float = 2.0) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn(timeout_s), autocommit=True)

    def api(self, path: str, timeout_s: float = 1.0) -> tuple[int, Any]:
        """GET Patroni's REST API: (status, JSON body); (0, None) when it does not answer."""
        url = f"http://127.0.0.1:{self.api_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            with contextlib.suppress(Exception):
                return e.code, json.loads(e.read() or b"null")
            return e.code, None
        except (OSError, ValueError):
            return 0, None

    def freeze(self) -> None:
        """SIGSTOP Patroni and every PostgreSQL process of this node (a paused VM)."""
        self.frozen = self.pids()
        for pid in self.frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.frozen = []

    def kill_postmaster(self) -> int | None:
        pm = self.postmaster_pid()
        if pm is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pm, signal.SIGKILL)
        return pm

    def kill(self) -> None:
        """SIGKILL Patroni and PostgreSQL together (the machine died)."""
        pids = self.pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        stop_process(self.patroni, signal.SIGKILL, 10.0)
        _wait_gone(pids, 10.0)

    def stop(self) -> None:
        """Stop Patroni (which stops its PostgreSQL), then whatever is left, by PID."""
        self.thaw()
        pids = self.pids()
        stop_process(self.patroni, signal.SIGTERM, 20.0)
        left = [p for p in pids if _alive(p)]
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _wait_gone(left, 10.0)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _wait_gone(pids: list[int], timeout_s: float) -> None:
    processes.wait_until(lambda: not any(_alive(p) for p in pids), timeout_s)


class PatroniCluster:
    """n Patroni nodes over one Raft group; a context manager that always stops them.

    Parameters
    ----------
    nodes : int
        Patroni nodes, named ``n1`` ... ``nN``.
    ttl, loop_wait, retry_timeout : float
        Patroni's leader-lock timing (seconds).
    mode : str
        ``async`` or ``sync`` (``synchronous_mode``); :meth:`set_mode` changes it later.
    """

    def __init__(self, nodes: int = 3, *, ttl: float = 20.0, loop_wait: float = 2.0,
                 retry_timeout: float = 5.0, mode: str = "async") -> None:
        self.n = nodes
        self.ttl, self.loop_wait, self.retry_timeout = ttl, loop_wait, retry_timeout
        self.mode = mode
        self.base: Path | None = None
        self.nodes: list[Node] = []
        self._forget: Any = None
        self.python: str = sys.executable
        self.python_env: dict[str, str] = {}

    # -- life cycle ------------------------------------------------------------------------
    def __enter__(self) -> PatroniCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, timeout_s: float = 90.0) -> None:
        """Write every node's configuration, start the Patronis, wait (bounded) for a leader
        and every replica streaming."""
        if self.nodes:
            return
        bindir = find_bindir()
        self.python, self.python_env = patroni_python()
        self.base = processes.make_temp_dir("replab-patroni-", USER)
        self._forget = processes.on_stop(self.close)
        self.nodes = [Node(f"n{i + 1}", self.base) for i in range(self.n)]
        try:
            for node in self.nodes:
                node.dir.mkdir()
                (node.dir / "patroni.yml").write_text(json.dumps(self._config(node, bindir)))
                processes.chown_tree(node.dir, USER)
            for node in self.nodes:
                self.launch(node)
            self.wait_healthy(timeout_s)
            self.create_table()
        except BaseException:
            self.close()
            raise

    def launch(self, node: Node) -> None:
        """Start (again) ``node``'s Patroni as ``postgres``; its PID is the real one."""
        node.patroni = spawn([self.python, "-m", "patroni", str(node.dir / "patroni.yml")],
                             user=USER, log=node.log_path,
                             env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                                  "HOME": str(node.dir), **self.python_env})

    def close(self) -> None:
        """Stop every node by PID (Patronis first, at once), remove the directory."""
        for node in self.nodes:
            node.thaw()
            if node.patroni is not None and node.patroni.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(node.patroni.pid, signal.SIGTERM)
        for node in self.nodes:
            node.stop()
        if self._forget is not None:
            self._forget()
            self._forget = None
        if self.base is not None:
            processes.remove_temp_dir(self.base)

    def pids(self) -> list[int]:
        return sorted(p for node in self.nodes for p in node.pids())

    def ports(self) -> list[int]:
        return sorted(p for node in self.nodes for p in node.ports)

    # -- state -----------------------------------------------------------------------------
    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def members(self, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """The cluster as the first answering node's REST API sees it (``/cluster``)."""
        for node in self.nodes:
            if node.name in skip or node.frozen:
                continue
            status, body = node.api("/cluster")
            if status == 200 and isinstance(body, dict):
                return list(body.get("members", []))
        return []

    def leader(self, skip: tuple[str, ...] = ()) -> str | None:
        """The member holding the leader lock (by the DCS), or None."""
        return next((m["name"] for m in self.members(skip) if m.get("role") == "leader"), None)

    def healthy(self) -> bool:
        """A running leader and every other member a streaming replica, one timeline."""
        members = self.members()
        if len(members) != self.n:
            return False
        leaders = [m for m in members if m.get("role") == "leader" and
                   m.get("state") == "running"]
        streaming = [m for m in members if m.get("role") != "leader" and
                     m.get("state") == "streaming"]
        timelines = {m.get("timeline") for m in members}
        sync_ok = self.mode == "async" or any(m.get("role") == "sync_standby" for m in members)
        return len(leaders) == 1 and len(streaming) == self.n - 1 and len(timelines) == 1 \
            and sync_ok

    def wait_healthy(self, timeout_s: float) -> float:
        """Wait (bounded) until :meth:`healthy`; return the seconds it took."""
        t0 = time.monotonic()
        if not processes.wait_until(self.healthy, timeout_s, step_s=0.2):
            died = [n.name for n in self.nodes if n.patroni is None or
                    n.patroni.poll() is not None]
            tail = ""
            for node in self.nodes:
                with contextlib.suppress(OSError):
                    tail = node.log_path.read_text(errors="replace").strip().splitlines()[-1]
            raise ReplabError(f"the Patroni cluster was not healthy within {timeout_s:g} s "
                              f"(exited: {died or 'none'}; members: {self.members()}; last log "
                              f"line: {tail!r}); logs in {self.base}")
        return time.monotonic() - t0

    def create_table(self) -> None:
        """The clients' table, on the leader (replicated like everything else)."""
        leader = self.node(self.leader() or self.nodes[0].name)
        with leader.connect() as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (id bigserial PRIMARY KEY, "
                         "client int NOT NULL, seq int NOT NULL, written_at timestamptz "
                         "DEFAULT clock_timestamp())")

    def set_mode(self, mode: str, timeout_s: float = 60.0) -> None:
        """Switch ``synchronous_mode`` through the REST API (PATCH /config) and wait."""
        leader = self.node(self.leader() or self.nodes[0].name)
        body = json.dumps({"synchronous_mode": mode == "sync"}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{leader.api_port}/config", data=body,
                                     method="PATCH",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            resp.read()
        self.mode = mode
        self.wait_healthy(timeout_s)

    # -- configuration ---------------------------------------------------------------------
    def _config(self, node: Node, bindir: Path) -> dict[str, Any]:
        assert self.base is not None
        others = [f"127.0.0.1:{m.raft_port}" for m in self.nodes if m is not node]
        return {
            "scope": "replab", "name": node.name,
            "log": {"level": "INFO"},
            "restapi": {"listen": f"127.0.0.1:{node.api_port}",
                        "connect_address": f"127.0.0.1:{node.api_port}"},
            "raft": {"data_dir": str(node.dir / "raft"),
                     "self_addr": f"127.0.0.1:{node.raft_port}",
                     "bind_addr": f"127.0.0.1:{node.raft_port}", "partner_addrs": others},
            "bootstrap": {
                "dcs": {"ttl": self.ttl, "loop_wait": self.loop_wait,
                        "retry_timeout": self.retry_timeout,
                        "maximum_lag_on_failover": 64 * 1024 * 1024,
                        "synchronous_mode": self.mode == "sync",
                        "postgresql": {"use_pg_rewind": True, "use_slots": True,
                                       "parameters": _PG_PARAMETERS}},
                "initdb": [{"encoding": "UTF8"}, {"locale": "C"}, {"wal-segsize": "1"},
                           "no-sync"],
                "pg_hba": ["local all all trust", "host all all 127.0.0.1/32 trust",
                           "host replication all 127.0.0.1/32 trust"]},
            "postgresql": {
                "listen": f"127.0.0.1:{node.pg_port}",
                "connect_address": f"127.0.0.1:{node.pg_port}",
                "data_dir": str(node.datadir), "bin_dir": str(bindir),
                "pgpass": str(node.dir / "pgpass"),
                "authentication": {"superuser": {"username": "postgres"},
                                   "replication": {"username": "postgres"},
                                   "rewind": {"username": "postgres"}},
                "parameters": {"unix_socket_directories": str(node.dir)}},
            "tags": {"nofailover": False, "noloadbalance": False},
        }


_PG_PARAMETERS = {
    "wal_level": "replica", "hot_standby": "on", "wal_log_hints": "on",
    "max_wal_senders": 10, "max_replication_slots": 10, "wal_keep_size": "64MB",
    "fsync": "off", "shared_buffers": "16MB", "max_connections": 60, "autovacuum": "off",
    "wal_receiver_status_interval": "1s", "log_min_messages": "warning",
    "dynamic_shared_memory_type": "mmap",  # in the data dir, not /dev/shm (see postgres lab)
}
