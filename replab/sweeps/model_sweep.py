""":func:`sweep_model`: a simulation model over a grid of its settings, from Python.

It builds the same :class:`~replab.sweeps.spec.SweepSpec` that ``replab sweep`` reads from
a TOML file and runs it the same way, so the frames are the CLI's: one row per run, or
with ``summary=True`` one row per point (:func:`summarize_result`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd

from replab.rng import SeedLike
from replab.sweeps.executors import open_executor
from replab.sweeps.model_targets import MODELS, REAL_LABS
from replab.sweeps.spec import SweepResult, SweepSpec, run_spec
from replab.sweeps.store import ResultStore
from replab.sweeps.summary import summarize
from replab.validate import check_choice, fail

__all__ = ["sweep_model", "summarize_result"]


def summarize_result(result: SweepResult, spec: SweepSpec) -> pd.DataFrame:
    """One row per grid point of a finished sweep: means and 95 % intervals."""
    return summarize(result.frame, list(spec.grid))


def _root_seed(seed: SeedLike) -> int:
    """An int root seed for the spec: ints pass, anything else is drawn from once."""
    if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0:
        return seed
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    entropy = np.random.SeedSequence(seed).entropy  # type: ignore[arg-type]
    return int(entropy) % 2**63  # type: ignore[arg-type]


def sweep_model(
    model: str,
    grid: Mapping[str, Sequence[Any]],
    *,
    fixed: Mapping[str, Any] | None = None,
    replications: int = 1,
    seed: SeedLike = 0,
    executor: str | Executor | Any | None = None,
    workers: int | None = None,
    store: str | os.PathLike[str] | ResultStore | None = None,
    summary: bool = False,
    skip_invalid: bool = True,
    progress: bool = False,
    common_seeds: bool = False,
) -> pd.DataFrame:
    """Run simulation ``model`` at every point of ``grid`` (its settings), ``replications``
    times each, and return the rows ``replab sweep`` would print.

    Parameters
    ----------
    model : str
        ``single-leader``, ``lag-anomalies``, ``partitioned``, ``leaderless``,
        ``multi-leader`` or ``replog`` (as ``replab simulate`` names them).
    grid : dict
        Setting -> list of values; names, types and checks as ``replab simulate MODEL
        --help`` lists them.
    fixed : dict, optional
        Settings passed unchanged to every point.
    replications : int
        Runs per point, each with its own seed.
    seed : int, Generator or None
        The root seed (0 by default, so two calls agree); None draws a fresh one.
    executor : str, Executor or Dask Client, optional
        ``"serial"`` (default), ``"threads"``, ``"processes"``, ``"dask"`` (a local cluster
        of ``workers``), or an executor object.
    store : str, Path or ResultStore, optional
        Keep finished points here; a rerun computes only the missing ones.
    summary : bool
        One row per point (mean and 95 % interval of every metric, Wilson for
        proportions) instead of one per run.
    common_seeds : bool
        Every point runs on the same seeds (common random numbers; see
        :func:`replab.sweep`), so the points differ only in their settings.

    Returns
    -------
    DataFrame
        Per run: the grid settings, ``replication`` (with more than one), every metric of
        the model, ``seed``. Grid points the model refuses (e.g. ``r > n``) are skipped.

    Examples
    --------
    >>> df = sweep_model("leaderless", {"w": [1, 3]}, replications=2,
    ...                  fixed={"duration_ms": 300}, seed=7)
    >>> df[["w", "replication"]].values.tolist()
    [[1, 0], [1, 1], [3, 0], [3, 1]]
    >>> s = sweep_model("leaderless", {"w": [1, 3]}, replications=2,
    ...                 fixed={"duration_ms": 300}, seed=7, summary=True)
    >>> s[["w", "runs"]].values.tolist()
    [[1, 2], [3, 2]]
    """
    check_choice(model, "model", "sweep_model", sorted([*MODELS, *REAL_LABS]))
    if model in REAL_LABS and executor not in (None, "serial"):
        raise fail("executor", "sweep_model", f"'serial' for the real lab {model!r} (its "
                   "servers need the machine to themselves)", executor)
    spec = SweepSpec(target=model, seed=_root_seed(seed), grid=dict(grid),
                     fixed=dict(fixed or {}), replications=replications,
                     skip_invalid=skip_invalid, common_seeds=common_seeds,
                     executor="serial" if model in REAL_LABS else None)
    if isinstance(executor, str) or executor is None:
        with open_executor(executor or "serial", workers=workers) as pool:
            result = run_spec(spec, executor=pool, store=store, progress=progress)
    else:
        result = run_spec(spec, executor=executor, store=store, progress=progress)
    return summarize_result(result, spec) if summary else result.frame
