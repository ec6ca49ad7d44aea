"""Holding the postgres lab's clients before a crash (no server needed): a client between
operations is held at the gate; a writer blocked on a stalled synchronous standby is not
waited for (it returns only after the crash)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from replab.real.postgres import PgLabConfig, _Lab


def lab_with(started: list[float | None]) -> _Lab:
    lab = _Lab(None, PgLabConfig(clients=len(started), keys=len(started)))  # type: ignore[arg-type]
    lab.clients = [SimpleNamespace(write_started=s) for s in started]  # type: ignore[misc]
    return lab


def timed_hold(lab: _Lab, timeout_s: float) -> float:
    start = time.monotonic()
    lab.hold_clients(timeout_s=timeout_s)
    return time.monotonic() - start


def test_writers_blocked_on_a_stalled_standby_are_not_waited_for():
    now = time.monotonic()
    lab = lab_with([now - 1.0, now - 0.5])
    assert timed_hold(lab, timeout_s=5.0) < 0.5
    assert not lab.gate.open.is_set()  # the gate stays closed until release_clients


def test_clients_between_operations_are_waited_for_then_held():
    lab = lab_with([None, None])
    arrivals = [threading.Timer(0.2, lab.gate.wait, args=(5.0,)) for _ in range(2)]
    for timer in arrivals:
        timer.start()
    took = timed_hold(lab, timeout_s=5.0)
    lab.release_clients()
    for timer in arrivals:
        timer.join(5.0)
    assert 0.15 < took < 2.0


def test_a_write_in_progress_for_a_moment_is_waited_for_up_to_the_bound():
    """A write that started just now is not blocked yet (an async commit takes
    milliseconds): the hold waits for it, bounded by its timeout."""
    lab = lab_with([None])
    lab.clients[0].write_started = time.monotonic() + 60.0  # never 'blocked' in this test
    assert 0.25 < timed_hold(lab, timeout_s=0.3) < 1.5
