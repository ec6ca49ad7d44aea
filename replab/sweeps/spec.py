"""Sweep specs: a TOML file naming the target, its grid, replications and seed.

.. code-block:: toml

    [sweep]
    target = "staleness"      # an estimator, a model ("leaderless", ...) or a real lab
    seed = 7
    replications = 1          # optional (default 1)
    skip_invalid = true       # optional: skip points such as r > n (default true)
    executor = "serial"       # optional: where points run (a real lab must be serial)
    [fixed]                   # passed unchanged to every point
    latency = "LNKD-SSD"
    t = [0, 1, 10]
    trials = 20000
    [grid]                    # the Cartesian product of these lists is swept
    n = [3, 5]
    r = { from = 1, to = 5 }  # an inclusive int range (optional step)
    w = [1, 2, 3]

A model target takes the model's settings, as ``replab simulate MODEL --help`` lists
them. Later code adds its own targets with :func:`register_target`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from replab.errors import ConfigError
from replab.sweeps.bounds import check_grid_size
from replab.sweeps.engine import ResultStore, iter_points, plan, run_tasks
from replab.sweeps.executors import EXECUTORS
from replab.sweeps.targets import (
    TARGETS,
    Target,
    get_target,
    k_staleness_point,
    quorum_check,
    register_target,
    target_names,
)
from replab.validate import check_bool, check_choice, check_int, fail

__all__ = [
    "Target",
    "TARGETS",
    "register_target",
    "SweepSpec",
    "SweepResult",
    "load_spec",
    "spec_from_dict",
    "run_spec",
    "quorum_check",
    "k_staleness_point",
    "target_names",
    "get_target",
]

OWNER = "SweepSpec"
_SWEEP_FIELDS = ("target", "seed", "replications", "skip_invalid", "batch_size", "executor")


def _grid_values(name: str, values: Any) -> list[Any]:
    allowed = "a non-empty list of values or a {from, to, step} table of ints"
    if isinstance(values, Mapping):
        extra = set(values) - {"from", "to", "step"}
        if extra or not {"from", "to"} <= values.keys():
            raise fail(f"grid.{name}", OWNER, allowed, dict(values))
        lo = check_int(values["from"], f"grid.{name}.from", OWNER)
        hi = check_int(values["to"], f"grid.{name}.to", OWNER, low=lo)
        step = check_int(values.get("step", 1), f"grid.{name}.step", OWNER, low=1)
        return range(lo, hi + 1, step)  # type: ignore[return-value]  # sized, not built
    if isinstance(values, list | tuple) and values:
        return list(values)
    raise fail(f"grid.{name}", OWNER, allowed, values)


@dataclass(frozen=True, kw_only=True)
class SweepSpec:
    """What to sweep: a registered target, fixed parameters, a grid, seed, replications."""

    target: str
    seed: int
    grid: Mapping[str, Any]
    fixed: Mapping[str, Any] = field(default_factory=dict)
    replications: int = 1
    skip_invalid: bool = True
    batch_size: int | str = "auto"
    executor: str | None = None

    def __post_init__(self) -> None:
        check_choice(self.target, "sweep.target", OWNER, target_names())
        check_int(self.seed, "sweep.seed", OWNER, low=0)
        check_int(self.replications, "sweep.replications", OWNER, low=1)
        check_bool(self.skip_invalid, "sweep.skip_invalid", OWNER)
        size = self.batch_size
        if size != "auto" and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise fail("sweep.batch_size", OWNER, "'auto' or an int in [1, inf)", size)
        if not isinstance(self.grid, Mapping) or not self.grid:
            raise fail("grid", OWNER, "a non-empty table of parameter = [values]", self.grid)
        if not isinstance(self.fixed, Mapping):
            raise fail("fixed", OWNER, "a table of parameter = value", self.fixed)
        object.__setattr__(self, "grid", {k: _grid_values(k, v) for k, v in self.grid.items()})
        object.__setattr__(self, "fixed", dict(self.fixed))
        check_grid_size(self.grid, self.replications, OWNER)  # before a point is built
        self._check_executor()
        self._check_names()

    def _check_executor(self) -> None:
        if self.executor is not None:
            check_choice(self.executor, "sweep.executor", OWNER, EXECUTORS)
        if get_target(self.target).real and self.executor != "serial":
            raise fail("sweep.executor", OWNER, f"'serial' for the real lab {self.target!r} "
                       "(its servers need the machine to themselves)", self.executor)

    def _check_names(self) -> None:
        target = get_target(self.target)
        known = [p for p in target.parameters if p != "seed"]
        for table, names in (("grid", self.grid), ("fixed", self.fixed)):
            for name in names:
                if name == "seed":
                    raise ConfigError(
                        f"The sweep sets each point's seed from sweep.seed; remove 'seed' "
                        f"from [{table}]."
                    )
                if name not in known:
                    raise ConfigError(
                        f"Unknown parameter {name!r} in [{table}] of the sweep spec; target "
                        f"{self.target!r} takes {', '.join(known)}."
                    )
        both = sorted(set(self.grid) & set(self.fixed))
        if both:
            raise ConfigError(
                f"Parameter {both[0]!r} is in both [grid] and [fixed] of the sweep spec; "
                "keep one."
            )
        for name in target.required:
            if name != "seed" and name not in self.grid and name not in self.fixed:
                raise ConfigError(
                    f"Target {self.target!r} needs parameter {name!r}; give it in [fixed] "
                    "or [grid] of the sweep spec."
                )


def spec_from_dict(data: Mapping[str, Any]) -> SweepSpec:
    """Build a :class:`SweepSpec` from the parsed TOML tables ``sweep``, ``fixed``, ``grid``."""
    loose = sorted(k for k, v in data.items() if not isinstance(v, Mapping))
    if loose:
        home = "[sweep]" if loose[0] in _SWEEP_FIELDS else "[fixed] or [grid]"
        raise ConfigError(
            f"The key {loose[0]!r} is at the top of the sweep spec, outside any table; put it "
            f"under {home} (a key belongs to the last [table] line above it)."
        )
    unknown = sorted(set(data) - {"sweep", "fixed", "grid"})
    if unknown:
        raise ConfigError(
            f"Unknown table [{unknown[0]}] in the sweep spec; known tables: [sweep], "
            "[fixed], [grid]."
        )
    head: Any = data.get("sweep", {})
    if not isinstance(head, Mapping):
        raise fail("sweep", OWNER, "a table", head)
    extra = sorted(set(head) - set(_SWEEP_FIELDS))
    if extra:
        raise ConfigError(
            f"Unknown field 'sweep.{extra[0]}' in the sweep spec; known fields: "
            f"{', '.join(sorted(_SWEEP_FIELDS))}."
        )
    for name, what in (("target", f"one of {', '.join(map(repr, target_names()))}"),
                       ("seed", "an int in [0, inf); the same seed gives the same results")):
        if name not in head:
            raise ConfigError(f"The sweep spec has no 'sweep.{name}': add `{name} = ...` under "
                              f"[sweep] ({what}).")
    fields: dict[str, Any] = {
        "target": head.get("target"),
        "seed": head.get("seed"),
        "grid": data.get("grid"),
        "fixed": data.get("fixed", {}),
    }
    fields.update({k: head[k] for k in _SWEEP_FIELDS[2:] if k in head})
    return SweepSpec(**fields)


def load_spec(path: str | os.PathLike[str]) -> SweepSpec:
    """Read and validate a sweep spec (TOML); ConfigError names what is wrong."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"The sweep spec {str(p)!r} does not exist.") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"The sweep spec {str(p)!r} cannot be read: {e}.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"The sweep spec {str(p)!r} is not valid TOML: {e}.") from None
    return spec_from_dict(data)


@dataclass(frozen=True)
class SweepResult:
    """The outcome of :func:`run_spec`.

    Attributes
    ----------
    frame : DataFrame
        The target's rows, one leading column per grid parameter (then ``replication``
        when there are several), a trailing ``seed``; in grid order.
    skipped : DataFrame
        The infeasible grid points left out, with a ``reason`` column.
    computed, reused : int
        Points run now / found in the results store.
    seconds : float
    """

    frame: pd.DataFrame
    skipped: pd.DataFrame
    computed: int
    reused: int
    seconds: float


def _describe(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in point.items())


def _feasible(spec: SweepSpec, points: list[dict[str, Any]]) -> tuple[list[bool], pd.DataFrame]:
    check = get_target(spec.target).check
    keep, skipped = [], []
    for point in points:
        reason = check({**spec.fixed, **point}) if check is not None else None
        if reason is not None and not spec.skip_invalid:
            raise ConfigError(
                f"Grid point {_describe(point)} is invalid: {reason}. Set skip_invalid = "
                "true in [sweep] to skip such points."
            )
        keep.append(reason is None)
        if reason is not None:
            skipped.append({**point, "reason": reason})
    if not any(keep):
        raise ConfigError(f"Every grid point of the sweep spec is invalid, e.g. "
                          f"{_describe(points[0])}: {skipped[0]['reason']}.")
    return keep, pd.DataFrame(skipped, columns=[*spec.grid, "reason"])


def run_spec(
    spec: SweepSpec,
    *,
    executor: Executor | Any | None = None,
    store: str | os.PathLike[str] | ResultStore | None = None,
    progress: bool = True,
) -> SweepResult:
    """Run the sweep a spec describes (see :func:`replab.sweep.sweep` for the arguments).

    Seeds are assigned over the whole grid before infeasible points are skipped, so a
    point's result does not depend on which others were skipped; with nothing skipped
    the frame equals ``sweep(partial(target, **fixed), grid, seed=seed)``.

    Examples
    --------
    >>> spec = SweepSpec(target="k_staleness", seed=0, fixed={"k": 1},
    ...                  grid={"n": [3], "r": [1, 2, 4], "w": [1]})
    >>> result = run_spec(spec, progress=False)
    >>> result.frame[["r", "p_within_k"]].round(3).values.tolist()
    [[1.0, 0.333], [2.0, 0.667]]
    >>> result.skipped.to_dict("records")
    [{'n': 3, 'r': 4, 'w': 1, 'reason': 'r=4 > n=3'}]
    """
    points = list(iter_points(spec.grid))  # bounded when the spec was made
    keep, skipped = _feasible(spec, points)
    tasks = [t for k, t in enumerate(plan(points, spec.seed, spec.replications))
             if keep[k // spec.replications]]
    fn = get_target(spec.target).bind(spec.fixed)
    frames, stats = run_tasks(fn, tasks, executor=executor, store=store,
                              batch_size=spec.batch_size, progress=progress)
    frame = pd.concat(frames, ignore_index=True)
    return SweepResult(frame, skipped, stats.computed, stats.reused, stats.seconds)
