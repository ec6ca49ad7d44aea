"""Moves from the page are updated off the kernel's message loop, and coalesced."""

from __future__ import annotations

import threading
import time

import ipywidgets as widgets
import pytest

from replab.widgets import _render
from replab.widgets._render import Updater, from_browser


@pytest.fixture
def in_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_render, "in_kernel", lambda: True)


def _wait(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("not within the time allowed")
        time.sleep(0.005)


def test_a_change_from_the_page_is_told_from_one_made_by_code() -> None:
    seen: list[bool] = []
    slider = widgets.IntSlider(0, min=0, max=10)
    slider.observe(lambda change: seen.append(from_browser(change)), names="value")
    slider.set_state({"value": 3})  # what the kernel does with the page's message
    slider.value = 4
    assert seen == [True, False]
    assert not from_browser(None) and not from_browser({"name": "value"})


def test_code_updates_synchronously_even_in_a_kernel(in_a_kernel: None) -> None:
    slider = widgets.IntSlider(0, min=0, max=10)
    got: list[int] = []
    updater = Updater(lambda: got.append(slider.value))
    slider.observe(updater, names="value")
    slider.value = 5
    assert got == [5] and updater.updates == 1 and updater._thread is None


def test_a_burst_of_moves_is_one_update_for_the_latest(in_a_kernel: None) -> None:
    slider = widgets.IntSlider(0, min=0, max=100)
    got: list[int] = []
    first_started = threading.Event()

    def slow_update() -> None:
        got.append(slider.value)  # an update reads the controls first
        first_started.set()
        time.sleep(0.2)

    updater = Updater(slow_update)
    slider.observe(updater, names="value")
    start = time.perf_counter()
    slider.set_state({"value": 1})
    first_started.wait(5)
    for v in range(2, 12):  # a held arrow key while the first update runs
        slider.set_state({"value": v})
    handed_over = time.perf_counter() - start
    _wait(lambda: got and got[-1] == 11 and updater.updates == 2)
    time.sleep(0.4)
    assert handed_over < 0.15  # the observer never waited for an update
    assert got == [1, 11] and updater.updates == 2  # not 11 updates


def test_the_update_thread_survives_an_error(in_a_kernel: None, capsys) -> None:
    slider = widgets.IntSlider(0, min=0, max=10)
    got: list[int] = []

    def update() -> None:
        if slider.value == 1:
            raise RuntimeError("boom")
        got.append(slider.value)

    updater = Updater(update)
    slider.observe(updater, names="value")
    slider.set_state({"value": 1})
    _wait(lambda: updater.updates == 1)
    slider.set_state({"value": 2})
    _wait(lambda: got == [2])


def test_an_explorer_updates_a_move_from_the_page(in_a_kernel: None) -> None:
    from replab.widgets.lag_anomalies import LagAnomalyExplorer

    e = LagAnomalyExplorer(lag_ms=50.0, lags=(0.0, 50.0), prefetch=False)
    first = e.image.value
    e.followers.set_state({"value": 3})
    _wait(lambda: e.result.sweep is not None and e._request.updates >= 1
          and e.image.value != first, timeout_s=60)
    assert e._request._thread is not None and not e.errors.outputs
