"""Faults as data: a schedule of ``(time, action, args)`` applied to a network.

A schedule is a plain list a user can write by hand (or load from JSON) or generate with
:func:`random_faults`. Actions and their arguments (``args`` is a dict):

==================  =====================================================================
``crash``           ``node``
``restart``         ``node``
``pause``           ``node``, ``duration_ms``                  (a GC stall)
``partition``       ``groups`` (list of lists), optional ``name``, ``duration_ms``
``partition_oneway`` ``src``, ``dst`` (lists), optional ``name``, ``duration_ms``
``heal``            optional ``name`` (default: every partition)
``slow``            ``nodes``, ``extra_ms``, optional ``name``, ``duration_ms``
``unslow``          optional ``name``
``clock``           ``node``, optional ``step_ms``, ``drift_ppm``
==================  =====================================================================

A ``duration_ms`` on a partition or a slowdown schedules its end.

>>> schedule = [(100, "partition", {"groups": [[0], [1, 2]], "duration_ms": 50}),
...             (300, "crash", {"node": 0}), (400, "restart", {"node": 0})]
>>> [f.action for f in as_faults(schedule)]
['partition', 'crash', 'restart']
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from replab.errors import ConfigError
from replab.rng import SeedLike, as_generator
from replab.sim.network import Network
from replab.validate import check_choice, check_float, fail

__all__ = ["Fault", "ACTIONS", "as_faults", "apply_faults", "random_faults"]

#: action -> (required args, optional args)
ACTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "crash": (("node",), ()),
    "restart": (("node",), ()),
    "pause": (("node", "duration_ms"), ()),
    "partition": (("groups",), ("name", "duration_ms")),
    "partition_oneway": (("src", "dst"), ("name", "duration_ms")),
    "heal": ((), ("name",)),
    "slow": (("nodes", "extra_ms"), ("name", "duration_ms")),
    "unslow": ((), ("name",)),
    "clock": (("node",), ("step_ms", "drift_ppm")),
}


@dataclass(frozen=True)
class Fault:
    """One scheduled fault: at ``time`` (ms), do ``action`` with ``args``."""

    time: float
    action: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_float(self.time, "time", "Fault", low=0.0)
        check_choice(self.action, "action", "Fault", tuple(ACTIONS))
        if not isinstance(self.args, Mapping):
            raise fail("args", "Fault", "a dict of arguments", self.args)
        required, optional = ACTIONS[self.action]
        missing = [a for a in required if a not in self.args]
        unknown = [a for a in self.args if a not in required + optional]
        if missing or unknown:
            allowed = ", ".join(required + optional) or "no arguments"
            raise ConfigError(
                f"The 'args' parameter of Fault({self.action!r}) must have {allowed} "
                f"(required: {', '.join(required) or 'none'}). Got {dict(self.args)!r} instead."
            )
        for key in ("duration_ms", "extra_ms"):
            if key in self.args:
                check_float(self.args[key], key, f"Fault({self.action!r})", low=0.0)

    def as_tuple(self) -> tuple[float, str, dict[str, Any]]:
        return (self.time, self.action, dict(self.args))


def as_faults(schedule: Iterable[Fault | Sequence[Any]] | None) -> list[Fault]:
    """Validate a schedule (Faults or ``(time, action[, args])`` tuples), sorted by time.

    Faults at the same time keep their order in the schedule.
    """
    out: list[Fault] = []
    for item in schedule or ():
        if isinstance(item, Fault):
            out.append(item)
            continue
        if isinstance(item, str) or not isinstance(item, Sequence) or len(item) not in (2, 3):
            raise fail("schedule", "apply_faults", "a list of (time, action, args) tuples", item)
        args = item[2] if len(item) == 3 else {}
        out.append(Fault(item[0], item[1], args))
    return sorted(out, key=lambda f: f.time)


def apply_faults(network: Network, schedule: Iterable[Fault | Sequence[Any]] | None) -> None:
    """Schedule every fault of ``schedule`` on ``network``'s simulation.

    Node ids in the schedule must be on the network when the fault fires.
    """
    sim = network.sim
    for fault in as_faults(schedule):
        sim.schedule_at(max(float(fault.time), sim.now), _fire, network, fault)


def _node(network: Network, fault: Fault, key: str = "node") -> Any:
    node_id = fault.args[key]
    if node_id not in network.nodes:
        raise ConfigError(
            f"The {key!r} argument of Fault({fault.action!r}) must be one of "
            f"{sorted(network.nodes, key=repr)}. Got {node_id!r} instead."
        )
    return network.nodes[node_id]


def _fire(network: Network, fault: Fault) -> None:
    a, args, sim = fault.action, fault.args, network.sim
    if a == "crash":
        _node(network, fault).crash()
    elif a == "restart":
        _node(network, fault).restart()
    elif a == "pause":
        _node(network, fault).pause(float(args["duration_ms"]))
    elif a in ("partition", "partition_oneway"):
        if a == "partition":
            name = network.partition(args["groups"], args.get("name"))
        else:
            name = network.partition_oneway(args["src"], args["dst"], args.get("name"))
        if "duration_ms" in args:
            sim.schedule(float(args["duration_ms"]), network.heal, name)
    elif a == "heal":
        network.heal(args.get("name"))
    elif a == "slow":
        name = network.slow(args["nodes"], float(args["extra_ms"]), args.get("name"))
        if "duration_ms" in args:
            sim.schedule(float(args["duration_ms"]), network.unslow, name)
    elif a == "unslow":
        network.unslow(args.get("name"))
    else:  # clock
        node = _node(network, fault)
        if "step_ms" in args:
            node.clock.step(float(args["step_ms"]))
        if "drift_ppm" in args:
            node.clock.set_drift(float(args["drift_ppm"]))
        network.record("clock", node.id, detail=f"{dict(args)}")


def random_faults(
    nodes: Sequence[Hashable],
    duration_ms: float,
    *,
    seed: SeedLike = None,
    crash_rate: float = 0.0,
    mean_downtime_ms: float = 200.0,
    pause_rate: float = 0.0,
    mean_pause_ms: float = 100.0,
    partition_rate: float = 0.0,
    mean_partition_ms: float = 200.0,
    slow_rate: float = 0.0,
    slow_extra_ms: float = 100.0,
    mean_slow_ms: float = 100.0,
) -> list[Fault]:
    """Generate a schedule: Poisson arrivals of each fault kind over ``[0, duration_ms)``.

    Rates are per second (per node for crashes, pauses and slowdowns; for the whole
    cluster for partitions). A crashed node restarts after an exponential downtime; a
    partition splits off one random node (symmetric) and heals after an exponential
    time; a slowdown (delay spike) adds an exponential extra delay with mean
    ``slow_extra_ms`` to the node's messages for an exponential time with mean
    ``mean_slow_ms``.
    """
    rng = as_generator(seed)
    owner = "random_faults"
    check_float(duration_ms, "duration_ms", owner, low=0.0)
    for name, v in (("crash_rate", crash_rate), ("pause_rate", pause_rate),
                    ("partition_rate", partition_rate), ("slow_rate", slow_rate)):
        check_float(v, name, owner, low=0.0)
    out: list[Fault] = []
    for node in nodes:
        t = _next(rng, crash_rate, 0.0)
        while t < duration_ms:
            down = float(rng.exponential(mean_downtime_ms))
            out += [Fault(t, "crash", {"node": node}), Fault(t + down, "restart", {"node": node})]
            t = _next(rng, crash_rate, t + down)
        for t in _arrivals(rng, pause_rate, duration_ms):
            out.append(Fault(t, "pause", {"node": node,
                                          "duration_ms": float(rng.exponential(mean_pause_ms))}))
        for t in _arrivals(rng, slow_rate, duration_ms):
            extra = float(rng.exponential(slow_extra_ms))
            out.append(Fault(t, "slow", {"nodes": [node], "extra_ms": extra,
                                         "duration_ms": float(rng.exponential(mean_slow_ms))}))
    for t in _arrivals(rng, partition_rate, duration_ms):
        alone = nodes[int(rng.integers(len(nodes)))]
        rest = [n for n in nodes if n != alone]
        heal = float(rng.exponential(mean_partition_ms))
        out.append(Fault(t, "partition", {"groups": [[alone], rest], "duration_ms": heal}))
    return sorted(out, key=lambda f: f.time)


def _next(rng: np.random.Generator, rate_per_s: float, after: float) -> float:
    if rate_per_s <= 0:
        return math.inf
    return after + float(rng.exponential(1000.0 / rate_per_s))


def _arrivals(rng: np.random.Generator, rate_per_s: float, duration_ms: float) -> list[float]:
    out, t = [], _next(rng, rate_per_s, 0.0)
    while t < duration_ms:
        out.append(t)
        t = _next(rng, rate_per_s, t)
    return out
