"""replab: a research workbench for database replication.

Estimators (``replab.quorum``) and, built on the same vocabulary, simulations whose
histories feed consistency checkers.
"""

# The namespace is lazy (PEP 562): ``import replab`` costs milliseconds, and a name's module
# is imported when the name is first used. The command line relies on it: it takes over
# Ctrl-C before anything heavy is imported, so a Ctrl-C at any moment is one line.
from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from replab._version import __version__

if TYPE_CHECKING:
    from replab import checks, latency, models, quorum, replog, sim
    from replab.checks import check_history, linearizable
    from replab.errors import ConfigError, HistoryError, ReplabError
    from replab.history import History
    from replab.latency import as_wars, parse_spec, profile, profile_names
    from replab.models import (
        LagAnomalyConfig,
        LeaderlessConfig,
        MultiLeaderConfig,
        PartitionedConfig,
        SingleLeaderConfig,
        anomaly_sweep,
        simulate_lag_anomalies,
        simulate_leaderless,
        simulate_multi_leader,
        simulate_partitioned,
        simulate_single_leader,
    )
    from replab.quorum import (
        availability,
        availability_correlated,
        fresh_read_probability,
        k_staleness,
        latency_percentiles,
        simulate_wars,
        staleness,
        t_visibility,
    )
    from replab.replog import ReplogConfig, simulate_replog
    from replab.sweep import sweep
    from replab.sweeps.model_sweep import sweep_model
    from replab.sweeps.spec import SweepSpec, load_spec, run_spec
    from replab.sweeps.summary import summarize

#: public name -> the module that defines it (``"replab"``: the name is a subpackage)
_LAZY = {
    "checks": "replab",
    "latency": "replab",
    "models": "replab",
    "quorum": "replab",
    "replog": "replab",
    "sim": "replab",
    "check_history": "replab.checks",
    "linearizable": "replab.checks",
    "ConfigError": "replab.errors",
    "HistoryError": "replab.errors",
    "ReplabError": "replab.errors",
    "History": "replab.history",
    "as_wars": "replab.latency",
    "parse_spec": "replab.latency",
    "profile": "replab.latency",
    "profile_names": "replab.latency",
    "LagAnomalyConfig": "replab.models",
    "LeaderlessConfig": "replab.models",
    "MultiLeaderConfig": "replab.models",
    "PartitionedConfig": "replab.models",
    "SingleLeaderConfig": "replab.models",
    "anomaly_sweep": "replab.models",
    "simulate_lag_anomalies": "replab.models",
    "simulate_leaderless": "replab.models",
    "simulate_multi_leader": "replab.models",
    "simulate_partitioned": "replab.models",
    "simulate_single_leader": "replab.models",
    "availability": "replab.quorum",
    "availability_correlated": "replab.quorum",
    "fresh_read_probability": "replab.quorum",
    "k_staleness": "replab.quorum",
    "latency_percentiles": "replab.quorum",
    "simulate_wars": "replab.quorum",
    "staleness": "replab.quorum",
    "t_visibility": "replab.quorum",
    "ReplogConfig": "replab.replog",
    "simulate_replog": "replab.replog",
    "sweep": "replab.sweep",
    "sweep_model": "replab.sweeps.model_sweep",
    "SweepSpec": "replab.sweeps.spec",
    "load_spec": "replab.sweeps.spec",
    "run_spec": "replab.sweeps.spec",
    "summarize": "replab.sweeps.summary",
}


class _Namespace(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        try:
            where = _LAZY[name]
        except KeyError:
            raise AttributeError(f"module 'replab' has no attribute {name!r}") from None
        module = importlib.import_module(f"replab.{name}" if where == "replab" else where)
        value = module if where == "replab" else getattr(module, name)
        super().__setattr__(name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        # importing the submodule replab.sweep must not hide the function replab.sweep
        if name == "sweep" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(_LAZY))


sys.modules[__name__].__class__ = _Namespace

__all__ = [
    "__version__",
    "ReplabError",
    "ConfigError",
    "HistoryError",
    "History",
    "checks",
    "check_history",
    "linearizable",
    "latency",
    "quorum",
    "profile",
    "profile_names",
    "parse_spec",
    "as_wars",
    "staleness",
    "t_visibility",
    "latency_percentiles",
    "simulate_wars",
    "fresh_read_probability",
    "k_staleness",
    "availability",
    "availability_correlated",
    "sweep",
    "sim",
    "models",
    "SingleLeaderConfig",
    "simulate_single_leader",
    "replog",
    "ReplogConfig",
    "simulate_replog",
    "SweepSpec",
    "load_spec",
    "run_spec",
    "LagAnomalyConfig",
    "simulate_lag_anomalies",
    "anomaly_sweep",
    "LeaderlessConfig",
    "simulate_leaderless",
    "PartitionedConfig",
    "simulate_partitioned",
    "MultiLeaderConfig",
    "simulate_multi_leader",
    "sweep_model",
    "summarize",
]
