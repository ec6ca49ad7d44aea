"""The final-read phase that ends a simulated history, as Jepsen's tests end theirs.

After the workload: heal every partition, let replication settle for ``settle_ms``, then
read every written key from every reachable replica (up and not paused), straight from its
state. A model whose run already ends with its own settling period (leaderless and
multi-leader ``settle_ms``, partitioned: until nothing is left to do) reads at once
(``settle_ms=None``), so the final reads show the very state its own metrics judged. Each
read is an ``invoke`` and an ``ok`` at the same instant, marked ``final: true``, under the
process ``"final-<node>"``; reads carry the ``version`` the replica holds when the model has
one. ``replab check``'s ``lost-write`` then judges the history as it judges a Jepsen one.

The models' own metrics are computed before this phase, so they keep their meaning (counts
of reads, staleness, latencies exclude it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from replab.history import History

__all__ = ["FINAL_SETTLE_MS", "final_read_phase", "written_keys"]

#: How long the models let replication settle before the final reads (simulated ms).
FINAL_SETTLE_MS = 5000.0

#: ``key -> (value, version or None)``, or None for a key the replica does not hold.
Reader = Callable[[str], tuple[Any, Any] | None]


def written_keys(history: History) -> list[str]:
    """The keys some operation wrote, in first-written order."""
    return list(dict.fromkeys(op["key"] for op in history.ops
                              if op["f"] != "read" and op["type"] == "invoke"))


def final_read_phase(history: History, sim: Any, network: Any,
                     replicas: Iterable[tuple[Any, Any, Reader]],
                     settle_ms: float | None = FINAL_SETTLE_MS) -> float:
    """Heal, settle, read every written key on every reachable replica; return the time.

    ``replicas`` are ``(node id, node, reader)``; a node whose ``up`` is False or whose
    ``paused`` is True is not reachable and is not read. ``settle_ms=None``: the run has
    settled already; read now.
    """
    if settle_ms is not None:
        network.heal()
        sim.run(until=sim.now + settle_ms)
    now = sim.now
    keys = written_keys(history)
    for node_id, node, read in replicas:
        if not getattr(node, "up", True) or getattr(node, "paused", False):
            continue
        process = f"final-{node_id}"
        for key in keys:
            got = read(key)
            value, version = (None, None) if got is None else got
            history.record(now, process, "invoke", "read", key, None)
            history.ops[-1]["final"] = True
            history.record(now, process, "ok", "read", key, value, version=version,
                           node=node_id)
            history.ops[-1]["final"] = True
    return now
