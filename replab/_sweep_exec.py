"""Executors for sweeps: serial, threads, local processes and Dask distributed.

Dask is optional (``pip install 'replab[scale]'``) and imported only when asked for.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from replab.errors import ConfigError
from replab.validate import check_choice, check_int

__all__ = ["EXECUTORS", "dask_client", "open_executor", "is_dask_client", "worker_count"]

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
        memory when idle, slower NumPy-heavy points). Off by default.
    """
    distributed = _import_distributed()
    if address is not None:
        try:
            client = distributed.Client(address, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as e:
            raise ConfigError(
                f"Could not connect to the Dask scheduler at {address!r}: {e}"
            ) from e
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
    allocation page-fault (about 15 % slower sweeps), so replab's local workers keep glibc's
    default unless ``malloc_trim`` asks for Dask's."""
    import dask

    key = "distributed.nanny.pre-spawn-environ"
    env = dict(dask.config.get(key, default={}) or {})
    if not malloc_trim:
        env.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({key: env}):
        yield


@contextmanager
def open_executor(
    kind: str = "serial", *, workers: int | None = None, scheduler: str | None = None
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
        with dask_client(scheduler, workers=workers) as client:
            yield client
    else:
        pool_cls = ThreadPoolExecutor if kind == "threads" else ProcessPoolExecutor
        with pool_cls(max_workers=workers) as pool:
            yield pool
