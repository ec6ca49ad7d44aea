"""A WARS run too large to hold: its chunks are drawn again for every reduction.

:class:`WarsStream` answers the same questions as :class:`~replab.quorum.trials.WarsTrials`
(the staleness curve, t-visibility, latency percentiles, counts) with the same tables,
from chunks streamed through an executor: memory stays flat whatever ``trials`` is.
Counts add across chunks, so the staleness curve takes one pass; quantiles are exact
order statistics found in two passes (:mod:`replab.quorum.select`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from replab.latency import WarsLatency
from replab.quorum.chunks import ChunkPlan, count_chunk, keep_chunk, run_chunks
from replab.quorum.select import Selection
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
        """As :meth:`WarsTrials.t_visibility`: exact order statistics, in two passes."""
        targets, level = check_targets(p, k)
        (q, lo, hi), m = self._quantiles({"wait": level})["wait"]
        return t_visibility_frame(targets, q, lo, hi, m)

    def latency_percentiles(self, q: Iterable[float] = (50, 99, 99.9)) -> pd.DataFrame:
        """As :meth:`WarsTrials.latency_percentiles`: exact order statistics, two passes."""
        qs = check_percentiles(q)
        found = self._quantiles({"read": qs / 100, "write": qs / 100})
        return latency_frame(qs, {op: (*est, m) for op, (est, m) in found.items()})

    # -------------------------------------------------------------- the passes

    def _quantiles(self, levels: dict[str, np.ndarray]) -> dict[str, Any]:
        """Per sample: ((estimates, ci lows, ci highs), sample size) at ``levels``."""
        names = tuple(levels)
        picks = {name: Selection() for name in names}
        for out in self._pass(count_chunk, (None, names), "pass 1 of 2: counting"):
            for name, (occupied, counts) in out["bins"].items():
                picks[name].add_counts(occupied, counts)
        ranks = {}
        for name in names:
            m = picks[name].size
            ranks[name] = np.stack(quantile_ranks(m, levels[name])) if m else None
        wanted = {name: picks[name].bins_for(r.ravel()) for name, r in ranks.items()
                  if r is not None}
        if wanted:
            for out in self._pass(keep_chunk, (wanted,), "pass 2 of 2: selecting"):
                for name, values in out["kept"].items():
                    picks[name].kept.append(values)
        result = {}
        for name in names:
            m, r = picks[name].size, ranks[name]
            if r is None:
                nan = np.full(levels[name].shape, np.nan)
                result[name] = ((nan, nan, nan), 0)
            else:
                values = picks[name].values_at(r.ravel()).reshape(r.shape)
                result[name] = ((values[0], values[1], values[2]), m)
        return result

    def _pass(self, fn: Any, args: tuple[Any, ...], desc: str) -> Iterator[dict[str, Any]]:
        with self._bar(desc) as bar:
            yield from run_chunks(fn, self.plan, args, self.executor, bar)

    def _bar(self, desc: str) -> Any:
        show = self.progress if self.progress is not None else self.trials >= PROGRESS_FROM
        if not show:
            return contextlib.nullcontext(None)
        from tqdm.auto import tqdm

        return tqdm(total=self.trials, desc=desc, unit=" trials", unit_scale=True,
                    leave=False, dynamic_ncols=True)
