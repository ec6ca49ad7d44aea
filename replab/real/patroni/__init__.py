"""Automatic failover, for real: a Patroni cluster where timeouts, split brain and lost
writes are measured.

:class:`PatroniCluster` runs n Patroni nodes (Raft as the DCS, no etcd) over the system's
PostgreSQL on 127.0.0.1, as ``postgres``; :func:`run_patroni` drives writers that follow
the leader, injects a fault (:data:`FAULTS`) and measures detection, unavailability, the
split-brain window, lost acknowledged writes (counted two ways), false failovers and the
old leader's rejoin. :mod:`replab.real.patroni.sweeps` repeats runs over pause lengths and
modes and puts the single-leader simulator beside them.
"""

from replab.real.patroni.cluster import PatroniCluster
from replab.real.patroni.config import FAULTS, MIN_TTL_S, MODES, PatroniConfig
from replab.real.patroni.interpreter import check_interpreter, patroni_python
from replab.real.patroni.lab import PatroniResult, load_result, run_patroni
from replab.real.patroni.measure import completed_writes, failover_metrics, leadership

__all__ = ["PatroniCluster", "PatroniConfig", "PatroniResult", "run_patroni", "FAULTS",
           "MODES", "MIN_TTL_S", "load_result", "check_interpreter", "patroni_python",
           "completed_writes", "failover_metrics", "leadership"]
