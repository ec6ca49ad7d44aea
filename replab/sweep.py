"""``replab.sweep``: the public entry point of parameter sweeps (kept for scripts).

Everything lives in :mod:`replab.sweeps`; ``from replab.sweep import sweep, dask_client``
keeps working.
"""

from replab.sweeps.engine import (
    EXECUTORS,
    ResultStore,
    RunStats,
    Task,
    dask_client,
    grid_points,
    iter_points,
    open_executor,
    plan,
    run_tasks,
    sweep,
)

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
