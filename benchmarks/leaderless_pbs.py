"""Throughput of the leaderless simulation's pbs workload, and its agreement with the
estimator.

    python benchmarks/leaderless_pbs.py [--trials 20000]

Prints simulated trials per second (CPU time) for a few profiles, the ratio to the
vectorised WARS estimator measured in the same process (the baseline), the events per
trial, and the cross-validation table: simulated vs estimated P(consistent) with both
Wilson 95 % half-widths.
"""

from __future__ import annotations

import argparse
import time

from replab.models import LeaderlessConfig, pbs_staleness, simulate_leaderless
from replab.quorum import simulate_wars, staleness

CASES = [("LNKD-SSD", 3, 1, 1), ("LNKD-DISK", 3, 1, 1), ("YMMR", 3, 2, 2), ("LNKD-DISK", 5, 2, 2)]
POINTS = [("LNKD-DISK", 3, 1, 1, 0.0), ("LNKD-DISK", 3, 1, 1, 2.0), ("LNKD-DISK", 3, 1, 1, 10.0),
          ("LNKD-DISK", 3, 1, 2, 2.0), ("LNKD-DISK", 3, 2, 1, 0.0), ("LNKD-DISK", 5, 2, 2, 0.0),
          ("YMMR", 3, 1, 1, 0.0), ("YMMR", 3, 1, 1, 10.0), ("YMMR", 3, 1, 1, 200.0),
          ("YMMR", 3, 1, 2, 0.0), ("exp:0.5", 3, 1, 1, 1.0)]


def cpu(fn):
    t0 = time.process_time()
    out = fn()
    return out, time.process_time() - t0


def throughput(trials: int) -> None:
    print(f"{'profile':<10} n r w  sim trials/s  est trials/s  est/sim  events/trial")
    for profile, n, r, w in CASES:
        cfg = LeaderlessConfig(workload="pbs", n=n, r=r, w=w, latency=profile, trials=trials)
        res, t_sim = cpu(lambda cfg=cfg: simulate_leaderless(cfg, seed=1))
        _, t_est = cpu(lambda p=profile, n=n, r=r, w=w: simulate_wars(n, r, w, p, trials=trials,
                                                                    seed=1))
        sim_rate, est_rate = trials / t_sim, trials / max(t_est, 1e-9)
        print(f"{profile:<10} {n} {r} {w} {sim_rate:>13,.0f} {est_rate:>13,.0f} "
              f"{est_rate / sim_rate:>8.0f} {res.metrics['events'] / trials:>13.1f}")


def cross_validation(trials: int) -> None:
    print(f"\n{'profile':<10} n r w     t   p_sim    ±sim   p_est    ±est    gap  within")
    for i, (profile, n, r, w, t) in enumerate(POINTS):  # independent seeds per point
        s = pbs_staleness(n, r, w, profile, [t], trials=trials, seed=100 + 2 * i).iloc[0]
        e = staleness(n, r, w, profile, [t], trials=200_000, seed=101 + 2 * i).iloc[0]
        hs, he = (s.ci_high - s.ci_low) / 2, (e.ci_high - e.ci_low) / 2
        gap = abs(s.p_consistent - e.p_consistent)
        print(f"{profile:<10} {n} {r} {w} {t:>5g} {s.p_consistent:.4f} {hs:.4f} "
              f"{e.p_consistent:.4f} {he:.4f} {gap:.4f}  {'yes' if gap <= hs + he else 'NO'}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20_000)
    args = ap.parse_args()
    throughput(args.trials)
    cross_validation(args.trials)
