"""Computing ahead of the user: a worker process in a kernel, a thread elsewhere, or off."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbclient import NotebookClient

from replab.widgets._prefetch import Prefetcher, nearby_values, prefetch_enabled


@pytest.fixture
def prefetch_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLAB_PREFETCH", "on")


def _wait_done(cache: Prefetcher, keys: list[tuple[int, ...]], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        futures = [cache._futures.get(k) for k in keys]
        if all(f is not None and f.done() for f in futures):
            return
        time.sleep(0.01)
    raise AssertionError(f"not computed ahead within {timeout_s} s: {keys}")


def test_prefetcher_computes_once_and_ahead(prefetch_on: None) -> None:
    calls: list[int] = []
    lock = threading.Lock()

    def slow_square(x: int) -> int:
        with lock:
            calls.append(x)
        time.sleep(0.05)
        return x * x

    cache = Prefetcher(slow_square)  # outside a kernel: a thread
    assert cache.get(3) == 9 and cache.get(3) == 9
    cache.warm([(4,), (5,)])
    _wait_done(cache, [(4,), (5,)])
    assert cache.get(5) == 25 and cache.get(4) == 16
    assert sorted(calls) == [3, 4, 5]  # each once: the gets found the warm ones


def test_a_get_takes_over_a_queued_guess(prefetch_on: None) -> None:
    release = threading.Event()
    calls: list[int] = []

    def gated(x: int) -> int:
        calls.append(x)
        if x == 1:
            release.wait(10)  # the background is busy with the first guess
        return -x

    cache = Prefetcher(gated)
    cache.warm([(1,), (2,), (3,)])
    assert cache.get(3) == -3  # queued behind 1: computed here at once, not waited for
    assert list(cache._pending) == [(2,)]
    cache.warm([(4,)])  # the user moved on: the old guesses are dropped
    release.set()
    _wait_done(cache, [(1,), (4,)])
    assert list(cache._pending) == [] and sorted(calls) == [1, 3, 4]


def test_prefetch_off_computes_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    cache = Prefetcher(lambda x: calls.append(x) or x)
    for off in ("off", "0", "no", ""):
        monkeypatch.setenv("REPLAB_PREFETCH", off)
        assert not prefetch_enabled()
        cache.warm([(1,), (2,)])
        time.sleep(0.05)
        assert calls == [] and not cache._futures
    assert cache.get(2) == 2 and calls == [2]
    monkeypatch.delenv("REPLAB_PREFETCH")
    assert prefetch_enabled()


def test_prefetcher_remembers_and_reraises_errors() -> None:
    def bad(x: int) -> int:
        raise ValueError(f"bad {x}")

    cache = Prefetcher(bad)
    for _ in range(2):
        with pytest.raises(ValueError, match="bad 1"):
            cache.get(1)


def test_a_failed_guess_is_computed_again_and_raises_here(prefetch_on: None) -> None:
    def bad(x: int) -> int:
        raise ValueError(f"bad {x}")

    cache = Prefetcher(bad)
    cache.warm([(7,)])
    _wait_done(cache, [(7,)])
    with pytest.raises(ValueError, match="bad 7"):
        cache.get(7)


def test_prefetcher_keeps_results_on_disk_between_kernels(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("REPLAB_CACHE", str(tmp_path))
    calls: list[tuple[int, str]] = []

    def power(x: int, how: str) -> int:
        calls.append((x, how))
        return x ** 2 if how == "square" else x ** 3

    assert Prefetcher(power, disk="power").get(3, "square") == 9
    fresh = Prefetcher(power, disk="power")  # a new kernel: nothing in memory
    assert fresh.get(3, "square") == 9 and fresh.get(3, "cube") == 27
    assert calls == [(3, "square"), (3, "cube")]  # the other arguments are computed
    assert len(list(tmp_path.rglob("*.pickle"))) == 2


def test_background_must_be_named() -> None:
    with pytest.raises(ValueError, match="background must be 'process' or 'thread', "
                                         "got 'gpu'"):
        Prefetcher(abs, background="gpu")


KERNEL_CELL = """
import json, math, os, time
import replab.widgets._prefetch as p
cache = p.Prefetcher(math.factorial)
cache.warm([(20,), (30,)])
deadline = time.monotonic() + 60
while time.monotonic() < deadline and not all(
        k in cache._futures and cache._futures[k].done() for k in [(20,), (30,)]):
    time.sleep(0.02)
pids = list(p._POOL._processes) if p._POOL else []
print(json.dumps({
    "background": [getattr(cache._futures[k], "replab_background", False) for k in [(20,), (30,)]],
    "values": [cache.get(20), cache.get(30)],
    "kernel": os.getpid(), "workers": pids,
    "nice": [os.getpriority(os.PRIO_PROCESS, pid) - os.getpriority(os.PRIO_PROCESS, 0)
             for pid in pids],
}))
"""


def test_in_a_kernel_guesses_run_in_one_niced_worker_process(monkeypatch) -> None:
    monkeypatch.setenv("REPLAB_PREFETCH", "on")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(KERNEL_CELL)])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    got = json.loads(nb.cells[0].outputs[0]["text"])
    assert got["background"] == [True, True]
    assert got["values"] == [2432902008176640000, 265252859812191058636308480000000]
    assert len(got["workers"]) == 1 and got["workers"][0] != got["kernel"]
    assert got["nice"] == [10]


def test_map_returns_in_order_and_shares_the_work(prefetch_on: None) -> None:
    where: dict[int, str] = {}

    def tagged(x: int) -> int:
        where[x] = threading.current_thread().name
        time.sleep(0.05)
        return 10 * x

    cache = Prefetcher(tagged)
    keys = [(i,) for i in range(6)]
    assert cache.map(keys) == [0, 10, 20, 30, 40, 50]
    assert where[0] == threading.current_thread().name  # the first key: computed here
    assert {"replab-warm"} & set(where.values())  # some taken by the background
    assert cache.map([]) == []


@given(value=st.integers(-5, 15), step=st.sampled_from([1, 2, 0.05]),
       direction=st.sampled_from([1, -1]), reach=st.integers(1, 3))
def test_nearby_values_stay_in_range_likeliest_first(value, step, direction, reach) -> None:
    low, high = 0, 10
    got = nearby_values(value, step, low, high, direction=direction, reach=reach)
    assert all(low <= x <= high for x in got) and len(set(got)) == len(got)
    assert len(got) <= 2 * reach and value not in got
    ahead = round(value + direction * step, 10)
    if low <= ahead <= high:
        assert got[0] == ahead


def test_the_worker_leaves_when_its_kernel_is_killed() -> None:
    import os
    import signal

    from jupyter_client import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(env={**os.environ, "REPLAB_PREFETCH": "on"})
    kc = km.client()
    kc.start_channels()
    out: list[str] = []
    try:
        kc.wait_for_ready(60)
        kc.execute_interactive(
            "import math, time, replab.widgets._prefetch as p\n"
            "c = p.Prefetcher(math.factorial); c.warm([(10,)])\n"
            "deadline = time.monotonic() + 60\n"
            "while p._POOL is None or not p._POOL._processes:\n"
            "    assert time.monotonic() < deadline; time.sleep(0.05)\n"
            "print(*p._POOL._processes)", timeout=90,
            output_hook=lambda m: out.append(m["content"].get("text", "")))
        (worker,) = (int(x) for x in "".join(out).split())
        os.kill(km.provisioner.process.pid, signal.SIGKILL)  # no shutdown for the worker
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(worker, signal.SIGKILL)  # never left behind, even when this fails
            raise AssertionError("the worker outlived its kernel")
    finally:
        kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)


def test_at_exit_the_current_guess_ends_and_no_other_starts(prefetch_on: None,
                                                             monkeypatch) -> None:
    from replab.widgets import _prefetch

    monkeypatch.setattr(_prefetch, "_THREADS", [])
    monkeypatch.setattr(_prefetch, "_STOPPING", threading.Event())
    started: list[int] = []

    def slow(x: int) -> int:
        started.append(x)
        time.sleep(0.3)
        return x

    cache = Prefetcher(slow)
    cache.warm([(1,)])
    deadline = time.monotonic() + 10
    while not started and time.monotonic() < deadline:
        time.sleep(0.01)
    cache._pending.append((2,))  # a guess queued behind the running one
    cache._thread_queue.put(((2,), cache._futures.setdefault((2,), Future())))
    _prefetch._stop_threads()  # what the interpreter runs at exit
    (thread, _), = _prefetch._THREADS
    assert not thread.is_alive() and started == [1]  # 1 finished, 2 never started
