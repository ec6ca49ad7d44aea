"""The lab's vocabulary (importing it costs nothing: the CLI builds its choices from it).

``MODES``: replication modes; ``COMMIT_LEVELS``: ``synchronous_commit`` in the synchronous
modes; ``ROUTINGS``: where reads go (:mod:`replab.real.postgres.workload`); ``FAULTS``.
"""

__all__ = ["MODES", "COMMIT_LEVELS", "ROUTINGS", "FAULTS"]

MODES = ("async", "sync", "semi-sync")
COMMIT_LEVELS = ("on", "remote_write", "remote_apply")
ROUTINGS = ("standby", "primary", "own-writes-primary", "wait-lsn", "sticky")
FAULTS = ("none", "stall", "failover")
