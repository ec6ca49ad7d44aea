"""The lab beside the simulator: measured anomaly rates against the lag-anomalies model
(:mod:`replab.models.lag_anomalies`) run with the lag and the load that were measured.

The simulator gets the run's shape: one follower per standby, constant replication lag =
the mean ``replay_lag`` PostgreSQL reported during the run (the apply delay plus shipping),
the measured operation rate and read share, one user per client owning the same keys, and
the routing mapped to its mitigation (:data:`MITIGATION_OF`). ``primary`` routing has no
mitigation of its own there: it is simulated as reads from followers with zero lag.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from replab.checks import check_history, results_frame
from replab.errors import ConfigError
from replab.models.lag_anomalies import LagAnomalyConfig, simulate_lag_anomalies
from replab.rng import SeedLike

__all__ = ["MITIGATION_OF", "COMPARED", "COMPARE_COLUMNS", "simulator_config",
           "configured_delay", "compare_with_simulator", "intervals_overlap"]

MITIGATION_OF = {"standby": "none", "primary": "none", "own-writes-primary":
                 "recent-write-leader", "wait-lsn": "position-wait", "sticky": "sticky-user"}
COMPARED = ("stale-read", "read-your-writes", "monotonic-reads")
#: Columns of :func:`compare_with_simulator`: one row per check and source.
COMPARE_COLUMNS = ("check", "source", "count", "examined", "rate", "ci_low", "ci_high",
                   "lag_ms", "apply_delay_ms", "routing")


def simulator_config(result: Any, *, duration_ms: float | None = None,
                     lag_ms: float | None = None) -> LagAnomalyConfig:
    """The simulator's configuration for a lab result (see the module docstring).

    ``duration_ms`` defaults to ten seconds or the run's length, whichever is longer (the
    simulator is cheap; a longer run narrows its interval). ``lag_ms`` replaces the
    measured lag (e.g. by the configured apply delay)."""
    cfg, m = result.config, result.metrics
    lag = float(m["replay_lag_mean_ms"]) if lag_ms is None else float(lag_ms)
    if not math.isfinite(lag):
        lag = configured_delay(result)  # no sample: the configured delay
    lag = 0.0 if cfg.routing == "primary" else lag
    length = duration_ms if duration_ms is not None else max(10000.0, m["workload_s"] * 1000)
    return LagAnomalyConfig(
        mitigation=MITIGATION_OF[cfg.routing], followers=cfg.standbys, lag_ms=lag,
        lag_dist="const", net_delay="const:0.2", duration_ms=length,
        rate=float(m["ops_per_s"]), read_fraction=float(m["read_fraction"]),
        users=cfg.clients, keys=cfg.keys, own_writes=cfg.own_writes, own_reads=cfg.own_reads,
        window_ms=cfg.recent_window_ms, max_wait_ms=cfg.max_wait_ms)


def configured_delay(result: Any) -> float:
    """The mean ``recovery_min_apply_delay`` of the run's standbys (ms)."""
    return float(sum(result.config.delays()) / result.config.standbys)


def compare_with_simulator(result: Any, *, seed: SeedLike = None,
                           duration_ms: float | None = None) -> pd.DataFrame:
    """Measured and simulated rates of :data:`COMPARED`, with Wilson 95 % intervals.

    The simulator runs twice: at the lag PostgreSQL measured (``simulated``) and at the
    configured apply delay (``simulated-at-delay``), which brackets what
    ``pg_stat_replication``'s estimate may miss.

    Parameters
    ----------
    result : PgLabResult
    seed : seed of the simulation
    duration_ms : simulated time (see :func:`simulator_config`)

    Returns
    -------
    DataFrame
        :data:`COMPARE_COLUMNS`; ``source`` is ``measured`` (the run's workload, without
        its final reads), ``simulated`` or ``simulated-at-delay``; ``lag_ms`` the lag the
        row's simulation used (the measured one on ``measured`` rows).
    """
    if result.config.fault != "none":
        raise ConfigError("compare_with_simulator needs a run with fault='none' (the "
                          f"simulator models no walsender stall or failover). Got "
                          f"fault={result.config.fault!r} instead.")
    measured = results_frame(check_history(result.workload_history(), list(COMPARED)))
    measured_lag = simulator_config(result, duration_ms=duration_ms).lag_ms
    frames = [_rows(measured, "measured", measured_lag)]
    for source, lag in (("simulated", None), ("simulated-at-delay", configured_delay(result))):
        sim_cfg = simulator_config(result, duration_ms=duration_ms, lag_ms=lag)
        checks = simulate_lag_anomalies(sim_cfg, seed=seed).checks
        frames.append(_rows(checks[checks["check"].isin(COMPARED)], source, sim_cfg.lag_ms))
    out = pd.concat(frames, ignore_index=True)
    out["apply_delay_ms"] = configured_delay(result)
    out["routing"] = result.config.routing
    return out.sort_values(["check", "source"], kind="stable").reset_index(drop=True)


def _rows(checks: pd.DataFrame, source: str, lag_ms: float) -> pd.DataFrame:
    df = checks[["check", "count", "examined", "rate", "ci_low", "ci_high"]].copy()
    df.insert(1, "source", source)
    df["lag_ms"] = lag_ms
    return df


def intervals_overlap(frame: pd.DataFrame) -> pd.Series:
    """Per check: whether the measured and simulated 95 % intervals overlap."""
    frame = frame[frame["source"].isin(("measured", "simulated"))]
    wide = frame.pivot(index="check", columns="source", values=["ci_low", "ci_high"])
    return (wide["ci_low"]["measured"] <= wide["ci_high"]["simulated"]) & \
        (wide["ci_low"]["simulated"] <= wide["ci_high"]["measured"])
