"""Benchmark: the linearizability checker on etcd-shaped register histories.

    python benchmarks/linearizability.py [--sizes 1000 10000 100000] [--ops-per-key 0]
                                         [--seed 1] [--budget-s 10] [--jepsen DIR]

Workload (as Jepsen's etcd register tests): 5 client processes, values 0-4, reads, writes
and cas in equal parts, about 15 % of operations timing out (``info``: the operation took
effect or not, at random), a process whose operation timed out crashed and is replaced by a
new one (process id + 5, Jepsen's convention), and partitions: inside a fault window a read
may be served by a lagging replica and return the register's value of some milliseconds
earlier (a stale read, which makes the key not linearizable).

``--ops-per-key 0`` (the default) puts every operation on one key, the hardest case: the
search is over the whole history. A positive value spreads them over keys of that many
operations each, as Jepsen's ``independent`` checker does. For each size the script prints
the generation and check time, ops/s, the verdicts, and the growth exponent between sizes
(``log(t2/t1) / log(n2/n1)``; 1 is linear).

``--jepsen DIR`` also times every ``*.edn``/``*.jsonl`` history in DIR (e.g.
``data/histories/jepsen_etcd``, converted from Porcupine's test data by
``benchmarks/porcupine_convert.py``), reading included: median and max per history against
the issue's targets (median <= 10 ms, none over 0.5 s, none unknown at a 10 s budget).
"""

from __future__ import annotations

import argparse
import bisect
import math
import statistics
import time
from pathlib import Path
from typing import Any

from replab.checks import linearizable
from replab.history import History
from replab.rng import as_generator

PROCESSES = 5
VALUES = 5


def etcd_history(n_ops: int, seed: int = 1, ops_per_key: int = 0, info: float = 0.15,
                 partition_every_ms: float = 2000.0, stale_p: float = 0.3) -> list[dict[str, Any]]:
    """About ``n_ops`` operations (invoke + completion each) of 5 processes on registers.

    Each process runs one operation at a time, invoked after a short think time and lasting
    an exponential latency; it takes effect at a uniform point inside that interval
    (``info``: only half the time). Operations take effect in the order of those points,
    so the history is linearizable except for the stale reads served in partitions.
    """
    rng = as_generator(seed)
    keys = max(1, math.ceil(n_ops / ops_per_key)) if ops_per_key > 0 else 1
    plans = []  # (invoke, complete, point, process slot, f, value, key, outcome)
    for slot in range(PROCESSES):
        t = float(rng.uniform(0, 5))
        n = n_ops // PROCESSES + (slot < n_ops % PROCESSES)
        kinds = rng.integers(0, 3, n)
        vals = rng.integers(0, VALUES, (n, 2))
        lat = rng.exponential(10.0, n) + 1.0
        think = rng.exponential(2.0, n)
        where = rng.random(n)
        timeout = rng.random(n) < info
        took = rng.random(n) < 0.5
        key = rng.integers(0, keys, n)
        for i in range(n):
            inv = t + think[i]
            ret = inv + lat[i]
            f = ("read", "write", "cas")[kinds[i]]
            value: Any = None if f == "read" else int(vals[i, 0]) if f == "write" \
                else [int(vals[i, 0]), int(vals[i, 1])]
            outcome = "info" if timeout[i] else "ok"
            effect = not timeout[i] or bool(took[i])
            plans.append((inv, ret, inv + where[i] * (ret - inv), slot, f, value,
                          f"k{key[i]}", outcome, effect))
            t = ret
    return _record(plans, rng, partition_every_ms, stale_p)


def _record(plans: list[tuple[Any, ...]], rng: Any, every: float, stale_p: float) \
        -> list[dict[str, Any]]:
    """Apply the operations at their points; write the invoke and completion events."""
    state: dict[str, tuple[list[float], list[Any]]] = {}
    results: dict[int, tuple[str, Any]] = {}
    for n, p in sorted(enumerate(plans), key=lambda x: x[1][2]):
        _, _, point, _, f, value, key, outcome, effect = p
        times, values = state.setdefault(key, ([-1.0], [None]))
        now = values[-1]
        if f == "read":
            if outcome == "ok" and _partitioned(point, every) and rng.random() < stale_p:
                lag = float(rng.exponential(30.0))
                now = values[max(0, bisect.bisect_right(times, point - lag) - 1)]
            results[n] = (outcome, now)
            continue
        ok = f == "write" or now == value[0]
        if effect and ok:
            times.append(point)
            values.append(value if f == "write" else value[1])
        results[n] = (outcome if outcome == "info" or ok else "fail", value)
    return _events(plans, results)


def _partitioned(t: float, every: float) -> bool:
    """Fault windows: the first fifth of every ``every`` ms after the first."""
    return t > every and (t % every) < every / 5


def _events(plans: list[tuple[Any, ...]], results: dict[int, tuple[str, Any]]) \
        -> list[dict[str, Any]]:
    events = []
    crashed = [0] * PROCESSES  # how many times each slot's process was replaced
    for n, (inv, ret, _, slot, f, value, key, _, _) in enumerate(plans):
        proc = slot + PROCESSES * crashed[slot]
        outcome, got = results[n]
        events.append((inv, n, {"process": proc, "type": "invoke", "f": f, "key": key,
                                "value": value}))
        events.append((ret, n, {"process": proc, "type": outcome, "f": f, "key": key,
                                "value": got if f == "read" else value}))
        crashed[slot] += outcome == "info"
    events.sort(key=lambda e: (e[0], e[1]))
    out = []
    for i, (t, _, op) in enumerate(events):
        op["index"], op["time"] = i, round(t, 3)
        out.append(op)
    return out


def time_sizes(sizes: list[int], seed: int, ops_per_key: int, budget_s: float,
               stale_p: float = 0.3) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        ops = etcd_history(n, seed, ops_per_key, stale_p=stale_p)
        t1 = time.perf_counter()
        history = History(ops)
        res = linearizable(history, model="cas-register", budget_s=budget_s)
        t2 = time.perf_counter()
        c = res.counts()
        per_key = [v.elapsed_s for v in res.keys.values()]
        rows.append({"ops": n, "events": len(ops), "generate_s": t1 - t0, "check_s": t2 - t1,
                     "ops_per_s": n / (t2 - t1), "keys": len(res.keys),
                     "key_median_ms": statistics.median(per_key) * 1e3,
                     "key_max_ms": max(per_key) * 1e3, **c})
    return rows


def time_files(folder: Path, budget_s: float, repeat: int = 5) \
        -> list[tuple[str, float, float, str]]:
    """Per history: the best of ``repeat`` wall-clock and CPU times of reading and checking
    it (the best: the machine is shared), and the verdict."""
    out = []
    for path in sorted([*folder.glob("*.edn"), *folder.glob("*.jsonl")]):
        walls, cpus = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            res = linearizable(History.read(path), model="cas-register", budget_s=budget_s)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        out.append((path.name, min(walls), min(cpus), res.verdict))
    return out


def _exponent(a: dict[str, Any], b: dict[str, Any]) -> float:
    return math.log(b["check_s"] / a["check_s"]) / math.log(b["ops"] / a["ops"])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--ops-per-key", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--budget-s", type=float, default=10.0)
    ap.add_argument("--stale-p", type=float, default=0.3,
                    help="probability that a read inside a partition is stale (0: none)")
    ap.add_argument("--jepsen", type=Path, default=None)
    args = ap.parse_args(argv)
    rows = time_sizes(args.sizes, args.seed, args.ops_per_key, args.budget_s, args.stale_p)
    prev = None
    for row in rows:
        growth = "" if prev is None else f"  growth exponent {_exponent(prev, row):.2f}"
        print(f"{row['ops']:>7} ops, {row['keys']} keys: check {row['check_s']:.3f} s "
              f"({row['ops_per_s']:,.0f} ops/s), generate {row['generate_s']:.2f} s; "
              f"keys {row['linearizable']} linearizable, {row['not linearizable']} not, "
              f"{row['unknown']} unknown; search per key: median {row['key_median_ms']:.1f} ms, "
              f"max {row['key_max_ms']:.0f} ms{growth}")
        prev = row
    if args.jepsen is not None:
        times = time_files(args.jepsen, args.budget_s)
        verdicts = [v for *_, v in times]
        for what, col in (("wall", 1), ("CPU", 2)):
            secs = [t[col] for t in times]
            print(f"{len(times)} histories in {args.jepsen}, reading included ({what}, best "
                  f"of 5): total {sum(secs):.3f} s, median {statistics.median(secs) * 1e3:.1f}"
                  f" ms, max {max(secs) * 1e3:.1f} ms ({times[secs.index(max(secs))][0]})")
        print(", ".join(f"{verdicts.count(v)} {v}" for v in dict.fromkeys(verdicts)))


if __name__ == "__main__":
    main()
