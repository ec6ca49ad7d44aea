"""Multi-leader simulation speed against the single-leader model, in the same process.

    python benchmarks/multi_leader.py [--seconds S]

Both models run ``S`` simulated seconds of the same client load (500 writes/s, 500
reads/s, 3 replicas in total for the single leader; 3 datacenters each with one leader
and no followers for multi-leader, all-to-all and circular). Printed: simulated client
operations and kernel events per wall-clock second, and the ratio of multi-leader to
single-leader operations per second. Last, a 30-day offline calendar: wall time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from replab.models import (
    MultiLeaderConfig,
    SingleLeaderConfig,
    calendar_config,
    simulate_multi_leader,
    simulate_single_leader,
)


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = run()
    return time.perf_counter() - t0, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    ms = parser.parse_args().seconds * 1000.0
    load = dict(duration_ms=ms, write_rate=500.0, read_rate=500.0)
    wall, base = _timed(lambda: simulate_single_leader(
        SingleLeaderConfig(followers=2, **load), seed=1))
    base_ops = (base.metrics["writes"] + base.metrics["reads"]) / wall
    print(f"single-leader         {base_ops:10.0f} ops/s  {base.metrics['events'] / wall:10.0f} "
          f"events/s  (baseline)")
    for topology in ("all-to-all", "circular"):
        wall, res = _timed(lambda t=topology: simulate_multi_leader(MultiLeaderConfig(
            topology=t, datacenters=3, followers_per_dc=0, **load), seed=1))
        ops = (res.metrics["writes"] + res.metrics["reads"]) / wall
        print(f"multi-leader {topology:<10} {ops:8.0f} ops/s  {res.metrics['events'] / wall:10.0f} "
              f"events/s  ratio {ops / base_ops:.2f}")
    wall, cal = _timed(lambda: simulate_multi_leader(calendar_config(3, 30.0, seed=1), seed=1))
    print(f"30-day offline calendar: {wall:.2f} s wall, {cal.metrics['accepted_writes']} edits, "
          f"converged {cal.metrics['converged']}")


if __name__ == "__main__":
    main()
