"""A replication lab on a real PostgreSQL: record, break and check.

:func:`run_postgres_lab` starts (or reuses) a primary with 1-3 hot standbys streaming on
127.0.0.1 (:class:`~replab.real.postgres.cluster.PgCluster`), sets the replication mode and
the standbys' ``recovery_min_apply_delay``, drives clients (writers on the primary, readers
routed as :mod:`~replab.real.postgres.workload` describes), injects a fault
(:mod:`~replab.real.postgres.faults`), samples the lag, and checks the history with
replab's checkers. :func:`compare_with_simulator` runs the lag-anomalies simulator with the
measured lag and rate beside the measured rates.

Modes: ``async``; ``sync`` (every standby in ``synchronous_standby_names``, with
``synchronous_commit`` = ``commit_level``: on / remote_write / remote_apply); ``semi-sync``
(``FIRST 1 (s1, ...)``: one synchronous standby, the others asynchronous).
Faults: ``none``; ``stall`` (SIGSTOP the walsenders for ``stall_s``, then SIGCONT);
``failover`` (stall, writes go on, then kill -9 the primary, promote the most advanced
standby, and ``pg_rewind`` the old primary into a follower; no writes after the crash, so
the final reads show what was lost).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from replab.checks import check_history, results_frame
from replab.history import History
from replab.real.postgres import faults
from replab.real.postgres.cluster import PgCluster
from replab.real.postgres.lag import LagSampler
from replab.real.postgres.names import COMMIT_LEVELS, FAULTS, MODES, ROUTINGS
from replab.real.postgres.workload import Client, Gate, Recorder
from replab.rng import SeedLike, spawn_seeds
from replab.validate import check_choice, check_float, check_int, check_prob, fail

__all__ = ["PgLabConfig", "PgLabResult", "run_postgres_lab", "FAULTS", "MODES", "ROUTINGS",
           "COMMIT_LEVELS", "FAULT_COLUMNS"]

FAULT_COLUMNS = ("time_ms", "f", "value")
_OWNER = "PgLabConfig"


@dataclass(frozen=True, kw_only=True)
class PgLabConfig:
    """One run of the lab (times in s or ms as named).

    ``apply_delay_ms`` is one delay for every standby or one per standby. ``clients``
    sessions each own the keys ``k{i}`` with ``i % clients`` their number; a write goes to
    an own key with probability ``own_writes``, a read with ``own_reads``. The run lasts
    ``duration_s`` or ``max_ops`` operations, whichever comes first; the fault starts at
    ``fault_at_s`` (default: a third of the run). ``recent_window_ms`` is the
    ``own-writes-primary`` window, ``max_wait_ms`` the longest ``wait-lsn`` wait.
    """

    standbys: int = 1
    mode: str = "async"
    commit_level: str = "on"
    apply_delay_ms: float | tuple[float, ...] = 0.0
    routing: str = "standby"
    fault: str = "none"
    stall_s: float = 2.0
    fault_at_s: float | None = None
    duration_s: float = 5.0
    max_ops: int | None = None
    clients: int = 4
    keys: int = 16
    write_fraction: float = 0.2
    own_writes: float = 1.0
    own_reads: float = 0.5
    recent_window_ms: float = 1000.0
    max_wait_ms: float = 1000.0
    think_ms: float = 10.0
    lag_sample_ms: float = 100.0

    def __post_init__(self) -> None:
        o = _OWNER
        check_int(self.standbys, "standbys", o, low=1, high=3)
        check_choice(self.mode, "mode", o, MODES)
        check_choice(self.commit_level, "commit_level", o, COMMIT_LEVELS)
        check_choice(self.routing, "routing", o, ROUTINGS)
        check_choice(self.fault, "fault", o, FAULTS)
        self._check_delays()
        check_float(self.duration_s, "duration_s", o, low=0.0, low_open=True, high=3600.0)
        check_float(self.stall_s, "stall_s", o, low=0.0, low_open=True)
        if self.fault_at_s is not None:
            check_float(self.fault_at_s, "fault_at_s", o, low=0.0)
        if (self.fault != "none" and self.fault_at_s is not None
                and self.fault_at_s >= self.duration_s):
            raise fail("fault_at_s", o, f"a float in [0, duration_s={self.duration_s:g}) when "
                       f"there is a fault", self.fault_at_s)
        if self.fault != "none" and self.fault_start_s() + self.stall_s > self.duration_s:
            raise fail("stall_s", o, f"a float in (0, duration_s - fault_at_s = "
                       f"{self.duration_s - self.fault_start_s():g}]", self.stall_s)
        if self.max_ops is not None:
            check_int(self.max_ops, "max_ops", o, low=1)
        check_int(self.clients, "clients", o, low=1, high=32)
        check_int(self.keys, "keys", o, low=1)
        if self.keys < self.clients:  # every client owns at least one key
            raise fail("keys", o, f"an int in [clients={self.clients}, inf)", self.keys)
        for name in ("write_fraction", "own_writes", "own_reads"):
            check_prob(getattr(self, name), name, o)
        for name in ("recent_window_ms", "max_wait_ms", "think_ms"):
            check_float(getattr(self, name), name, o, low=0.0)
        check_float(self.lag_sample_ms, "lag_sample_ms", o, low=10.0)

    def _check_delays(self) -> None:
        d = self.apply_delay_ms
        if isinstance(d, tuple):
            if len(d) != self.standbys:
                raise fail("apply_delay_ms", _OWNER, "a float, or a tuple of one float per "
                           f"standby (standbys={self.standbys})", d)
            for x in d:
                check_float(x, "apply_delay_ms", _OWNER, low=0.0, high=600000.0)
        else:
            check_float(d, "apply_delay_ms", _OWNER, low=0.0, high=600000.0)

    def delays(self) -> tuple[float, ...]:
        """The apply delay of each standby."""
        d = self.apply_delay_ms
        return tuple(float(x) for x in d) if isinstance(d, tuple) else (float(d),) * self.standbys

    def fault_start_s(self) -> float:
        return self.duration_s / 3.0 if self.fault_at_s is None else float(self.fault_at_s)


@dataclass(frozen=True)
class PgLabResult:
    """What a run recorded.

    Attributes
    ----------
    config : PgLabConfig
    history : History -- client ops and nemesis ops (``process == "nemesis"``). The last
        ``metrics["final_reads"]`` ops are the final reads of every key from the primary
        after the workload, by process ``clients`` (a session of their own).
    lag : DataFrame -- :data:`~replab.real.postgres.lag.LAG_COLUMNS`, one row per standby
        per sample.
    faults : DataFrame -- the fault timeline, :data:`FAULT_COLUMNS`.
    checks : DataFrame -- ``check, count, examined, rate, ci_low, ci_high`` (Wilson 95 %)
        over the whole history.
    metrics : dict -- ``ops``, ``ops_per_s``, ``read_fraction``, ``reads_ok``,
        ``writes_ok``, ``writes_info``, ``writes_fail``, ``reads_on_primary_share`` (of
        ok reads, served by the primary of the moment),
        ``reads_waited``, ``reads_redirected``, ``replay_lag_mean_ms``,
        ``replay_lag_p99_ms``, ``workload_s``, ``final_reads``; after a failover also
        ``lost_acknowledged`` (the lost-write checker), ``lost_in_data`` (the old
        primary's commits the new timeline lacks), ``lost_in_data_acknowledged`` (those
        of them the history acknowledged) and ``writes_in_doubt`` (info writes).
    failover : dict -- details of the failover (empty without one).
    """

    config: PgLabConfig
    history: History
    lag: pd.DataFrame
    faults: pd.DataFrame
    checks: pd.DataFrame
    metrics: dict[str, Any]
    failover: dict[str, Any] = field(default_factory=dict)

    def workload_history(self) -> History:
        """The history without the final reads (what the simulator is compared with)."""
        end = self.metrics["workload_end"]
        h = History()
        for op in self.history.ops[:end]:
            h.record(op["time"], op["process"], op["type"], op["f"], op["key"], op["value"],
                     version=op["version"], node=op["node"])
        return h


class _Lab:
    """The state one run shares between clients, the nemesis and the sampler."""

    def __init__(self, cluster: PgCluster, config: PgLabConfig) -> None:
        self.cluster = cluster
        self.config = config
        self.recorder = Recorder()
        self.stop = threading.Event()
        self.gate = Gate()
        self.fault_log: list[tuple[float, str, Any]] = []
        self.clients: list[Client] = []  # set when they are made
        self._writes = True
        self._ops_left = config.max_ops
        self._ops_lock = threading.Lock()
        self.deadline = time.monotonic() + config.duration_s

    def take_op(self) -> bool:
        """Whether one more operation fits the budget (time and count)."""
        if time.monotonic() >= self.deadline:
            return False
        with self._ops_lock:
            if self._ops_left is None:
                return True
            self._ops_left -= 1
            return self._ops_left >= 0

    def writes_allowed(self) -> bool:
        return self._writes

    def no_more_writes(self) -> None:
        self._writes = False

    def hold_clients(self, timeout_s: float = 1.0, blocked_s: float = 0.1) -> None:
        """Close the gate and wait (bounded) until every client is between operations or
        has been in one write for ``blocked_s``: a commit waiting for a stalled synchronous
        standby returns only after the crash, so waiting for it would only cost time."""
        self.gate.open.clear()
        deadline = time.monotonic() + timeout_s
        held = 0
        while held < self.config.clients and time.monotonic() < deadline:
            if self.gate.idle.acquire(timeout=0.01):
                held += 1
            elif held + self._blocked_writers(blocked_s) >= self.config.clients:
                return

    def _blocked_writers(self, blocked_s: float) -> int:
        now = time.monotonic()
        return sum(c.write_started is not None and now - c.write_started >= blocked_s
                   for c in self.clients)

    def release_clients(self) -> None:
        self.gate.open.set()


def run_postgres_lab(config: PgLabConfig | None = None, *, seed: SeedLike = None,
                     cluster: PgCluster | None = None) -> PgLabResult:
    """Run the lab once and check its history.

    Parameters
    ----------
    config : PgLabConfig, optional
    seed : int, Generator, SeedSequence or None
        Seeds the clients' choices (keys, reads vs writes, standbys). The servers' timing
        is real, so two runs with one seed differ in what the database did.
    cluster : PgCluster, optional
        A running cluster with ``config.standbys`` standbys to reuse (it is reconfigured,
        its table recreated; after a failover its primary has changed). By default a
        cluster is started for the run and stopped after it.

    Returns
    -------
    PgLabResult

    Raises
    ------
    ConfigError
        On a bad configuration, or a cluster with another number of standbys.
    ReplabError
        When the servers are missing (the message says what to install) or misbehave.
    """
    config = PgLabConfig() if config is None else config
    if not isinstance(config, PgLabConfig):
        raise fail("config", "run_postgres_lab", "a PgLabConfig", config)
    if cluster is None:
        with PgCluster(config.standbys) as own:
            return _run(own, config, seed)
    cluster.get_primary()  # raises when it is not running
    if len(cluster.standbys) != config.standbys:
        raise fail("cluster", "run_postgres_lab", f"a PgCluster with {config.standbys} "
                   "running standbys (config.standbys)", f"{len(cluster.standbys)} standbys")
    return _run(cluster, config, seed)


def _run(cluster: PgCluster, config: PgLabConfig, seed: SeedLike) -> PgLabResult:
    cluster.configure(mode=config.mode, commit_level=config.commit_level,
                      apply_delay_ms=config.delays())
    cluster.reset_table(config.keys)
    lab = _Lab(cluster, config)
    seeds = spawn_seeds(seed, config.clients)
    clients = [Client(i, lab, np.random.default_rng(s)) for i, s in enumerate(seeds)]
    lab.clients = clients
    sampler = LagSampler(lab, config.lag_sample_ms)
    sampler.start()
    failover: dict[str, Any] = {}
    try:
        for c in clients:
            c.start()
        failover = _nemesis(lab)
        _join(clients, lab)
    finally:
        lab.stop.set()
        lab.release_clients()
        sampler.done.set()
        sampler.join(5.0)
    workload_end = len(lab.recorder.history)
    workload_s = lab.recorder.now_ms() / 1000.0
    _final_reads(lab)
    history = lab.recorder.history
    checks = results_frame(check_history(history))
    metrics = _metrics(history, clients, sampler.frame(), workload_end, workload_s)
    metrics.update(_loss(checks, history, failover))
    fault_df = pd.DataFrame(lab.fault_log, columns=list(FAULT_COLUMNS))
    return PgLabResult(config=config, history=history, lag=sampler.frame(),
                       faults=fault_df, checks=checks, metrics=metrics, failover=failover)


def _nemesis(lab: _Lab) -> dict[str, Any]:
    """Wait for the fault's time, inject it, and return failover details (or {})."""
    cfg = lab.config
    if cfg.fault == "none":
        return {}
    lab.stop.wait(cfg.fault_start_s())
    if lab.stop.is_set():
        return {}
    stalled = faults.stall(lab)
    try:
        time.sleep(cfg.stall_s)
        if cfg.fault == "stall":
            faults.resume(lab, stalled)
            return {}
        return faults.failover(lab, stalled)
    finally:  # an error or Ctrl-C must not leave a shared cluster stalled
        faults.resume(lab, stalled, record=False)


def _join(clients: list[Client], lab: _Lab) -> None:
    """Wait for the clients, bounded: past the deadline plus a grace they are abandoned
    (their servers are stopped by whoever owns the cluster, which unblocks them)."""
    grace = lab.config.stall_s + 15.0
    end = max(lab.deadline, time.monotonic()) + grace
    for c in clients:
        c.join(max(0.0, end - time.monotonic()))


def _final_reads(lab: _Lab) -> None:
    """Every key read once from the primary after every write completed: the final reads
    the lost-write checker needs, by a session of their own (number ``clients``)."""
    cfg = lab.config
    reader = Client(cfg.clients, lab, np.random.default_rng(0))
    primary = lab.cluster.get_primary()
    history = lab.recorder.history
    start = len(history)
    try:
        for k in range(cfg.keys):
            reader.read(f"k{k}", server=primary)
    finally:
        reader.close()
    for op in history.ops[start:]:  # both ops of each final read (lost-write's final reads)
        op["final"] = True


def _metrics(history: History, clients: list[Client], lag: pd.DataFrame, workload_end: int,
             workload_s: float) -> dict[str, Any]:
    df = history.df.iloc[:workload_end]
    done = df[(df["type"] != "invoke") & (df["process"] != "nemesis")]
    reads, writes = done[done["f"] == "read"], done[done["f"] == "write"]
    ok_reads = reads[reads["type"] == "ok"]
    replay = lag["replay_lag_ms"].dropna().to_numpy(dtype=float) if len(lag) else np.array([])
    n = len(done)
    reads_ok = sum(c.reads_ok for c in clients)
    return {
        "ops": n, "ops_per_s": n / workload_s if workload_s > 0 else float("nan"),
        "read_fraction": len(reads) / n if n else float("nan"),
        "reads_ok": len(ok_reads), "writes_ok": int((writes["type"] == "ok").sum()),
        "writes_info": int((writes["type"] == "info").sum()),
        "writes_fail": int((writes["type"] == "fail").sum()),
        "reads_on_primary_share": sum(c.reads_on_primary for c in clients) / reads_ok
        if reads_ok else float("nan"),
        "reads_waited": sum(c.waited for c in clients),
        "reads_redirected": sum(c.redirected for c in clients),
        "replay_lag_mean_ms": float(replay.mean()) if len(replay) else float("nan"),
        "replay_lag_p99_ms": float(np.percentile(replay, 99)) if len(replay) else float("nan"),
        "workload_s": workload_s, "workload_end": workload_end,
        "final_reads": len(history) - workload_end,
    }


def _loss(checks: pd.DataFrame, history: History, failover: dict[str, Any]) -> dict[str, Any]:
    if not failover:
        return {}
    lost = checks.loc[checks["check"] == "lost-write", "count"].iloc[0]
    df = history.df
    in_doubt = int(((df["f"] == "write") & (df["type"] == "info")).sum())
    # pd.NA: lost-write did not examine the history (no final read succeeded)
    return {"lost_acknowledged": None if pd.isna(lost) else int(lost),
            "lost_in_data": int(failover["lost_in_data"]),
            "lost_in_data_acknowledged": int(failover["lost_in_data_acknowledged"]),
            "writes_in_doubt": in_doubt}
