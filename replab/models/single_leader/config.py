"""What a single-leader run takes and gives: :class:`SingleLeaderConfig` and
:class:`SingleLeaderResult` (the cluster, its parts and the metrics all read these)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from replab.history import History
from replab.latency import Distribution
from replab.sim import as_distribution, as_faults
from replab.validate import check_bool, check_choice, check_float, check_int, check_prob, fail

__all__ = ["MODES", "SingleLeaderConfig", "SingleLeaderResult"]

MODES = ("async", "sync", "semi-sync")
_OWNER = "SingleLeaderConfig"


def _opt_time(value: Any, name: str) -> None:
    if value is not None:
        check_float(value, name, _OWNER, low=0.0)


@dataclass(frozen=True, kw_only=True)
class SingleLeaderConfig:
    """Every knob of a single-leader run (times in ms, rates per second).

    Replicas are ``0`` (the first leader) to ``followers``; the controller is ``"ctl"``;
    client sessions are ``"c0"``, ``"c1"``, ... Scenario knobs that are ``None`` are off.
    ``lag`` is the delay of replica-to-replica messages, ``net_delay`` of all others; what
    a node sent and is still on its way when it crashes is lost (it was in its buffers).
    ``read_from``: ``leader``, ``sticky`` (each session always reads the same replica)
    or ``random`` (any replica per read). ``lease_ms`` defaults to 0.75 *
    ``failover_timeout_ms``. ``partition_at_ms`` cuts the first leader and the even
    client sessions off from the other replicas, the controller and the odd sessions
    for ``partition_ms``.
    ``spike_rate`` is delay spikes per second per replica, each adding an exponential
    extra delay (mean ``spike_ms``) for an exponential time (mean ``spike_duration_ms``).
    ``faults`` is any extra schedule of ``(time, action, args)``.
    """

    mode: str = "async"
    followers: int = 2
    sync_followers: int = 1
    duration_ms: float = 2000.0
    write_rate: float = 100.0
    read_rate: float = 100.0
    read_from: str = "leader"
    keys: int = 10
    key_dist: str = "uniform"
    sessions: int = 8
    devices_per_user: int = 1
    lag: str | Distribution = "2+exp:0.2"
    net_delay: str | Distribution = "0.5+exp:2"
    loss: float = 0.0
    fifo: bool = True
    client_timeout_ms: float = 500.0
    heartbeat_interval_ms: float = 50.0
    failover_timeout_ms: float = 300.0
    election_window_ms: float = 20.0
    lease_ms: float | None = None
    sync_timeout_ms: float = 200.0
    leader_crash_at_ms: float | None = None
    leader_restart_after_ms: float | None = None
    follower_crash_at_ms: float | None = None
    follower_restart_after_ms: float | None = 300.0
    add_follower_at_ms: float | None = None
    snapshot_ms_per_key: float = 1.0
    partition_at_ms: float | None = None
    partition_ms: float = 1000.0
    pause_leader_at_ms: float | None = None
    pause_ms: float = 1000.0
    fencing: bool = True
    stonith: str = "off"
    stonith_delay_ms: float = 100.0
    spike_rate: float = 0.0
    spike_ms: float = 300.0
    spike_duration_ms: float = 100.0
    faults: tuple = ()
    sample_interval_ms: float = 10.0
    trace_messages: bool = False

    def __post_init__(self) -> None:
        o = _OWNER
        check_choice(self.mode, "mode", o, MODES)
        check_int(self.followers, "followers", o, low=0, high=64)
        hi = max(self.followers, 1)
        check_int(self.sync_followers, "sync_followers", o, low=1, high=hi,
                  high_label=f"followers={self.followers}")
        if self.mode == "semi-sync" and self.followers == 0:
            raise fail("followers", o, "an int in [1, 64] in semi-sync mode", self.followers)
        check_float(self.duration_ms, "duration_ms", o, low=0.0, low_open=True)
        check_float(self.write_rate, "write_rate", o, low=0.0)
        check_float(self.read_rate, "read_rate", o, low=0.0)
        check_choice(self.read_from, "read_from", o, ("leader", "sticky", "random"))
        check_int(self.keys, "keys", o, low=1)
        check_choice(self.key_dist, "key_dist", o, ("uniform", "zipf"))
        check_int(self.sessions, "sessions", o, low=1)
        check_int(self.devices_per_user, "devices_per_user", o, low=1)
        for name in ("lag", "net_delay"):
            try:
                as_distribution(getattr(self, name), o)
            except ValueError as e:
                raise fail(name, o, "a latency spec such as '2+exp:0.2', a number of ms or "
                           "a Distribution", getattr(self, name)) from e
        check_prob(self.loss, "loss", o)
        check_bool(self.fifo, "fifo", o)
        for name in ("client_timeout_ms", "heartbeat_interval_ms", "failover_timeout_ms",
                     "sync_timeout_ms", "sample_interval_ms"):
            check_float(getattr(self, name), name, o, low=0.0, low_open=True)
        for name in ("election_window_ms", "snapshot_ms_per_key", "partition_ms", "pause_ms",
                     "stonith_delay_ms", "spike_rate", "spike_ms", "spike_duration_ms"):
            check_float(getattr(self, name), name, o, low=0.0)
        if self.lease_ms is not None:
            check_float(self.lease_ms, "lease_ms", o, low=0.0, low_open=True)
        for name in ("leader_crash_at_ms", "leader_restart_after_ms", "follower_crash_at_ms",
                     "follower_restart_after_ms", "add_follower_at_ms", "partition_at_ms",
                     "pause_leader_at_ms"):
            _opt_time(getattr(self, name), name)
        if self.follower_crash_at_ms is not None and self.followers == 0:
            raise fail("follower_crash_at_ms", o, "None when there are no followers",
                       self.follower_crash_at_ms)
        check_bool(self.fencing, "fencing", o)
        check_choice(self.stonith, "stonith", o, ("off", "naive", "epoch"))
        check_bool(self.trace_messages, "trace_messages", o)
        try:
            as_faults(self.faults)
        except ValueError as e:
            raise fail("faults", o, "a list of (time, action, args) faults", self.faults) from e


@dataclass(frozen=True)
class SingleLeaderResult:
    """What a run produced.

    Attributes
    ----------
    config : SingleLeaderConfig
    history : History -- every client operation (``version = epoch * 10**9 + lsn``;
        the lsn doubles as the row's auto-increment id).
    metrics : dict -- flat: counts, ``write_availability`` (acknowledged writes over
        writes requested, including those abandoned in a session queue; + Wilson CI),
        ``acked_writes_lost``, lag, failovers, ``split_brain_writes``,
        ``external_id_conflicts``, latency percentiles ``write_p50_ms`` ...
    lag : DataFrame -- columns :data:`LAG_COLUMNS`, one row per follower per sample.
    events : DataFrame -- the event log (crashes, partitions, elections, truncations,
        catch-ups; messages too with ``trace_messages``), columns ``time, end_time,
        kind, node, peer, epoch, detail``.
    lost : DataFrame -- the history rows of acknowledged writes that were lost.
    """

    config: SingleLeaderConfig
    history: History
    metrics: dict[str, Any]
    lag: pd.DataFrame
    events: pd.DataFrame
    lost: pd.DataFrame


