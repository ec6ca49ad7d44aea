"""A WARS run too large to hold: its chunks are drawn again for every reduction.

:class:`WarsStream` answers the same questions as :class:`~replab.quorum.trials.WarsTrials`
(the staleness curve, t-visibility, latency percentiles, counts) with the same tables,
from chunks streamed through an executor: memory stays flat whatever ``trials`` is.
Counts add across chunks, so the staleness curve takes one pass; quantiles are exact
order statistics, usually found in one pass too (a pilot guesses a window of values around
each rank), else in two more (:mod:`replab.quorum.ranks`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from replab.latency import WarsLatency
from replab.quorum.chunks import (
    ChunkPlan,
    count_chunk,
    keep_chunk,
    outcomes,
    run_chunks,
    window_chunk,
)
from replab.quorum.ranks import (
    Selection,
    Windows,
    bin_counts,
    keep_bins,
    keep_windows,
    pilot_windows,
)
from replab.quorum.trials import (
    QuorumConfig,
    WarsCounts,
    WarsTrials,
    check_percentiles,
    check_targets,
    check_times,
    latency_frame,
    staleness_frame,
    t_visibility_frame,
)
from replab.stats import quantile_ranks
from replab.validate import check_int

__all__ = ["WarsStream"]

#: Values the windows of one quantile pass may keep in all (256 MiB of float64).
KEEP_CAP = 1 << 25
#: Trials above which a run shows a progress bar when ``progress=None`` (auto).
PROGRESS_FROM = 1 << 25


@dataclass(frozen=True, eq=False)
class WarsStream:
    """The chunks of a WARS run, reduced on demand without holding the trials.

    Every method streams all chunks again (through ``executor``: serial when None, a
    ``concurrent.futures`` executor or a Dask ``Client``, which must stay open while the
    methods are called). Each chunk is drawn from its own seed, so every call sees the same
    trials and the answer does not depend on the executor.
    """

    plan: ChunkPlan
    executor: Any = None
    progress: bool | None = None

    @property
    def config(self) -> QuorumConfig:
        return self.plan.config

    @property
    def latency(self) -> WarsLatency:
        return self.plan.latency

    @property
    def trials(self) -> int:
        return self.plan.trials

    @property
    def chunk_size(self) -> int:
        return self.plan.chunk_size

    def collect(self) -> WarsTrials:
        """Every trial in memory, chunk after chunk (only for runs that fit)."""
        parts = [self.plan.draw(i) for i in range(self.plan.chunks)]
        wait, read, write = (np.concatenate(x) for x in zip(*parts, strict=True))
        return WarsTrials(self.config, self.latency, wait, read, write)

    def counts(self, t: float | Iterable[float]) -> WarsCounts:
        """The counts behind :meth:`staleness` and the availability of reads and writes."""
        ts = check_times(t)
        total = {"trials": 0, "write_ok": 0, "read_ok": 0, "committed": 0}
        consistent = np.zeros(ts.size, dtype=np.int64)
        for out in self._pass(count_chunk, (ts, ()), "counting"):
            for key in total:
                total[key] += out[key]
            consistent += out["consistent"]
        return WarsCounts(total["trials"], total["write_ok"], total["read_ok"],
                          total["committed"], ts, consistent)

    def staleness(self, t: float | Iterable[float], *, k: int = 1) -> pd.DataFrame:
        """As :meth:`WarsTrials.staleness <replab.quorum.trials.WarsTrials.staleness>`."""
        ts = check_times(t)
        check_int(k, "k", "staleness", low=1)
        c = self.counts(ts)
        return staleness_frame(ts, c.consistent, c.committed, k)

    def t_visibility(self, p: float | Iterable[float] = 0.999, *, k: int = 1) -> pd.DataFrame:
        """As :meth:`WarsTrials.t_visibility`: exact order statistics (see :meth:`_quantiles`)."""
        targets, level = check_targets(p, k)
        (q, lo, hi), m = self._quantiles({"wait": level})["wait"]
        return t_visibility_frame(targets, q, lo, hi, m)

    def latency_percentiles(self, q: Iterable[float] = (50, 99, 99.9)) -> pd.DataFrame:
        """As :meth:`WarsTrials.latency_percentiles`: exact order statistics."""
        qs = check_percentiles(q)
        found = self._quantiles({"read": qs / 100, "write": qs / 100})
        return latency_frame(qs, {op: (*est, m) for op, (est, m) in found.items()})

    # -------------------------------------------------------------- the passes

    def _quantiles(self, levels: dict[str, np.ndarray]) -> dict[str, Any]:
        """Per sample: ((estimates, ci lows, ci highs), sample size) at ``levels``.

        Usually one pass: chunk 0 is a pilot whose quantiles guess a window of values
        around each wanted rank, and every chunk keeps its values inside the windows. If a
        rank fell outside them (or they would hold too much), :meth:`_select` finds it.
        """
        names = tuple(levels)
        # Serially, chunk 0 is the pilot (and counts). On an executor, a small pilot of
        # its own, so that the workers start at once instead of waiting for chunk 0.
        first = 1 if self.executor is None else 0
        pilot = outcomes(self.plan, 0 if first else None)
        pilot_trials = self.plan.size_of(0) if first else pilot["read"].size
        windows = {name: Windows(self._windows(pilot, name, levels[name], pilot_trials),
                                 KEEP_CAP // len(names)) for name in names}
        for name in names:
            kept = keep_windows(pilot[name], windows[name].windows, pilot_trials // 4)
            if kept is None or first:  # None: the windows overflow (ties), give them up
                windows[name].add(kept)
        sizes = {name: pilot[name].size if first else 0 for name in names}
        live = {name: w.windows for name, w in windows.items() if not w.failed}
        if live:  # (windows the pilot itself overflows, as ties do, are not tried)
            for out in self._pass(window_chunk, (live,), "pass 1: keeping the windows",
                                  first=first):
                for name in live:
                    sizes[name] += out["sizes"][name]
                    windows[name].add(out["windows"][name])
        found: dict[str, np.ndarray] = {}
        for name in live:
            got = windows[name].values_at(_ranks(sizes[name], levels[name]).ravel())
            if got is not None:
                found[name] = got
        missing = {name: levels[name] for name in names if name not in found}
        if missing:
            for name, (got, size) in self._select(pilot if first else None, missing).items():
                found[name], sizes[name] = got, size
        result = {}
        for name in names:
            if not sizes[name]:
                nan = np.full(levels[name].shape, np.nan)
                result[name] = ((nan, nan, nan), 0)
                continue
            values = found[name].reshape(3, -1)
            result[name] = ((values[0], values[1], values[2]), sizes[name])
        return result

    def _select(self, chunk0: dict[str, np.ndarray] | None, levels: dict[str, np.ndarray]
                ) -> dict[str, tuple[np.ndarray, int]]:
        """Exact order statistics in two more passes: the counts per bin, then the values
        of the bins that hold the ranks (:class:`~replab.quorum.ranks.Selection`).
        ``chunk0`` is chunk 0's samples if they are still at hand."""
        names = tuple(levels)
        picks = {name: Selection() for name in names}
        first = 0 if chunk0 is None else 1
        if chunk0 is not None:  # chunk 0 is at hand: count it here, not again on a worker
            for name in names:
                picks[name].add_counts(*bin_counts(chunk0[name]))
        for out in self._pass(count_chunk, (None, names), "pass 2: counting", first=first):
            for name in names:
                picks[name].add_counts(*out["bins"][name])
        ranks = {name: _ranks(picks[name].size, levels[name]).ravel() for name in names}
        wanted = {name: picks[name].bins_for(r) for name, r in ranks.items() if r.size}
        if wanted:
            if chunk0 is not None:
                for name, bins in wanted.items():
                    picks[name].kept.append(keep_bins(chunk0[name], bins))
            for out in self._pass(keep_chunk, (wanted,), "pass 3: selecting", first=first):
                for name, kept in out["kept"].items():
                    picks[name].kept.append(kept)
        return {name: (picks[name].values_at(ranks[name]) if name in wanted else np.empty(0),
                       picks[name].size) for name in names}

    def _windows(self, pilot: dict[str, np.ndarray], name: str, level: np.ndarray,
                 pilot_trials: int) -> list[tuple[float, float]]:
        sample = pilot[name]
        if not sample.size:
            return []
        # The whole sample's size, guessed from the pilot (exact without failures).
        m = max(1, round(self.trials * sample.size / pilot_trials))
        idx, lo, hi = quantile_ranks(m, level)
        return pilot_windows(sample, [(a / m, (b + 1) / m) for a, b in zip(
            np.minimum(lo, idx).tolist(), np.maximum(hi, idx).tolist(), strict=True)])

    def _pass(self, fn: Any, args: tuple[Any, ...], desc: str, first: int = 0
              ) -> Iterator[dict[str, Any]]:
        with self._bar(desc) as bar:
            if bar is not None and first:
                bar.update(sum(self.plan.size_of(i) for i in range(first)))
            yield from run_chunks(fn, self.plan, args, self.executor, bar, first)

    def _bar(self, desc: str) -> Any:
        show = self.progress if self.progress is not None else self.trials >= PROGRESS_FROM
        if not show:
            return contextlib.nullcontext(None)
        from tqdm.auto import tqdm

        return tqdm(total=self.trials, desc=desc, unit=" trials", unit_scale=True,
                    leave=False, dynamic_ncols=True)


def _ranks(size: int, level: np.ndarray) -> np.ndarray:
    """The 0-based ranks (estimate, ci low, ci high) by level; none in an empty sample."""
    if not size:
        return np.empty((3, 0), dtype=np.int64)
    return np.stack(quantile_ranks(size, level))
