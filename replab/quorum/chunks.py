"""Chunks of WARS trials: their seeds, the work done on one chunk, and where it runs.

A run of ``trials`` is cut into chunks of ``chunk_size`` trials (the last one shorter).
Chunk ``i`` draws from its own generator, seeded by the ``i``-th child of the run's root
``SeedSequence`` (as ``root.spawn`` would make it), so any chunk can be drawn anywhere, at
any time, in any order, and is the same every time. The chunk size is therefore part of
the result's identity: the same seed, trials and chunk size give the same answer, bit for
bit, serially, on a process pool or on a Dask cluster.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from typing import Any

import numpy as np

from replab.latency import WarsLatency
from replab.quorum.outcome import Counter
from replab.quorum.ranks import bin_counts, keep_bins, keep_windows
from replab.quorum.trials import QuorumConfig, _trial_batch

__all__ = ["DEFAULT_CHUNK", "default_chunk_size", "chunk_seed", "ChunkPlan", "run_chunks"]

#: Trials a chunk draws at once for n <= 7: about 256 MiB of delays at n = 3.
DEFAULT_CHUNK = 1 << 20
#: A chunk's delays stay under about 512 MiB: (n + 1) rows of float64 plus temporaries.
_CHUNK_CELLS = 1 << 23
_MIN_CHUNK = 1 << 10


def default_chunk_size(n: int) -> int:
    """Trials per chunk for ``n`` replicas: 2**20 up to n = 7, halving as n doubles."""
    fit = 1 << int(math.log2(max(1, _CHUNK_CELLS // (n + 1))))
    return max(_MIN_CHUNK, min(DEFAULT_CHUNK, fit))


def chunk_seed(root: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """The ``index``-th child of ``root``, as ``root.spawn(index + 1)[index]`` makes it."""
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, index),
                                  pool_size=root.pool_size)


@dataclass(frozen=True)
class ChunkPlan:
    """Everything a worker needs to draw any chunk of a run (small; pickled per task)."""

    config: QuorumConfig
    latency: WarsLatency
    trials: int
    chunk_size: int
    p_fail: float
    root: np.random.SeedSequence

    @property
    def chunks(self) -> int:
        return -(-self.trials // self.chunk_size)

    def size_of(self, index: int) -> int:
        return min(self.chunk_size, self.trials - index * self.chunk_size)

    def draw(self, index: int, counter: Counter | None = None, keep: bool = True
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Chunk ``index``'s per-trial (wait, read latency, write latency); ``counter``
        tallies them as they are made (without ``keep``, all that is wanted)."""
        rng = np.random.default_rng(chunk_seed(self.root, index))
        return _trial_batch(self.config, self.latency, rng, self.size_of(index), self.p_fail,
                            counter, keep)

    def draw_pilot(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A small sample of its own (no chunk's), that guides a parallel run's passes."""
        rng = np.random.default_rng(chunk_seed(self.root, PILOT_KEY))
        size = min(self.chunk_size, PILOT_TRIALS)
        return _trial_batch(self.config, self.latency, rng, size, self.p_fail)


#: Trials of the pilot a run on an executor draws for itself, so that no worker waits
#: for a whole chunk to be drawn here first.
PILOT_TRIALS = 1 << 18
#: The pilot's seed is this child of the root, which no chunk can be (it would be the
#: 2**63-th chunk).
PILOT_KEY = 1 << 63


def outcomes(plan: ChunkPlan, index: int | None) -> dict[str, np.ndarray]:
    """Chunk ``index``'s samples (the pilot's if None): waits of committed trials, read
    and write latencies."""
    return _samples(plan, plan.draw(index) if index is not None else plan.draw_pilot())


def _samples(plan: ChunkPlan, found: tuple[np.ndarray, np.ndarray, np.ndarray]
             ) -> dict[str, np.ndarray]:
    wait, read, write = found
    committed = wait
    if plan.p_fail > 0:
        ok = np.isfinite(write)
        committed = wait if ok.all() else wait[ok]
    return {"wait": committed, "read": read, "write": write}


def count_chunk(plan: ChunkPlan, index: int, ts: np.ndarray | None,
                names: tuple[str, ...]) -> dict[str, Any]:
    """One chunk's trial counts, consistent reads per ``t``, and values per bin.

    The counts are tallied block by block as the trials are reduced (an uncommitted
    trial's wait is infinite, so it is never counted); the samples are kept only when
    their bins are wanted.
    """
    size = plan.size_of(index)
    counter = Counter(ts, failures=plan.p_fail > 0)
    found = plan.draw(index, counter, keep=bool(names))
    out: dict[str, Any] = {"trials": size, "committed": size, "write_ok": size,
                           "read_ok": size, "bins": {}}
    if plan.p_fail > 0:
        out.update(committed=counter.write_ok, write_ok=counter.write_ok,
                   read_ok=counter.read_ok)
    if ts is not None:
        out["consistent"] = counter.hits()
    if names:
        samples = _samples(plan, found)
        out["bins"] = {name: bin_counts(samples[name]) for name in names}
    return out


def window_chunk(plan: ChunkPlan, index: int,
                 windows: dict[str, list[tuple[float, float]]]) -> dict[str, Any]:
    """Pass one for quantiles: each sample's size, and its values in its windows."""
    found = outcomes(plan, index)
    cap = plan.chunk_size // 4
    return {"trials": plan.size_of(index),
            "sizes": {name: found[name].size for name in windows},
            "windows": {name: keep_windows(found[name], w, cap) for name, w in windows.items()}}


def keep_chunk(plan: ChunkPlan, index: int,
               wanted: dict[str, np.ndarray]) -> dict[str, Any]:
    """Pass two on a chunk: the values of each sample that fall in its wanted bins."""
    found = outcomes(plan, index)
    return {"trials": plan.size_of(index),
            "kept": {name: keep_bins(found[name], bins) for name, bins in wanted.items()}}


# ------------------------------------------------------------------ where chunks run


def _is_dask_client(executor: object) -> bool:
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(executor, distributed.Client)


def _slots(executor: Any) -> int:
    """Tasks to keep in flight: enough to keep every worker busy, few enough to bound
    the memory of results waiting to be reduced."""
    if _is_dask_client(executor):
        workers = sum(executor.nthreads().values())
    else:
        workers = int(getattr(executor, "_max_workers", 1) or 1)
    return 2 * max(1, workers) + 1


def run_chunks(fn: Callable[..., dict[str, Any]], plan: ChunkPlan, args: tuple[Any, ...],
               executor: Any = None, progress: Any = None, first: int = 0
               ) -> Iterator[dict[str, Any]]:
    """``fn(plan, i, *args)`` for every chunk ``i >= first``, yielded as each finishes.

    ``executor`` is None (here, in order), a ``concurrent.futures.Executor`` or a Dask
    ``Client``. ``progress`` (a tqdm bar or None) advances by each chunk's trials. On any
    error, or Ctrl-C, the chunks not yet started are cancelled.
    """
    if executor is None:
        for i in range(first, plan.chunks):
            out = fn(plan, i, *args)
            if progress is not None:
                progress.update(out["trials"])
            yield out
        return
    dask = _is_dask_client(executor)
    todo = iter(range(first, plan.chunks))
    pending: set[Any] = set()

    def submit() -> bool:
        i = next(todo, None)
        if i is None:
            return False
        if dask:
            pending.add(executor.submit(fn, plan, i, *args, pure=False))
        else:
            pending.add(executor.submit(fn, plan, i, *args))
        return True

    try:
        for _ in range(_slots(executor)):
            submit()
        while pending:
            for future in _finished(pending, dask):
                pending.discard(future)
                out = future.result()
                if progress is not None:
                    progress.update(out["trials"])
                submit()
                yield out
    finally:
        for future in pending:
            future.cancel()


def _finished(pending: set[Any], dask: bool) -> list[Any]:
    if dask:
        from distributed import wait as dask_wait

        return list(dask_wait(list(pending), return_when="FIRST_COMPLETED").done)
    done, _ = wait_futures(pending, return_when=FIRST_COMPLETED)
    futures: list[Future[Any]] = list(done)
    return futures
