"""Estimator throughput against its floors, and the streamed estimator at scale.

1. The slider path (one chunk, in memory): for a 10^6-trial N=3 run producing a 101-point
   t-visibility curve plus latency percentiles, the time taken and its ratio to
   * the floor: the time NumPy needs just to draw the same random delays, and
   * the naive approach: re-simulating each of the 101 t points separately.
2. Streaming (``--stream-trials``, several chunks, one core): the staleness curve and the
   t-visibility quantiles against the floor of drawing the same chunks.
3. Parallel (``--parallel-trials``): serial against 2 local processes (a fresh pool, its
   start timed, as ``--workers 2`` waits for it) and a warm 2-worker Dask LocalCluster,
   interleaved, with every process's CPU time and the results checked identical.
4. At scale (``--big 1e8 1e9``): ``replab t-visibility`` in a fresh process, its wall time
   and peak memory (the process and its workers), serial and with ``--workers 2``.

Other engineers share this machine: every section prints the load average beside it.
Memory is allocated as ``replab``'s commands allocate it: glibc keeps freed chunks for the
next one (``replab.sweeps.executors.keep_freed_memory``; replab's local Dask workers do
too). ``--default-malloc`` measures glibc's default.

Usage: python benchmarks/estimator.py [--trials N] [--profile NAME] [--repeat K]
       [--stream-trials N] [--parallel-trials N] [--par-repeat K] [--big N [N ...]]
       [--skip-slider] [--default-malloc]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd

import replab
from replab.quorum.chunks import chunk_seed
from replab.quorum.reference import staleness_per_t

TAIL = [0.9999, 0.99999, 0.999999]


def best_of(k: int, *fns, clock=time.perf_counter):  # type: ignore[no-untyped-def]
    """Minimum time of each function over k rounds, run interleaved so load hits all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(k):
        for i, fn in enumerate(fns):
            t0 = clock()
            fn()
            best[i] = min(best[i], clock() - t0)
    return best if len(fns) > 1 else best[0]


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def slider(args: argparse.Namespace) -> None:
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
    print(f"profile {args.profile}, N={n} R={r} W={w}, {args.trials:,} trials, 101-point curve"
          f" ({load()})")
    print(f"floor (draw the delays only)     {t_floor * 1e3:9.1f} ms")
    print(f"estimator (curve + percentiles)  {t_est * 1e3:9.1f} ms   "
          f"ratio to floor {t_est / t_floor:5.2f}x (target <= 1.5x)")
    print(f"trials + t-visibility quantile   {t_q * 1e3:9.1f} ms   "
          f"ratio to floor {t_q / t_floor:5.2f}x")
    print(f"naive, re-simulate every t       {t_naive * 1e3:9.1f} ms   "
          f"estimator is {t_naive / t_est:5.1f}x faster (target >= 20x)")


def streaming(args: argparse.Namespace) -> None:
    trials, model = args.stream_trials, replab.profile(args.profile)
    res = replab.simulate_wars(3, 1, 1, model, trials=trials, seed=1, progress=False)
    plan = res.plan  # type: ignore[union-attr]
    ts = np.linspace(0, 100, 101)

    def floor() -> None:
        for i in range(plan.chunks):
            model.sample(np.random.default_rng(chunk_seed(plan.root, i)), plan.size_of(i), 3)

    # CPU time of this process: the per-core throughput, whatever else the cores run.
    # Interleaved rounds; the ratio of the bests, and each round's own ratios beside it
    # (their spread is the measurement's noise on a shared machine).
    rounds = []
    for _ in range(args.repeat):
        rounds.append(best_of(1, floor, lambda: res.staleness(ts),
                              lambda: res.t_visibility(TAIL), clock=time.process_time))
    t_floor, t_curve, t_tvis = (min(r[i] for r in rounds) for i in range(3))

    def spread(i: int) -> str:
        ratios = sorted(r[i] / r[0] for r in rounds)
        return (f"rounds: median {ratios[len(ratios) // 2]:.3f}x, "
                f"{ratios[0]:.3f}-{ratios[-1]:.3f}x")

    print(f"\nstreamed, one core, CPU seconds: {trials:,} trials in {plan.chunks} chunks "
          f"({load()})")
    print(f"floor (draw the delays only)     {t_floor:9.2f} s   "
          f"{t_floor / trials * 1e9:6.1f} ns/trial")
    print(f"staleness curve (101 t)          {t_curve:9.2f} s   ratio to floor "
          f"{t_curve / t_floor:5.3f}x (target <= 1.1x); {spread(1)}")
    print(f"t-visibility {TAIL}  {t_tvis:9.2f} s   ratio to floor {t_tvis / t_floor:5.3f}x; "
          f"{spread(2)}")


def _worker_cpu(client: object) -> float:
    """CPU seconds the Dask workers' processes have used so far."""
    import resource

    def cpu() -> float:
        u = resource.getrusage(resource.RUSAGE_SELF)
        return u.ru_utime + u.ru_stime

    return float(sum(client.run(cpu).values()))  # type: ignore[attr-defined]


def parallel(args: argparse.Namespace) -> None:
    """Serial, 2 processes and 2 Dask workers, interleaved, best of ``--par-repeat``.

    What each waits for: the process pool is started inside the timed region (it forks
    in a few ms, as ``--workers 2`` does); the Dask cluster is started and warmed outside
    it (``--scheduler`` users connect to a running cluster), and its first, cold run is
    shown too. CPU is every process's user + system time: with the serial CPU it tells
    the parallel overhead apart from the other engineers' load.
    """
    import resource

    from replab.sweep import dask_client

    trials = args.parallel_trials

    def children_cpu() -> float:
        u = resource.getrusage(resource.RUSAGE_CHILDREN)
        return u.ru_utime + u.ru_stime

    def tvis(executor: object) -> pd.DataFrame:
        res = replab.simulate_wars(3, 1, 1, args.profile, trials=trials, seed=1,
                                   executor=executor, progress=False)
        return res.t_visibility(TAIL)

    def serial() -> tuple[float, float, pd.DataFrame]:
        t0, c0 = time.perf_counter(), time.process_time()
        df = tvis(None)
        return time.perf_counter() - t0, time.process_time() - c0, df

    def pooled() -> tuple[float, float, pd.DataFrame]:
        t0, c0, k0 = time.perf_counter(), time.process_time(), children_cpu()
        with ProcessPoolExecutor(2) as pool:
            df = tvis(pool)
        cpu = time.process_time() - c0 + children_cpu() - k0
        return time.perf_counter() - t0, cpu, df

    print(f"\nparallel: t-visibility {TAIL}, {trials:,} trials, best of {args.par_repeat} "
          f"({load()})")
    with dask_client(workers=2) as client:
        def dasked() -> tuple[float, float, pd.DataFrame]:
            t0, c0, w0 = time.perf_counter(), time.process_time(), _worker_cpu(client)
            df = tvis(client)
            cpu = time.process_time() - c0 + _worker_cpu(client) - w0
            return time.perf_counter() - t0, cpu, df

        cold = dasked()
        runs: dict[str, list[tuple[float, float, pd.DataFrame]]] = {}
        for _ in range(args.par_repeat):
            for name, fn in (("serial", serial), ("2 processes", pooled),
                             ("Dask LocalCluster, 2 workers", dasked)):
                before = load()
                runs.setdefault(name, []).append(fn())
                print(f"  {name:30s} {runs[name][-1][0]:6.2f} s  ({before} before)")
    best = {name: min(r, key=lambda x: x[0]) for name, r in runs.items()}
    base, base_cpu, want = best["serial"]
    print(f"{'serial':32s} {base:6.2f} s wall {base_cpu:6.2f} s CPU")
    for name in ("2 processes", "Dask LocalCluster, 2 workers"):
        wall, cpu, df = best[name]
        print(f"{name:32s} {wall:6.2f} s wall {cpu:6.2f} s CPU   speed-up {base / wall:4.2f}x "
              f"(target >= 1.7x), CPU {cpu / base_cpu:4.2f}x serial's, identical: "
              f"{df.equals(want)}")
    print(f"{'(Dask, first run: cold workers)':32s} {cold[0]:6.2f} s wall, identical: "
          f"{cold[2].equals(want)}")
    print(want.to_string(index=False))


CHILD = """
import json, resource, sys, time
from replab.cli import main
t0 = time.perf_counter()
code = main(sys.argv[1:])
wall = time.perf_counter() - t0
use = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
print(json.dumps({"code": code, "wall": wall, "rss_kib": [u.ru_maxrss for u in use],
                  "cpu": sum(u.ru_utime + u.ru_stime for u in use)}), file=sys.stderr)
"""


def big(args: argparse.Namespace) -> None:
    for trials in args.big:
        for workers in (None, 2):
            argv = ["t-visibility", "--n", "3", "--r", "1", "--w", "1", "--profile",
                    args.profile, "--p", *map(str, TAIL), "--trials", str(int(trials)),
                    "--seed", "1", "--no-progress", "--max-seconds", "86400"]
            if workers:
                argv += ["--workers", str(workers)]
            before = load()
            p = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True,
                               text=True, check=True)
            stats = json.loads(p.stderr.strip().splitlines()[-1])
            print(f"\n{int(trials):,} trials, {workers or 1} worker(s): "
                  f"{stats['wall']:.1f} s wall, {stats['cpu']:.1f} s CPU (all processes), "
                  f"peak memory {stats['rss_kib'][0] / 2**20:.2f} "
                  f"GiB (main), {stats['rss_kib'][1] / 2**20:.2f} GiB (largest worker); "
                  f"{before} before, {load()} after")
            print(p.stdout.rstrip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1_000_000)
    ap.add_argument("--profile", default="LNKD-DISK")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--naive-points", type=int, default=101,
                    help="t points to time for the naive approach (scaled to 101)")
    ap.add_argument("--skip-slider", action="store_true", help="skip section 1")
    ap.add_argument("--stream-trials", type=int, default=0,
                    help="section 2 at this many trials (e.g. 8388608); 0 skips it")
    ap.add_argument("--parallel-trials", type=int, default=0,
                    help="section 3 at this many trials (e.g. 33554432); 0 skips it")
    ap.add_argument("--par-repeat", type=int, default=2,
                    help="rounds of section 3 (serial, processes, Dask interleaved)")
    ap.add_argument("--big", type=float, nargs="*", default=[],
                    help="section 4 at these trial counts (e.g. 1e8 1e9)")
    ap.add_argument("--default-malloc", action="store_true",
                    help="glibc's default allocation, not the commands' (see above)")
    args = ap.parse_args()
    if not args.default_malloc:
        from replab.sweeps.executors import keep_freed_memory

        print(f"allocation as the commands do it: {keep_freed_memory()}")
    if not args.skip_slider:
        slider(args)
    if args.stream_trials:
        streaming(args)
    if args.parallel_trials:
        parallel(args)
    if args.big:
        big(args)


if __name__ == "__main__":
    main()
