"""Repeated Patroni runs over pause lengths and modes, and the simulator beside them.

:func:`pause_sweep` freezes the leader for each pause length ``repeats`` times (pauses
below and above ``ttl``: a short one should not fail over, a long one should);
:func:`mode_sweep` repeats one pause in ``async`` and ``sync`` mode. Both return one row a
run (:data:`RUN_COLUMNS`); :func:`summarize` turns them into one row a setting, with a
Wilson interval for P(failover) and min-max of the runs for the rest.
:func:`model_beside` runs the single-leader simulator at matching settings (its
``failover_timeout_ms`` = ttl, heartbeats every ``loop_wait``, the same pause, no fencing:
Patroni has none without a watchdog) and :func:`compare_model` puts the two side by side.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from replab.real.patroni.cluster import PatroniCluster
from replab.real.patroni.config import PatroniConfig
from replab.real.patroni.lab import run_patroni
from replab.rng import SeedLike, spawn_seeds
from replab.stats import wilson

__all__ = ["RUN_COLUMNS", "pause_sweep", "mode_sweep", "summarize", "model_beside",
           "compare_model", "load_sweeps", "describe_pause_sweep", "describe_modes"]

RUN_COLUMNS = ["mode", "ttl", "pause_s", "repeat", "failover", "failover_s", "detection_s",
               "unavailable_s", "to_new_leader_s", "split_brain_writes", "split_brain_s",
               "lost_acknowledged", "lost_in_data", "rejoin_s", "writes_ok"]
_MEASURES = ["unavailable_s", "failover_s", "split_brain_writes", "split_brain_s",
             "lost_acknowledged", "rejoin_s"]


def _runs(configs: list[PatroniConfig], repeats: int, seed: SeedLike,
          cluster: PatroniCluster | None) -> pd.DataFrame:
    """Every config ``repeats`` times on one cluster (its own unless given); repeat ``r``
    of every config shares its seed (common random numbers)."""
    seeds = spawn_seeds(seed, repeats)
    first = configs[0]
    own = cluster is None
    if cluster is None:
        cluster = PatroniCluster(first.nodes, ttl=first.ttl, loop_wait=first.loop_wait,
                                 retry_timeout=first.retry_timeout, mode=first.mode)
        cluster.start()
    rows = []
    try:
        for cfg in configs:
            for r in range(repeats):
                m = run_patroni(cfg, seed=seeds[r], cluster=cluster).metrics
                rows.append({"mode": cfg.mode, "ttl": cfg.ttl, "pause_s": cfg.pause_s,
                             "repeat": r, **{k: m[k] for k in RUN_COLUMNS[4:]}})
    finally:
        if own:
            cluster.close()
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def pause_sweep(pauses: Sequence[float], *, repeats: int = 3, seed: SeedLike = None,
                base: PatroniConfig | None = None,
                cluster: PatroniCluster | None = None) -> pd.DataFrame:
    """Freeze the leader for each of ``pauses`` (seconds), ``repeats`` times each; the
    run lasts until a few seconds past the pause. One row a run (:data:`RUN_COLUMNS`)."""
    base = base or PatroniConfig()
    configs = [dataclasses.replace(base, fault="pause-leader", pause_s=float(p),
                                   duration_s=base.fault_at_s + float(p) + _tail(base))
               for p in pauses]
    return _runs(configs, repeats, seed, cluster)


def mode_sweep(modes: Sequence[str] = ("async", "sync"), *, pause_s: float = 22.0,
               repeats: int = 3, seed: SeedLike = None, base: PatroniConfig | None = None,
               cluster: PatroniCluster | None = None) -> pd.DataFrame:
    """The same leader pause in each mode, ``repeats`` times each (common seeds)."""
    base = base or PatroniConfig()
    configs = [dataclasses.replace(base, mode=m, fault="pause-leader", pause_s=pause_s,
                                   duration_s=base.fault_at_s + pause_s + _tail(base))
               for m in modes]
    return _runs(configs, repeats, seed, cluster)


def _tail(cfg: PatroniConfig) -> float:
    """Writing goes on this long after the pause: the demotion, the split-brain window
    and the first writes on the new leader fit in it."""
    return max(6.0, 2 * cfg.loop_wait + 2.0)


def summarize(runs: pd.DataFrame, by: Sequence[str] = ("mode", "ttl", "pause_s")
              ) -> pd.DataFrame:
    """One row a setting: ``runs``, ``failovers``, ``p_failover`` with its Wilson 95 %
    interval (``p_failover_lo``/``_hi``), and for each measure its mean, min and max over
    the runs (``<measure>``, ``<measure>_min``, ``<measure>_max``; NaN-aware: a run
    without a failover has no failover time)."""
    rows = []
    for key, g in runs.groupby(list(by), sort=True):
        n, k = len(g), int(g["failover"].astype(bool).sum())
        lo, hi = wilson(k, n)
        row: dict[str, Any] = dict(zip(by, key if isinstance(key, tuple) else (key,),
                                       strict=True))
        row |= {"runs": n, "failovers": k, "p_failover": k / n,
                "p_failover_lo": float(lo), "p_failover_hi": float(hi)}
        for col in _MEASURES:
            vals = g[col].to_numpy(dtype=float)
            vals = vals[~np.isnan(vals)]
            row[col] = float(vals.mean()) if len(vals) else float("nan")
            row[f"{col}_min"] = float(vals.min()) if len(vals) else float("nan")
            row[f"{col}_max"] = float(vals.max()) if len(vals) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def model_beside(settings: pd.DataFrame, *, repeats: int = 2, seed: SeedLike = None,
                 base: PatroniConfig | None = None) -> pd.DataFrame:
    """The single-leader simulator at each ``(mode, ttl, pause_s)`` of ``settings``: one
    row a setting with ``p_failover`` (and its Wilson interval), ``split_brain_writes``
    and ``lost_acknowledged`` (means over ``repeats`` runs)."""
    from replab.models.single_leader import SingleLeaderConfig, simulate_single_leader

    base = base or PatroniConfig()
    seeds = spawn_seeds(seed, repeats)
    rows = []
    for mode, ttl, pause in settings[["mode", "ttl", "pause_s"]].drop_duplicates().itertuples(
            index=False):
        cfg = SingleLeaderConfig(
            mode=str(mode), followers=base.nodes - 1, sessions=base.clients,
            duration_ms=(base.fault_at_s + float(pause) + _tail(base)) * 1000.0,
            write_rate=base.clients / max(base.think_ms / 1000.0, 0.01), read_rate=0.0,
            failover_timeout_ms=float(ttl) * 1000.0,
            heartbeat_interval_ms=base.loop_wait * 1000.0,
            pause_leader_at_ms=base.fault_at_s * 1000.0, pause_ms=float(pause) * 1000.0,
            fencing=False, client_timeout_ms=base.op_timeout_s * 1000.0)
        ms = [simulate_single_leader(cfg, seed=s).metrics for s in seeds]
        k = sum(int(m["failovers"] > 0) for m in ms)
        lo, hi = wilson(k, repeats)
        rows.append({"mode": mode, "ttl": ttl, "pause_s": pause, "runs": repeats,
                     "p_failover": k / repeats, "p_failover_lo": float(lo),
                     "p_failover_hi": float(hi),
                     "split_brain_writes": float(np.mean([m["split_brain_writes"] for m in ms])),
                     "lost_acknowledged": float(np.mean([m["acked_writes_lost"] for m in ms]))})
    return pd.DataFrame(rows)


def compare_model(measured: pd.DataFrame, model: pd.DataFrame) -> pd.DataFrame:
    """Measured (a :func:`summarize` frame) and simulated side by side, one row a
    setting: ``p_failover``, ``split_brain_writes``, ``lost_acknowledged`` of each."""
    keys = ["mode", "ttl", "pause_s"]
    cols = ["p_failover", "split_brain_writes", "lost_acknowledged"]
    return measured[keys + cols].merge(model[keys + cols], on=keys,
                                       suffixes=("_measured", "_model"))


def load_sweeps(path: str | Path) -> dict[str, pd.DataFrame]:
    """The frames ``data/measure_patroni.py`` saved: ``pause_sweep``, ``mode_sweep``
    (one row a run) and ``model``."""
    path = Path(path)
    return {name: pd.read_csv(path / f"{name}.csv")
            for name in ("pause_sweep", "mode_sweep", "model")}


def describe_pause_sweep(summary: pd.DataFrame, ttl: float) -> str:
    """The pause-vs-ttl result in one sentence, its numbers read from ``summary``."""
    parts = []
    for words, sel in (("shorter than ttl", summary["pause_s"] < ttl),
                       ("equal to ttl", summary["pause_s"] == ttl),
                       ("longer than ttl", summary["pause_s"] > ttl)):
        part = summary[sel]
        if len(part):
            pauses = ", ".join(f"{p:g}" for p in part["pause_s"])
            parts.append(f"pauses {words} ({pauses} s) failed over in "
                         f"{int(part['failovers'].sum())} of {int(part['runs'].sum())} runs")
    return f"With ttl = {ttl:g} s: " + "; ".join(parts) + "."


def describe_modes(summary: pd.DataFrame) -> str:
    """Async against sync in one sentence a mode, its numbers read from ``summary``."""
    lines = []
    for row in summary.sort_values("mode").itertuples(index=False):
        lines.append(
            f"{row.mode}: {row.split_brain_writes:.0f} writes acknowledged by the old leader "
            f"after the election (min-max {row.split_brain_writes_min:.0f}-"
            f"{row.split_brain_writes_max:.0f}), {row.lost_acknowledged:.0f} acknowledged "
            f"writes lost (min-max {row.lost_acknowledged_min:.0f}-"
            f"{row.lost_acknowledged_max:.0f}), failover {row.failover_s:.1f} s after the "
            f"pause began, over {row.runs} runs")
    return "\n".join(lines)
