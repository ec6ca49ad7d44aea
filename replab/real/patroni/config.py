"""The Patroni lab's settings: one frozen config a run (importing it costs nothing).

``MODES``: ``async`` (Patroni's default) or ``sync`` (``synchronous_mode: true``: a commit
waits for the synchronous standby, and only it may be promoted). ``FAULTS``:

- ``none``;
- ``pause-leader``: SIGSTOP the leader's Patroni and every PostgreSQL process of it for
  ``pause_s`` (a frozen VM or a long GC pause), then SIGCONT: the chapter's leader that
  comes back still believing it leads;
- ``kill-leader``: SIGKILL the leader's postmaster (Patroni restarts it in place: not a
  failover);
- ``pause-replica``: freeze a replica the same way (no failover; a synchronous leader waits
  for it until Patroni picks another synchronous standby);
- ``stop-leader``: SIGKILL the leader's Patroni and PostgreSQL together (the machine died;
  it is started again after ``pause_s``, and rejoins with pg_rewind).
"""

from __future__ import annotations

from dataclasses import dataclass

from replab.validate import check_choice, check_float, check_int, fail

__all__ = ["PatroniConfig", "MODES", "FAULTS", "MIN_TTL_S"]

MODES = ("async", "sync")
FAULTS = ("none", "pause-leader", "kill-leader", "pause-replica", "stop-leader")
MIN_TTL_S = 20.0  # Patroni refuses a smaller ttl
_OWNER = "PatroniConfig"


@dataclass(frozen=True, kw_only=True)
class PatroniConfig:
    """One run of the Patroni lab (times in seconds).

    ``ttl``, ``loop_wait`` and ``retry_timeout`` are Patroni's own (``loop_wait +
    2 * retry_timeout <= ttl``, as Patroni requires). Clients write for ``duration_s``; the
    fault starts at ``fault_at_s`` and lasts ``pause_s``. Each write waits at most
    ``op_timeout_s`` for its answer (then it is ``info``: its outcome is unknown).
    """

    nodes: int = 3
    mode: str = "async"
    ttl: float = 20.0
    loop_wait: float = 2.0
    retry_timeout: float = 5.0
    fault: str = "pause-leader"
    pause_s: float = 22.0
    fault_at_s: float = 3.0
    duration_s: float = 40.0
    clients: int = 4
    think_ms: float = 20.0
    op_timeout_s: float = 60.0
    settle_s: float = 60.0

    def __post_init__(self) -> None:
        o = _OWNER
        check_int(self.nodes, "nodes", o, low=3, high=5)
        check_choice(self.mode, "mode", o, MODES)
        check_float(self.ttl, "ttl", o, low=MIN_TTL_S, high=3600.0)
        check_float(self.loop_wait, "loop_wait", o, low=1.0, high=600.0)
        check_float(self.retry_timeout, "retry_timeout", o, low=3.0, high=600.0)
        if self.loop_wait + 2 * self.retry_timeout > self.ttl:
            raise fail("loop_wait", o, f"<= (ttl - 2 * retry_timeout) = "
                       f"{self.ttl - 2 * self.retry_timeout:g} (Patroni's rule)", self.loop_wait)
        check_choice(self.fault, "fault", o, FAULTS)
        check_float(self.pause_s, "pause_s", o, low=0.0, high=3600.0)
        check_float(self.fault_at_s, "fault_at_s", o, low=0.0, high=3600.0)
        check_float(self.duration_s, "duration_s", o, low=1.0, high=7200.0)
        check_int(self.clients, "clients", o, low=1, high=32)
        check_float(self.think_ms, "think_ms", o, low=0.0, high=10_000.0)
        check_float(self.op_timeout_s, "op_timeout_s", o, low=0.5, high=3600.0)
        check_float(self.settle_s, "settle_s", o, low=5.0, high=3600.0)
        if self.fault != "none" and self.fault_at_s >= self.duration_s:
            raise fail("fault_at_s", o, f"< duration_s={self.duration_s:g} when there is a "
                       "fault", self.fault_at_s)
