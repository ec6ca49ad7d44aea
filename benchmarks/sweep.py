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

import pandas as pd

from replab.quorum import k_staleness, staleness
from replab.sweep import dask_client, sweep


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


def _timed(fn: functools.partial, grid: dict, **kw: object) -> tuple[pd.DataFrame, float]:
    busy0, _ = _machine_cpu()
    own0 = _own_cpu()
    start = time.perf_counter()
    frame = sweep(fn, grid, seed=2024, progress=False, **kw)  # type: ignore[arg-type]
    wall = time.perf_counter() - start
    others = max(0.0, (_machine_cpu()[0] - busy0) - (_own_cpu() - own0)) / wall
    print(f"  [{wall:.2f} s wall; other programs used {others:.2f} of "
          f"{os.cpu_count()} cores meanwhile]")
    return frame, wall


def cheap_point(n: int, r: int, w: int, k: int, seed: int) -> dict[str, float]:
    """A point that costs microseconds: per-task overhead dominates unless batched."""
    return {"p_within_k": k_staleness(n, r, w, k)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points and trials")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    reps, trials = (2, 20_000) if args.quick else (8, 60_000)
    heavy = functools.partial(staleness, latency="LNKD-SSD", t=[0, 1, 5, 10, 50],
                              trials=trials)
    grid = {"n": [5], "r": [1, 2, 3, 4, 5], "w": [1, 2, 3, 4, 5]}
    points = 25 * reps
    print(f"load average before: {os.getloadavg()[0]:.2f} (cpus: {os.cpu_count()})")

    heavy(5, 1, 1, seed=0)  # warm up imports and profile loading
    serial, t_serial = _timed(heavy, grid, replications=reps)
    print(f"serial: {points} points of staleness(trials={trials}) in {t_serial:.2f} s "
          f"({1000 * t_serial / points:.0f} ms/point)")

    start = time.perf_counter()
    with dask_client(workers=args.workers) as client:
        t_start = time.perf_counter() - start
        sweep(heavy, {"n": [5], "r": [1], "w": [1]}, executor=client, progress=False)  # warm
        on_dask, t_dask = _timed(heavy, grid, replications=reps, executor=client)
        pd.testing.assert_frame_equal(serial, on_dask)
        cheap_grid = {"n": [9], "r": list(range(1, 10)), "w": list(range(1, 10)),
                      "k": list(range(1, 11 if args.quick else 31))}
        cheap_serial, tc_serial = _timed(cheap_point, cheap_grid)
        cheap_one, tc_one = _timed(cheap_point, cheap_grid, executor=client, batch_size=1)
        cheap_auto, tc_auto = _timed(cheap_point, cheap_grid, executor=client)
        pd.testing.assert_frame_equal(cheap_serial, cheap_one)
        pd.testing.assert_frame_equal(cheap_serial, cheap_auto)
    print(f"dask ({args.workers} workers, processes): {t_dask:.2f} s; cluster start "
          f"{t_start:.2f} s; frames identical")
    print(f"speed-up: {t_serial / t_dask:.2f}x (target >= 1.6x); including cluster start "
          f"{t_serial / (t_dask + t_start):.2f}x")
    n_cheap = len(cheap_serial)
    print(f"cheap points ({n_cheap}): serial {tc_serial:.2f} s; dask one task per point "
          f"{tc_one:.2f} s; dask auto-batched {tc_auto:.2f} s "
          f"(batching {tc_one / tc_auto:.1f}x faster)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
