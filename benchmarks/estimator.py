"""Estimator throughput against its floors, measured in one process.

For a 10^6-trial N=3 run producing a 101-point t-visibility curve plus latency
percentiles, prints the time taken and its ratio to

* the floor: the time NumPy needs just to draw the same random delays, and
* the naive approach: re-simulating each of the 101 t points separately.

Usage: python benchmarks/estimator.py [--trials N] [--profile NAME] [--repeat K]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import replab
from replab.quorum.reference import staleness_per_t


def best_of(k: int, *fns):  # type: ignore[no-untyped-def]
    """Minimum time of each function over k rounds, run interleaved so load hits all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(k):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return best if len(fns) > 1 else best[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1_000_000)
    ap.add_argument("--profile", default="LNKD-DISK")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--naive-points", type=int, default=101,
                    help="t points to time for the naive approach (scaled to 101)")
    args = ap.parse_args()
    model = replab.profile(args.profile)
    n, r, w = 3, 1, 1
    ts = np.linspace(0, 100, 101)

    def floor() -> None:
        model.sample(np.random.default_rng(1), args.trials, n)

    def estimator() -> None:
        res = replab.simulate_wars(n, r, w, model, trials=args.trials, seed=1)
        res.staleness(ts)
        res.latency_percentiles([50, 99, 99.9])

    def quantile() -> None:
        res = replab.simulate_wars(n, r, w, model, trials=args.trials, seed=1)
        res.t_visibility([0.999])

    estimator()  # warm up
    t_floor, t_est, t_q = best_of(args.repeat, floor, estimator, quantile)
    pts = ts[: args.naive_points]
    t_naive = best_of(1, lambda: staleness_per_t(n, r, w, model, pts, trials=args.trials, seed=1))
    t_naive *= len(ts) / len(pts)
    print(f"profile {args.profile}, N={n} R={r} W={w}, {args.trials:,} trials, 101-point curve")
    print(f"floor (draw the delays only)     {t_floor * 1e3:9.1f} ms")
    print(f"estimator (curve + percentiles)  {t_est * 1e3:9.1f} ms   "
          f"ratio to floor {t_est / t_floor:5.2f}x (target <= 1.5x)")
    print(f"trials + t-visibility quantile   {t_q * 1e3:9.1f} ms   "
          f"ratio to floor {t_q / t_floor:5.2f}x")
    print(f"naive, re-simulate every t       {t_naive * 1e3:9.1f} ms   "
          f"estimator is {t_naive / t_est:5.1f}x faster (target >= 20x)")


if __name__ == "__main__":
    main()
