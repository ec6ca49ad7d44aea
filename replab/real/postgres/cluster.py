"""A primary with 1-3 hot standbys, reconfigured between runs without restarting.

The replication mode and the standbys' apply delays are set with ``ALTER SYSTEM`` and a
reload, so one cluster serves many runs (tests and notebook sweeps share one). Standbys are
named ``s1``, ``s2``, ... (their ``application_name``), which is how
``synchronous_standby_names`` refers to them.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from replab.errors import ReplabError
from replab.real.postgres.names import COMMIT_LEVELS, MODES
from replab.real.postgres.servers import (
    PgServer,
    clone_standby,
    find_bindir,
    init_primary,
    install_sigterm_handler,
    make_base_dir,
    remove_base,
)
from replab.validate import check_int

__all__ = ["PgCluster", "MODES", "COMMIT_LEVELS", "standby_names"]

KEYS_TABLE = "reg"


def standby_names(mode: str, names: list[str]) -> str:
    """``synchronous_standby_names`` for a mode: none, all of them, or the first one
    (the chapter's semi-synchronous: one synchronous follower, the others asynchronous).

    >>> standby_names("semi-sync", ["s1", "s2"])
    'FIRST 1 ("s1", "s2")'
    """
    if mode == "async" or not names:
        return ""
    quoted = ", ".join(f'"{n}"' for n in names)
    count = len(names) if mode == "sync" else 1
    return f"FIRST {count} ({quoted})"


class PgCluster:
    """A running primary and hot standbys in one temporary folder; a context manager.

    Parameters
    ----------
    standbys : int
        How many hot standbys (1-3).

    Examples
    --------
    >>> with PgCluster(standbys=1) as cluster:  # doctest: +SKIP
    ...     cluster.configure(mode="async", apply_delay_ms=[100.0])
    """

    def __init__(self, standbys: int = 1) -> None:
        check_int(standbys, "standbys", "PgCluster", low=1, high=3)
        self.n_standbys = standbys
        self.bindir = find_bindir()
        self.base: Path | None = None
        self.primary: PgServer | None = None
        self.standbys: list[PgServer] = []
        self.retired: list[PgServer] = []  # servers out of the topology, still ours to stop
        self.lock = threading.RLock()  # guards the topology during a failover
        self.mode = "async"
        self.keys = 0

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> PgCluster:
        install_sigterm_handler()
        self.base = make_base_dir()
        try:
            self.primary = init_primary(self.base, self.bindir)
            for i in range(1, self.n_standbys + 1):
                self.standbys.append(clone_standby(self.primary, self.base, f"s{i}"))
            self.wait_streaming()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every server (by PID) and remove the temporary folder.

        Immediate shutdown (SIGQUIT), all at once: the folder is deleted, so nothing is
        gained by a clean checkpoint, and a primary's fast shutdown waits for its
        standbys."""
        everyone = self.servers() + self.retired
        for server in everyone:
            with contextlib.suppress(OSError):
                server.send_signal(signal.SIGQUIT)
        for server in everyone:
            with contextlib.suppress(Exception):
                server.stop(signal.SIGQUIT)
        if self.base is not None:
            remove_base(self.base)

    def __enter__(self) -> PgCluster:
        return self.start() if self.primary is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def servers(self) -> list[PgServer]:
        return ([self.primary] if self.primary is not None else []) + list(self.standbys)

    def pids(self) -> list[int]:
        """The postmasters' PIDs (running ones)."""
        return [s.pid for s in self.servers() + self.retired if s.pid is not None]

    def ports(self) -> list[int]:
        return [s.port for s in self.servers() + self.retired]

    def server(self, name: str) -> PgServer:
        for s in self.servers():
            if s.name == name:
                return s
        raise ReplabError(f"no server named {name!r} in the cluster")

    def get_primary(self) -> PgServer:
        with self.lock:
            if self.primary is None:
                raise ReplabError("the cluster is not running: start it with "
                                  "PgCluster(...).start() or `with PgCluster(...) as c:`")
            return self.primary

    # -- configuration -----------------------------------------------------------------
    def configure(self, *, mode: str, commit_level: str = "on",
                  apply_delay_ms: list[float] | tuple[float, ...] = ()) -> None:
        """Set the replication mode on the primary and each standby's apply delay; wait
        until the settings are in force and the standbys have caught up."""
        primary = self.get_primary()
        names = [s.name for s in self.standbys]
        level = "local" if mode == "async" else commit_level
        with primary.connect() as conn:
            conn.execute(f"ALTER SYSTEM SET synchronous_standby_names = "
                         f"'{standby_names(mode, names)}'")
            # async acknowledges after the local flush only, whatever standbys there are
            conn.execute(f"ALTER SYSTEM SET synchronous_commit = '{level}'")
            conn.execute("SELECT pg_reload_conf()")
        delays = list(apply_delay_ms) + [0.0] * (len(self.standbys) - len(apply_delay_ms))
        for standby, delay in zip(self.standbys, delays, strict=True):
            with standby.connect() as conn:
                conn.execute(f"ALTER SYSTEM SET recovery_min_apply_delay = '{int(delay)}ms'")
                conn.execute("SELECT pg_reload_conf()")
            _wait_setting(standby, "recovery_min_apply_delay", str(int(delay)))
        _wait_setting(primary, "synchronous_commit", level)
        self.mode = mode
        self.wait_streaming(sync=mode != "async")
        self.wait_caught_up()

    def reset_table(self, keys: int) -> None:
        """(Re)create the register table: ``keys`` rows, value null, version 0."""
        with self.get_primary().connect() as conn:
            conn.execute(f"DROP TABLE IF EXISTS {KEYS_TABLE}")
            conn.execute(f"CREATE TABLE {KEYS_TABLE} (key text PRIMARY KEY, value bigint, "
                         "version bigint NOT NULL DEFAULT 0)")
            conn.execute(f"INSERT INTO {KEYS_TABLE} (key) SELECT 'k' || i "
                         "FROM generate_series(0, %s) AS i", (keys - 1,))
        self.keys = keys
        self.wait_caught_up()

    def wait_streaming(self, *, sync: bool = False, timeout_s: float = 30.0) -> None:
        """Wait until every standby streams from the primary (and, for ``sync``, the
        synchronous ones are marked so)."""
        want = {s.name for s in self.standbys}
        deadline = time.monotonic() + timeout_s
        rows: list[Any] = []
        while time.monotonic() < deadline:
            with self.get_primary().connect() as conn:
                rows = conn.execute("SELECT application_name, state, sync_state "
                                    "FROM pg_stat_replication").fetchall()
            streaming = {r[0] for r in rows if r[1] == "streaming"}
            has_sync = any(r[2] == "sync" for r in rows)
            if want <= streaming and (has_sync or not sync):
                return
            time.sleep(0.05)
        raise ReplabError(f"standbys {sorted(want)} not streaming within {timeout_s:g} s "
                          f"(pg_stat_replication: {rows})")

    def wait_caught_up(self, timeout_s: float = 30.0) -> None:
        """Wait until every standby has replayed the primary's current WAL position."""
        with self.get_primary().connect() as conn:
            target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + timeout_s
        for standby in self.standbys:
            with standby.connect() as conn:
                while True:
                    done = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                        (target,)).fetchone()[0]  # type: ignore[index]
                    if done:
                        break
                    if time.monotonic() > deadline:
                        raise ReplabError(f"standby {standby.name} did not catch up "
                                          f"within {timeout_s:g} s")
                    time.sleep(0.02)


def _wait_setting(server: PgServer, name: str, want: str, timeout_s: float = 10.0) -> None:
    """A reload is asynchronous: poll (new sessions) until the setting shows ``want``."""
    deadline = time.monotonic() + timeout_s
    got = None
    while time.monotonic() < deadline:
        with contextlib.suppress(psycopg.OperationalError), server.connect() as conn:
            got = conn.execute("SELECT setting FROM pg_settings WHERE name = %s",
                               (name,)).fetchone()[0]  # type: ignore[index]
            if got == want:
                return
        time.sleep(0.02)
    raise ReplabError(f"{server.name}: {name} is {got!r}, not {want!r}, "
                      f"{timeout_s:g} s after the reload")
