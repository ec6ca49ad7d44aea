"""Benchmark: checking a 10^6-operation history against loading it.

    python benchmarks/checks.py [--ops 1000000] [--processes 20] [--keys 1000] [--seed 1]

Generates a history of a single leader with lagging followers (reads served by a random
replica, 1 % of operations failing or timing out, overlapping operations), writes it to a
temporary JSONL file, then times ``History.read_jsonl`` (the baseline) and
``check_history`` (all five checkers), and prints the ratio in wall-clock and CPU time;
the target is < 2.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import json
import os
import tempfile
import time
from typing import Any

from replab.checks import CHECKS, check_history
from replab.checks._prepare import prepare
from replab.history import History
from replab.rng import as_generator


def generate(path: str, n_ops: int, processes: int, keys: int, seed: int) -> None:
    """Write ``n_ops`` operations (invoke/completion pairs) to ``path`` as JSONL.

    Each process issues one operation at a time; the one whose clock is earliest goes
    next, so operations of different processes overlap. A write takes effect on the
    leader when invoked; a read is served by a random replica at the leader's state
    ``lag`` ms earlier.
    """
    rng = as_generator(seed)
    u = iter(rng.random(3 * n_ops).tolist())
    applied: dict[str, tuple[list[float], list[str], list[int]]] = {}
    clocks = [(0.0, p) for p in range(processes)]
    heap: list[tuple[float, int, dict[str, Any]]] = []
    with open(path, "w", encoding="utf-8") as fh:
        for count in range(0, n_ops, 2):
            t, p = heapq.heappop(clocks)
            inv, done = _operation(p, t, u, keys, applied, count)
            heapq.heappush(clocks, (done["time"] + next(u), p))
            heapq.heappush(heap, (t, count, inv))
            heapq.heappush(heap, (done["time"], count + 1, done))
            while heap and heap[0][0] <= clocks[0][0]:
                fh.write(json.dumps(heapq.heappop(heap)[2], separators=(",", ":")) + "\n")
        while heap:
            fh.write(json.dumps(heapq.heappop(heap)[2], separators=(",", ":")) + "\n")


LAGS = [0.0, 5.0, 20.0, 80.0]  # the leader, then followers


def _operation(p: int, t: float, u: Any, keys: int, applied: dict[str, Any],
               count: int) -> tuple[dict[str, Any], dict[str, Any]]:
    key = f"k{int(next(u) * keys)}"
    end = t + 1.0 + 4.0 * next(u)
    times, values, versions = applied.setdefault(key, ([], [], []))
    roll = next(u)
    if roll < 0.5:
        value = f"v{count}"
        inv = {"time": t, "process": p, "type": "invoke", "f": "write", "key": key,
               "value": value}
        if roll < 0.005:
            return inv, dict(inv, time=end, type="fail")
        times.append(t)
        values.append(value)
        versions.append(len(versions) + 1)
        return inv, dict(inv, time=end, type="ok", version=versions[-1])
    lag = LAGS[int((roll - 0.5) * 2 * len(LAGS))]
    i = bisect.bisect_right(times, t - lag)
    inv = {"time": t, "process": p, "type": "invoke", "f": "read", "key": key, "value": None}
    return inv, dict(inv, time=end, type="info" if roll > 0.995 else "ok",
                     value=values[i - 1] if i else None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--processes", type=int, default=20)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    os.close(fd)
    try:
        t0 = time.perf_counter()
        generate(path, args.ops, args.processes, args.keys, args.seed)
        print(f"generated {args.ops} operations in {time.perf_counter() - t0:.1f} s")
        t0, c0 = time.perf_counter(), time.process_time()
        h = History.read_jsonl(path)
        load, load_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        res = check_history(h)
        check, check_cpu = time.perf_counter() - t0, time.process_time() - c0
        _breakdown(h)
        for name, r in res.items():
            print(f"  {name:<18} count={r.count:<8} examined={r.examined:<8} "
                  f"rate={r.rate:.4f}")
        print("         wall     cpu   (cpu time is steadier on a shared machine)")
        print(f"load   {load:6.2f}  {load_cpu:6.2f} s")
        print(f"check  {check:6.2f}  {check_cpu:6.2f} s")
        print(f"ratio  {check / load:6.2f}  {check_cpu / load_cpu:6.2f}    (target < 2)")
    finally:
        os.unlink(path)


def _breakdown(h: History) -> None:
    t0 = time.perf_counter()
    prep = prepare(h.ops)
    parts = [f"prepare {time.perf_counter() - t0:.2f}"]
    for name, fn in CHECKS.items():
        t0 = time.perf_counter()
        fn(prep)
        parts.append(f"{name} {time.perf_counter() - t0:.2f}")
    print("breakdown (s): " + ", ".join(parts))


if __name__ == "__main__":
    main()
