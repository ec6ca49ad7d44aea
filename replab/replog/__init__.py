"""Replication logs run for real on SQLite databases.

Four ways to implement the log between a leader and its followers (DDIA chapter 5):

* :mod:`~replab.replog.statement` -- ship the SQL text (and the ``statement-fixed``
  mitigation that pins nondeterministic calls);
* :mod:`~replab.replog.physical` -- ship WAL page images, applied byte for byte;
* :mod:`~replab.replog.logical` -- ship row images (SQLite session changesets), also to a
  pandas follower (change data capture) or a newer schema version;
* :mod:`~replab.replog.trigger` -- triggers fill a changelog table that a shipper copies.

:func:`simulate_replog` runs one experiment and reports, per follower, the rows that
differ from the leader, the bytes shipped per write and the apply rate.
"""

from replab.replog._base import ApplyError, LogRecord
from replab.replog.compare import diff_tables
from replab.replog.config import KINDS, SCHEMAS, STORES, ReplogConfig
from replab.replog.logical import FrameFollower, LogicalReplicator
from replab.replog.physical import PhysicalFormatError, PhysicalReplicator, WalShipper
from replab.replog.report import (
    FOLLOWER_COLUMNS,
    TIMING_METRICS,
    ReplogResult,
    compare_kinds,
    simulate_replog,
)
from replab.replog.snapshot import Snapshot
from replab.replog.statement import StatementReplicator, rewrite_nondeterministic
from replab.replog.trigger import TriggerReplicator, follower_wins, latest, leader_wins
from replab.replog.workload import WORKLOADS

__all__ = [
    "KINDS",
    "WORKLOADS",
    "STORES",
    "SCHEMAS",
    "FOLLOWER_COLUMNS",
    "TIMING_METRICS",
    "ReplogConfig",
    "ReplogResult",
    "simulate_replog",
    "compare_kinds",
    "diff_tables",
    "LogRecord",
    "ApplyError",
    "PhysicalFormatError",
    "StatementReplicator",
    "rewrite_nondeterministic",
    "PhysicalReplicator",
    "WalShipper",
    "LogicalReplicator",
    "FrameFollower",
    "TriggerReplicator",
    "leader_wins",
    "follower_wins",
    "latest",
    "Snapshot",
]
