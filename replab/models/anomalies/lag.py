"""Reading from asynchronous followers: the replication-lag anomalies and their cures.

DDIA chapter 5, "Problems with Replication Lag". One leader takes the writes and streams
them to followers (the single-leader model, :mod:`replab.models.single_leader`); clients
read from followers to spread the load, so a read may miss recent writes. Users own keys
(``k{i}`` belongs to user ``i % users``: a profile) and favour them.

``mitigation`` chooses where reads go:

``none``
    a random live follower (the monitor's view).
``own-data-leader`` -- read-your-writes (a)
    the user's own keys from the leader, the rest from followers. Safe only while users
    write nothing but their own data (``own_writes=1``).
``recent-write-leader`` -- (b)
    the leader for ``window_ms`` (one minute by default) after the client's last
    acknowledged write; a follower lagging more than the window leaks.
``lag-threshold`` -- (c)
    (b), and followers whose monitored lag exceeds ``max_lag_ms`` (default: the window)
    are refused (the leader serves when none is left). Safe when ``max_lag_ms +
    monitor_interval_ms <= window_ms``: the monitor's sample can be that old. A staler
    monitor leaks.
``position-wait`` / ``position-redirect`` -- (d)
    the client remembers its last write's log position and sends it with each read; a
    follower that has not applied it waits (at most ``max_wait_ms``, then the read fails)
    or passes the read to the leader.
``sticky-user`` -- monotonic reads
    each user reads from the follower chosen by a hash of its id (rendezvous hashing),
    rerouted when the monitor sees that follower down -- and back when it returns.

``memory`` says where a client keeps its last write (time and position): ``device`` (each
device its own: a user's other devices know nothing of it) or ``shared`` (a central place
all of a user's devices use), which decides cross-device read-your-writes.

>>> res = simulate_lag_anomalies(LagAnomalyConfig(duration_ms=500.0, lag_ms=30.0), seed=1)
>>> res.metrics["read_your_writes_count"] > 0, res.metrics["leader_read_share"]
(True, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from replab.checks import check_history, read_your_writes, results_frame
from replab.history import History
from replab.latency import Constant, Distribution, Exponential, Pareto, Shifted
from replab.models.anomalies.routing import (
    MITIGATIONS,
    ClientMemory,
    LagMonitor,
    OwnedKeysPool,
    ReadStats,
    RoutedReplica,
    Router,
)
from replab.models.single_leader import Cluster, SingleLeaderConfig
from replab.models.single_leader.metrics import op_latencies
from replab.rng import SeedLike, spawn_seeds
from replab.sim import ClientPool, Session, Workload, as_distribution
from replab.stats import percentile, quantile_ci, wilson
from replab.validate import check_choice, check_float, check_int, check_prob, fail

__all__ = [
    "LagAnomalyConfig",
    "LagAnomalyResult",
    "simulate_lag_anomalies",
    "lag_distribution",
    "MITIGATIONS",
    "LAG_CHECKS",
]

_OWNER = "LagAnomalyConfig"
#: The checkers run on every history, as named in ``LagAnomalyResult.checks``.
LAG_CHECKS = ("stale-read", "read-your-writes", "cross-device-read-your-writes",
              "monotonic-reads", "consistent-prefix")
LAG_DISTS = ("exp", "const", "pareto")


def lag_distribution(lag_ms: float, shape: str = "exp") -> Distribution:
    """The replication delay with mean ``lag_ms``: exponential, constant, or Pareto
    (shape 1.5: heavy-tailed; a few writes arrive very late)."""
    if lag_ms == 0.0 or shape == "const":
        return Constant(float(lag_ms))
    if shape == "exp":
        return Exponential(1.0 / lag_ms)
    return Pareto(lag_ms / 3.0, 1.5)  # mean alpha * xm / (alpha - 1) = lag_ms


@dataclass(frozen=True, kw_only=True)
class LagAnomalyConfig:
    """One run of reads from asynchronous followers (times in ms, rates per second).

    ``rate`` operations per second over all sessions, a share ``read_fraction`` of them
    reads. ``users * devices_per_user`` sessions; ``keys`` (at least ``users``) keys,
    ``k{i}`` owned by user ``i % users``. Replication delays are drawn from
    :func:`lag_distribution` (``lag_ms``, ``lag_dist``), independently for every message
    and follower. ``leader_distance_ms`` adds a one-way delay between the clients and the
    leader (a leader in another datacenter). ``follower_crash_at_ms`` crashes follower 1
    (restarted ``follower_restart_after_ms`` later). See the module docstring for the
    mitigations and ``memory``.
    """

    mitigation: str = "none"
    memory: str = "device"
    followers: int = 2
    lag_ms: float = 20.0
    lag_dist: str = "exp"
    net_delay: str = "0.5+exp:2"
    leader_distance_ms: float = 0.0
    duration_ms: float = 4000.0
    rate: float = 400.0
    read_fraction: float = 0.8
    users: int = 8
    devices_per_user: int = 1
    keys: int = 16
    own_writes: float = 1.0
    own_reads: float = 0.5
    window_ms: float = 60000.0
    max_lag_ms: float | None = None
    monitor_interval_ms: float = 10.0
    max_wait_ms: float = 200.0
    client_timeout_ms: float = 500.0
    follower_crash_at_ms: float | None = None
    follower_restart_after_ms: float | None = 300.0

    def __post_init__(self) -> None:
        o = _OWNER
        check_choice(self.mitigation, "mitigation", o, MITIGATIONS)
        check_choice(self.memory, "memory", o, ("device", "shared"))
        check_int(self.followers, "followers", o, low=1, high=16)
        check_float(self.lag_ms, "lag_ms", o, low=0.0)
        check_choice(self.lag_dist, "lag_dist", o, LAG_DISTS)
        try:
            as_distribution(self.net_delay, o)
        except ValueError as e:
            raise fail("net_delay", o, "a latency spec such as '0.5+exp:2'",
                       self.net_delay) from e
        for name in ("leader_distance_ms", "rate", "window_ms"):
            check_float(getattr(self, name), name, o, low=0.0)
        for name in ("duration_ms", "monitor_interval_ms", "max_wait_ms", "client_timeout_ms"):
            check_float(getattr(self, name), name, o, low=0.0, low_open=True)
        for name in ("read_fraction", "own_writes", "own_reads"):
            check_prob(getattr(self, name), name, o)
        check_int(self.users, "users", o, low=1)
        check_int(self.devices_per_user, "devices_per_user", o, low=1)
        check_int(self.keys, "keys", o, low=1)
        if self.keys < self.users:  # every user owns at least one key
            raise fail("keys", o, f"an int in [users={self.users}, inf)", self.keys)
        for name in ("max_lag_ms", "follower_crash_at_ms", "follower_restart_after_ms"):
            if getattr(self, name) is not None:
                check_float(getattr(self, name), name, o, low=0.0)

    def single_leader(self) -> SingleLeaderConfig:
        """The underlying single-leader configuration (asynchronous, reads anywhere)."""
        return SingleLeaderConfig(
            mode="async", followers=self.followers, duration_ms=self.duration_ms,
            write_rate=self.rate * (1.0 - self.read_fraction),
            read_rate=self.rate * self.read_fraction, read_from="random", keys=self.keys,
            sessions=self.users, devices_per_user=self.devices_per_user,
            lag=lag_distribution(self.lag_ms, self.lag_dist), net_delay=self.net_delay,
            client_timeout_ms=self.client_timeout_ms,
            follower_crash_at_ms=self.follower_crash_at_ms,
            follower_restart_after_ms=self.follower_restart_after_ms,
        )


@dataclass(frozen=True)
class LagAnomalyResult:
    """What a run produced.

    Attributes
    ----------
    config : LagAnomalyConfig
    history : History -- every client operation (``node`` = the replica that answered).
    checks : DataFrame -- one row per checker of :data:`LAG_CHECKS`: ``check, count,
        examined, rate, ci_low, ci_high`` (Wilson 95 %).
    metrics : dict -- flat: for each check ``<name>_count``, ``_examined``, ``_rate``,
        ``_ci_low``, ``_ci_high`` (``-`` in names becomes ``_``); the costs
        ``leader_read_share`` (+ CI), ``read_p50_ms``, ``read_p99_ms``, ``reads``,
        ``reads_failed`` (failed or abandoned), ``read_failure_rate``, ``reads_waited``,
        ``reads_wait_failed``, ``wait_p99_ms``, ``reads_redirected``; and the measured
        lag ``lag_mean_ms``, ``lag_p99_ms``.
    lag : DataFrame -- the followers' lag sampled every 10 ms (``LAG_COLUMNS``).
    events : DataFrame -- the event log of the run.
    """

    config: LagAnomalyConfig
    history: History
    checks: pd.DataFrame
    metrics: dict[str, Any]
    lag: pd.DataFrame
    events: pd.DataFrame


class _LagCluster(Cluster):
    """The single-leader cluster with routed reads, client memory and owned keys."""

    def __init__(self, config: LagAnomalyConfig, seed: SeedLike) -> None:
        base, keys, routing = spawn_seeds(seed, 3)
        self.lag_config = config
        self.memory = ClientMemory(shared=config.memory == "shared")
        self.required: dict[int, int] = {}  # op id -> log position the read needs
        self.read_stats = ReadStats()
        self.redirect = config.mitigation == "position-redirect"
        self.max_wait_ms = config.max_wait_ms
        self._key_rng = np.random.default_rng(keys)
        super().__init__(config.single_leader(), base)
        self.monitor = LagMonitor(self, config.monitor_interval_ms)
        self.router = Router(self, config, self.monitor, self.memory,
                             np.random.default_rng(routing))
        if config.leader_distance_ms > 0:
            far = Shifted(config.leader_distance_ms, as_distribution(config.net_delay))
            for client in self.pool.ids:
                self.network.set_link(client, 0, delay=far, both_ways=True)

    def make_replica(self, node_id: int, *, joined: bool) -> RoutedReplica:
        return RoutedReplica(self, node_id, joined=joined)

    def make_pool(self, workload: Workload, rng: Any) -> ClientPool:
        cfg = self.lag_config
        return OwnedKeysPool(self.network, workload, self.route, rng=rng, memory=self.memory,
                             own_reads=cfg.own_reads, own_writes=cfg.own_writes,
                             key_rng=self._key_rng)

    def route(self, session: Session, f: str, key: str) -> Any:
        if f != "read":
            return super().route(session, f, key)
        target, need = self.router.read_target(session, key)
        if need is not None and session.current is not None:
            self.required[session.current[0]] = need
        return target


def simulate_lag_anomalies(
    config: LagAnomalyConfig | None = None, *, seed: SeedLike = None
) -> LagAnomalyResult:
    """Run one simulation and check its history; same config and seed -> same result.

    Parameters
    ----------
    config : LagAnomalyConfig, optional
        Defaults to ``LagAnomalyConfig()``.
    seed : int, Generator, SeedSequence or None

    Returns
    -------
    LagAnomalyResult
    """
    config = LagAnomalyConfig() if config is None else config
    if not isinstance(config, LagAnomalyConfig):
        raise fail("config", "simulate_lag_anomalies", "a LagAnomalyConfig", config)
    cluster = _LagCluster(config, seed)
    res = cluster.run(final_reads=False)
    checks = run_checks(res.history, cluster.pool.process_user)
    metrics = {**check_metrics(checks), **_costs(cluster, res.history), **_lag(res.lag)}
    cluster.final_reads()  # the history ends as Jepsen's do, after the metrics
    return LagAnomalyResult(config=config, history=res.history, checks=checks,
                            metrics=metrics, lag=res.lag, events=res.events)


def run_checks(history: History, process_user: dict[Any, Any]) -> pd.DataFrame:
    """The :data:`LAG_CHECKS` over a history (cross-device: processes grouped by user)."""
    names = [n for n in LAG_CHECKS if n != "cross-device-read-your-writes"]
    results = check_history(history, names)
    results["cross-device-read-your-writes"] = read_your_writes(history, user_of=process_user)
    return results_frame({n: results[n] for n in LAG_CHECKS})


def check_metrics(checks: pd.DataFrame) -> dict[str, Any]:
    """Flatten a checks frame: ``<name>_count``, ``_examined``, ``_rate``, ``_ci_*``."""
    out: dict[str, Any] = {}
    for row in checks.to_dict("records"):
        stem = str(row["check"]).replace("-", "_")
        out[f"{stem}_count"] = int(row["count"])
        out[f"{stem}_examined"] = int(row["examined"])
        for col in ("rate", "ci_low", "ci_high"):
            out[f"{stem}_{col}"] = float(row[col])
    return out


def _costs(cluster: _LagCluster, history: History) -> dict[str, Any]:
    df, lat = history.df, op_latencies(history)
    ok_reads = df[(df["type"] == "ok") & (df["f"] == "read")] if len(df) else df
    on_leader = int((ok_reads["node"] == cluster.controller.leader).sum()) if len(df) else 0
    n_ok = len(ok_reads)
    lo, hi = wilson(on_leader, n_ok)
    reads = lat[lat.f == "read"]
    latency = reads[reads.type == "ok"].latency_ms.to_numpy()
    abandoned = cluster.pool.abandoned["read"]
    failed = int((reads.type != "ok").sum()) + abandoned
    stats = cluster.read_stats
    return {
        "reads": len(reads) + abandoned, "reads_ok": n_ok,
        "leader_read_share": on_leader / n_ok if n_ok else math.nan,
        "leader_read_share_ci_low": float(lo), "leader_read_share_ci_high": float(hi),
        "read_p50_ms": percentile(latency, 50), "read_p99_ms": percentile(latency, 99),
        **p99_ci(latency),
        "reads_failed": failed,
        "read_failure_rate": failed / (len(reads) + abandoned) if len(reads) else math.nan,
        "reads_waited": stats.waited, "reads_wait_failed": stats.wait_failed,
        "wait_p99_ms": percentile(np.asarray(stats.wait_ms), 99),
        "reads_redirected": stats.redirected,
    }


def _lag(lag: pd.DataFrame) -> dict[str, float]:
    up = lag[lag.up] if len(lag) else lag
    values = up.time_behind_ms.to_numpy(dtype=float) if len(up) else np.array([])
    return {"lag_mean_ms": float(values.mean()) if len(values) else math.nan,
            "lag_p99_ms": percentile(values, 99)}


def p99_ci(latency: np.ndarray) -> dict[str, float]:
    """``read_p99_ms_ci_low/high``: a distribution-free 95 % interval of the p99 latency
    (order statistics, :func:`replab.stats.quantile_ci`); NaN without reads."""
    _, lo, hi = quantile_ci(np.asarray(latency, dtype=float), 0.99)
    return {"read_p99_ms_ci_low": float(lo[0]), "read_p99_ms_ci_high": float(hi[0])}
