"""Clocks: skewed physical clocks, Lamport clocks and version vectors.

A :class:`PhysicalClock` reads the simulation's true time through an offset and a drift
(``local = offset + true * (1 + drift_ppm / 1e6)``), and can be stepped (an NTP
correction) or re-rated at any time. Lamport clocks order events consistently with
causality; version vectors decide whether two versions are ordered or concurrent.

>>> a = VersionVector().increment("A")
>>> b = a.increment("B")
>>> a.compare(b), b.compare(a), a.increment("A").compare(b)
('before', 'after', 'concurrent')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from replab.validate import check_float

__all__ = ["PhysicalClock", "LamportClock", "VersionVector", "ORDERINGS"]

#: The results of :meth:`VersionVector.compare`.
ORDERINGS = ("equal", "before", "after", "concurrent")


class PhysicalClock:
    """A node's local clock, reading true time ``sim.now`` with an offset and a drift.

    Parameters
    ----------
    sim : Simulation
        Supplies the true time (anything with a ``now`` attribute).
    offset_ms : float
        Local minus true time at true time 0.
    drift_ppm : float
        Rate error in parts per million (positive = the clock runs fast).
    """

    def __init__(self, sim: Any, *, offset_ms: float = 0.0, drift_ppm: float = 0.0) -> None:
        self._sim = sim
        check_float(offset_ms, "offset_ms", "PhysicalClock")
        self._rate = self._check_rate(drift_ppm)
        self._drift_ppm = float(drift_ppm)
        # local = base_local + (true - base_true) * rate
        self._base_true = float(sim.now)
        self._base_local = float(offset_ms) + self._base_true * self._rate

    @staticmethod
    def _check_rate(drift_ppm: float) -> float:
        check_float(drift_ppm, "drift_ppm", "PhysicalClock", low=-1e6, high=1e6, low_open=True)
        return 1.0 + float(drift_ppm) / 1e6

    def now(self) -> float:
        """The local reading of the clock (ms)."""
        return self._base_local + (self._sim.now - self._base_true) * self._rate

    @property
    def offset_ms(self) -> float:
        """Current local minus true time."""
        return self.now() - float(self._sim.now)

    @property
    def drift_ppm(self) -> float:
        return self._drift_ppm

    def step(self, delta_ms: float) -> None:
        """Jump the clock by ``delta_ms`` (an NTP step; may go backwards)."""
        check_float(delta_ms, "delta_ms", "PhysicalClock.step")
        self._rebase()
        self._base_local += float(delta_ms)

    def set_drift(self, drift_ppm: float) -> None:
        """Change the rate from now on, keeping the current reading."""
        rate = self._check_rate(drift_ppm)
        self._rebase()
        self._rate = rate
        self._drift_ppm = float(drift_ppm)

    def to_true(self, local: float) -> float:
        """The true time at which this clock will read ``local`` (if nothing changes)."""
        return self._base_true + (local - self._base_local) / self._rate

    def _rebase(self) -> None:
        self._base_local = self.now()
        self._base_true = float(self._sim.now)

    def __repr__(self) -> str:
        return f"PhysicalClock(offset_ms={self.offset_ms:g}, drift_ppm={self._drift_ppm:g})"


class LamportClock:
    """A Lamport logical clock: ``tick`` on local events and sends, ``observe`` on receipt.

    >>> c = LamportClock()
    >>> c.tick(), c.observe(10), c.tick()
    (1, 11, 12)
    """

    __slots__ = ("value",)

    def __init__(self, value: int = 0) -> None:
        self.value = int(value)

    def tick(self) -> int:
        """Advance for a local event (or a send); return the event's timestamp."""
        self.value += 1
        return self.value

    def observe(self, received: int) -> int:
        """Merge a timestamp carried by a received message; return the receive's timestamp."""
        self.value = max(self.value, int(received)) + 1
        return self.value

    def __repr__(self) -> str:
        return f"LamportClock({self.value})"


class VersionVector(Mapping[Any, int]):
    """An immutable version vector: node id -> number of events seen from that node.

    Missing entries count as 0, so ``VersionVector({"A": 0}) == VersionVector()``.
    Operations return new vectors.
    """

    __slots__ = ("_counts", "_hash")

    def __init__(self, counts: Mapping[Any, int] | None = None) -> None:
        items = {} if counts is None else {k: int(v) for k, v in counts.items() if int(v)}
        if any(v < 0 for v in items.values()):
            raise ValueError(f"version vector counts must be >= 0. Got {dict(counts or {})!r}")
        self._counts: dict[Any, int] = items
        self._hash: int | None = None

    def __getitem__(self, node: Any) -> int:
        return self._counts.get(node, 0)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def __contains__(self, node: object) -> bool:
        return node in self._counts

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VersionVector):
            return NotImplemented
        return self._counts == other._counts

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._counts.items()))
        return self._hash

    def increment(self, node: Any) -> VersionVector:
        """The vector after one more event at ``node``."""
        counts = dict(self._counts)
        counts[node] = counts.get(node, 0) + 1
        return VersionVector(counts)

    def merge(self, other: Mapping[Any, int]) -> VersionVector:
        """The pointwise maximum (least upper bound)."""
        counts = dict(self._counts)
        for node, v in other.items():
            if v > counts.get(node, 0):
                counts[node] = v
        return VersionVector(counts)

    def __le__(self, other: VersionVector) -> bool:
        """``self`` happened before or equals ``other`` (every entry <=)."""
        return all(v <= other[k] for k, v in self._counts.items())

    def __lt__(self, other: VersionVector) -> bool:
        return self <= other and self != other

    def compare(self, other: VersionVector) -> str:
        """One of ``equal``, ``before``, ``after`` or ``concurrent``."""
        le, ge = self <= other, other <= self
        if le and ge:
            return "equal"
        if le:
            return "before"
        if ge:
            return "after"
        return "concurrent"

    def concurrent(self, other: VersionVector) -> bool:
        return self.compare(other) == "concurrent"

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v}" for k, v in sorted(self._counts.items(), key=repr))
        return f"VersionVector({{{inner}}})"
