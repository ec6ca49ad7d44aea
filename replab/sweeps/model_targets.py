"""The simulation models (and the real-server labs) as sweep targets.

A model target's parameters are the model's settings, with the names, types and checks
of ``replab simulate MODEL --set`` (:mod:`replab.sweeps.settings`); one run returns the
model's flat ``metrics``. The real labs (``record-postgres``, ``record-mariadb``) start
servers, so they run one point at a time (``executor = "serial"``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from replab.errors import ConfigError
from replab.limits import check_simulation
from replab.models import (
    LagAnomalyConfig,
    LeaderlessConfig,
    MultiLeaderConfig,
    PartitionedConfig,
    SingleLeaderConfig,
    simulate_lag_anomalies,
    simulate_leaderless,
    simulate_multi_leader,
    simulate_partitioned,
    simulate_single_leader,
)
from replab.replog import ReplogConfig, simulate_replog
from replab.sweeps.settings import config_from_values, setting_names

__all__ = ["Model", "MODELS", "REAL_LABS", "model_named", "run_model", "model_check"]


@dataclass(frozen=True)
class Model:
    """A model a sweep can run: its config class and ``simulate(config, seed=)``."""

    name: str
    config_cls: type
    simulate: Callable[..., Any]
    real: bool = False  # starts real servers: one run at a time, on this machine

    @property
    def settings(self) -> list[str]:
        aliases = list(getattr(self.config_cls, "SETTING_ALIASES", {}))
        return setting_names(self.config_cls) + aliases


#: model name -> Model, as ``replab simulate`` names them
MODELS: dict[str, Model] = {
    m.name: m for m in (
        Model("single-leader", SingleLeaderConfig, simulate_single_leader),
        Model("replog", ReplogConfig, simulate_replog),
        Model("lag-anomalies", LagAnomalyConfig, simulate_lag_anomalies),
        Model("partitioned", PartitionedConfig, simulate_partitioned),
        Model("leaderless", LeaderlessConfig, simulate_leaderless),
        Model("multi-leader", MultiLeaderConfig, simulate_multi_leader),
    )
}


def _postgres() -> Model:
    from replab.real.postgres import PgLabConfig, run_postgres_lab

    return Model("record-postgres", PgLabConfig, run_postgres_lab, real=True)


def _mariadb() -> Model:
    from replab.real.mariadb import MariaDBConfig, run_mariadb

    return Model("record-mariadb", MariaDBConfig, run_mariadb, real=True)


#: the real-server labs, loaded when first asked for (their modules pull in drivers)
REAL_LABS: dict[str, Callable[[], Model]] = {
    "record-postgres": _postgres,
    "record-mariadb": _mariadb,
}


@functools.cache
def model_named(name: str) -> Model:
    """The model or lab called ``name`` (KeyError if there is none)."""
    return MODELS[name] if name in MODELS else REAL_LABS[name]()


def _flat(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, bool | int | float):
        return value
    return None if value is None or value == "" else str(value)


def _config(name: str, settings: Mapping[str, Any]) -> Any:
    model = model_named(name)
    return config_from_values(model.config_cls, settings, model.config_cls.__name__)


def run_model(name: str, *, seed: int, **settings: Any) -> dict[str, Any]:
    """One run of model ``name`` with ``settings``: its metrics, as a flat dict of numbers,
    bools and text (what the results store keeps)."""
    model = model_named(name)
    config = _config(name, settings)
    result = model.simulate(config, seed=seed)
    return {k: _flat(v) for k, v in result.metrics.items()}


def model_check(name: str) -> Callable[[Mapping[str, Any]], str | None]:
    """The feasibility check of a model's grid points (a picklable partial)."""
    return functools.partial(_check_point, name)


def _check_point(name: str, params: Mapping[str, Any]) -> str | None:
    """Why the point cannot run (its config's error), or None. A point beyond the
    simulation limits (``replab.limits``) is an error, not a point to skip."""
    try:
        config = _config(name, params)
    except ConfigError as e:
        return str(e)
    model = model_named(name)
    if not model.real:
        check_simulation(config, model.config_cls.__name__)
    return None
