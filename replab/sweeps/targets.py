"""What a sweep spec can sweep: the estimators, every simulation model, the real labs.

An estimator target is a function whose parameters are the spec's names; a model target
(``single-leader``, ``leaderless``, ... as ``replab simulate`` names them) takes the model's
settings (:mod:`replab.sweeps.model_targets`). Later code adds targets with
:func:`register_target`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from replab.quorum import (
    availability,
    availability_correlated,
    fresh_read_probability,
    k_staleness,
    latency_percentiles,
    staleness,
    t_visibility,
)
from replab.sweeps.model_targets import MODELS, REAL_LABS, model_check, model_named, run_model
from replab.validate import check_int

__all__ = [
    "Target",
    "TARGETS",
    "register_target",
    "quorum_check",
    "k_staleness_point",
    "target_names",
    "get_target",
]

OWNER = "SweepSpec"


def quorum_check(params: Mapping[str, Any]) -> str | None:
    """Why an (n, r, w) point cannot be run (r or w above n), or None if it can.

    Values of the wrong kind are errors, not skippable points: ConfigError.
    """
    if not {"n", "r", "w"} <= params.keys():
        return None
    n = check_int(params["n"], "n", OWNER, low=1)
    r = check_int(params["r"], "r", OWNER, low=1)
    w = check_int(params["w"], "w", OWNER, low=1)
    too_big = [f"{name}={v} > n={n}" for name, v in (("r", r), ("w", w)) if v > n]
    return " and ".join(too_big) or None


def k_staleness_point(n: int, r: int, w: int, k: int = 1) -> dict[str, Any]:
    """:func:`replab.quorum.k_staleness` as a sweep row: ``k, p_within_k``."""
    return {"k": k, "p_within_k": k_staleness(n, r, w, k)}


def _unseeded(fn: Callable[..., Any], /, *, seed: int, **params: Any) -> Any:
    """Call a deterministic target, dropping the seed the sweep hands every point."""
    return fn(**params)


#: Estimator arguments that say where or how visibly a run happens, not what it computes.
_RUN_WHERE = ("executor", "progress")


@dataclass(frozen=True)
class Target:
    """A sweepable function, and how to tell grid points it cannot run.

    Attributes
    ----------
    fn : callable
        A module-level function returning a DataFrame or a dict for one point.
    check : callable, optional
        ``check(params)`` returns why a point is infeasible (skippable), or None.
    """

    fn: Callable[..., Any]
    check: Callable[[Mapping[str, Any]], str | None] | None = quorum_check
    model: str | None = None  # a simulation model or real lab: its settings are the names

    @property
    def seeded(self) -> bool:
        return self.model is not None or "seed" in self.parameters

    @property
    def parameters(self) -> list[str]:
        if self.model is not None:
            return model_named(self.model).settings
        # where a point runs is the spec's choice ([sweep] executor), never a point's own
        return [p for p in inspect.signature(self.fn).parameters if p not in _RUN_WHERE]

    @property
    def required(self) -> list[str]:
        if self.model is not None:
            return []  # every setting has a default
        sig = inspect.signature(self.fn).parameters
        return [p for p, v in sig.items() if v.default is inspect.Parameter.empty]

    @property
    def real(self) -> bool:
        """Starts real servers: one point at a time, serially."""
        return self.model is not None and model_named(self.model).real

    def bind(self, fixed: Mapping[str, Any]) -> Callable[..., Any]:
        """``fn`` with the fixed parameters bound, taking ``seed`` (picklable)."""
        if self.model is not None:
            return functools.partial(run_model, self.model, **fixed)
        if self.seeded:
            return functools.partial(self.fn, **fixed)
        return functools.partial(_unseeded, self.fn, **fixed)


def _model_target(name: str) -> Target:
    return Target(run_model, model_check(name), model=name)


TARGETS: dict[str, Target] = {
    "staleness": Target(staleness),
    "t_visibility": Target(t_visibility),
    "latency_percentiles": Target(latency_percentiles),
    "fresh_read_probability": Target(fresh_read_probability),
    "availability": Target(availability),
    "availability_correlated": Target(availability_correlated),
    "k_staleness": Target(k_staleness_point),
    **{name: _model_target(name) for name in MODELS},
}


def target_names() -> list[str]:
    """Every target a spec can name: estimators, models, real labs."""
    return sorted([*TARGETS, *REAL_LABS])


def get_target(name: str) -> Target:
    """The target called ``name`` (a real lab's modules are imported on first use)."""
    if name not in TARGETS and name in REAL_LABS:
        TARGETS[name] = _model_target(name)
    return TARGETS[name]


def register_target(
    name: str,
    fn: Callable[..., Any],
    *,
    check: Callable[[Mapping[str, Any]], str | None] | None = quorum_check,
) -> None:
    """Make ``fn`` sweepable from a spec as ``target = name``."""
    TARGETS[name] = Target(fn, check)
