"""What binlog format and semi-sync cost a commit on real MariaDB, as ratios in one process.

Leader-follower, ``counters`` workload, no fault. For each variant prints the median and
99th-percentile commit latency and the commits per second of the client loop (which also
reads ``@@last_gtid`` after each commit), each against asynchronous ROW
replication (the baseline) measured in the same process. Rounds run interleaved, so machine
load hits every variant alike; each figure is the median over ``--repeat`` rounds. Also
prints how long starting and wiring the servers takes.

Usage: python benchmarks/mariadb.py [--duration-s S] [--repeat K] [--servers N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from replab.real.mariadb import MariaDBConfig, run_mariadb, start_lab

VARIANTS = (("row, async", "row", False), ("statement, async", "statement", False),
            ("mixed, async", "mixed", False), ("row, semi-sync", "row", True))


def one_round(binlog: str, semi_sync: bool, args: argparse.Namespace, seed: int
              ) -> tuple[float, float, float]:
    config = MariaDBConfig(binlog=binlog, semi_sync=semi_sync, duration_s=args.duration_s,
                           servers=args.servers)
    m = run_mariadb(config, seed=seed).metrics
    return (m["write_latency_p50_ms"], m["write_latency_p99_ms"],
            m["acked_writes"] / args.duration_s)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--duration-s", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--servers", type=int, default=2)
    args = p.parse_args()
    t0 = time.perf_counter()
    with start_lab(MariaDBConfig(servers=args.servers)):
        startup = time.perf_counter() - t0
    rounds: dict[str, list[tuple[float, float, float]]] = {v[0]: [] for v in VARIANTS}
    for r in range(args.repeat):
        for label, binlog, semi in VARIANTS:
            rounds[label].append(one_round(binlog, semi, args, seed=r))
    med = {k: tuple(statistics.median(x[i] for x in v) for i in range(3))
           for k, v in rounds.items()}
    base = med["row, async"]
    print(f"lab start ({args.servers} servers, wired, schema replicated): {startup:.2f} s")
    print(f"{'variant':<18}{'p50 ms':>8}{'x base':>8}{'p99 ms':>9}{'x base':>8}"
          f"{'commits/s':>11}{'x base':>8}")
    for label, (p50, p99, rate) in med.items():
        print(f"{label:<18}{p50:>8.3f}{p50 / base[0]:>8.2f}{p99:>9.2f}{p99 / base[1]:>8.2f}"
              f"{rate:>11.0f}{rate / base[2]:>8.2f}")


if __name__ == "__main__":
    main()
