"""The discrete-event kernel: ordering, cancel, run(until), errors, determinism."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.errors import ConfigError
from replab.sim import Simulation


def test_ties_run_in_scheduling_order():
    sim = Simulation()
    out = []
    for name in "abcde":
        sim.schedule(5.0, out.append, name)
    sim.schedule(1.0, out.append, "first")
    sim.run()
    assert out == ["first", "a", "b", "c", "d", "e"]
    assert sim.now == 5.0


def test_callbacks_scheduled_while_running_keep_time_order():
    sim = Simulation()
    out = []

    def chain(k):
        out.append((sim.now, k))
        if k < 3:
            sim.schedule(0.0, chain, k + 1)  # same time: after everything already due

    sim.schedule(1.0, chain, 0)
    sim.schedule(1.0, out.append, (1.0, "other"))
    sim.run()
    assert out == [(1.0, 0), (1.0, "other"), (1.0, 1), (1.0, 2), (1.0, 3)]


def test_cancel_skips_callback_and_is_idempotent():
    sim = Simulation()
    out = []
    h = sim.schedule(1.0, out.append, "cancelled")
    sim.schedule(2.0, out.append, "kept")
    sim.cancel(h)
    sim.cancel(h)
    sim.run()
    assert out == ["kept"]
    assert sim.events_processed == 1
    sim.cancel(h)  # after the run: harmless


def test_run_until_leaves_events_at_until_and_sets_clock():
    sim = Simulation()
    out = []
    for t in (1.0, 2.0, 3.0):
        sim.schedule(t, out.append, t)
    sim.run(until=2.0)
    assert out == [1.0]
    assert sim.now == 2.0
    assert sim.peek() == 2.0
    sim.run(until=2.5)
    assert out == [1.0, 2.0]
    sim.run()
    assert out == [1.0, 2.0, 3.0]
    assert sim.now == 3.0
    sim.run(until=10.0)  # nothing left: the clock still advances
    assert sim.now == 10.0
    assert sim.peek() == float("inf")


def test_schedule_at_absolute_time():
    sim = Simulation()
    out = []
    sim.schedule_at(4.0, lambda: out.append(sim.now))
    sim.run()
    assert out == [4.0]


@pytest.mark.parametrize("delay", [-1, float("nan"), float("inf")])
def test_bad_delay_is_rejected_with_its_value(delay):
    sim = Simulation()
    msg = (
        "The 'delay' parameter of Simulation.schedule must be a finite number in [0, inf). "
        f"Got {delay!r} instead."
    )
    with pytest.raises(ConfigError, match=re.escape(msg)):
        sim.schedule(delay, print)


def test_until_in_the_past_is_rejected():
    sim = Simulation()
    sim.schedule(5.0, lambda: None)
    sim.run()
    msg = (
        "The 'until' parameter of Simulation.run must be a finite number in [now=5.0, inf). "
        "Got 3 instead."
    )
    with pytest.raises(ConfigError, match=re.escape(msg)):
        sim.run(until=3)
    with pytest.raises(ConfigError, match=re.escape("Simulation.schedule_at must be")):
        sim.schedule_at(4.0, print)


def test_bad_seed_is_rejected():
    with pytest.raises(ConfigError, match="'seed' parameter"):
        Simulation(seed=-1)


def test_rng_is_seeded():
    a = Simulation(seed=3).rng.random(4)
    b = Simulation(seed=3).rng.random(4)
    assert np.array_equal(a, b)


def test_exception_in_callback_propagates_and_clock_stays():
    sim = Simulation()

    def boom():
        raise RuntimeError("boom")

    sim.schedule(1.0, boom)
    sim.schedule(2.0, print)
    with pytest.raises(RuntimeError, match="boom"):
        sim.run()
    assert sim.now == 1.0
    assert sim.peek() == 2.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=1, max_size=40),
)
def test_order_matches_a_stable_sort(items):
    """Oracle: the run order is the stable sort of (time) over scheduling order."""
    sim = Simulation()
    out = []
    handles = []
    for i, (t, cancel) in enumerate(items):
        handles.append((sim.schedule(float(t), out.append, i), cancel))
    for h, cancel in handles:
        if cancel:
            sim.cancel(h)
    sim.run()
    expected = [i for i, (t, c) in sorted(enumerate(items), key=lambda p: p[1][0]) if not c]
    assert out == expected
