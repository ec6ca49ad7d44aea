"""Measurements of a multi-leader run: propagation, staleness, conflicts, losses, summary.

All of them are computed after the run from what the cluster noted (every acceptance,
every apply at every leader, every conflict a leader detected) and the leaders' final
records, so they are plain functions of data that tests can recount independently.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from replab.models.collab.conflicts import RecordState, Resolution, Write, _Winner
from replab.models.lost import lost_ids
from replab.models.real_time import real_time_read_anomalies
from replab.models.single_leader.metrics import op_latencies
from replab.stats import percentile, wilson

if TYPE_CHECKING:
    from replab.models.multi_leader.view import ClusterView

__all__ = [
    "PROPAGATION_COLUMNS",
    "STALENESS_COLUMNS",
    "RECORD_COLUMNS",
    "CONFLICT_COLUMNS",
    "propagation_frame",
    "staleness_frame",
    "down_intervals",
    "concurrent_writes",
    "lost_at",
    "records_frame",
    "record_ts",
    "summarize",
]

#: Columns of ``MultiLeaderResult.propagation``: one row per (write, leader).
PROPAGATION_COLUMNS = ["write_id", "origin", "key", "kind", "accepted_at", "node",
                       "applied_at", "delay_ms", "dropped"]
#: Columns of ``MultiLeaderResult.staleness``: one row per (sample time, leader).
STALENESS_COLUMNS = ["time", "node", "up", "missing_writes", "oldest_missing_ms"]
#: Columns of ``MultiLeaderResult.records``: one row per (leader, key) at the end.
RECORD_COLUMNS = ["node", "key", "value", "kept", "lost"]
#: Columns of ``MultiLeaderResult.conflicts``: one row per concurrent pair detected.
CONFLICT_COLUMNS = ["key", "write_a", "write_b", "node", "detected_at", "delay_ms"]

_STALENESS_SAMPLES = 201


def propagation_frame(accepted: Sequence[tuple[str, str, str, str, float]],
                      applied: Sequence[tuple[str, str, float, bool]],
                      leaders: Sequence[str]) -> pd.DataFrame:
    """Every accepted write at every leader: when it was applied there (NaN: never).

    ``accepted`` rows are ``(write_id, origin, key, kind, accepted_at)``; ``applied`` rows
    ``(write_id, node, applied_at, dropped)`` (``dropped``: an update that found no row).
    """
    acc = pd.DataFrame(list(accepted),
                       columns=["write_id", "origin", "key", "kind", "accepted_at"])
    app = pd.DataFrame(list(applied), columns=["write_id", "node", "applied_at", "dropped"])
    full = acc.merge(pd.DataFrame({"node": list(leaders)}), how="cross")
    full = full.merge(app, on=["write_id", "node"], how="left")
    full["applied_at"] = full["applied_at"].astype(float)
    full["dropped"] = full["dropped"].astype("boolean").fillna(False).astype(bool)
    full["delay_ms"] = full["applied_at"] - full["accepted_at"]
    return full[PROPAGATION_COLUMNS]


def down_intervals(events: pd.DataFrame, end: float) -> dict[Any, list[tuple[float, float]]]:
    """Per node, the ``[crash, restart)`` intervals of an event log (open ones end at
    ``end``)."""
    out: dict[Any, list[tuple[float, float]]] = defaultdict(list)
    since: dict[Any, float] = {}
    for kind, node, t in zip(events["kind"], events["node"], events["time"], strict=True):
        if kind == "crash" and node not in since:
            since[node] = float(t)
        elif kind == "restart" and node in since:
            out[node].append((since.pop(node), float(t)))
    for node, t0 in since.items():
        out[node].append((t0, end))
    return dict(out)


def staleness_frame(prop: pd.DataFrame, end: float,
                    down: Mapping[Any, list[tuple[float, float]]] | None = None,
                    samples: int = _STALENESS_SAMPLES) -> pd.DataFrame:
    """At evenly spaced times, per leader: how many writes it lacks that some leader up at
    that time already has (so it could have them), and the age of the oldest one (0 when
    it lacks none). ``up`` is False while the leader is down (``down``: intervals from
    :func:`down_intervals`); a write only a crashed leader holds counts for no one."""
    times = np.linspace(0.0, end, samples)
    nodes = list(dict.fromkeys(prop["node"]))
    if not nodes or prop.empty:
        return pd.DataFrame(columns=STALENESS_COLUMNS)
    ids = list(dict.fromkeys(prop["write_id"]))
    applied = (prop.pivot(index="write_id", columns="node", values="applied_at")
               .reindex(index=ids, columns=nodes).fillna(math.inf).to_numpy())
    accepted = (prop.drop_duplicates("write_id").set_index("write_id")["accepted_at"]
                .reindex(ids).to_numpy())
    up = np.ones((len(times), len(nodes)), dtype=bool)
    for j, node in enumerate(nodes):
        for t0, t1 in (down or {}).get(node, []):
            up[:, j] &= ~((times >= t0) & (times < t1))
    has = applied[None, :, :] <= times[:, None, None]  # time x write x node
    available = (has & up[:, None, :]).any(axis=2)
    rows = []
    for j, node in enumerate(nodes):
        missing = available & ~has[:, :, j]
        oldest = np.where(missing, accepted[None, :], np.inf).min(axis=1)
        age = np.where(np.isfinite(oldest), times - oldest, 0.0)
        rows.append(pd.DataFrame({"time": times, "node": node, "up": up[:, j],
                                  "missing_writes": missing.sum(axis=1),
                                  "oldest_missing_ms": age}))
    return pd.concat(rows, ignore_index=True)[STALENESS_COLUMNS]


def concurrent_writes(writes: Iterable[Write]) -> set[str]:
    """Ids of the writes that are concurrent with another write of the same key.

    Two writes are concurrent when neither names the other in ``supersedes`` (neither's
    leader had seen the other when it accepted it).
    """
    by_key: dict[str, list[Write]] = defaultdict(list)
    for w in writes:
        by_key[w.key].append(w)
    out: set[str] = set()
    for ws in by_key.values():
        ids = {w.id for w in ws}
        below = Counter(s for w in ws for s in w.supersedes if s in ids)
        for w in ws:
            ordered = len(w.supersedes & ids) + below[w.id]
            if ordered < len(ws) - 1:
                out.add(w.id)
    return out


def lost_at(records: Mapping[str, RecordState], writes_by_key: Mapping[str, list[Write]],
            strategy: Resolution) -> dict[str, tuple[str, ...]]:
    """Per key, the writes lost at one replica (see :mod:`replab.models.lost`)."""
    rank = strategy._key if isinstance(strategy, _Winner) else None
    out = {}
    for key, ws in writes_by_key.items():
        state = records.get(key)
        kept = strategy.reflected(state) if state is not None else frozenset()
        seen = state.seen if state is not None else frozenset()
        out[key] = lost_ids(ws, kept, seen, rank)
    return out


def records_frame(cluster: ClusterView) -> pd.DataFrame:
    """Final record per (leader, key): value, ids kept, ids lost there."""
    by_key = cluster.writes_by_key()
    rows = []
    for node, leader in cluster.leaders.items():
        lost = lost_at(leader.records, by_key, cluster.strategy)
        for key in sorted(by_key):
            state = leader.records.get(key)
            rows.append((node, key, state.value if state else None,
                         tuple(w.id for w in state.kept) if state else (), lost[key]))
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)


def _divergent_keys(cluster: ClusterView, keys: list[str]) -> list[str]:
    up = [leader for leader in cluster.leaders.values() if leader.up]
    out = []
    for key in keys:
        values = [_value(leader.records.get(key)) for leader in up]
        values += [f.values.get(key) for f in cluster.followers.values()
                   if f.up and cluster.leaders[f.leader].up]
        if any(v != values[0] for v in values[1:]):
            out.append(key)
    return out


def _value(state: RecordState | None) -> Any:
    return state.value if state is not None else None


def _propagation(prop: pd.DataFrame, up: set[str]) -> tuple[int, np.ndarray]:
    live = prop[prop["node"].isin(up)]
    missing = live["applied_at"].isna().groupby(live["write_id"], sort=False).any()
    reach = live.groupby("write_id", sort=False)["delay_ms"].max()
    done = reach[~missing.reindex(reach.index).fillna(True).astype(bool)]
    return int(missing.sum()), done.to_numpy(dtype=float)


def _real_time_reads(cluster: ClusterView) -> dict[str, Any]:
    """Stale reads and read-your-writes in real time (single-valued resolutions only:
    a merged or sibling value names no single write)."""
    if not isinstance(cluster.strategy, _Winner):
        return {"stale_reads": math.nan, "read_your_writes_violations": math.nan}
    _, stale, ryw = real_time_read_anomalies(cluster.pool.history)
    return {"stale_reads": stale, "read_your_writes_violations": ryw}


def record_ts(cluster: ClusterView) -> None:
    """Put the accepting leader's timestamp on every ok write as ``ts`` (not a version)."""
    stamp = {(w.key, w.value): w.timestamp for w in cluster.writes.values()}
    for op in cluster.pool.history.ops:
        if op["f"] == "write" and op["type"] == "ok" and (op["key"], op["value"]) in stamp:
            op["ts"] = stamp[(op["key"], op["value"])]


def summarize(cluster: ClusterView, prop: pd.DataFrame, staleness: pd.DataFrame,
              conflicts: pd.DataFrame) -> dict[str, Any]:
    """The flat metrics dict of a run (see ``MultiLeaderResult``)."""
    cfg, h = cluster.config, cluster.pool.history
    lat = op_latencies(h)
    w, r = lat[lat.f == "write"], lat[lat.f == "read"]
    w_ok, r_ok = w[w.type == "ok"], r[r.type == "ok"]
    gave_up = cluster.pool.abandoned
    n_w, n_r = len(w) + gave_up["write"], len(r) + gave_up["read"]
    lo, hi = wilson(len(w_ok), n_w)
    by_key = cluster.writes_by_key()
    losses = {n: lost_at(leader.records, by_key, cluster.strategy)
              for n, leader in cluster.leaders.items()}
    lost_sets = {n: {i for ids in d.values() for i in ids} for n, d in losses.items()}
    df = h.df
    acked = set(zip(df.key[(df.type == "ok") & (df.f == "write")],
                    df.value[(df.type == "ok") & (df.f == "write")], strict=True))
    value_of = {wr.id: (wr.key, wr.value) for ws in by_key.values() for wr in ws}
    up = {n for n, leader in cluster.leaders.items() if leader.up}
    not_propagated, reach = _propagation(prop, up)
    divergent = _divergent_keys(cluster, sorted(by_key))
    concurrent = concurrent_writes(wr for ws in by_key.values() for wr in ws)
    accepted = len(cluster.accepted)
    live_stale = staleness.loc[staleness["up"].astype(bool), "oldest_missing_ms"]
    m: dict[str, Any] = {
        "topology": cfg.topology if isinstance(cfg.topology, str) else "custom",
        "resolution": cluster.strategy.name, "routing": cfg.routing, "causal": cfg.causal,
        "detection": cfg.detection,
        "writes": len(w), "writes_ok": len(w_ok), "writes_info": int((w.type == "info").sum()),
        "writes_fail": int((w.type == "fail").sum()), "writes_abandoned": gave_up["write"],
        "reads": len(r), "reads_ok": len(r_ok),
        "write_availability": len(w_ok) / n_w if n_w else math.nan,
        "write_availability_ci_low": float(lo), "write_availability_ci_high": float(hi),
        "read_availability": len(r_ok) / n_r if n_r else math.nan,
        "write_p50_ms": percentile(w_ok.latency_ms.to_numpy(), 50),
        "write_p99_ms": percentile(w_ok.latency_ms.to_numpy(), 99),
        "read_p50_ms": percentile(r_ok.latency_ms.to_numpy(), 50),
        "read_p99_ms": percentile(r_ok.latency_ms.to_numpy(), 99),
        "accepted_writes": accepted,
        "converged": not divergent, "divergent_keys": len(divergent),
        "conflicts": len(concurrent),
        "conflict_keys": len({value_of[i][0] for i in concurrent}),
        "conflicts_detected": len(conflicts),
        "conflicts_detected_before_ack": cluster.conflicts_before_ack,
        "conflict_detect_p50_ms": percentile(conflicts["delay_ms"].to_numpy(dtype=float), 50),
        "lost_writes": max((len(s) for s in lost_sets.values()), default=0),
        "lost_acked_writes": max((sum(value_of[i] in acked for i in s)
                                  for s in lost_sets.values()), default=0),
        "writes_not_propagated": not_propagated, "undelivered_writes": not_propagated,
        "propagation_p50_ms": percentile(reach, 50), "propagation_p99_ms": percentile(reach, 99),
        "propagation_max_ms": float(reach.max()) if len(reach) else math.nan,
        "max_staleness_ms": float(live_stale.max()) if len(live_stale) else 0.0,
        "overtaking_anomalies": cluster.missing_rows,
        "causality_violations": cluster.violations, "causal_buffered": cluster.buffered,
        "duplicates_ignored": cluster.duplicates,
        "reconfigurations": cluster.reconfigurations, "home_moves": cluster.home_moves,
        "down_nodes": len(cluster.leaders) - len(up),
        "messages": cluster.network.sent, "change_messages": cluster.change_messages,
        "messages_per_write": cluster.change_messages / accepted if accepted else math.nan,
        "retransmissions": cluster.retransmissions,
        "repair_requests": cluster.repair_requests,
        "messages_dropped": cluster.network.dropped, "events": cluster.sim.events_processed,
    }
    return m | _real_time_reads(cluster)
