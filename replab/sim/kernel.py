"""The discrete-event kernel: a clock and a heap of callbacks.

The kernel knows nothing of nodes, networks or replication. A heap entry is the list
``[time, seq, callback, args]``; ``seq`` comes from one counter, so entries due at the
same time run in the order they were scheduled and every run is bit-for-bit repeatable.
Cancelling blanks the callback in place (lazy deletion), which keeps ``cancel`` O(1).

>>> sim = Simulation(seed=1)
>>> out = []
>>> _ = sim.schedule(2.0, out.append, "b")
>>> _ = sim.schedule(1.0, out.append, "a")
>>> _ = sim.schedule(2.0, out.append, "c")
>>> sim.run()
>>> out, sim.now
(['a', 'b', 'c'], 2.0)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

import numpy as np

from replab.errors import ConfigError
from replab.rng import SeedLike, as_generator

__all__ = ["Simulation", "Handle"]

#: An opaque handle for a scheduled callback (pass it to :meth:`Simulation.cancel`).
Handle = list

_INF = math.inf


class Simulation:
    """A deterministic event loop over simulated time (milliseconds by convention).

    Parameters
    ----------
    seed : int, Generator, SeedSequence or None
        Seeds :attr:`rng`, the generator that models built on this simulation draw from.

    Attributes
    ----------
    rng : numpy.random.Generator
        The simulation's random stream.
    events_processed : int
        How many callbacks have run so far (cancelled ones are not counted).
    """

    def __init__(self, seed: SeedLike = None) -> None:
        self.rng: np.random.Generator = as_generator(seed)
        self._now = 0.0
        self._queue: list[list[Any]] = []
        self._eid = itertools.count()
        self.events_processed = 0

    @property
    def now(self) -> float:
        """The current simulated time."""
        return self._now

    def schedule(self, delay: float, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run ``callback(*args)`` ``delay`` time units from now; return a handle."""
        if not 0.0 <= delay < _INF:
            raise ConfigError(
                "The 'delay' parameter of Simulation.schedule must be a finite number "
                f"in [0, inf). Got {delay!r} instead."
            )
        entry = [self._now + delay, next(self._eid), callback, args]
        heappush(self._queue, entry)
        return entry

    def schedule_at(self, time: float, callback: Callable[..., Any], *args: Any) -> Handle:
        """Run ``callback(*args)`` at absolute time ``time`` (not before now)."""
        if not self._now <= time < _INF:
            raise ConfigError(
                "The 'time' parameter of Simulation.schedule_at must be a finite number "
                f"in [now={self._now!r}, inf). Got {time!r} instead."
            )
        entry = [time, next(self._eid), callback, args]
        heappush(self._queue, entry)
        return entry

    def cancel(self, handle: Handle) -> None:
        """Stop a scheduled callback from running; cancelling twice or late is harmless."""
        # The entry stays in the heap (removing it would be O(n)); run() skips it.
        handle[2] = None

    def peek(self) -> float:
        """The time of the next pending callback (``inf`` when none is left)."""
        queue = self._queue
        while queue and queue[0][2] is None:
            heappop(queue)
        return queue[0][0] if queue else _INF

    def run(self, until: float | None = None) -> None:
        """Run callbacks in time order until none is left or the clock reaches ``until``.

        Callbacks due exactly at ``until`` are left for a later ``run`` (as in SimPy),
        and the clock is then set to ``until``.
        """
        if until is None:
            limit = _INF
        elif not self._now <= until < _INF:
            raise ConfigError(
                "The 'until' parameter of Simulation.run must be a finite number in "
                f"[now={self._now!r}, inf). Got {until!r} instead."
            )
        else:
            limit = until
        queue = self._queue
        count = 0
        try:
            while queue:
                entry = heappop(queue)
                time, _, callback, args = entry
                if time >= limit:
                    heappush(queue, entry)
                    break
                if callback is None:
                    continue
                self._now = time
                count += 1
                callback(*args)
        finally:
            self.events_processed += count
        if until is not None:
            self._now = limit

    def __len__(self) -> int:
        """Pending entries, including cancelled ones not yet discarded."""
        return len(self._queue)

    def __repr__(self) -> str:
        return f"Simulation(now={self._now!r}, pending={len(self._queue)})"
