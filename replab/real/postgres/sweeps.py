"""Sweeps of the postgres lab for the chapter's two pictures.

:func:`delay_sweep` -- stale-read and read-your-writes rates against the apply delay, for
each routing, measured and simulated (:func:`~replab.real.postgres.compare.compare_with_simulator`).
:func:`failover_sweep` -- acknowledged writes lost against the replication stall before a
failover, for each mode. Both reuse one running cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from replab.real.postgres import PgLabConfig, run_postgres_lab
from replab.real.postgres.cluster import PgCluster
from replab.real.postgres.compare import compare_with_simulator

__all__ = ["delay_sweep", "failover_sweep", "agreement", "agreement_table", "explain_agreement",
           "FAILOVER_COLUMNS", "AGREEMENT_COLUMNS"]

FAILOVER_COLUMNS = ("mode", "stall_s", "writes_ok", "lost_acknowledged",
                    "lost_in_data_acknowledged", "lost_in_data", "writes_in_doubt",
                    "lost_share", "ci_low", "ci_high")
AGREEMENT_COLUMNS = ("routing", "apply_delay_ms", "lag_ms", "check", "measured",
                     "measured_ci_low", "measured_ci_high", "simulated", "simulated_ci_low",
                     "simulated_ci_high", "agree", "at_delay", "at_delay_ci_low",
                     "at_delay_ci_high", "agree_at_delay")


def delay_sweep(cluster: PgCluster, delays_ms: Sequence[float], routings: Sequence[str], *,
                duration_s: float = 3.0, seed: int = 0, **config: Any) -> pd.DataFrame:
    """One run per (routing, delay) on ``cluster``, each beside the simulator.

    Returns the rows of :func:`compare_with_simulator` (``COMPARE_COLUMNS``) stacked."""
    frames = []
    for routing in routings:
        for delay in delays_ms:
            cfg = PgLabConfig(standbys=cluster.n_standbys, routing=routing,
                              apply_delay_ms=float(delay), duration_s=duration_s, **config)
            res = run_postgres_lab(cfg, seed=seed, cluster=cluster)
            frames.append(compare_with_simulator(res, seed=seed))
    return pd.concat(frames, ignore_index=True)


def failover_sweep(cluster: PgCluster, stalls_s: Sequence[float],
                   modes: Sequence[str] = ("async", "semi-sync"), *, seed: int = 0,
                   after_s: float = 1.0, **config: Any) -> pd.DataFrame:
    """One failover per (mode, stall): writes for ``stall_s`` with replication stalled,
    then kill, promote, rewind. The roles rotate on ``cluster`` from run to run.

    Returns :data:`FAILOVER_COLUMNS`; ``lost_share`` is lost acknowledged writes over
    acknowledged writes (Wilson 95 % interval)."""
    from replab.stats import wilson

    rows = []
    for mode in modes:
        for stall in stalls_s:
            start = 0.3
            cfg = PgLabConfig(standbys=cluster.n_standbys, mode=mode, fault="failover",
                              stall_s=float(stall), fault_at_s=start,
                              duration_s=start + float(stall) + after_s, **config)
            m = run_postgres_lab(cfg, seed=seed, cluster=cluster).metrics
            lo, hi = wilson(m["lost_acknowledged"], m["writes_ok"])
            rows.append((mode, float(stall), m["writes_ok"], m["lost_acknowledged"],
                         m["lost_in_data_acknowledged"], m["lost_in_data"],
                         m["writes_in_doubt"],
                         m["lost_acknowledged"] / m["writes_ok"] if m["writes_ok"] else 0.0,
                         float(lo), float(hi)))
    return pd.DataFrame(rows, columns=list(FAILOVER_COLUMNS))


def agreement(frame: pd.DataFrame) -> pd.DataFrame:
    """Measured beside simulated, one row per routing, delay and check
    (:data:`AGREEMENT_COLUMNS`); ``agree``: the measured interval overlaps the one
    simulated at the measured lag; ``agree_at_delay``: at the configured delay."""
    keys = ["routing", "apply_delay_ms", "check"]
    part = {src: frame[frame["source"] == src].set_index(keys)
            for src in ("measured", "simulated", "simulated-at-delay")}
    m, s, d = part["measured"], part["simulated"], part["simulated-at-delay"]
    out = pd.DataFrame({
        "lag_ms": m["lag_ms"], "measured": m["rate"], "measured_ci_low": m["ci_low"],
        "measured_ci_high": m["ci_high"], "simulated": s["rate"],
        "simulated_ci_low": s["ci_low"], "simulated_ci_high": s["ci_high"],
        "at_delay": d["rate"], "at_delay_ci_low": d["ci_low"],
        "at_delay_ci_high": d["ci_high"]}).reset_index()
    out["agree"] = _overlap(out, "simulated")
    out["agree_at_delay"] = _overlap(out, "at_delay")
    return out[list(AGREEMENT_COLUMNS)]


def _overlap(df: pd.DataFrame, other: str) -> pd.Series:
    return (df["measured_ci_low"] <= df[f"{other}_ci_high"]) & \
        (df[f"{other}_ci_low"] <= df["measured_ci_high"])


def explain_agreement(table: pd.DataFrame, check: str = "stale-read") -> list[str]:
    """One sentence per (routing, delay) of ``check``: agree or not, with the numbers."""
    lines = []
    for r in table[table["check"] == check].itertuples(index=False):
        verdict = "agree" if r.agree else "DISAGREE"
        if not r.agree:
            verdict += (f"; simulated at the configured delay {r.at_delay:.3f} "
                        f"[{r.at_delay_ci_low:.3f}, {r.at_delay_ci_high:.3f}]: "
                        f"{'agree' if r.agree_at_delay else 'disagree'}")
        lines.append(
            f"{r.routing}, apply delay {r.apply_delay_ms:g} ms (measured lag "
            f"{r.lag_ms:.1f} ms): measured {check} {r.measured:.3f} "
            f"[{r.measured_ci_low:.3f}, {r.measured_ci_high:.3f}], simulated "
            f"{r.simulated:.3f} [{r.simulated_ci_low:.3f}, {r.simulated_ci_high:.3f}]: "
            f"{verdict}")
    return lines


def agreement_table(table: pd.DataFrame, check: str = "stale-read") -> pd.DataFrame:
    """:func:`agreement` for one check, as a table to read: rates with their intervals."""
    def ci(rate: pd.Series, lo: pd.Series, hi: pd.Series) -> list[str]:
        return [f"{r:.3f} [{a:.3f}, {b:.3f}]" for r, a, b in zip(rate, lo, hi, strict=True)]

    t = table[table["check"] == check]
    return pd.DataFrame({
        "routing": t["routing"], "apply delay (ms)": t["apply_delay_ms"].round(1),
        "measured lag (ms)": t["lag_ms"].round(1),
        "measured": ci(t["measured"], t["measured_ci_low"], t["measured_ci_high"]),
        "simulated at measured lag": ci(t["simulated"], t["simulated_ci_low"],
                                        t["simulated_ci_high"]),
        "agree": t["agree"].map({True: "yes", False: "no"}),
        "simulated at the delay": ci(t["at_delay"], t["at_delay_ci_low"],
                                     t["at_delay_ci_high"]),
        "agree at the delay": t["agree_at_delay"].map({True: "yes", False: "no"}),
    }).reset_index(drop=True)
