"""The flat metrics dict of a client-workload run."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from replab.history import History
from replab.models.leaderless.metrics import (
    AE_COLUMNS,
    WRITE_COLUMNS,
    LeaderlessResult,
    _final_lag,
    _latencies,
    _record_ts,
    _write_rows,
    op_times,
    write_relations,
)
from replab.models.leaderless.reads import ReadFacts, read_facts
from replab.stats import percentile, wilson

if TYPE_CHECKING:
    from replab.models.leaderless.view import ClusterView

__all__ = ["summarize", "proportion", "finish_clients"]


def proportion(name: str, hits: int, total: int) -> dict[str, Any]:
    """``name``, ``name_ci_low``, ``name_ci_high`` (Wilson 95 %; NaN when total is 0)."""
    lo, hi = wilson(hits, total)
    return {name: hits / total if total else math.nan,
            f"{name}_ci_low": float(lo) if total else math.nan,
            f"{name}_ci_high": float(hi) if total else math.nan}


def _counts(cluster: ClusterView, lat: dict) -> dict[str, Any]:
    gave_up = {"read": 0, "write": 0}
    for pool in cluster.pools:
        for f, k in pool.abandoned.items():
            gave_up[f] += k
    out: dict[str, Any] = {}
    for f in ("write", "read"):
        done = {t: len(lat.get((f, t), [])) for t in ("ok", "fail", "info")}
        total = sum(done.values()) + gave_up[f]
        out |= {f"{f}s": total, f"{f}s_ok": done["ok"], f"{f}s_fail": done["fail"]}
        if f == "write":
            out["writes_info"] = done["info"]
        out[f"{f}s_abandoned"] = gave_up[f]
        out |= proportion(f"{f}_availability", done["ok"], total)
    return out


def _convergence(cluster: ClusterView, writes: pd.DataFrame) -> dict[str, Any]:
    assert cluster.monitor is not None
    at = cluster.monitor.converged_at()
    last = writes.first_stored_ms.max() if len(writes) else math.nan
    return {"converged": not math.isnan(at), "converged_at_ms": at,
            "convergence_ms": max(at - last, 0.0) if not math.isnan(at) else math.nan}


def summarize(cluster: ClusterView, history: History, writes: pd.DataFrame, ae: pd.DataFrame,
              reads: ReadFacts, lat: dict[tuple[str, str], list[float]]) -> dict[str, Any]:
    """Counts, availability, staleness, durability, repair traffic and latencies."""
    m = _counts(cluster, lat)
    cfg = cluster.config
    cycle = cfg.mean_downtime_ms / cfg.p_fail if cfg.p_fail > 0 else 0.0
    m |= cluster.attempts.metrics(cfg.duration_ms, cycle)
    siblings = reads.siblings
    m["stale_reads"] = reads.stale
    m |= proportion("stale_read_rate", reads.stale, reads.reads_ok)
    m["read_your_writes_violations"] = reads.ryw_violations
    acked = writes[writes.outcome == "ok"]
    m["lost_writes"] = int(acked.lost.sum())
    m["lost_writes_fraction"] = float(acked.lost.mean()) if len(acked) else math.nan
    m["lww_discarded_writes"] = int(acked.discarded.sum())
    m["lww_discarded_by_skew"] = int(acked.discarded_by_skew.sum())
    m["siblings_max"] = max(siblings, default=0)
    m["siblings_mean"] = sum(siblings) / len(siblings) if siblings else math.nan
    m["reads_with_siblings"] = sum(s > 1 for s in siblings)
    sizes = [len(vv) for vv in writes.vv if vv is not None] if len(writes) else []
    m["version_vector_entries_max"] = max(sizes, default=0)
    m["version_vector_entries_mean"] = sum(sizes) / len(sizes) if sizes else math.nan
    rel = None
    if cluster.resolution == "siblings" and len(writes):
        rel = write_relations(LeaderlessResult(cluster.config, history, {}, writes=writes))
    m["concurrent_write_pairs"] = int((rel.relation == "concurrent").sum()) if rel is not None \
        else 0
    m["hinted_writes"] = len(cluster.hinted)
    m["hinted_handoffs"] = cluster.hinted_handoffs
    m["hints_pending"] = cluster.hints_pending()
    m["read_repairs"] = cluster.read_repairs
    m["read_repair_bytes"] = cluster.read_repair_bytes
    m["anti_entropy_rounds"] = len(ae)
    m["anti_entropy_keys"] = int(ae.keys_exchanged.sum()) if len(ae) else 0
    m["anti_entropy_bytes"] = int(ae.bytes.sum()) if len(ae) else 0
    m["anti_entropy_messages"] = int(ae.messages.sum()) if len(ae) else 0
    m |= _convergence(cluster, writes)
    st = cluster.monitor.frame() if cluster.monitor is not None else None
    if st is not None and len(st):
        m["stale_replica_fraction"] = float((st.versions_behind > 0).mean())
        m["max_versions_behind"] = int(st.versions_behind.max())
        m["max_time_behind_ms"] = float(st.time_behind_ms.max())
    else:
        m |= {"stale_replica_fraction": 0.0, "max_versions_behind": 0,
              "max_time_behind_ms": 0.0}
    for f in ("read", "write"):
        ok = lat.get((f, "ok"), [])
        m[f"{f}_p50_ms"], m[f"{f}_p99_ms"] = percentile(ok, 50), percentile(ok, 99)
    m |= {"messages": cluster.network.sent, "messages_dropped": cluster.network.dropped,
          "events": cluster.sim.events_processed}
    return m


def finish_clients(cluster: ClusterView) -> LeaderlessResult:
    """Collect a client-workload run into a :class:`LeaderlessResult`."""
    history = cluster.pools[0].history
    if cluster.resolution == "lww":
        _record_ts(cluster, history)
    times = op_times(history)
    writes = pd.DataFrame(_write_rows(cluster, times), columns=WRITE_COLUMNS)
    cluster.flush_ae_rounds()
    ae = pd.DataFrame(cluster.ae_rounds, columns=AE_COLUMNS)
    assert cluster.monitor is not None
    staleness = cluster.monitor.frame()
    metrics = summarize(cluster, history, writes, ae, read_facts(cluster, history, times),
                        _latencies(history))
    return LeaderlessResult(
        config=cluster.config, history=history, metrics=metrics, staleness=staleness,
        writes=writes, anti_entropy=ae, final_lag=_final_lag(cluster, history),
        events=cluster.network.events_frame())
