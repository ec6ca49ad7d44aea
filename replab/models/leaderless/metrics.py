"""What a leaderless run produced: the result type, per-write facts and the metrics.

Definitions (per key; "acked" = the client got ``ok``):

* A read is **stale** if it misses a write acked before the read was invoked: with
  ``lww`` it returned a version older (smaller ``(ts, write_id)``) than that write, with
  ``siblings`` none of its siblings supersedes that write (or it found nothing).
* An acked write is **lost** if it no longer survives and nothing that came after it
  in real time replaced it: with ``lww``, it is *discarded* (below), or it is not the
  surviving version and the survivor was not invoked after it completed; with
  ``siblings``, no surviving sibling supersedes it.
* With ``lww``, an acked write is **discarded** if a version with a larger timestamp that
  was invoked before it completed exists somewhere: the database silently kept an older
  or concurrent write instead. ``discarded_by_skew``: that version had even *completed*
  before this write was invoked (only clock skew can cause that).
* Stale reads and read-your-writes are judged in real time (see ``_leaderless_reads``);
  the store's timestamp is recorded in the history as ``ts``, never as ``version``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from replab.history import History, pair_operations
from replab.models.leaderless.monitor import STALENESS_COLUMNS, replica_lag
from replab.models.leaderless.versions import covers

if TYPE_CHECKING:
    from replab.models.leaderless.config import LeaderlessConfig
    from replab.models.leaderless.view import ClusterView

__all__ = ["LeaderlessResult", "WRITE_COLUMNS", "AE_COLUMNS",
           "write_relations", "op_times", "STALENESS_COLUMNS"]

#: Columns of ``LeaderlessResult.writes``.
WRITE_COLUMNS = ["write_id", "key", "value", "actor", "coordinator", "ts", "vv", "dot",
                 "past", "outcome",
                 "invoke_ms", "complete_ms", "first_stored_ms", "home_covered", "lost",
                 "discarded", "discarded_by_skew"]
#: Columns of ``LeaderlessResult.anti_entropy``.
AE_COLUMNS = ["time", "node", "peer", "leaves_differing", "keys_exchanged", "bytes",
              "messages"]
#: Columns of ``LeaderlessResult.final_lag``.
FINAL_COLUMNS = ["key", "node", "dc", "versions_behind", "time_behind_ms", "reads", "writes"]


@dataclass(frozen=True)
class LeaderlessResult:
    """What a run produced.

    Attributes
    ----------
    config : LeaderlessConfig
    history : History -- every client operation; reads of siblings return a sorted list;
        with ``lww`` an ok write (and an ok read) carries the store's timestamp ``ts``.
    metrics : dict -- flat (see :func:`finish_clients` and the pbs driver).
    staleness : DataFrame -- monitor samples, columns :data:`STALENESS_COLUMNS`.
    writes : DataFrame -- one row per write, columns :data:`WRITE_COLUMNS` (``ts`` the
        coordinator's clock, ``vv`` the version vector as a dict, ``outcome`` what the
        client got -- ``none`` if it never heard, ``home_covered`` how many home replicas
        hold it or a version superseding it at the end, ``dot`` the write's
        ``(actor, counter)`` and ``past`` its context with version vectors,
        ``lost`` / ``discarded`` /
        ``discarded_by_skew`` as defined above).
    anti_entropy : DataFrame -- one row per Merkle exchange, columns :data:`AE_COLUMNS`
        (``bytes`` and ``messages``: everything the exchange sent, level by level).
    final_lag : DataFrame -- every replica of every key at the end, with the key's read
        and write counts (columns ``FINAL_COLUMNS``).
    trials : DataFrame -- pbs only: one row per trial.
    events : DataFrame -- the network's event log (crashes, partitions, restores, ...).
    """

    config: LeaderlessConfig
    history: History
    metrics: dict[str, Any]
    staleness: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=STALENESS_COLUMNS))
    writes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=WRITE_COLUMNS))
    anti_entropy: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=AE_COLUMNS))
    final_lag: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=FINAL_COLUMNS))
    trials: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)

    def relations(self) -> pd.DataFrame:
        """Which writes of each key were concurrent (see :func:`write_relations`)."""
        return write_relations(self)


def op_times(history: History) -> dict[tuple[str, Any], tuple[float, float, str]]:
    """``(key, value) -> (invoke, complete, type)`` of every write (complete inf if none).

    When two writes share a key and value, the one whose last event (completion, or
    invocation if it never completed) comes later wins."""
    pairs = pair_operations(history)
    writes = pairs[pairs["f"] == "write"]
    last = writes["end"].where(writes["type"] != "none", writes["start"])
    writes = writes.assign(last=last).sort_values("last", kind="stable")
    return {(k, v): (t0, t1, typ) for k, v, t0, t1, typ in zip(
        writes["key"], writes["value"], writes["start"], writes["end"], writes["type"],
        strict=True)}


def _lww_discarded(metas: list, times: dict) -> dict[int, tuple[bool, bool]]:
    """write_id -> (discarded, by skew) for one key's stored writes under LWW."""
    order = sorted(metas, key=lambda m: (m.version.ts, m.version.write_id), reverse=True)
    out, min_inv, min_done = {}, math.inf, math.inf
    for m in order:  # from the largest timestamp down: the minima are over larger stamps
        inv, done, typ = times.get((m.key, m.version.value), (m.issued_at, math.inf, "none"))
        if typ == "ok":
            out[m.version.write_id] = (min_inv < done, min_done < inv)
        min_inv, min_done = min(min_inv, inv), min(min_done, done)
    return out


def _write_rows(cluster: ClusterView, times: dict) -> list[tuple]:
    res = cluster.resolution
    rows = []
    discarded: dict[int, tuple[bool, bool]] = {}
    if res == "lww":
        by_key: dict[str, list] = {}
        for m in cluster.writes:
            if m.first_stored is not None:
                by_key.setdefault(m.key, []).append(m)
        for metas in by_key.values():
            discarded.update(_lww_discarded(metas, times))
    finals = {k: cluster.final_state(k) for k in {m.key for m in cluster.writes}}
    for m in cluster.writes:
        v = m.version
        inv, done, typ = times.get((m.key, v.value), (m.issued_at, math.inf, "none"))
        final = finals[m.key]
        copies = sum(covers(cluster.held(h, m.key), v, res) for h in cluster.home_all(m.key))
        if res == "lww":
            winner = final[0] if final else None
            w_inv = (times.get((m.key, winner.value), (math.inf,))[0] if winner else -math.inf)
            lost = typ == "ok" and (winner is None or (winner.write_id != v.write_id
                                                       and w_inv < done))
        else:
            lost = typ == "ok" and not covers(final, v, res)
        d, skew = discarded.get(v.write_id, (False, False))
        lost = lost or d  # silently overwritten by an older or concurrent write
        rows.append((v.write_id, m.key, v.value, m.actor, m.coordinator, v.ts,
                     dict(v.vv) if v.vv is not None else None, v.dot,
                     dict(v.past) if v.past is not None else None, typ, inv, done,
                     m.first_stored if m.first_stored is not None else math.nan,
                     copies, lost, d, skew))
    return rows


def _latencies(history: History) -> dict[tuple[str, str], list[float]]:
    """``(f, type) -> latencies`` of every completed operation."""
    pairs = pair_operations(history)
    done = pairs[pairs["type"] != "none"]
    return {(str(f), str(t)): [float(x) for x in g["latency_ms"]]
            for (f, t), g in done.groupby(["f", "type"], sort=False)}


def _record_ts(cluster: ClusterView, history: History) -> None:
    """Put the store's timestamp on every ok write (and every ok read of one version) as
    ``ts``: it is the store's own order, not the order clients saw, so never ``version``."""
    ids, writes = cluster.value_ids, cluster.writes
    for op in history.ops:
        if op["type"] != "ok" or op["value"] is None or isinstance(op["value"], list):
            continue
        op["ts"] = writes[ids[(op["key"], op["value"])] - 1].version.ts


def _final_lag(cluster: ClusterView, history: History) -> pd.DataFrame:
    df = history.df
    done = df[df.type == "ok"]
    reads = done[done.f == "read"].groupby("key").size()
    writes = done[done.f == "write"].groupby("key").size()
    now = cluster.sim.now
    rows = []
    for key in sorted(cluster.key_writes):
        for node in cluster.home_all(key):
            behind, t_behind = replica_lag(cluster, key, node, now)
            rows.append((key, node, cluster.dc_of(node), behind, t_behind,
                         int(reads.get(key, 0)), int(writes.get(key, 0))))
    return pd.DataFrame(rows, columns=FINAL_COLUMNS)


def write_relations(result: LeaderlessResult) -> pd.DataFrame:
    """Every pair of writes of the same key and how they relate.

    With ``siblings`` the version vectors decide (``before``: a happened before b,
    ``after``, ``concurrent``); with ``lww`` nothing tracks causality, so real time is
    used (``concurrent`` = the operations overlapped). Columns ``key, write_a, write_b,
    value_a, value_b, relation, basis``.
    """
    w = result.writes
    rows = []
    vv_mode = result.config.resolution == "siblings"
    for key, g in w.groupby("key", sort=True):
        ids, vals = g.write_id.to_numpy(), g.value.to_numpy()
        k = len(g)
        if k < 2:
            continue
        if vv_mode:
            vvs = list(g.vv)
            names = sorted({a for vv in vvs for a in vv}, key=repr)
            col = {a: i for i, a in enumerate(names)}
            # a write's past (its context, without its own dot) decides what it follows
            table = np.array([[past.get(a, 0) for a in names] for past in g["past"]],
                             dtype=np.int64)
            mine = np.array([col[a] for a, _ in g["dot"]])
            counters = np.array([c for _, c in g["dot"]], dtype=np.int64)
            # before[i, j]: write i happened before write j (j's vector covers i's dot)
            before = counters[:, None] <= table[:, mine].T
            np.fill_diagonal(before, False)
        else:
            inv, done = g.invoke_ms.to_numpy(float), g.complete_ms.to_numpy(float)
            before = done[:, None] < inv[None, :]
        iu, ju = np.triu_indices(k, 1)
        rel = np.where(before[iu, ju], "before", np.where(before[ju, iu], "after",
                                                          "concurrent"))
        rows.append(pd.DataFrame({"key": key, "write_a": ids[iu], "write_b": ids[ju],
                                  "value_a": vals[iu], "value_b": vals[ju],
                                  "relation": rel,
                                  "basis": "version vectors" if vv_mode else "real time"}))
    cols = ["key", "write_a", "write_b", "value_a", "value_b", "relation", "basis"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
