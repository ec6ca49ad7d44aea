"""Issue 21: the explorer's background worker never dies of the kernel's shutdown SIGINT."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from replab.widgets._prefetch import submit_shielded

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def signals_blocked(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("SigBlk")), 16)


def test_the_worker_is_spawned_with_sigint_blocked_and_the_caller_keeps_its_mask():
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    try:
        pid = submit_shielded(pool, os.getpid).result(timeout=60)
        assert signals_blocked(pid) & (1 << (signal.SIGINT - 1))
        os.kill(pid, signal.SIGINT)  # what a kernel's shutdown sends its process group
        assert submit_shielded(pool, os.getpid).result(timeout=60) == pid  # still alive
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == before
