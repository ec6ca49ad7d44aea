"""Results of slow pure functions, computed ahead of the user in a background process.

An explorer knows what the next key press will most likely ask for (one step of one
control). :class:`Prefetcher` computes those settings while the user looks at the figure,
so the press finds its result ready. The work runs in **one worker process** shared by
every explorer of the kernel, at a lower scheduling priority: a background thread would
hold the GIL against the very update the user is waiting for (on a 2-core machine that
doubled the worst slider moves), while a niced process uses the other core and yields
it to the browser.

``REPLAB_PREFETCH=off`` turns the background work off (the test suite does, to keep its
2 cores for the tests); results are then computed when asked for, and still cached.
"""

from __future__ import annotations

import atexit
import functools
import multiprocessing
import os
import queue
import signal
import sys
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from typing import Any

from replab.widgets import _disk

__all__ = ["Prefetcher", "nearby_values", "prefetch_enabled"]

_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_POOL_BROKEN = False


def prefetch_enabled() -> bool:
    """False when ``$REPLAB_PREFETCH`` is ``off`` (or ``0``, ``no``, empty)."""
    env = os.environ.get("REPLAB_PREFETCH")
    return env is None or env.strip().lower() not in ("", "off", "0", "no")


def _worker_init() -> None:
    # The worker's work is a guess about the future: the user's present comes first.
    if hasattr(os, "nice"):
        os.nice(10)
    # Interrupting the kernel (its process group) is not meant for the worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A killed kernel never tells its worker to stop (the worker holds both ends of its
    # task pipe, so it would wait forever): it leaves when its parent is gone.
    threading.Thread(target=_exit_with_parent, name="replab-orphan-guard",
                     daemon=True).start()


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        parent.join()  # returns when the parent's sentinel closes: it has exited
        os._exit(0)


def _pool() -> ProcessPoolExecutor | None:
    """The kernel's one background worker (spawned: forking a kernel's threads is unsafe)."""
    global _POOL, _POOL_BROKEN
    if multiprocessing.parent_process() is not None:
        return None  # a worker itself (or a script re-run by spawn): no pool of its own
    with _POOL_LOCK:
        if _POOL is None and not _POOL_BROKEN:
            try:
                _POOL = ProcessPoolExecutor(max_workers=1,
                                            mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_worker_init)
            except (OSError, ValueError):  # no processes here: compute on demand only
                _POOL_BROKEN = True
        return _POOL


def submit_shielded(pool: ProcessPoolExecutor, fn: Callable[..., Any], *args: Any
                    ) -> Future[Any]:
    """``pool.submit(fn, *args)`` with SIGINT blocked while it may spawn the worker.

    A kernel's shutdown interrupts its whole process group; a worker still starting up
    (importing, before its initializer ignores SIGINT) died of it and printed a
    KeyboardInterrupt traceback into ``replab reproduce``'s output (issue 21). A blocked
    signal mask is inherited by the spawned process, so the worker is shielded from birth.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return pool.submit(fn, *args)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _broken() -> None:
    global _POOL_BROKEN
    _POOL_BROKEN = True


_THREADS: list[tuple[threading.Thread, Any]] = []
_STOPPING = threading.Event()


@atexit.register
def _stop_threads() -> None:
    # A daemon thread still drawing or simulating when the interpreter finalises can
    # abort the process (C++ code under it): let the current guess end, start no other.
    _STOPPING.set()
    for _thread, tasks in _THREADS:
        tasks.put(None)
    for thread, _ in _THREADS:
        thread.join(timeout=30)


@atexit.register
def _stop_pool() -> None:
    # Queued guesses are dropped at exit; at most the one running is waited for.
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)


def nearby_values(value: float, step: float, low: float, high: float, *,
                  direction: int = 1, reach: int = 2) -> list[float]:
    """Slider values a next key press may pick, likeliest first: a user who just moved
    one way tends to go on, so ``direction``'s neighbours come before the others'.

    >>> nearby_values(3, 1, 1, 6, direction=-1)
    [2, 4, 1, 5]
    """
    out = []
    for k in range(1, reach + 1):
        for sign in (direction, -direction):
            x = value + sign * k * step
            if isinstance(step, float):
                x = round(x, 10)
            if low - 1e-12 <= x <= high + 1e-12:
                out.append(x)
    return out


def _importable(fn: Callable[..., Any]) -> bool:
    """Whether a worker process can import ``fn`` by name (pickle's way of sending it)."""
    name = getattr(fn, "__qualname__", "<lambda>")
    return "<lambda>" not in name and "<locals>" not in name


def compute(fn: Callable[..., Any], disk: str | None, args: tuple[Any, ...]) -> Any:
    """``fn(*args)``, through the disk cache named ``disk`` (None: no disk cache)."""
    if disk is None:
        return fn(*args)
    value = _disk.load(disk, args)
    if value is _disk.MISSING:
        value = fn(*args)
        _disk.store(disk, args, value)
    return value


class Prefetcher:
    """``get(*args)`` returns ``fn(*args)``, computed once; ``warm(keys)`` computes ahead.

    ``get`` returns at once when the result was computed (or prefetched) before, waits
    for the background when it is computing that very key now, and otherwise computes
    in the caller. ``warm(keys)`` queues the argument tuples a user is likely to pick
    next, most likely first, and drops queued ones no longer wanted; one key at a time
    is handed to the background, so a newer guess never waits behind a long queue.

    Parameters
    ----------
    fn : callable
        Pure; for ``background="process"`` a module-level function whose arguments and
        result pickle.
    maxsize : int
        Results kept in memory.
    disk : str, optional
        Also keep results on disk between kernels under this name (see
        :mod:`replab.widgets._disk`).
    background : {"process", "thread"}
        Where warmed keys are computed: the shared worker process, or a thread (for
        functions that do not pickle or release the GIL).
    """

    def __init__(self, fn: Callable[..., Any], *, maxsize: int = 64, disk: str | None = None,
                 background: str = "process") -> None:
        if background not in ("process", "thread"):
            raise ValueError(f"background must be 'process' or 'thread', got {background!r}")
        self.fn, self.maxsize, self.disk, self.background = fn, maxsize, disk, background
        self._futures: OrderedDict[tuple[Any, ...], Future[Any]] = OrderedDict()
        self._pending: deque[tuple[Any, ...]] = deque()  # warmed, not yet handed out
        self._running: tuple[Any, ...] | None = None  # the key the background computes
        self._lock = threading.RLock()
        self._thread_queue: queue.SimpleQueue[tuple[tuple[Any, ...], Future[Any]]] | None = \
            None

    # ------------------------------------------------------------------ foreground

    def get(self, *args: Any) -> Any:
        with self._lock:
            future = self._futures.get(args)
            if future is None and args in self._pending:
                self._pending.remove(args)  # asked for now: computed here, not queued
        if future is not None:
            if not getattr(future, "replab_background", False):
                return future.result()  # computed here before (a value or fn's error)
            try:
                return future.result()
            except (Exception, CancelledError):
                pass  # the background failed (or fn did): computed again here, below
        future = Future()
        try:
            future.set_result(compute(self.fn, self.disk, args))
        except Exception as e:  # remembered like a result; raised to every caller
            future.set_exception(e)
        self._store(args, future)
        return future.result()

    def known(self, *args: Any) -> bool:
        """Whether ``fn(*args)`` is computed, or being computed, already."""
        with self._lock:
            return args in self._futures

    def map(self, keys: list[tuple[Any, ...]]) -> list[Any]:
        """``[fn(*k) for k in keys]``, the background and this process working together.

        The background takes keys from the front (after ``keys[0]``), this process from
        the back, so on two cores a cold map takes about half as long. Guesses queued
        before are dropped (warm again after).
        """
        if not keys:
            return []
        self.warm(keys[1:])
        order = [keys[0], *reversed(keys[1:])]
        done = {key: self.get(*key) for key in order}
        return [done[key] for key in keys]

    def warm(self, keys: Iterable[tuple[Any, ...]]) -> None:
        """Compute ``keys`` (argument tuples, most likely first) in the background."""
        if not prefetch_enabled():
            return
        with self._lock:
            wanted = [k for k in dict.fromkeys(keys) if k not in self._futures]
            self._pending = deque(wanted)
        self._next()

    # ------------------------------------------------------------------ background

    def _next(self) -> None:
        """Hand the next pending key to the background if nothing of ours runs there."""
        with self._lock:
            if self._running is not None:
                return
            while self._pending and self._pending[0] in self._futures:
                self._pending.popleft()
            if not self._pending:
                return
            key = self._pending.popleft()
            self._running = key
            future = self._submit(key)
            if future is None:
                self._running = None
                self._pending.clear()
                return
            future.replab_background = True  # type: ignore[attr-defined]
            self._store(key, future)
        future.add_done_callback(functools.partial(self._finished, key))

    def _submit(self, key: tuple[Any, ...]) -> Future[Any] | None:
        # Spawning re-runs ``__main__``: safe in a kernel (its launcher is guarded), not in
        # any script, so outside a kernel the guesses run in a thread.
        if self.background == "thread" or "ipykernel" not in sys.modules \
                or not _importable(self.fn):
            return self._submit_thread(key)
        pool = _pool()
        if pool is None:
            return None
        try:
            return submit_shielded(pool, compute, self.fn, self.disk, key)
        except RuntimeError:  # shut down (interpreter exit) or broken: no more guesses
            _broken()
            return None

    def _submit_thread(self, key: tuple[Any, ...]) -> Future[Any]:
        if self._thread_queue is None:
            self._thread_queue = queue.SimpleQueue()
            # A daemon thread, stopped at exit after its current guess (see _stop_threads).
            thread = threading.Thread(target=self._thread_work, name="replab-warm",
                                      daemon=True)
            _THREADS.append((thread, self._thread_queue))
            thread.start()
        future: Future[Any] = Future()
        self._thread_queue.put((key, future))
        return future

    def _thread_work(self) -> None:
        assert self._thread_queue is not None
        while True:
            item = self._thread_queue.get()
            if item is None or _STOPPING.is_set():  # exiting: no new guess
                return
            key, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(compute(self.fn, self.disk, key))
            except Exception as e:  # remembered like a result; raised to every caller
                future.set_exception(e)

    def _finished(self, key: tuple[Any, ...], _future: Future[Any]) -> None:
        with self._lock:
            if self._running == key:
                self._running = None
        self._next()

    def _store(self, key: tuple[Any, ...], future: Future[Any]) -> None:
        with self._lock:
            self._futures[key] = future
            self._futures.move_to_end(key)
            while len(self._futures) > self.maxsize:
                self._futures.popitem(last=False)
