"""Run a replication-log experiment end to end and report the divergence.

A leader and its followers are SQLite files in a temporary directory. The leader commits
the workload's transactions (its clock advances by exponential gaps of mean 10 ms); after
each round every follower applies the new log records at its own clock (commit time plus
an exponential lag). Followers of order-insensitive kinds apply the overlapping
transactions of a round in their own order, as a parallel applier does; a physical
follower applies page images strictly in log order. Halfway (``join_at``) one more
follower is built from a snapshot while writes continue and catches up on the backlog.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw
import numpy as np
import pandas as pd

from replab.replog._base import ApplyError, ApplyStats, Follower, LogRecord
from replab.replog._node import Node, user_tables
from replab.replog.config import ReplogConfig
from replab.replog.logical import FrameFollower, LogicalReplicator
from replab.replog.physical import PhysicalReplicator
from replab.replog.snapshot import Snapshot
from replab.replog.statement import StatementReplicator
from replab.replog.trigger import TriggerReplicator, keep_filtered
from replab.replog.workload import Txn, follower_write, make_workload, migration_sql, schema_sql
from replab.rng import SeedLike, spawn

__all__ = ["MEAN_GAP_MS", "replicator_for", "Run"]

MEAN_GAP_MS = 10.0  # mean time between leader commits


def replicator_for(config: ReplogConfig) -> Any:
    """The replicator object for ``config.kind``."""
    if config.kind in ("statement", "statement-fixed"):
        return StatementReplicator(fixed=config.kind == "statement-fixed")
    if config.kind == "physical":
        return PhysicalReplicator()
    if config.kind == "logical":
        return LogicalReplicator(tables=config.table_list)
    return TriggerReplicator(tables=config.table_list, row_filter=config.row_filter)


@dataclass
class FollowerState:
    """A follower and what the run has done to it."""

    follower: Follower
    rng: np.random.Generator
    joined: bool = False  # built from a snapshot while the leader kept writing
    joined_at: int = 0
    backlog: int = 0  # records committed while its snapshot was being copied
    position: int = 0  # records of the log delivered so far
    records: int = 0
    writes: int = 0  # client writes whose record applied
    bytes_received: int = 0
    stats: ApplyStats = field(default_factory=ApplyStats)
    errors: int = 0
    first_error: str = ""
    seconds: float = 0.0
    writes_at: list[int] = field(default_factory=list)


class Run:
    """One experiment in a working directory; :meth:`execute` returns the raw outcome."""

    def __init__(self, config: ReplogConfig, workdir: Path, seed: SeedLike) -> None:
        self.config, self.dir = config, Path(workdir)
        n = config.followers + 1
        work, leader_rng, self.clock_rng, *rest = spawn(seed, 3 + 2 * n)
        self.node_rngs, self.follower_rngs = rest[:n], rest[n:]
        self.txns = make_workload(config.workload, config.transactions,
                                  clients=config.clients, rng=work)
        self.rounds = self.txns[-1].round + 1
        self.replicator = replicator_for(config)
        self.leader = Node(self.dir / "leader.db", name="leader", rng=leader_rng,
                           page_size=config.page_size)
        self.log: list[LogRecord] = []
        self.commit_ms: list[float] = []
        self.leader_seconds = 0.0
        self.followers: list[FollowerState] = []
        self.snapshot: Snapshot | None = None
        self.snapshot_commits = 0
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self) -> None:
        """Schema and capture on the leader, then the followers from a copy at position 0."""
        with self.leader.conn:
            self.leader.execute(schema_sql(self.config.workload))
        self.replicator.prepare(self.leader)
        self.leader.conn.wal_checkpoint(mode=apsw.SQLITE_CHECKPOINT_TRUNCATE)  # workload only
        for i in range(self.config.followers):
            self.followers.append(self._new_follower(i, self._snapshot(i).finish(), 0))

    def _path(self, i: int) -> Path:
        return self.dir / f"follower{i + 1}.db"

    def _new_follower(self, i: int, path: Path, lsn: int) -> FollowerState:
        cfg, name = self.config, f"follower{i + 1}"
        if cfg.follower_schema == "newer":
            node = Node(path, name=name, rng=self.node_rngs[i])
            with node.conn:
                node.execute(migration_sql())
            node.close()
        if cfg.row_filter:  # a filtered follower starts from the filtered subset
            conn = apsw.Connection(str(path))
            keep_filtered(conn, self.compared_tables(), cfg.row_filter)
            conn.close()
        if cfg.follower_store == "dataframe":
            follower: Follower = FrameFollower(path, name=name)
        elif cfg.kind in ("logical", "trigger"):
            follower = self.replicator.follower(path, name=name, rng=self.node_rngs[i],
                                                policy=cfg.conflict)
        else:
            follower = self.replicator.follower(path, name=name, rng=self.node_rngs[i])
        rng = self.follower_rngs[i]
        state = FollowerState(follower, rng, joined_at=lsn, position=lsn)
        if lsn == 0 and cfg.follower_writes and cfg.kind != "physical":
            state.writes_at = sorted(rng.integers(0, self.rounds, cfg.follower_writes).tolist())
        return state

    def _deliver(self, state: FollowerState) -> None:
        """Apply every record not yet delivered, each at commit time plus a lag."""
        pending = self.log[state.position :]
        if not self.replicator.order_sensitive and len(pending) > 1:
            keys = state.rng.random(len(pending))  # a parallel applier's order in a round
            pending = sorted(pending, key=lambda r: (r.round, keys[r.lsn - pending[0].lsn]))
        for record in pending:
            lag = state.rng.exponential(self.config.lag_ms) if self.config.lag_ms else 0.0
            commit = self.commit_ms[record.lsn - 1]
            state.follower.clock_ms = max(state.follower.clock_ms, commit + lag)
            start = time.perf_counter()
            try:
                state.stats += state.follower.apply(record)
                state.writes += record.writes
            except ApplyError as e:
                state.errors += 1
                state.first_error = state.first_error or str(e)
            state.seconds += time.perf_counter() - start
            state.records += 1
            state.bytes_received += record.nbytes
        state.position = len(self.log)

    def _commit(self, txn: Txn) -> None:
        self.leader.clock_ms += self.clock_rng.exponential(MEAN_GAP_MS)
        start = time.perf_counter()
        record = self.replicator.commit(self.leader, txn, len(self.log) + 1)
        self.leader_seconds += time.perf_counter() - start
        self.log.append(record)
        self.commit_ms.append(self.leader.clock_ms)
        if self.snapshot is not None and not self.snapshot.done:
            self.snapshot.step()
            self.snapshot_commits += 1
        if len(self.log) == self._join_lsn():
            self._start_snapshot()

    def _join_lsn(self) -> int:
        at = self.config.join_at
        return -1 if at is None else int(round(at * self.config.transactions))

    def _snapshot(self, i: int) -> Snapshot:
        method = "pages" if self.config.kind == "physical" else "backup"
        return Snapshot(self.leader.path, self._path(i), lsn=len(self.log),
                        page_size=self.config.follower_page_size, method=method)

    def _start_snapshot(self) -> None:
        self.snapshot = self._snapshot(self.config.followers)

    def _maybe_join(self) -> None:
        """Once the snapshot is complete, the new follower catches up on the backlog."""
        snap = self.snapshot
        if snap is None or not snap.done or len(self.followers) > self.config.followers:
            return
        state = self._new_follower(self.config.followers, snap.finish(), snap.lsn)
        state.follower.clock_ms = self.leader.clock_ms
        state.backlog = len(self.log) - snap.lsn
        state.joined = True
        self.followers.append(state)

    def _local_writes(self, state: FollowerState, rnd: int) -> None:
        while state.writes_at and state.writes_at[0] == rnd:
            state.writes_at.pop(0)
            state.follower.clock_ms += 1.0
            state.follower.local_write(follower_write(state.rng))

    def execute(self) -> None:
        """Commit every round on the leader, delivering to the followers after each."""
        if self._join_lsn() == 0:
            self._start_snapshot()
        by_round: dict[int, list[Txn]] = {}
        for txn in self.txns:
            by_round.setdefault(txn.round, []).append(txn)
        for rnd in range(self.rounds):
            for txn in by_round.get(rnd, []):
                self._commit(txn)
            self._maybe_join()
            for state in self.followers:
                self._deliver(state)
                self._local_writes(state, rnd)
        if self.snapshot is not None and len(self.followers) == self.config.followers:
            self.snapshot.finish()  # the snapshot outlived the writes: finish it now
            self._maybe_join()
            self._deliver(self.followers[-1])

    def compared_tables(self) -> list[str]:
        """The tables a follower should hold: the replicated subset, or all."""
        return list(self.config.table_list) or user_tables(self.leader.conn)

    def close(self) -> None:
        for state in self.followers:
            state.follower.close()
        if self.snapshot is not None:
            self.snapshot.finish()
        self.leader.close()


def run_in_tempdir(config: ReplogConfig, seed: SeedLike, report: Any) -> Any:
    """Execute a run in a fresh temporary directory and hand it to ``report``."""
    with tempfile.TemporaryDirectory(prefix="replab-replog-") as d:
        run = Run(config, Path(d), seed)
        try:
            run.execute()
            return report(run)
        finally:
            run.close()


def frame_of_log(run: Run) -> pd.DataFrame:
    """The log: one record a row (``lsn, round, client, writes, nbytes, commit_ms``)."""
    return pd.DataFrame(
        [(r.lsn, r.round, r.client, r.writes, r.nbytes, run.commit_ms[r.lsn - 1])
         for r in run.log],
        columns=["lsn", "round", "client", "writes", "nbytes", "commit_ms"],
    )
