"""Kernel throughput against SimPy, and simulated operations per second of a full run.

    python benchmarks/kernel.py [--messages N]

A ring of 3 nodes passes messages (several in flight) with exp(1) delays:

* ``replab kernel``   bare ``Simulation.schedule`` callbacks;
* ``replab network``  the full stack: ``Network`` (delay draws, partitions check, ...)
  delivering to ``Node`` subclasses;
* ``simpy``           the same model in SimPy 4: one ``simpy.Store`` inbox per node, a
  process per node, a delivery process per message (``timeout`` then ``put``).

Delays come from the same pre-drawn exp(1) sample in every variant. Ratios are against
SimPy measured in this process. Last, one single-leader run: simulated client operations
per wall-clock second.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import simpy

from replab.latency import Exponential
from replab.models import SingleLeaderConfig, simulate_single_leader
from replab.sim import Network, Node, Simulation

IN_FLIGHT = 30


def ring_kernel(n_msgs: int, delays: list[float]) -> float:
    sim = Simulation(seed=0)
    it = iter(delays)
    count = 0

    def receive(node: int, msg: int) -> None:
        nonlocal count
        count += 1
        if count < n_msgs:
            sim.schedule(next(it), receive, (node + 1) % 3, msg)

    for m in range(IN_FLIGHT):
        sim.schedule(next(it), receive, m % 3, m)
    t = time.perf_counter()
    sim.run()
    return count / (time.perf_counter() - t)


class RingNode(Node):
    counter = [0]
    limit = 0

    def on_int(self, src: object, msg: int) -> None:
        c = RingNode.counter
        c[0] += 1
        if c[0] < RingNode.limit:
            self.send((self.id + 1) % 3, msg)


def ring_network(n_msgs: int) -> float:
    sim = Simulation(seed=0)
    net = Network(sim, delay=Exponential(1.0), rng=np.random.default_rng(1))
    nodes = [RingNode(net, i) for i in range(3)]
    RingNode.counter, RingNode.limit = [0], n_msgs
    for m in range(IN_FLIGHT):
        nodes[m % 3].send((m + 1) % 3, m)
    t = time.perf_counter()
    sim.run()
    return RingNode.counter[0] / (time.perf_counter() - t)


def ring_simpy(n_msgs: int, delays: list[float]) -> float:
    env = simpy.Environment()
    it = iter(delays)
    stores = [simpy.Store(env) for _ in range(3)]
    count = [0]

    def deliver(dst: int, msg: int, delay: float):  # type: ignore[no-untyped-def]
        yield env.timeout(delay)
        yield stores[dst].put(msg)

    def node(i: int):  # type: ignore[no-untyped-def]
        while True:
            msg = yield stores[i].get()
            count[0] += 1
            if count[0] >= n_msgs:
                return
            env.process(deliver((i + 1) % 3, msg, next(it)))

    for i in range(3):
        env.process(node(i))
    for m in range(IN_FLIGHT):
        env.process(deliver(m % 3, m, next(it)))
    t = time.perf_counter()
    env.run()
    return count[0] / (time.perf_counter() - t)


def best_of(fn, repeats: int = 3) -> float:  # type: ignore[no-untyped-def]
    return max(fn() for _ in range(repeats))


def single_leader_rate(duration_ms: float) -> tuple[float, float, int]:
    cfg = SingleLeaderConfig(duration_ms=duration_ms, write_rate=500.0, read_rate=500.0,
                             mode="semi-sync", followers=2, sessions=32,
                             leader_crash_at_ms=duration_ms / 2)
    t = time.perf_counter()
    res = simulate_single_leader(cfg, seed=1)
    wall = time.perf_counter() - t
    ops = res.metrics["writes"] + res.metrics["reads"]
    return ops / wall, res.metrics["events"] / wall, ops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--duration-ms", type=float, default=60_000.0)
    args = ap.parse_args()
    n = args.messages
    delays = np.random.default_rng(7).standard_exponential(n + IN_FLIGHT + 10).tolist()
    simpy_rate = best_of(lambda: ring_simpy(n, delays))
    kernel_rate = best_of(lambda: ring_kernel(n, delays))
    network_rate = best_of(lambda: ring_network(n))
    print(f"ring of 3 nodes, {n} messages, {IN_FLIGHT} in flight, exp(1) delays")
    print(f"{'variant':<16}{'messages/s':>14}{'vs simpy':>10}")
    for name, rate in (("simpy", simpy_rate), ("replab kernel", kernel_rate),
                       ("replab network", network_rate)):
        print(f"{name:<16}{rate:>14,.0f}{rate / simpy_rate:>9.1f}x")
    ops_s, events_s, ops = single_leader_rate(args.duration_ms)
    print(f"\nsingle-leader (semi-sync, 3 replicas, 1000 ops/s, leader crash), "
          f"{args.duration_ms / 1000:g} s simulated, {ops} client operations:")
    print(f"  {ops_s:,.0f} simulated operations/s, {events_s:,.0f} kernel events/s")


if __name__ == "__main__":
    main()
