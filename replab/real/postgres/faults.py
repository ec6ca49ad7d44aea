"""The chapter's faults, for real: a stalled walsender, a crashed primary, a promoted
standby and the old primary rewound into a follower.

Each fault is written into the history as a nemesis op (``process: "nemesis"``,
``type: "info"``, ``f`` in :data:`NEMESIS_FS`, no key), Jepsen's convention for fault
windows; the checkers skip them.

Failover counts what was lost twice. From the history, the ``lost-write`` checker counts
acknowledged writes that the final reads show are gone. From the data, the old primary is
started on its own (no standby can reach it), its rows are read before ``pg_rewind``
erases them, and every version it holds beyond the new primary's is a commit the new
timeline does not have (``version`` grows by one per commit). Clients are held between
operations before the crash, so every commit the old primary held was either
acknowledged (``ok``) or still in flight (``info``: waiting for a synchronous standby).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

from replab.errors import ReplabError
from replab.real.postgres.cluster import KEYS_TABLE, PgCluster
from replab.real.postgres.servers import PgServer, follow, primary_conninfo, run_tool

__all__ = ["NEMESIS_FS", "stall", "resume", "failover"]

NEMESIS_FS = ("stall", "resume", "kill", "promote", "rewind")


def nemesis(lab: Any, f: str, value: Any) -> None:
    """Record a fault in the history (Jepsen: a nemesis op, no key)."""
    lab.recorder.add("nemesis", "info", f, None, value)  # type: ignore[arg-type]
    lab.fault_log.append((round(lab.recorder.now_ms(), 3), f, value))


def walsender_pids(primary: PgServer) -> dict[str, int]:
    """Standby name -> PID of the walsender serving it."""
    with primary.connect() as conn:
        rows = conn.execute("SELECT application_name, pid FROM pg_stat_replication").fetchall()
    return {str(name): int(pid) for name, pid in rows}


def stall(lab: Any) -> dict[str, int]:
    """SIGSTOP every walsender: the standbys receive nothing more until :func:`resume`."""
    pids = walsender_pids(lab.cluster.get_primary())
    for pid in pids.values():
        os.kill(pid, signal.SIGSTOP)
    nemesis(lab, "stall", sorted(pids))
    return pids


def resume(lab: Any, pids: dict[str, int], *, record: bool = True) -> None:
    """SIGCONT the stalled walsenders that still exist (``record``: as a nemesis op)."""
    for pid in pids.values():
        if _is_walsender(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    if record:
        nemesis(lab, "resume", sorted(pids))


def _is_walsender(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"postgres: walsender")
    except OSError:
        return False


def failover(lab: Any, stalled: dict[str, int]) -> dict[str, Any]:
    """Crash the primary, promote the most advanced standby, repoint the others, count
    the old primary's commits the new timeline lacks, then rewind it into a follower."""
    cluster: PgCluster = lab.cluster
    lab.hold_clients()
    old = cluster.get_primary()
    old.crash()  # every process of it at once, the stalled walsenders too
    nemesis(lab, "kill", old.name)
    lab.no_more_writes()
    new = promote_best(lab)
    lab.release_clients()
    held = old_primary_rows(old)
    kept = rows(new)
    rewind(lab, old, new)
    return {"old_primary": old.name, "new_primary": new.name,
            **only_old_held(held, kept, lab.recorder.history),
            "old_versions": {k: v for k, (_, v) in held.items()},
            "new_versions": {k: v for k, (_, v) in kept.items()}}


def only_old_held(held: dict[str, tuple[Any, int]], kept: dict[str, tuple[Any, int]],
                  history: Any) -> dict[str, Any]:
    """What the old primary committed that the new timeline lacks: versions above the
    new primary's, per key. ``lost_in_data`` counts them all; ``lost_in_data_acknowledged``
    those the history acknowledged (an ok write of that key and version); the rest were
    in flight at the crash. ``old_values_match``: each key's newest value on the old
    primary is the one the history's write of that version wrote (the data is the
    history's)."""
    writes = {(op["key"], op["version"]): op["value"] for op in history
              if op["f"] == "write" and op["type"] == "ok"}
    missing = {k: range(kept.get(k, (None, 0))[1] + 1, v + 1) for k, (_, v) in held.items()}
    acked = sum((k, v) in writes for k, versions in missing.items() for v in versions)
    match = all(writes.get((k, v), value) == value for k, (value, v) in held.items())
    return {"lost_in_data": sum(len(r) for r in missing.values()),
            "lost_in_data_acknowledged": acked, "old_values_match": match,
            "lost_keys": sorted(k for k, r in missing.items() if len(r))}


def promote_best(lab: Any) -> PgServer:
    """Promote the standby that received the most WAL (the chapter's choice of the most
    up-to-date follower) and point the other standbys at it."""
    cluster: PgCluster = lab.cluster
    best, best_lsn = None, None
    for s in cluster.standbys:
        with s.connect() as conn:
            lsn = conn.execute("SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0')") \
                .fetchone()[0]  # type: ignore[index]
        if best_lsn is None or lsn > best_lsn:
            best, best_lsn = s, lsn
    assert best is not None
    with best.connect(timeout_s=5.0) as conn:
        ok = conn.execute("SELECT pg_promote(true, 30)").fetchone()[0]  # type: ignore[index]
    if not ok:
        raise ReplabError(f"pg_promote() on {best.name} did not finish within 30 s")
    with cluster.lock:
        cluster.retired.append(cluster.primary)  # type: ignore[arg-type]
        cluster.primary = best
        cluster.standbys = [s for s in cluster.standbys if s is not best]
    nemesis(lab, "promote", best.name)
    for s in cluster.standbys:
        with s.connect() as conn:
            conn.execute(f"ALTER SYSTEM SET primary_conninfo = '{primary_conninfo(best, s)}'")
            conn.execute("SELECT pg_reload_conf()")
    return best


def rows(server: PgServer) -> dict[str, tuple[Any, int]]:
    """key -> (value, version) of the register table on ``server``."""
    with server.connect(timeout_s=5.0) as conn:
        got = conn.execute(f"SELECT key, value, version FROM {KEYS_TABLE}").fetchall()
    return {str(k): (v, int(ver)) for k, v, ver in got}


def old_primary_rows(old: PgServer) -> dict[str, tuple[Any, int]]:
    """Start the crashed primary alone (crash recovery, a fresh port nobody knows), read
    what it committed, and shut it down cleanly (``pg_rewind`` needs that)."""
    old.start()
    try:
        return rows(old)
    finally:
        old.stop()


def rewind(lab: Any, old: PgServer, new: PgServer) -> None:
    """``pg_rewind`` the old primary onto the new timeline and start it as a standby."""
    with new.connect() as conn:
        # pg_rewind reads the source's timeline from its control file, which a promotion
        # updates only at the next checkpoint ("no rewind required" otherwise)
        conn.execute("CHECKPOINT")
    run_tool(old.bindir, "pg_rewind", "--target-pgdata", str(old.datadir),
             "--source-server", new.dsn(), "--no-sync", timeout=60.0)
    follow(old, new)
    old.start()
    cluster: PgCluster = lab.cluster
    with cluster.lock:
        cluster.retired.remove(old)
        cluster.standbys.append(old)
    nemesis(lab, "rewind", old.name)
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:
        with new.connect() as conn:
            names = {r[0] for r in conn.execute(
                "SELECT application_name FROM pg_stat_replication "
                "WHERE state = 'streaming'").fetchall()}
        if old.name in names:
            return
        time.sleep(0.05)
    raise ReplabError(f"the rewound {old.name} did not stream from {new.name} within 30 s")
