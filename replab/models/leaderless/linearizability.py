"""Are quorums linearizable? The leaderless model's histories, checked key by key.

The chapter's claim: even with ``r + w > n`` a Dynamo-style store can return a stale value
in edge cases, so strict quorums alone are not linearizable. A read that sees a write on
one replica while a later read's quorum misses it (the write is still in flight) is the
classic case. Blocking read repair (``write_back``: the read stores what it returns on
``w`` replicas before answering, ABD's second phase) closes that gap, but only while the
version order of writes respects real time: with skewed clocks last-write-wins orders a
later write *before* an earlier one, unless every write first reads a quorum and takes a
timestamp above what it saw (``write_reads_first``, ABD's multi-writer form).

:func:`linearizability_sweep` runs each setting on the same seeds (common random numbers)
and reports the fraction of keys whose history is not linearizable (Wilson interval) with
the client-side read latency each setting costs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from replab.checks import linearizable
from replab.models.leaderless.cluster import simulate_leaderless
from replab.models.leaderless.config import LeaderlessConfig
from replab.rng import SeedLike, spawn_seeds
from replab.stats import wilson
from replab.validate import check_choice, check_int, fail

__all__ = ["REGISTER_WORKLOAD", "relabel_values", "register_run", "linearizability_sweep"]

#: Concurrent readers and writers of a few registers, with realistic (LinkedIn disk)
#: latencies and no client-side pauses: every session always has an operation in flight.
REGISTER_WORKLOAD: dict[str, Any] = {
    "n": 3, "nodes": 3, "keys": 2, "sessions": 10, "duration_ms": 1000.0,
    "write_rate": 300.0, "read_rate": 300.0, "latency": "LNKD-DISK",
}
_F = "linearizability_sweep"


def relabel_values(history: Any, values: int | None,
                   failed_writes: str = "fail") -> list[dict[str, Any]]:
    """The history with written values mapped onto ``values`` distinct ones (``v -> (v - 1)
    % values``), as a Jepsen register test writes small integers. ``None`` keeps them.

    Relabelling can only hide a violation, never make one: a linearization of the
    original is one of the relabelled history too.

    ``failed_writes="info"`` records a write the store reported failed as of unknown
    outcome, as a Jepsen client records a timeout: a Dynamo-style write that missed its
    quorum is not rolled back on the replicas it reached, so "failed" does not mean "did
    not happen". The final-read phase (``final: true``: one replica each, after the run)
    is left out: it reads replicas one by one, not the register through its quorums.
    """
    ops = [dict(op) for op in history if not op.get("final")]
    if failed_writes == "info":
        for op in ops:
            if op["f"] == "write" and op["type"] == "fail":
                op["type"] = "info"
    if values is None:
        return ops
    for op in ops:
        v = op.get("value")
        if isinstance(v, int) and not isinstance(v, bool):
            op["value"] = (v - 1) % values
    return ops


def register_run(*, values: int | None = 5, failed_writes: str = "info",
                 budget_s: float = 5.0, seed: SeedLike = None,
                 **settings: Any) -> dict[str, Any]:
    """One leaderless run on the register workload, every key checked.

    ``settings`` override :data:`REGISTER_WORKLOAD` (any :class:`LeaderlessConfig` field).
    ``failed_writes`` is ``"info"`` (a failed write may have taken effect: the default) or
    ``"fail"`` (it did not: the store's own word, see :func:`relabel_values`).
    Returns the counts of keys checked, not linearizable and undecided within ``budget_s``,
    and the read latencies (ms) of the run's ok reads.
    """
    check_choice(failed_writes, "failed_writes", "register_run", ("info", "fail"))
    cfg = LeaderlessConfig(**(REGISTER_WORKLOAD | settings))
    res = simulate_leaderless(cfg, seed=seed)
    verdicts = linearizable(relabel_values(res.history, values, failed_writes),
                            budget_s=budget_s)
    found = [k.verdict for k in verdicts.keys.values()]
    return {"keys": len(found),
            "not_linearizable": sum(v == "not linearizable" for v in found),
            "unknown": sum(v == "unknown" for v in found),
            "read_latencies": _read_latencies(res.history)}


def _read_latencies(history: Any) -> np.ndarray:
    started: dict[Any, float] = {}
    out = []
    for op in history:
        if op["f"] != "read" or op.get("final"):
            continue
        if op["type"] == "invoke":
            started[op["process"]] = op["time"]
        elif op["type"] == "ok" and op["process"] in started:
            out.append(op["time"] - started.pop(op["process"]))
    return np.asarray(out, dtype=float)


def linearizability_sweep(settings: Mapping[str, Mapping[str, Any]], *, replications: int = 5,
                          values: int | None = 5, budget_s: float = 5.0,
                          seed: SeedLike = 1) -> pd.DataFrame:
    """The fraction of non-linearizable keys per setting, on common random numbers.

    Parameters
    ----------
    settings : dict
        Name -> :class:`LeaderlessConfig` overrides of :data:`REGISTER_WORKLOAD` (e.g.
        ``{"blocking": {"r": 2, "w": 2, "write_back": True}}``); one row each, in order.
        A setting may also hold ``failed_writes`` (see :func:`register_run`).
    replications : int
        Runs per setting; run ``j`` of every setting uses the same seed.
    values, budget_s
        As in :func:`register_run`.

    Returns
    -------
    DataFrame
        ``setting`` (the name), the settings' columns, then ``keys, not_linearizable,
        unknown, fraction, ci_low, ci_high`` (Wilson 95 % over the decided keys), and
        ``read_p50_ms, read_p99_ms`` (over every run's reads) with ``read_p50_low_ms,
        read_p50_high_ms, read_p99_low_ms, read_p99_high_ms``: the min and max of the
        runs' own.
    """
    check_int(replications, "replications", _F, low=1, high=10_000)
    if not settings:
        raise fail("settings", _F, "a non-empty dict of name -> LeaderlessConfig fields",
                   settings)
    seeds = spawn_seeds(seed, replications)
    rows = []
    for name, setting in settings.items():
        runs = [register_run(values=values, budget_s=budget_s, seed=s, **setting)
                for s in seeds]
        keys = sum(r["keys"] for r in runs)
        bad = sum(r["not_linearizable"] for r in runs)
        unknown = sum(r["unknown"] for r in runs)
        decided = keys - unknown
        low, high = wilson(bad, decided) if decided else (np.nan, np.nan)
        lat = np.concatenate([r["read_latencies"] for r in runs])
        p50, p99 = ([float(np.percentile(r["read_latencies"], q)) for r in runs
                     if len(r["read_latencies"])] for q in (50, 99))
        rows.append({"setting": name} | dict(setting) | {
            "keys": keys, "not_linearizable": bad, "unknown": unknown,
            "fraction": bad / decided if decided else np.nan,
            "ci_low": float(low), "ci_high": float(high),
            "read_p50_ms": float(np.percentile(lat, 50)) if len(lat) else np.nan,
            "read_p50_low_ms": min(p50, default=np.nan),
            "read_p50_high_ms": max(p50, default=np.nan),
            "read_p99_ms": float(np.percentile(lat, 99)) if len(lat) else np.nan,
            "read_p99_low_ms": min(p99, default=np.nan),
            "read_p99_high_ms": max(p99, default=np.nan)})
    return pd.DataFrame(rows)
