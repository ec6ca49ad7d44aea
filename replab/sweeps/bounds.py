"""A sweep's size is checked before it starts, the way :mod:`replab.limits` checks trials.

A grid's point count is the product of its lists' lengths, known without building a
point; a sweep asking for more runs than ``REPLAB_MAX_POINTS`` (default 10^6), or whose
runs would not fit in ``REPLAB_MAX_MEMORY_GB`` while they are planned and collected, is
refused at once with the standard message naming the limit. Otherwise a grid of 10^15
points fills the memory (1 GB every 5 s) before printing anything.

>>> check_grid_size({"n": [3, 5], "r": [1, 2]}, 3, "SweepSpec")
12
>>> check_grid_size({"a": range(10**5), "b": range(10**5), "c": range(10**5)}, 1, "sweep")
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
replab.errors.ConfigError: The 'grid' parameter of sweep must be at most 1,000,000 runs...
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sized
from typing import Any

from replab.errors import ConfigError
from replab.limits import max_memory_bytes
from replab.validate import fail

__all__ = ["BYTES_PER_RUN", "max_points", "check_grid_size"]

#: Memory a sweep holds per run while it is planned and its rows are collected (its task,
#: seed, store key and a one-row frame of about 30 metrics), measured with tracemalloc
#: (about 6 KB), rounded up.
BYTES_PER_RUN = 8192


def max_points() -> int:
    """The runs (points x replications) one sweep may plan: ``REPLAB_MAX_POINTS``."""
    raw = os.environ.get("REPLAB_MAX_POINTS")
    if raw is None:
        return 1_000_000
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 1:
        raise ConfigError(f"The environment variable REPLAB_MAX_POINTS must be a number >= 1. "
                          f"Got {raw!r} instead.")
    return int(value)


def _shape(grid: Mapping[str, Any]) -> str:
    return " x ".join(f"{len(v) if isinstance(v, Sized) else 1:,} {k}" for k, v in grid.items())


def check_grid_size(grid: Mapping[str, Any], replications: int, owner: str) -> int:
    """Refuse a grid whose runs exceed the point or memory limit; return the run count."""
    points = math.prod(len(v) if isinstance(v, Sized) else 1 for v in grid.values())
    runs = points * replications
    limit = max_points()
    if runs > limit:
        raise fail("grid", owner, f"at most {limit:,} runs (points x replications; set "
                   "REPLAB_MAX_POINTS to raise the limit)",
                   f"{runs:,} runs ({_shape(grid)} x {replications} replications)")
    memory = max_memory_bytes()
    if runs * BYTES_PER_RUN > memory:
        raise fail("grid", owner, f"at most {memory // BYTES_PER_RUN:,} runs to fit the memory "
                   f"limit of {memory / (1 << 30):.3g} GiB (set REPLAB_MAX_MEMORY_GB to raise "
                   "it)", f"{runs:,} runs ({_shape(grid)} x {replications} replications)")
    return runs
