"""Sweep throughput: serial against a 2-worker Dask local cluster, in one run.

    python benchmarks/sweep.py            # 200 points of the WARS estimator, ~50-100 ms each
    python benchmarks/sweep.py --quick    # a smaller run

Part 1 (the target): a CPU-heavy sweep serially and on Dask; the speed-up should reach
1.6x on two idle cores. Part 2: many cheap points, one task per point against auto
batching, to show what batching saves. Every parallel frame is checked to be identical
to the serial one.
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from typing import Any

import pandas as pd

from replab.quorum import k_staleness, staleness
from replab.sweep import dask_client, grid_points, sweep


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (Linux /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            ticks = [int(x) for x in f.readline().split()[1:]]
    except OSError:  # not Linux: no way to see the others' load
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def _own_cpu() -> float:
    """CPU seconds used by this process and its children (the Dask workers) so far."""
    import psutil  # a dependency of distributed

    me = psutil.Process()
    procs = [me, *me.children(recursive=True)]
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _timed(fn: Any, grid: dict[str, list[int]], label: str,
           **kw: Any) -> tuple[pd.DataFrame, float]:
    busy0, _ = _machine_cpu()
    own0 = _own_cpu()
    start = time.perf_counter()
    frame = sweep(fn, grid, seed=2024, progress=False, **kw)
    wall = time.perf_counter() - start
    others = max(0.0, (_machine_cpu()[0] - busy0) - (_own_cpu() - own0)) / wall
    print(f"  {label:<28} {wall:6.2f} s   (other programs used {others:.2f} of "
          f"{os.cpu_count()} cores meanwhile)")
    return frame, wall


def cheap_point(n: int, r: int, w: int, k: int, seed: int) -> dict[str, float]:
    """A point that costs microseconds: per-task overhead dominates unless batched."""
    return {"p_within_k": k_staleness(n, r, w, k)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points and trials")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the best counts")
    args = ap.parse_args()
    reps, trials = (2, 20_000) if args.quick else (8, 60_000)
    heavy = functools.partial(staleness, latency="LNKD-SSD", t=[0, 1, 5, 10, 50],
                              trials=trials)
    grid = {"n": [5], "r": [1, 2, 3, 4, 5], "w": [1, 2, 3, 4, 5]}
    cheap_grid = {"n": [9], "r": list(range(1, 10)), "w": list(range(1, 10)),
                  "k": list(range(1, 11))}
    print(f"{25 * reps} points of staleness(n=5, trials={trials}); load average before "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")
    heavy(5, 1, 1, seed=0)  # warm up imports and profile loading
    start = time.perf_counter()
    with dask_client(workers=args.workers) as client:
        t_start = time.perf_counter() - start
        sweep(heavy, {"n": [5], "r": [1], "w": [1]}, executor=client, progress=False)  # warm
        serial_runs, dask_runs = [], []
        for _ in range(args.repeat):  # alternate, so both see the same background load
            serial, t = _timed(heavy, grid, "serial", replications=reps)
            serial_runs.append(t)
            on_dask, t = _timed(heavy, grid, f"dask, {args.workers} workers",
                                replications=reps, executor=client)
            dask_runs.append(t)
            pd.testing.assert_frame_equal(serial, on_dask)
        print(f"{len(grid_points(cheap_grid))} cheap points (k_staleness):")
        cheap, tc_serial = _timed(cheap_point, cheap_grid, "serial")
        one, tc_one = _timed(cheap_point, cheap_grid, "dask, one task per point",
                             executor=client, batch_size=1)
        auto, tc_auto = _timed(cheap_point, cheap_grid, "dask, auto-batched", executor=client)
        pd.testing.assert_frame_equal(cheap, one)
        pd.testing.assert_frame_equal(cheap, auto)
    best_serial, best_dask = min(serial_runs), min(dask_runs)
    print(f"heavy sweep: serial {best_serial:.2f} s, dask {best_dask:.2f} s (best of "
          f"{args.repeat}); frames identical; cluster start {t_start:.2f} s")
    print(f"speed-up: {best_serial / best_dask:.2f}x (target >= 1.6x); including the cluster "
          f"start {best_serial / (best_dask + t_start):.2f}x")
    print(f"cheap points: auto-batching is {tc_one / tc_auto:.1f}x faster than one task per "
          f"point (serial {tc_serial:.2f} s, auto-batched dask {tc_auto:.2f} s)")


if __name__ == "__main__":
    main()
