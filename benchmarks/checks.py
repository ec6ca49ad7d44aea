"""Benchmark: ``replab check`` on a 10^6-operation history against pandas loading it.

    python benchmarks/checks.py [--ops 1000000] [--processes 200] [--keys 5000]
                                [--writes 0.3] [--no-versions] [--seed 1]

Generates a history of a single leader with lagging followers (reads served by a random
replica, 1 % of operations failing or timing out, operations of different processes
overlapping, a few nemesis stalls; ok writes and reads carry the version, as replab's
PostgreSQL lab records them, unless ``--no-versions``), writes it to a temporary JSONL
file, then times in one process ``pandas.read_json(path, lines=True)`` (the baseline) and
what ``replab check`` does (``History.read`` then :func:`replab.checks.check_report`), and
prints the ratio in wall-clock and CPU time; the target (issue 16) is at most 2.

It then writes the first ``--edn-ops`` operations again as a Jepsen ``history.edn`` (one
op map a line: keywords, ``:time`` in ns, independent keys as ``:value [k v]``) and the
same ops as JSONL, and times ``History.read`` of the EDN against ``pandas.read_json`` of
the JSONL (issue 25: EDN load at most 2x pandas; ``edn_format`` alone managed ~2,500 ops/s).
"""

from __future__ import annotations

import argparse
import bisect
import gc
import heapq
import json
import os
import tempfile
import time
from typing import Any

import pandas as pd

from replab.checks import CHECKS, check_report
from replab.checks._collect import prepare
from replab.history import History
from replab.rng import as_generator


def generate(path: str, n_ops: int, processes: int, keys: int, seed: int,
             writes: float = 0.3, versions: bool = True) -> None:
    """Write about ``n_ops`` operations (invoke/completion pairs) to ``path`` as JSONL.

    Each process issues one operation at a time; the one whose clock is earliest goes
    next, so operations of different processes overlap. A write takes effect on the
    leader when invoked; a read is served by a random replica at the leader's state
    ``lag`` ms earlier. Every 10^5 operations the nemesis stalls a follower for a while.
    """
    rng = as_generator(seed)
    u = iter(rng.random(3 * n_ops).tolist())
    applied: dict[str, tuple[list[float], list[str], list[int]]] = {}
    clocks = [(0.0, p) for p in range(processes)]
    heap: list[tuple[float, int, dict[str, Any]]] = []
    with open(path, "w", encoding="utf-8") as fh:
        for count in range(0, n_ops, 2):
            t, p = heapq.heappop(clocks)
            inv, done = _operation(p, t, u, keys, applied, count, writes, versions)
            heapq.heappush(clocks, (done["time"] + next(u), p))
            heapq.heappush(heap, (t, count, inv))
            heapq.heappush(heap, (done["time"], count + 1, done))
            if count % 100_000 == 0:
                for n, f in enumerate(("stall", "resume")):
                    at = t + n * 50.0
                    nem = {"time": at, "process": "nemesis", "type": "info", "f": f,
                           "value": "n2"}
                    heapq.heappush(heap, (at, -1 - count - n, nem))
            while heap and heap[0][0] <= clocks[0][0]:
                fh.write(json.dumps(heapq.heappop(heap)[2], separators=(",", ":")) + "\n")
        while heap:
            fh.write(json.dumps(heapq.heappop(heap)[2], separators=(",", ":")) + "\n")


LAGS = [0.0, 5.0, 20.0, 80.0]  # the leader, then followers


def _operation(p: int, t: float, u: Any, keys: int, applied: dict[str, Any], count: int,
               writes: float, versions: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    key = f"k{int(next(u) * keys)}"
    end = t + 1.0 + 4.0 * next(u)
    times, values, vers = applied.setdefault(key, ([], [], []))
    roll = next(u)
    if roll < writes:
        value = f"v{count}"
        inv = {"time": t, "process": p, "type": "invoke", "f": "write", "key": key,
               "value": value}
        if roll < writes * 0.01:
            return inv, dict(inv, time=end, type="fail")
        if roll < writes * 0.02:  # connection lost: outcome unknown (it did take effect)
            times.append(t)
            values.append(value)
            vers.append(len(vers) + 1)
            return inv, dict(inv, time=end, type="info")
        times.append(t)
        values.append(value)
        vers.append(len(vers) + 1)
        done = dict(inv, time=end, type="ok")
        if versions:
            done["version"] = vers[-1]
        return inv, done
    lag = LAGS[int((roll - writes) / (1 - writes) * len(LAGS))]
    i = bisect.bisect_right(times, t - lag)
    inv = {"time": t, "process": p, "type": "invoke", "f": "read", "key": key, "value": None}
    done = dict(inv, time=end, type="info" if roll > 0.995 else "ok",
                value=values[i - 1] if i else None, node=f"n{LAGS.index(lag)}")
    if versions and i and done["type"] == "ok":
        done["version"] = vers[i - 1]  # what the replica served, as the PostgreSQL lab records
    return inv, done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--processes", type=int, default=200)
    ap.add_argument("--keys", type=int, default=5000)
    ap.add_argument("--writes", type=float, default=0.3)
    ap.add_argument("--no-versions", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--breakdown", action="store_true", help="time each stage as well")
    ap.add_argument("--edn-ops", type=int, default=100_000,
                    help="operations in the EDN load comparison (0: skip it)")
    args = ap.parse_args()
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    os.close(fd)
    try:
        t0 = time.perf_counter()
        generate(path, args.ops, args.processes, args.keys, args.seed, args.writes,
                 not args.no_versions)
        print(f"generated {args.ops} operations in {time.perf_counter() - t0:.1f} s")
        load, load_cpu = _timed(lambda: pd.read_json(path, lines=True))
        check, check_cpu = _timed(lambda: _check(path))
        if args.breakdown:
            _breakdown(path)
        print("                 wall     cpu   (cpu time is steadier on a shared machine)")
        print(f"pandas load    {load:6.2f}  {load_cpu:6.2f} s")
        print(f"replab check   {check:6.2f}  {check_cpu:6.2f} s")
        print(f"ratio          {check / load:6.2f}  {check_cpu / load_cpu:6.2f}    "
              "(target <= 2)")
        if args.edn_ops:
            edn_load(path, args.edn_ops)
    finally:
        os.unlink(path)


def edn_line(op: dict[str, Any], index: int) -> str:
    """One op as Jepsen writes it in ``history.edn``."""
    proc = ":nemesis" if op["process"] == "nemesis" else str(op["process"])
    parts = [f":index {index}", f":time {int(op['time'] * 1e6)}", f":type :{op['type']}",
             f":process {proc}", f":f :{op['f']}"]
    v = op.get("value")
    val = "nil" if v is None else json.dumps(v)
    if "key" in op:
        val = f"[{op['key'][1:]} {val}]"  # independent key: k12 -> [12 v]
    parts.append(f":value {val}")
    if op.get("version") is not None:
        parts.append(f":version {op['version']}")
    if op.get("node") is not None:
        parts.append(f":node {json.dumps(op['node'])}")
    return "{" + ", ".join(parts) + "}"


def edn_load(jsonl: str, n_ops: int) -> None:
    """Time History.read of an EDN history against pandas' read of the same ops as JSONL."""
    with open(jsonl, encoding="utf-8") as fh:
        ops = [json.loads(line) for _, line in zip(range(n_ops), fh, strict=False)]
    fd, edn = tempfile.mkstemp(suffix=".edn")
    os.close(fd)
    fd, small = tempfile.mkstemp(suffix=".jsonl")
    os.close(fd)
    try:
        with open(edn, "w", encoding="utf-8") as fh:
            fh.writelines(edn_line(op, i) + "\n" for i, op in enumerate(ops))
        with open(small, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(op, separators=(",", ":")) + "\n" for op in ops)
        load, load_cpu = _timed(lambda: pd.read_json(small, lines=True))
        read, read_cpu = _timed(lambda: History.read(edn))
        assert len(History.read(edn)) == len(ops)
        print(f"EDN load of {len(ops)} ops    wall     cpu")
        print(f"pandas JSONL load   {load:6.2f}  {load_cpu:6.2f} s")
        print(f"History.read EDN    {read:6.2f}  {read_cpu:6.2f} s   "
              f"({len(ops) / read:,.0f} ops/s)")
        print(f"ratio               {read / load:6.2f}  {read_cpu / load_cpu:6.2f}    "
              "(target <= 2)")
    finally:
        os.unlink(edn)
        os.unlink(small)


def _timed(fn: Any) -> tuple[float, float]:
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _check(path: str) -> None:
    results, summary = check_report(History.read(path))
    for name, r in results.items():
        print(f"  {name:<18} count={r.count:<8} examined={r.examined:<8} rate={r.rate:.4f}")
    print(f"  reads flagged more than once: {summary['reads_flagged_more_than_once']}, "
          f"nemesis windows: {len(summary['nemesis_windows'])}")


def _breakdown(path: str) -> None:
    t0 = time.perf_counter()
    h = History.read(path)
    parts = [f"read {time.perf_counter() - t0:.2f}"]
    t0 = time.perf_counter()
    prep = prepare(h)
    parts.append(f"prepare {time.perf_counter() - t0:.2f}")
    for name, fn in CHECKS.items():
        t0 = time.perf_counter()
        fn(prep)
        parts.append(f"{name} {time.perf_counter() - t0:.2f}")
    print("breakdown (s): " + ", ".join(parts))


if __name__ == "__main__":
    main()
