"""Exact order statistics of a sample too large to hold, in two streaming passes.

Every float64 has an order-preserving integer key (its bits, with the non-sign bits of
negative numbers flipped). The top :data:`BITS` bits of the key cut the real line into
bins of 1/256 of an octave, whatever the data. Pass one counts each chunk's values per
bin; the counts add across chunks, and their running sum names the bin that holds every
wanted rank. Pass two keeps only the values in those bins; sorted together, they give the
wanted order statistics exactly. Counts are integers and the kept values are sorted, so the
result does not depend on how the chunks were split among workers or when they finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["BITS", "bin_of", "bin_counts", "keep_bins", "Selection"]

#: Bits of the key that name a bin: sign, 11 exponent bits and 8 mantissa bits.
BITS = 20
_BINS = 1 << BITS
_LOW63 = np.int64(0x7FFF_FFFF_FFFF_FFFF)


def bin_of(values: np.ndarray) -> np.ndarray:
    """The bin (0 .. 2**BITS - 1) of each float64; bins are ordered as the values are."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    key = bits ^ ((bits >> 63) & _LOW63)
    key >>= 64 - BITS
    key += _BINS >> 1
    return key


def bin_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The occupied bins of ``values`` and how many values each holds (sparse)."""
    bins = bin_of(values)
    if bins.size < _BINS >> 4:  # sorting a few values beats clearing 2**20 counters
        occupied, counts = np.unique(bins, return_counts=True)
        return occupied.astype(np.int32), counts.astype(np.int64)
    counts = np.bincount(bins, minlength=_BINS)
    occupied = np.flatnonzero(counts)
    return occupied.astype(np.int32), counts[occupied]


def keep_bins(values: np.ndarray, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values that fall in any of ``bins``, and how often each occurs.

    Distinct values with counts, not the values themselves, so that a distribution with
    ties (a constant delay) keeps a few numbers, not every trial.
    """
    if values.size < _BINS >> 4:
        inside = np.isin(bin_of(values), bins)
    else:
        wanted = np.zeros(_BINS, dtype=bool)
        wanted[bins] = True
        inside = wanted[bin_of(values)]
    distinct, counts = np.unique(values[inside], return_counts=True)
    return distinct, counts


@dataclass
class Selection:
    """Accumulates pass one's counts, then pass two's kept values, for some ranks."""

    counts: np.ndarray = field(default_factory=lambda: np.zeros(_BINS, dtype=np.int64))
    kept: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return int(self.counts.sum())

    def add_counts(self, occupied: np.ndarray, counts: np.ndarray) -> None:
        self.counts[occupied] += counts

    def bins_for(self, ranks: np.ndarray) -> np.ndarray:
        """The bins holding the 0-based ``ranks`` (each < :attr:`size`), without repeats."""
        return np.unique(np.searchsorted(np.cumsum(self.counts), ranks, side="right"))

    def values_at(self, ranks: np.ndarray) -> np.ndarray:
        """The exact order statistics at ``ranks``, from the values kept in pass two."""
        if self.kept:
            distinct = np.concatenate([d for d, _ in self.kept])
            order = np.argsort(distinct, kind="stable")
            distinct = distinct[order]
            seen = np.cumsum(np.concatenate([c for _, c in self.kept])[order])
        else:
            distinct, seen = np.empty(0), np.zeros(0, dtype=np.int64)
        bins = self.bins_for(ranks)
        total = np.cumsum(self.counts)
        if (seen[-1] if seen.size else 0) != int(self.counts[bins].sum()):
            raise AssertionError("pass two kept a different number of values than pass one "
                                 "counted; the chunks were not drawn alike")
        below = total - self.counts  # values in lower bins, per bin
        # Kept values of bin b come after the kept values of the wanted bins below b.
        start = np.cumsum(self.counts[bins]) - self.counts[bins]
        where = np.searchsorted(total, ranks, side="right")
        pos = ranks - below[where] + start[np.searchsorted(bins, where)]
        return distinct[np.searchsorted(seen, pos, side="right")]


# ------------------------------------------------------------------ one pass, usually

#: How far (in the pilot's standard errors) a window reaches past the ranks it must hold.
SIGMAS = 6.0


def pilot_windows(pilot: np.ndarray, fractions: list[tuple[float, float]]
                  ) -> list[tuple[float, float]]:
    """Value windows ``[low, high]`` that very likely hold each span of rank fractions.

    ``pilot`` is one chunk's sample (in any order). Each span ``(a, b)`` of fractions of
    the whole sample is widened by :data:`SIGMAS` standard errors of the pilot's
    quantiles; overlapping windows are merged. A window is only a guess: :class:`Windows`
    checks that the ranks fell inside it.
    """
    n0 = pilot.size
    if not n0:
        return []
    ranks: list[tuple[int | None, int | None]] = []  # None: the window is open that side
    for a, b in fractions:
        a -= SIGMAS * (np.sqrt(max(a * (1 - a), 1 / n0) / n0) + 1 / n0)
        b += SIGMAS * (np.sqrt(max(b * (1 - b), 1 / n0) / n0) + 1 / n0)
        ranks.append((None if a <= 0 else min(n0 - 1, int(a * n0)),
                      None if b >= 1 else max(0, min(n0 - 1, int(np.ceil(b * n0))))))
    # A few order statistics of the pilot: a partition, not a sort of the whole chunk.
    at = sorted({i for pair in ranks for i in pair if i is not None})
    ordered = np.partition(pilot, at) if at else pilot
    spans = sorted((-np.inf if lo is None else float(ordered[lo]),
                    np.inf if hi is None else float(ordered[hi])) for lo, hi in ranks)
    merged: list[tuple[float, float]] = []
    for low, high in spans:
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def keep_windows(values: np.ndarray, windows: list[tuple[float, float]], cap: int
                 ) -> list[tuple[int, np.ndarray]] | None:
    """Per window: how many values lie below it, and the values inside it.

    None when the windows would keep more than ``cap`` values (ties, or a poor guess).
    """
    out = []
    for low, high in windows:
        below = int(np.count_nonzero(values < low))
        inside = values[(values >= low) & (values <= high)]
        cap -= inside.size
        if cap < 0:
            return None
        out.append((below, inside))
    return out


@dataclass
class Windows:
    """Accumulates every chunk's :func:`keep_windows`, then reads ranks off them."""

    windows: list[tuple[float, float]]
    cap: int
    below: np.ndarray = field(init=False)
    kept: list[list[np.ndarray]] = field(init=False)
    failed: bool = False

    def __post_init__(self) -> None:
        self.below = np.zeros(len(self.windows), dtype=np.int64)
        self.kept = [[] for _ in self.windows]

    def add(self, found: list[tuple[int, np.ndarray]] | None) -> None:
        if found is None or self.failed:
            self.failed = True
            self.kept = [[] for _ in self.windows]
            return
        for j, (below, inside) in enumerate(found):
            self.below[j] += below
            self.kept[j].append(inside)
        self.cap -= sum(inside.size for _, inside in found)
        if self.cap < 0:
            self.add(None)

    def values_at(self, ranks: np.ndarray) -> np.ndarray | None:
        """The order statistics at ``ranks`` if every rank fell inside a window, else None."""
        if self.failed:
            return None
        out = np.empty(ranks.size)
        sorted_kept = [np.sort(np.concatenate(k)) if k else np.empty(0) for k in self.kept]
        for i, rank in enumerate(ranks.tolist()):
            for below, values in zip(self.below.tolist(), sorted_kept, strict=True):
                if below <= rank < below + values.size:
                    out[i] = values[rank - below]
                    break
            else:
                return None
        return out
