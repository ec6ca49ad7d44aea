"""The notebook client polls in short steps, so a missed zmq wake-up cannot stall a cell."""

import asyncio
import time
from queue import Empty

import pytest

from replab import notebooks
from replab.notebooks import _poll_in_steps


class Channel:
    """A channel whose message is ready at ``ready_at`` but whose poll never wakes early."""

    def __init__(self, ready_at):
        self.ready_at = ready_at
        self.calls = []

    async def get_msg(self, timeout=None):
        self.calls.append(timeout)
        await asyncio.sleep(timeout)  # a missed edge: only the timeout ends the poll
        if time.monotonic() >= self.ready_at:
            return {"msg": "reply"}
        raise Empty


def test_a_ready_message_is_seen_within_one_step(monkeypatch):
    monkeypatch.setattr(notebooks, "_POLL_S", 0.05)
    ch = Channel(time.monotonic() + 0.12)
    _poll_in_steps(ch)
    t0 = time.monotonic()
    assert asyncio.run(ch.get_msg(timeout=30)) == {"msg": "reply"}
    assert time.monotonic() - t0 < 0.5  # not the 30 s timeout
    assert all(step <= 0.05 for step in ch.calls)


def test_empty_after_the_deadline_and_waits_forever_without_one(monkeypatch):
    monkeypatch.setattr(notebooks, "_POLL_S", 0.02)
    ch = Channel(time.monotonic() + 10)
    _poll_in_steps(ch)
    t0 = time.monotonic()
    with pytest.raises(Empty):
        asyncio.run(ch.get_msg(timeout=0.1))
    assert 0.09 <= time.monotonic() - t0 < 1.0
    later = Channel(time.monotonic() + 0.1)
    _poll_in_steps(later)
    assert asyncio.run(later.get_msg(timeout=None)) == {"msg": "reply"}
