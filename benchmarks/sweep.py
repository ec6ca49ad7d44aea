"""Sweep throughput: serial against 2 local workers and a 2-worker Dask local cluster.

    python benchmarks/sweep.py               # a 200-point x 5-replication simulation sweep
    python benchmarks/sweep.py --quick       # 40 points x 5 replications
    python benchmarks/sweep.py --estimators  # the WARS estimator sweeps (below)

The simulation sweep (the default): the leaderless model over 200 points (n = 5: r, w in
1..5, read repair, sloppy quorums, replica failures), 5 runs a point, serially, on 2 worker
processes and on a 2-worker Dask LocalCluster; the three frames must be identical, and the
speed-ups are printed with the machine's load (``uptime``), since others share it.

``--estimators``, part 1: a CPU-heavy estimator sweep serially and on Dask; the speed-up
should reach 1.6x on two idle cores. Part 2: many cheap points, one task per point against
auto batching, to show what batching saves.
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from typing import Any

import pandas as pd

from replab.quorum import k_staleness, staleness
from replab.sweep import dask_client, grid_points, open_executor, sweep
from replab.sweeps.model_sweep import sweep_model

#: 200 points of the leaderless model; each run simulates 150 ms of a 5-replica cluster
SIM_GRID = {"r": [1, 2, 3, 4, 5], "w": [1, 2, 3, 4, 5], "read_repair": [False, True],
            "sloppy": [False, True], "p_fail": [0.0, 0.1]}
SIM_FIXED = {"n": 5, "duration_ms": 150, "keys": 5}


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


def _uptime() -> str:
    with open("/proc/loadavg") as f:
        one, five, fifteen = f.read().split()[:3]
    return f"load average {one}, {five}, {fifteen} on {os.cpu_count()} cpus"


def _sim_timed(label: str, grid: dict[str, list[Any]], reps: int,
               executor: Any) -> tuple[pd.DataFrame, float]:
    start = time.perf_counter()
    frame = sweep_model("leaderless", grid, fixed=SIM_FIXED, replications=reps, seed=2024,
                        executor=executor)
    wall = time.perf_counter() - start
    print(f"  {label:<34} {wall:7.2f} s   ({_uptime()})", flush=True)
    return frame, wall


def simulation(args: argparse.Namespace) -> None:
    grid = dict(SIM_GRID)
    if args.quick:
        grid["r"], grid["w"] = [1, 3], [1, 3, 5]  # 2 x 3 x 8 = 48 points
    points, reps = len(grid_points(grid)), 5
    print(f"{points} points x {reps} replications of the leaderless model; {_uptime()}",
          flush=True)
    serial, t_serial = _sim_timed("serial", grid, reps, None)
    with open_executor("processes", workers=args.workers) as pool:
        on_pool, t_pool = _sim_timed(f"{args.workers} worker processes", grid, reps, pool)
    start = time.perf_counter()
    with dask_client(workers=args.workers) as client:
        t_start = time.perf_counter() - start
        on_dask, t_dask = _sim_timed(f"dask LocalCluster, {args.workers} workers", grid,
                                     reps, client)
    pd.testing.assert_frame_equal(serial, on_pool)
    pd.testing.assert_frame_equal(serial, on_dask)
    print(f"frames identical ({len(serial)} rows). speed-up over serial: "
          f"{args.workers} processes {t_serial / t_pool:.2f}x, dask {t_serial / t_dask:.2f}x "
          f"(cluster start {t_start:.1f} s more)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points and trials")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="runs of each; the best counts")
    ap.add_argument("--estimators", action="store_true",
                    help="the estimator sweeps instead of the simulation sweep")
    args = ap.parse_args()
    if not args.estimators:
        simulation(args)
        return
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
