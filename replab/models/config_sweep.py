"""One sweep for every simulation model: a base config, a grid of field values, repeats."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from functools import partial
from typing import Any

import pandas as pd

from replab.rng import SeedLike
from replab.sweep import grid_points, plan, sweep
from replab.validate import check_int, fail

__all__ = ["sweep_config"]


def _run_point(simulate: Callable[..., Any], base: Any, *, seed: int, repeat: int = 0,
               **params: Any) -> dict[str, Any]:
    return dict(simulate(dataclasses.replace(base, **params), seed=seed).metrics)


def _run_common(simulate: Callable[..., Any], base: Any, seeds: list[int], *, seed: int,
                repeat: int = 0, **params: Any) -> dict[str, Any]:
    """Run ``repeat`` with its common seed (the sweep's own ``seed`` is not used)."""
    own = seeds[repeat]
    return {**_run_point(simulate, base, seed=own, **params), "_seed": own}


def sweep_config(
    simulate: Callable[..., Any],
    base: Any,
    grid: Mapping[str, Sequence[Any]],
    *,
    owner: str,
    repeats: int = 1,
    seed: SeedLike = None,
    executor: Executor | None = None,
    common_seeds: bool = False,
) -> pd.DataFrame:
    """Run ``simulate(base with each grid point, seed=...)`` ``repeats`` times per point.

    ``simulate`` must be a module-level function (picklable, for process executors) that
    returns a result with a flat ``metrics`` dict. One row per run: the grid values,
    ``repeat``, every metric and ``seed`` (each run its own, from :func:`replab.sweep`).
    With ``common_seeds`` every grid point runs the same seeds (repeat ``j`` the ``j``-th
    seed of ``seed``): common random numbers, so that two points differ by their
    parameters only. ``owner`` names the public function in error messages.
    """
    names = {f.name for f in dataclasses.fields(base)}
    unknown = [k for k in grid if k not in names]
    if unknown:
        raise fail("grid", owner, f"a dict naming config fields ({', '.join(sorted(names))})",
                   unknown[0])
    check_int(repeats, "repeats", owner, low=1)
    full = {**grid, "repeat": list(range(repeats))}
    if not common_seeds:
        return sweep(partial(_run_point, simulate, base), full, seed=seed, executor=executor)
    seeds = [t.seed for t in plan(grid_points({"repeat": list(range(repeats))}), seed)]
    df = sweep(partial(_run_common, simulate, base, seeds), full, seed=0, executor=executor)
    df["seed"] = df.pop("_seed")
    return df
