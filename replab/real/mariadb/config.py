"""``MariaDBConfig``: what one run of the MariaDB lab does."""

from __future__ import annotations

from dataclasses import dataclass

from replab.real.mariadb.topology import BINLOG_FORMATS, TOPOLOGIES
from replab.real.mariadb.workload import WORKLOADS
from replab.validate import check_bool, check_choice, check_float, check_int, fail

__all__ = ["FAULTS", "MariaDBConfig"]

FAULTS = ("none", "crash", "stall", "break-link")
_OWNER = "MariaDBConfig"


@dataclass(frozen=True, kw_only=True)
class MariaDBConfig:
    """One run on real MariaDB servers (127.0.0.1, temporary datadirs).

    Parameters
    ----------
    binlog : str
        ``binlog_format``: ``statement``, ``row`` or ``mixed``.
    workload : str
        ``nondeterministic`` or ``counters`` (see :mod:`replab.real.mariadb.workload`).
    topology : str
        ``leader-follower`` (db1 takes every write), ``circular`` (db1 -> db2 -> db3 ->
        db1) or ``all-to-all``; in the multi-leader ones client ``c`` writes to server
        ``c mod servers``.
    servers : int
        Servers, 2 to 5.
    semi_sync : bool
        Semi-synchronous replication: a commit waits for one replica's acknowledgement
        (it has the event in its relay log), at most ``semi_sync_timeout_ms``, after which
        the primary falls back to asynchronous replication.
    semi_sync_timeout_ms : int
        ``rpl_semi_sync_master_timeout``.
    fault : str
        ``none``; ``crash`` (SIGKILL db1 at ``fault_at``; ``stall_ms`` before that every
        link out of db1 is stopped, so its replicas fall behind as over a slow or
        partitioned network; after the writes db2 applies what it received and is
        promoted); ``stall`` (freeze every server but db1 with SIGSTOP for ``stall_ms`` at
        ``fault_at``); ``break-link`` (stop the link db1 -> db2 at ``fault_at``, heal it
        after the writes end).
    fault_at : float
        When the fault strikes, as a fraction of ``duration_s``.
    stall_ms : int
        How long replicas stay frozen (``stall``) or cut off before the crash (``crash``;
        0: not at all).
    duration_s : float
        How long clients write.
    clients : int
        Client sessions, each with its own connection; one transaction at a time, the
        issuing client drawn from the seed.
    keys : int
        Counter keys (``counters`` workload).
    auto_increment_offsets : bool
        Multi-leader only: give server ``i`` of ``n`` ``auto_increment_increment = n`` and
        ``auto_increment_offset = i + 1`` so AUTO_INCREMENT keys never collide.
    sample_ms : float
        How often GTID positions are sampled.
    settle_s : float
        The longest wait for servers to agree after the writes (bounded).
    """

    binlog: str = "row"
    workload: str = "counters"
    topology: str = "leader-follower"
    servers: int = 3
    semi_sync: bool = False
    semi_sync_timeout_ms: int = 1000
    fault: str = "none"
    fault_at: float = 0.5
    stall_ms: int = 500
    duration_s: float = 2.0
    clients: int = 3
    keys: int = 5
    auto_increment_offsets: bool = True
    sample_ms: float = 50.0
    settle_s: float = 10.0

    def __post_init__(self) -> None:
        check_choice(self.binlog, "binlog", _OWNER, BINLOG_FORMATS)
        check_choice(self.workload, "workload", _OWNER, WORKLOADS)
        check_choice(self.topology, "topology", _OWNER, TOPOLOGIES)
        check_int(self.servers, "servers", _OWNER, low=2, high=5)
        check_bool(self.semi_sync, "semi_sync", _OWNER)
        check_int(self.semi_sync_timeout_ms, "semi_sync_timeout_ms", _OWNER, low=1,
                  high=600_000)
        check_choice(self.fault, "fault", _OWNER, FAULTS)
        check_float(self.fault_at, "fault_at", _OWNER, low=0.0, high=1.0)
        check_int(self.stall_ms, "stall_ms", _OWNER, low=0, high=60_000)
        check_float(self.duration_s, "duration_s", _OWNER, low=0.0, high=3600.0, low_open=True)
        check_int(self.clients, "clients", _OWNER, low=1, high=32)
        check_int(self.keys, "keys", _OWNER, low=1, high=1000)
        check_bool(self.auto_increment_offsets, "auto_increment_offsets", _OWNER)
        check_float(self.sample_ms, "sample_ms", _OWNER, low=5.0, high=10_000.0)
        check_float(self.settle_s, "settle_s", _OWNER, low=0.0, high=600.0)
        if self.fault == "stall" and self.stall_ms == 0:
            raise fail("stall_ms", _OWNER, "an int in [1, 60000] when fault='stall'", 0)

    @property
    def multi_leader(self) -> bool:
        return self.topology != "leader-follower"
