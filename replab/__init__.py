"""replab: a research workbench for database replication.

Estimators (``replab.quorum``) and, built on the same vocabulary, simulations whose
histories feed consistency checkers.
"""

from replab import checks, latency, models, quorum, replog, sim
from replab._version import __version__
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
