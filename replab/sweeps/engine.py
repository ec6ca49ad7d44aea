"""Parameter sweeps: a grid of parameters -> one tidy DataFrame.

Each point gets its own seed from ``SeedSequence.spawn``, so results do not depend on
the executor, on the order points finish, on how points are batched into tasks, or on
how many workers ran them. With a results ``store`` every finished batch is written to
disk as it completes, and running the same sweep again computes only what is missing.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from concurrent.futures import as_completed as _cf_as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from replab._version import __version__
from replab.errors import ConfigError
from replab.rng import SeedLike, spawn_seeds
from replab.sweeps.bounds import check_grid_size
from replab.sweeps.executors import (
    EXECUTORS,
    dask_client,
    is_dask_client,
    open_executor,
    worker_count,
)
from replab.sweeps.store import ResultStore, fn_identity, point_key
from replab.validate import check_bool, check_int, fail

__all__ = [
    "sweep",
    "grid_points",
    "iter_points",
    "ResultStore",
    "dask_client",
    "open_executor",
    "EXECUTORS",
    "plan",
    "run_tasks",
    "Task",
    "RunStats",
]

BATCH_SECONDS = 0.25  # target run time of one auto-sized batch: overhead stays ~1 %


def _check_grid(grid: Mapping[str, Sequence[Any]]) -> None:
    if not isinstance(grid, Mapping) or not grid:
        raise ConfigError(
            "The 'grid' parameter of sweep must be a non-empty dict of parameter -> list "
            f"of values. Got {grid!r} instead."
        )
    for name, values in grid.items():
        if isinstance(values, str) or not isinstance(values, Sequence) or len(values) == 0:
            raise ConfigError(
                f"The 'grid' parameter of sweep must map each parameter to a non-empty list "
                f"of values. Got {name}={values!r} instead."
            )


def iter_points(grid: Mapping[str, Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """The points of the Cartesian product of ``grid``, in row-major order, one at a time."""
    _check_grid(grid)
    names = list(grid)
    for combo in itertools.product(*grid.values()):
        yield dict(zip(names, combo, strict=True))


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The points of the Cartesian product of ``grid``, in row-major order.

    The grid is bounded first (:func:`replab.sweeps.bounds.check_grid_size`), so a grid
    of 10^15 points is refused at once instead of filling the memory.
    """
    _check_grid(grid)
    check_grid_size(grid, 1, "sweep")
    return list(iter_points(grid))


@dataclass(frozen=True)
class Task:
    """One call of the swept function: parameters, seed and replication number."""

    params: dict[str, Any]
    seed: int
    replication: int | None = None  # None when the sweep has a single replication


@dataclass(frozen=True)
class RunStats:
    """How a sweep's points were obtained: computed now or reused from the store."""

    computed: int
    reused: int
    seconds: float


def _point_seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def plan(points: Sequence[dict[str, Any]], seed: SeedLike, replications: int = 1,
         common_seeds: bool = False) -> list[Task]:
    """The tasks of a sweep, point-major; replication ``j`` of point ``i`` is seeded by
    child ``j * len(points) + i``, so adding replications keeps the earlier ones. With
    ``common_seeds`` every point's replication ``j`` is seeded by child ``j``: common
    random numbers, so a difference between points is the setting's, not the seed's."""
    check_int(replications, "replications", "sweep", low=1)
    check_bool(common_seeds, "common_seeds", "sweep")
    children = spawn_seeds(seed, replications if common_seeds else len(points) * replications)
    return [
        Task(p, _point_seed(children[j if common_seeds else j * len(points) + i]),
             j if replications > 1 else None)
        for i, p in enumerate(points)
        for j in range(replications)
    ]


def _call(
    fn: Callable[..., Any], params: dict[str, Any], seed: int, replication: int | None = None
) -> pd.DataFrame:
    out = fn(**params, seed=seed)
    if isinstance(out, pd.DataFrame):
        frame = out.copy()
    elif isinstance(out, Mapping):
        frame = pd.DataFrame([dict(out)])
    else:
        raise ConfigError(
            "The 'fn' parameter of sweep must return a DataFrame or a dict. "
            f"Got {type(out).__name__} instead."
        )
    lead = dict(params) if replication is None else {**params, "replication": replication}
    for name, value in reversed(list(lead.items())):
        if name in frame.columns:
            frame = frame.drop(columns=name)
        frame.insert(0, name, [value] * len(frame))
    frame["seed"] = seed
    return frame


def _run_batch(fn: Callable[..., Any], batch: list[Task]) -> tuple[list[pd.DataFrame], float]:
    """Run a batch of tasks (on a worker); return their frames and the compute time."""
    start = time.perf_counter()
    frames = [_call(fn, t.params, t.seed, t.replication) for t in batch]
    return frames, time.perf_counter() - start


def _auto_batch(seconds_per_point: float, remaining: int, workers: int) -> int:
    """Points per task: about BATCH_SECONDS of work, yet >= 4 tasks per worker."""
    by_time = math.ceil(BATCH_SECONDS / max(seconds_per_point, 1e-6))
    by_balance = max(1, math.ceil(remaining / (4 * workers)))
    return max(1, min(by_time, by_balance))


def _submitter(executor: Any) -> tuple[Callable[..., Any], Callable[[list[Any]], Iterator[Any]]]:
    if is_dask_client(executor):
        from distributed import as_completed as dask_as_completed

        def submit(*args: Any) -> Any:
            return executor.submit(*args, pure=False)

        return submit, lambda fs: iter(dask_as_completed(fs))
    return executor.submit, lambda fs: iter(_cf_as_completed(fs))


class _Runner:
    """Runs tasks in batches, hands each finished batch to ``done`` as it completes."""

    def __init__(self, fn: Callable[..., Any], executor: Executor | Any | None) -> None:
        self.fn = fn
        self.executor = executor

    def run_one(self, batch: list[Task]) -> tuple[list[pd.DataFrame], float]:
        if self.executor is None:
            return _run_batch(self.fn, batch)
        submit, _ = _submitter(self.executor)
        result: tuple[list[pd.DataFrame], float] = submit(_run_batch, self.fn, batch).result()
        return result

    def run_all(
        self, batches: list[list[int]], tasks: Sequence[Task], done: Callable[..., None]
    ) -> None:
        if self.executor is None:
            for b in batches:
                out: list[pd.DataFrame] = []
                try:
                    for i in b:
                        t = tasks[i]
                        out.append(_call(self.fn, t.params, t.seed, t.replication))
                finally:  # on failure or Ctrl-C, keep the points of the batch that finished
                    if out:
                        done(b[: len(out)], out)
            return
        submit, completed = _submitter(self.executor)
        futures = {submit(_run_batch, self.fn, [tasks[i] for i in b]): b for b in batches}
        try:
            for fut in completed(list(futures)):
                done(futures[fut], fut.result()[0])
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[Task],
    *,
    executor: Executor | Any | None = None,
    store: str | os.PathLike[str] | ResultStore | None = None,
    batch_size: int | str = "auto",
    progress: bool = True,
) -> tuple[list[pd.DataFrame], RunStats]:
    """Run ``tasks`` (skipping those in ``store``) and return their frames in task order."""
    if batch_size != "auto" and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise fail("batch_size", "sweep", "'auto' or an int in [1, inf)", batch_size)
    start = time.perf_counter()
    db = store if isinstance(store, ResultStore) or store is None else ResultStore(store)
    keys: list[str] = []
    if db is not None:
        fid = fn_identity(fn)
        keys = [point_key(fid, _key_params(t), t.seed, __version__) for t in tasks]
    pending = [i for i in range(len(tasks)) if db is None or keys[i] not in db]
    frames: dict[int, pd.DataFrame] = {}
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), disable=not progress,
               delay=1.0, unit="pt", desc="sweep", dynamic_ncols=True)

    def done(batch: list[int], out: list[pd.DataFrame]) -> None:
        if db is not None:
            db.write([keys[i] for i in batch], out)
        else:
            frames.update(zip(batch, out, strict=True))
        bar.update(len(batch))

    runner = _Runner(fn, executor)
    try:
        size, rest = batch_size, pending
        if size == "auto":
            size = 1
            if pending:  # time one point to size the batches of the rest
                out, seconds = runner.run_one([tasks[pending[0]]])
                done(pending[:1], out)
                rest = pending[1:]
                size = _auto_batch(seconds, len(rest), worker_count(executor))
        assert isinstance(size, int)
        runner.run_all([rest[k : k + size] for k in range(0, len(rest), size)], tasks, done)
    finally:
        bar.close()
    if db is not None:
        loaded = db.load(keys)
        ordered = [loaded[k] for k in keys]
    else:
        ordered = [frames[i] for i in range(len(tasks))]
    stats = RunStats(len(pending), len(tasks) - len(pending), time.perf_counter() - start)
    return ordered, stats


def _key_params(task: Task) -> dict[str, Any]:
    if task.replication is None:
        return task.params
    return {**task.params, "replication": task.replication}


def sweep(
    fn: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]],
    *,
    seed: SeedLike = None,
    executor: Executor | Any | None = None,
    replications: int = 1,
    store: str | os.PathLike[str] | ResultStore | None = None,
    batch_size: int | str = "auto",
    progress: bool = True,
    common_seeds: bool = False,
) -> pd.DataFrame:
    """Call ``fn(**point, seed=...)`` for every point of ``grid`` and stack the results.

    Parameters
    ----------
    fn : callable
        Returns a DataFrame or a dict for one point. Must be picklable (a module-level
        function, or a ``functools.partial`` of one) when ``executor`` runs in other
        processes.
    grid : dict
        Parameter name -> list of values; the sweep covers their Cartesian product.
    seed : int, SeedSequence, Generator or None
        Root seed; point ``i`` gets the ``i``-th child of ``SeedSequence(seed).spawn``.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Runs the points (a process pool, a thread pool, a Dask ``Client``); serial if None.
        See :func:`open_executor` and :func:`dask_client`.
    replications : int
        Independent runs of every point. With more than one, a ``replication`` column
        (0, 1, ...) follows the parameters, and replication ``j`` of point ``i`` is seeded
        by child ``j * len(points) + i`` (so replication 0 equals the single-run sweep).
    store : str, Path or ResultStore, optional
        A folder keeping every finished point (see :class:`ResultStore`); points already
        there are reused, so an interrupted sweep resumes where it stopped. The frame
        returned is read back from the store and equals the in-memory result.
    batch_size : int or "auto"
        Points per task. ``"auto"`` times the first point and sizes batches to about
        ``BATCH_SECONDS`` of work, keeping at least four tasks per worker.
    progress : bool
        Show a tqdm progress bar (the notebook widget in Jupyter) once a run takes longer
        than a second.
    common_seeds : bool
        Give every point the same seeds (replication ``j`` of each point: child ``j``):
        common random numbers, for comparing settings. A difference between two points
        is then the settings', not the random draws'; their intervals still describe
        each point alone.

    Returns
    -------
    DataFrame
        ``fn``'s rows with one leading column per swept parameter and a trailing ``seed``,
        in grid order whatever the executor.

    Examples
    --------
    >>> from replab.quorum import k_staleness
    >>> df = sweep(lambda n, r, seed: {"p": k_staleness(n, r, 1)}, {"n": [3], "r": [1, 2]})
    >>> df[["n", "r", "p"]].round(3).values.tolist()
    [[3.0, 1.0, 0.333], [3.0, 2.0, 0.667]]
    """
    check_int(replications, "replications", "sweep", low=1)
    _check_grid(grid)
    check_grid_size(grid, replications, "sweep")
    tasks = plan(grid_points(grid), seed, replications, common_seeds)
    frames, _ = run_tasks(
        fn, tasks, executor=executor, store=store, batch_size=batch_size, progress=progress
    )
    return pd.concat(frames, ignore_index=True)
