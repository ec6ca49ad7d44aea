"""Measurements of a single-leader run: lag samples, latencies, lost writes, the summary."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from replab.history import History, pair_operations
from replab.models.single_leader.log import ReplicatedLog, epoch_of, lsn_of
from replab.stats import percentile, wilson

if TYPE_CHECKING:
    from replab.models.single_leader.view import ClusterView

__all__ = ["LAG_COLUMNS", "LagSampler", "op_latencies", "lost_writes", "summarize"]

#: Columns of ``SingleLeaderResult.lag``.
LAG_COLUMNS = ["time", "node", "leader", "epoch", "leader_lsn", "lsn", "positions_behind",
               "time_behind_ms", "up"]


class LagSampler:
    """Every ``interval`` ms, each follower's distance from the leader the controller knows.

    ``positions_behind`` counts log entries; ``time_behind_ms`` is how long ago the leader
    appended the first entry the follower lacks (0 when it lacks none).
    """

    def __init__(self, cluster: ClusterView, interval: float) -> None:
        self.cluster, self.interval = cluster, interval
        self.rows: list[tuple] = []
        cluster.sim.schedule(0.0, self._sample)

    def _sample(self) -> None:
        c = self.cluster
        now = c.sim.now
        leader = c.replicas[c.controller.leader]
        log = leader.log
        for r in c.replica_ids:
            if r == leader.id:
                continue
            f = c.replicas[r]
            lsn = min(f.log.end, log.end)
            behind = log.end - lsn
            t_behind = now - log.entry(lsn + 1).time if behind and lsn >= log.base else 0.0
            self.rows.append((now, r, leader.id, c.controller.epoch, log.end, f.log.end,
                              behind, t_behind, f.up))
        c.sim.schedule(self.interval, self._sample)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=LAG_COLUMNS)


def op_latencies(history: History) -> pd.DataFrame:
    """One row per completed client operation: ``process``, ``f``, ``type``, ``start``,
    ``latency_ms`` (the final-read phase, ops marked ``final``, is not the clients')."""
    if any(op.get("final") for op in history.ops):
        history = history.without_final_reads()
    pairs = pair_operations(history)
    done = pairs[pairs["type"] != "none"]
    return done[["process", "f", "type", "start", "latency_ms"]].reset_index(drop=True)


def lost_writes(history: History, log: ReplicatedLog) -> pd.DataFrame:
    """Acknowledged writes that the final leader's history does not hold (history rows).

    A write is held if its ``(epoch, lsn)`` is in the log, or, below a snapshot's base,
    in the epoch runs the snapshot came with: a write of another epoch at that lsn was
    truncated away before the snapshot was taken, whatever the snapshot's base.
    """
    df = history.df
    ok = df[(df["type"] == "ok") & (df["f"] == "write")]
    keep = [log.holds(epoch_of(int(ver)), lsn_of(int(ver))) for ver in ok["version"]]
    return ok[~np.asarray(keep, dtype=bool)] if len(ok) else ok


def _external_ids(history: History, log: ReplicatedLog) -> tuple[int, int]:
    """Ids (lsn) cached at ack time vs the final database: (reused, dangling)."""
    df = history.df
    ok = df[(df["type"] == "ok") & (df["f"] == "write")]
    rows = {e.lsn: e.value for e in log.entries}
    reused = dangling = 0
    for value, ver in zip(ok["value"], ok["version"], strict=True):
        lsn = lsn_of(int(ver))
        if lsn <= log.base:
            reused += not log.holds(epoch_of(int(ver)), lsn)  # another epoch's row there
            continue
        if lsn not in rows:
            dangling += 1
        elif rows[lsn] != value:
            reused += 1
    return reused, dangling


def summarize(cluster: ClusterView, lag: pd.DataFrame) -> dict[str, Any]:
    """The flat metrics dict of a run (see ``SingleLeaderResult``)."""
    h = cluster.pool.history
    lat = op_latencies(h)
    w, r = lat[lat.f == "write"], lat[lat.f == "read"]
    w_ok, r_ok = w[w.type == "ok"], r[r.type == "ok"]
    final = cluster.replicas[cluster.controller.leader].log
    lost = lost_writes(h, final)
    reused, dangling = _external_ids(h, final)
    gave_up = cluster.pool.abandoned
    n_w, n_r = len(w) + gave_up["write"], len(r) + gave_up["read"]
    wa_lo, wa_hi = wilson(len(w_ok), n_w)
    up_lag = lag[lag.up] if len(lag) else lag
    m: dict[str, Any] = {
        "writes": len(w), "writes_ok": len(w_ok), "writes_info": int((w.type == "info").sum()),
        "writes_fail": int((w.type == "fail").sum()),
        "writes_abandoned": gave_up["write"], "reads": len(r), "reads_ok": len(r_ok),
        "reads_abandoned": gave_up["read"],
        "write_availability": len(w_ok) / n_w if n_w else math.nan,
        "write_availability_ci_low": float(wa_lo), "write_availability_ci_high": float(wa_hi),
        "read_availability": len(r_ok) / n_r if n_r else math.nan,
        "acked_writes_lost": len(lost),
        "acked_writes_lost_fraction": len(lost) / len(w_ok) if len(w_ok) else math.nan,
        "max_lag_ms": float(up_lag.time_behind_ms.max()) if len(up_lag) else 0.0,
        "p99_lag_ms": percentile(up_lag.time_behind_ms.to_numpy(), 99),
        "max_lag_positions": int(up_lag.positions_behind.max()) if len(up_lag) else 0,
        "failovers": cluster.controller.failovers,
        "unnecessary_failovers": cluster.unnecessary_failovers,
        "failover_ms": cluster.failover_ms(),
        "unavailable_ms": cluster.unavailable_ms(lat),
        "split_brain_writes": cluster.split_brain_writes,
        "external_id_conflicts": reused, "external_ids_dangling": dangling,
        "catch_up_ms": max(cluster.catch_up_ms) if cluster.catch_up_ms else math.nan,
        "write_p50_ms": percentile(w_ok.latency_ms.to_numpy(), 50),
        "write_p99_ms": percentile(w_ok.latency_ms.to_numpy(), 99),
        "read_p50_ms": percentile(r_ok.latency_ms.to_numpy(), 50),
        "read_p99_ms": percentile(r_ok.latency_ms.to_numpy(), 99),
        "final_leader": int(cluster.controller.leader), "final_epoch": cluster.controller.epoch,
        "messages": cluster.network.sent, "messages_dropped": cluster.network.dropped,
        "events": cluster.sim.events_processed,
    }
    return m
