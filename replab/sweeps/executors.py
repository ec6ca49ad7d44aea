"""Executors for sweeps: serial, threads, local processes and Dask distributed.

Dask is optional (``pip install 'replab[scale]'``) and imported only when asked for.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import struct
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from replab.errors import ConfigError
from replab.validate import check_choice, check_int

__all__ = ["EXECUTORS", "dask_client", "open_executor", "is_dask_client", "worker_count",
           "check_scheduler", "keep_freed_memory", "KEEP_FREED"]

#: glibc's malloc settings that keep a chunk's freed memory for the next chunk: arrays up to
#: 32 MiB (glibc's largest mmap threshold: a chunk's (n, 2**20) arrays up to n = 4) come
#: from the heap, and up to 1 GiB of freed heap is kept rather than given back.
KEEP_FREED = {"MALLOC_MMAP_THRESHOLD_": 32 << 20, "MALLOC_TRIM_THRESHOLD_": 1 << 30}


def keep_freed_memory() -> bool:
    """Let glibc keep the memory of freed chunks for the next chunk (this process and the
    workers it forks) instead of handing it back and faulting it in again, which costs up
    to 15 % of a chunk's CPU in kernel time. The peak is unchanged: every chunk needs the
    same memory. False where malloc is not glibc's (nothing changes there)."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, KEEP_FREED["MALLOC_MMAP_THRESHOLD_"])
                and mallopt(m_trim_threshold, KEEP_FREED["MALLOC_TRIM_THRESHOLD_"]))

EXECUTORS = ("serial", "threads", "processes", "dask")


def is_dask_client(executor: object) -> bool:
    """True for a ``dask.distributed.Client`` (without importing Dask otherwise)."""
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(executor, distributed.Client)


def worker_count(executor: Executor | Any | None) -> int:
    """How many tasks ``executor`` runs at once (1 when it cannot tell)."""
    if executor is None:
        return 1
    if is_dask_client(executor):
        client: Any = executor
        return max(1, sum(client.nthreads().values()))
    return max(1, int(getattr(executor, "_max_workers", 1) or 1))


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ConfigError(
            "Dask sweeps need dask[distributed]; install it with pip install 'replab[scale]'."
        ) from e
    return distributed


@contextmanager
def dask_client(
    address: str | None = None,
    *,
    workers: int | None = None,
    processes: bool = True,
    timeout: float = 10.0,
    malloc_trim: bool = False,
) -> Iterator[Any]:
    """A ``dask.distributed.Client``, closed (with its cluster) on exit.

    Parameters
    ----------
    address : str, optional
        A running scheduler, e.g. ``"tcp://10.0.0.5:8786"``. Without one, a
        ``LocalCluster`` is started; it listens on 127.0.0.1 only (random ports).
    workers : int, optional
        Local cluster only: single-threaded workers to start (default: one per CPU).
    processes : bool
        Local cluster only: workers in their own processes (True) or as threads of this
        one (False: starts in a fraction of a second, but shares the GIL).
    timeout : float
        Seconds to keep trying to reach ``address`` before a ConfigError.
    malloc_trim : bool
        Local cluster only: keep Dask's ``MALLOC_TRIM_THRESHOLD_`` in the workers (lower
        memory when idle, slower NumPy-heavy points). Off by default: the workers then
        allocate as replab's commands do (:data:`KEEP_FREED`).
    """
    distributed = _import_distributed()
    if address is not None:
        check_scheduler(address, timeout=timeout)
        try:
            client = distributed.Client(address, timeout=timeout)
        except (OSError, TimeoutError, ValueError, MemoryError) as e:
            raise ConfigError(
                f"Could not connect to the Dask scheduler at {address!r}: {e}"
            ) from None
        with client:
            yield client
        return
    n = check_int(workers if workers is not None else (os.cpu_count() or 1), "workers",
                  "dask_client", low=1)
    with _worker_environ(malloc_trim):
        cluster = distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=processes, host="127.0.0.1",
            protocol="tcp://", dashboard_address="127.0.0.1:0", silence_logs=logging.ERROR,
        )
    with cluster, distributed.Client(cluster) as client:
        yield client


@contextmanager
def _worker_environ(malloc_trim: bool) -> Iterator[None]:
    """Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536 so idle workers give memory
    back; the estimators allocate large short-lived arrays, and that setting makes every
    allocation page-fault (about 15 % slower sweeps), so replab's local workers allocate
    as its commands do (:data:`KEEP_FREED`) unless ``malloc_trim`` asks for Dask's."""
    import dask

    key = "distributed.nanny.pre-spawn-environ"
    env = dict(dask.config.get(key, default={}) or {})
    if not malloc_trim:
        env.update({name: str(value) for name, value in KEEP_FREED.items()})
    # The nanny sets these in this process's os.environ too: put it back as it was, so
    # that a later cluster, or a subprocess, does not inherit them.
    saved = {name: os.environ.get(name) for name in env}
    try:
        with dask.config.set({key: env}):
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def open_executor(
    kind: str = "serial", *, workers: int | None = None, scheduler: str | None = None,
    timeout: float = 10.0,
) -> Iterator[Executor | Any | None]:
    """The executor ``kind`` names, shut down on exit (``None`` for serial).

    ``kind`` is one of ``serial``, ``threads``, ``processes`` (a ProcessPoolExecutor) or
    ``dask`` (a Dask client: of the scheduler at ``scheduler``, else of a local cluster).
    ``workers`` defaults to the number of CPUs.
    """
    check_choice(kind, "executor", "open_executor", EXECUTORS)
    if workers is not None:
        check_int(workers, "workers", "open_executor", low=1)
    if kind == "serial":
        yield None
    elif kind == "dask":
        with dask_client(scheduler, workers=workers, timeout=timeout) as client:
            yield client
    elif kind == "threads":
        with ThreadPoolExecutor(max_workers=workers) as pool:
            yield pool
    else:  # a Ctrl-C goes to the whole process group: the parent alone answers it
        with ProcessPoolExecutor(max_workers=workers, initializer=ignore_sigint) as pool:
            yield pool


def ignore_sigint() -> None:
    """A worker process's initializer: leave Ctrl-C to the parent, which stops the pool
    (an idle worker would otherwise print a KeyboardInterrupt traceback of its own)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


#: The largest first message a Dask scheduler sends (its handshake: a few hundred bytes).
_MAX_HANDSHAKE = 1 << 20


def _host_port(address: str) -> tuple[str, str, int]:
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    host, colon, port = rest.rpartition(":")
    if not colon or not port.isdigit() or not 0 < int(port) < 65536 or not host:
        raise ConfigError(f"The '--scheduler' address must look like tcp://HOST:PORT. "
                          f"Got {address!r} instead.")
    return scheme, host.strip("[]"), int(port)


def check_scheduler(address: str, *, timeout: float = 10.0) -> None:
    """Make sure a Dask scheduler answers at ``address`` within ``timeout`` seconds.

    Dask's own client, pointed at a port that is not a scheduler, waits for minutes or
    reads a stranger's bytes as a frame length ("Unable to allocate 3.07 EiB"). A Dask
    scheduler speaks first: it sends its handshake, an 8-byte length and a small message,
    as soon as it accepts a connection. So: connect, and read those 8 bytes, both bounded
    by 30 % of ``timeout``. ConfigError names what went wrong.
    """
    scheme, host, port = _host_port(address)
    if scheme not in ("tcp", "tls"):
        return  # inproc:// and other transports: Dask's own timeout applies
    budget = timeout * 0.3  # the rest is left for Dask's own connection
    deadline = time.monotonic() + budget
    try:
        conn = socket.create_connection((host, port), timeout=budget)
    except TimeoutError:
        raise ConfigError(f"Could not reach the Dask scheduler at {address!r}: no answer "
                          f"within {budget:g} s.") from None
    except OSError as e:
        raise ConfigError(f"Could not reach the Dask scheduler at {address!r}: "
                          f"{e.strerror or e}.") from None
    with conn:
        if scheme == "tls":
            return  # the handshake is encrypted; the address at least answers
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            head = conn.recv(8, socket.MSG_WAITALL)
        except TimeoutError:
            head = None
        except OSError:
            head = b""
    size = struct.unpack("<Q", head)[0] if head and len(head) == 8 else None
    if size is None or not 0 < size <= _MAX_HANDSHAKE:
        why = (f"it sent no Dask handshake within {budget:g} s" if head is None
               else "it answered with something other than a Dask handshake")
        raise ConfigError(f"{address!r} is not a Dask scheduler: {why}.")
