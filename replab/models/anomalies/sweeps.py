"""Anomaly rate and mitigation cost against replication lag: one tidy frame per sweep."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from functools import partial
from typing import Any

import pandas as pd

from replab.models.anomalies.lag import LagAnomalyConfig, simulate_lag_anomalies
from replab.models.anomalies.partitioned import PartitionedConfig, simulate_partitioned
from replab.models.anomalies.routing import MONOTONIC_MITIGATIONS, READ_YOUR_WRITES_MITIGATIONS
from replab.rng import SeedLike
from replab.sweep import grid_points, plan, sweep
from replab.validate import check_choice, check_float, fail

__all__ = ["ANOMALY_MITIGATIONS", "SWEEP_COLUMNS", "anomaly_sweep", "default_base"]

#: anomaly (a checker name) -> the mitigations that address it ("none" first).
ANOMALY_MITIGATIONS: dict[str, tuple[str, ...]] = {
    "read-your-writes": ("none", *READ_YOUR_WRITES_MITIGATIONS),
    "cross-device-read-your-writes": ("none", *READ_YOUR_WRITES_MITIGATIONS),
    "monotonic-reads": ("none", *MONOTONIC_MITIGATIONS),
    "consistent-prefix": ("none", "co-partition"),
}
_COSTS = ["leader_read_share", "leader_read_share_ci_low", "leader_read_share_ci_high",
          "read_p50_ms", "read_p99_ms", "read_p99_ms_ci_low", "read_p99_ms_ci_high",
          "reads", "reads_failed", "read_failure_rate",
          "reads_waited", "reads_redirected", "lag_mean_ms"]
#: The columns of :func:`anomaly_sweep` (swept config fields of ``grid`` follow ``lag_ms``).
SWEEP_COLUMNS = ["anomaly", "mitigation", "lag_ms", "seed", "count", "examined", "rate",
                 "ci_low", "ci_high", *_COSTS[:7], "extra_read_p50_ms", "extra_read_p99_ms",
                 *_COSTS[7:]]


def default_base(anomaly: str) -> LagAnomalyConfig | PartitionedConfig:
    """The configuration an anomaly is shown with when no ``base`` is given."""
    if anomaly == "consistent-prefix":
        return PartitionedConfig()
    if anomaly == "cross-device-read-your-writes":
        return LagAnomalyConfig(devices_per_user=2)
    return LagAnomalyConfig()


def _point(base: Any, anomaly: str, *, mitigation: str, lag_ms: float, seed: int,
           **extra: Any) -> dict[str, Any]:
    config = dataclasses.replace(base, mitigation=mitigation, lag_ms=lag_ms, **extra)
    run = simulate_partitioned if isinstance(config, PartitionedConfig) else \
        simulate_lag_anomalies
    m = run(config, seed=seed).metrics  # type: ignore[operator]
    stem = anomaly.replace("-", "_")
    row: dict[str, Any] = {"anomaly": anomaly}
    for col in ("count", "examined", "rate", "ci_low", "ci_high"):
        row[col] = m[f"{stem}_{col}"]
    for col in _COSTS:
        row[col] = m.get(col, 0 if col.startswith("reads_") else math.nan)
    return row


def _crn_key(point: Mapping[str, Any], grid: Iterable[str]) -> tuple[Any, ...]:
    return (float(point["lag_ms"]), *(repr(point[k]) for k in grid))


def _crn_point(base: Any, anomaly: str, seeds: dict[tuple[Any, ...], int],
               grid: tuple[str, ...], *, mitigation: str, lag_ms: float, seed: int,
               **extra: Any) -> dict[str, Any]:
    own = seeds[_crn_key({"lag_ms": lag_ms, **extra}, grid)]
    row = _point(base, anomaly, mitigation=mitigation, lag_ms=lag_ms, seed=own, **extra)
    return {**row, "_seed": own}


def _check(anomaly: str, mitigations: Sequence[str] | None, lags: Sequence[float],
           base: Any, grid: Mapping[str, Sequence[Any]]) -> tuple[list[str], Any]:
    o = "anomaly_sweep"
    check_choice(anomaly, "anomaly", o, tuple(ANOMALY_MITIGATIONS))
    allowed = ANOMALY_MITIGATIONS[anomaly]
    chosen = list(allowed if mitigations is None else mitigations)
    if not chosen:
        raise fail("mitigations", o, "a non-empty list of mitigations", mitigations)
    for m in chosen:
        check_choice(m, "mitigations", o, allowed)
    if isinstance(lags, str) or not isinstance(lags, Sequence) or not lags:
        raise fail("lags", o, "a non-empty list of lags in ms", lags)
    for lag in lags:
        check_float(lag, "lags", o, low=0.0)
    base = default_base(anomaly) if base is None else base
    kind = PartitionedConfig if anomaly == "consistent-prefix" else LagAnomalyConfig
    if not isinstance(base, kind):
        raise fail("base", o, f"a {kind.__name__} for {anomaly!r}", base)
    names = {f.name for f in dataclasses.fields(base)} - {"mitigation", "lag_ms"}
    for key in grid:
        check_choice(key, "grid", o, tuple(sorted(names)))
    return chosen, base


def anomaly_sweep(
    anomaly: str,
    mitigations: Sequence[str] | None = None,
    lags: Sequence[float] = (0.0, 5.0, 10.0, 20.0, 50.0),
    *,
    seed: SeedLike = None,
    base: LagAnomalyConfig | PartitionedConfig | None = None,
    grid: Mapping[str, Sequence[Any]] | None = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """The rate of one anomaly and the cost of each mitigation, against replication lag.

    Every (mitigation, lag, ``grid`` point) is one simulation; the mitigations share
    their seeds (common random numbers: lag and grid point ``i`` get the ``i``-th seed of
    :func:`replab.sweep.sweep`, whatever the mitigation), so that a mitigation compared
    with ``none`` differs by the mitigation only. The anomaly is counted by its checker.

    Parameters
    ----------
    anomaly : str
        One of :data:`ANOMALY_MITIGATIONS`: ``read-your-writes``,
        ``cross-device-read-your-writes``, ``monotonic-reads`` (single-leader model,
        :func:`~replab.models.anomalies.lag.simulate_lag_anomalies`) or
        ``consistent-prefix`` (partitioned store, :func:`simulate_partitioned`).
    mitigations : list of str, optional
        Default: every mitigation of the anomaly, ``"none"`` first.
    lags : list of float
        Mean replication delays (``lag_ms``) to sweep.
    seed : int, Generator or None
        Root seed; same seed -> same frame.
    base : LagAnomalyConfig or PartitionedConfig, optional
        Everything else (default :func:`default_base`).
    grid : dict, optional
        More config fields to sweep, e.g. ``{"memory": ["device", "shared"]}``.
    executor : concurrent.futures.Executor, optional

    Returns
    -------
    DataFrame
        One row per run, columns :data:`SWEEP_COLUMNS` (grid fields after ``lag_ms``):
        ``count, examined, rate, ci_low, ci_high`` of the anomaly (Wilson 95 %), the costs
        ``leader_read_share`` (+ CI), ``read_p50_ms``, ``read_p99_ms``, their excess over
        the ``none`` run at the same lag and grid point (``extra_read_*``, NaN without a
        ``none`` run), ``reads``, ``reads_failed``, ``read_failure_rate``,
        ``reads_waited``, ``reads_redirected`` and the measured ``lag_mean_ms`` (NaN for
        the partitioned store).

    Examples
    --------
    >>> df = anomaly_sweep("read-your-writes", ["none", "position-wait"], [40.0], seed=1,
    ...                    base=LagAnomalyConfig(duration_ms=1000.0))
    >>> [(r.mitigation, r.count > 0) for r in df.itertuples()]
    [('none', True), ('position-wait', False)]
    """
    grid = dict(grid or {})
    chosen, base = _check(anomaly, mitigations, lags, base, grid)
    points: dict[str, Sequence[Any]] = {"lag_ms": [float(x) for x in lags], **grid}
    # common random numbers: lag (and grid) point i runs with the i-th seed of a sweep
    # without mitigations, whatever the mitigation, so a difference between mitigations
    # is the mitigation's, not the seed's
    common = [t.seed for t in plan(grid_points(points), seed)]
    seeds = {_crn_key(p, grid): s for p, s in zip(grid_points(points), common, strict=True)}
    df = sweep(partial(_crn_point, base, anomaly, seeds, tuple(grid)),
               {"mitigation": chosen, **points}, seed=0, executor=executor)
    df["seed"] = df.pop("_seed")
    keys = ["lag_ms", *grid]
    none = df[df.mitigation == "none"].drop_duplicates(keys)
    ref = df[keys].merge(none[[*keys, "read_p50_ms", "read_p99_ms"]], on=keys, how="left")
    df["extra_read_p50_ms"] = df["read_p50_ms"].to_numpy() - ref["read_p50_ms"].to_numpy()
    df["extra_read_p99_ms"] = df["read_p99_ms"].to_numpy() - ref["read_p99_ms"].to_numpy()
    cols = [c for c in SWEEP_COLUMNS if c not in ("anomaly", "mitigation", "lag_ms")]
    return df[["anomaly", "mitigation", "lag_ms", *grid, *cols]]
