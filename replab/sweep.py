"""Parameter sweeps: a grid of parameters -> one tidy DataFrame.

Each point gets its own seed from ``SeedSequence.spawn``, so results do not depend on
the executor, on the order points finish, or on how many workers ran them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd

from replab.errors import ConfigError
from replab.rng import SeedLike, spawn_seeds

__all__ = ["sweep", "grid_points"]


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The points of the Cartesian product of ``grid``, in row-major order."""
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
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


def _point_seed(ss: np.random.SeedSequence) -> int:
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _call(fn: Callable[..., Any], params: dict[str, Any], seed: int) -> pd.DataFrame:
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
    for name, value in reversed(list(params.items())):
        if name in frame.columns:
            frame = frame.drop(columns=name)
        frame.insert(0, name, [value] * len(frame))
    frame["seed"] = seed
    return frame


def sweep(
    fn: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]],
    *,
    seed: SeedLike = None,
    executor: Executor | None = None,
) -> pd.DataFrame:
    """Call ``fn(**point, seed=...)`` for every point of ``grid`` and stack the results.

    Parameters
    ----------
    fn : callable
        Returns a DataFrame or a dict for one point. Must be picklable (a module-level
        function) when ``executor`` runs in other processes.
    grid : dict
        Parameter name -> list of values; the sweep covers their Cartesian product.
    seed : int, SeedSequence, Generator or None
        Root seed; point ``i`` gets the ``i``-th child of ``SeedSequence(seed).spawn``.
    executor : concurrent.futures.Executor, optional
        Runs the points (a process pool, a thread pool, a Dask ``Client``); serial if None.

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
    points = grid_points(grid)
    seeds = [_point_seed(s) for s in spawn_seeds(seed, len(points))]
    if executor is None:
        frames = [_call(fn, p, s) for p, s in zip(points, seeds, strict=True)]
    else:
        futures = [executor.submit(_call, fn, p, s) for p, s in zip(points, seeds, strict=True)]
        frames = [f.result() for f in futures]
    return pd.concat(frames, ignore_index=True)
