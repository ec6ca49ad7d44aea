"""Sweeps on Dask distributed give the serial result for the same seed."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from replab.cli import main
from replab.errors import ConfigError
from replab.quorum import staleness
from replab.sweep import dask_client, sweep
from replab.sweeps.spec import SweepSpec, run_spec

STALENESS = functools.partial(staleness, latency="LNKD-SSD", t=[0.0, 1.0, 10.0], trials=3_000)
GRID = {"n": [3, 5], "r": [1, 2, 3], "w": [1, 3]}


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    """A two-worker local cluster on 127.0.0.1, stopped after this module."""
    with dask_client(workers=2, processes=False) as c:
        yield c


def test_dask_matches_serial(client) -> None:  # type: ignore[no-untyped-def]
    assert len(client.nthreads()) == 2
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    serial = sweep(STALENESS, GRID, seed=21, progress=False)
    for batch_size in (1, 4, "auto"):
        on_dask = sweep(STALENESS, GRID, seed=21, executor=client, batch_size=batch_size,
                        progress=False)
        pd.testing.assert_frame_equal(serial, on_dask)


def test_existing_cluster_by_address_with_a_store(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    serial = sweep(STALENESS, GRID, seed=4, replications=2, progress=False)
    with dask_client(client.scheduler.address) as remote:
        stored = sweep(STALENESS, GRID, seed=4, replications=2, executor=remote,
                       store=tmp_path, batch_size=3, progress=False)
    pd.testing.assert_frame_equal(serial, stored)


def test_spec_on_dask_matches_serial_spec(client) -> None:  # type: ignore[no-untyped-def]
    spec = SweepSpec(target="staleness", seed=7, grid={"n": [3], "r": [1, 2, 4], "w": [1, 2]},
                     fixed={"latency": "LNKD-SSD", "t": [0, 5], "trials": 2000})
    serial = run_spec(spec, progress=False)
    on_dask = run_spec(spec, executor=client, progress=False)
    pd.testing.assert_frame_equal(serial.frame, on_dask.frame)
    assert len(on_dask.skipped) == 2


def test_cli_on_a_running_scheduler(client, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "spec.toml"
    spec.write_text(
        '[sweep]\ntarget = "staleness"\nseed = 3\n[fixed]\nlatency = "LNKD-SSD"\n'
        't = [0, 2]\ntrials = 2000\n[grid]\nn = [3]\nr = [1, 2]\nw = [1, 2]\n'
    )
    assert main(["sweep", str(spec), "--format", "csv", "--no-progress"]) == 0
    serial = capsys.readouterr().out
    assert main(["sweep", str(spec), "--scheduler", client.scheduler.address, "--format",
                 "csv", "--no-progress"]) == 0
    assert capsys.readouterr().out == serial


def test_unreachable_scheduler_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Could not reach the Dask scheduler at "
                                          "'tcp://127.0.0.1:1'"), \
            dask_client("tcp://127.0.0.1:1", timeout=0.5):
        pass


def _chunk_faults() -> int:
    """Page faults of a chunk's arrays (n = 3) drawn after three drawn and dropped."""
    import resource

    import numpy as np

    for _ in range(3):
        a, b = np.ones((3, 1 << 20)), np.ones((3, 1 << 20))
        del a, b
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    a, b = np.ones((3, 1 << 20)), np.ones((3, 1 << 20))
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del a, b
    return faults


def test_local_workers_allocate_as_the_commands_do() -> None:
    # replab's own workers keep freed chunk memory (as `replab staleness` does with
    # mallopt), unless malloc_trim asks for Dask's default, which gives it back
    import os

    import dask
    import distributed  # noqa: F401  (loads Dask's distributed config)

    from replab.sweeps.executors import KEEP_FREED

    def env() -> tuple[str | None, str | None]:
        return (os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                os.environ.get("MALLOC_MMAP_THRESHOLD_"))

    dask_default = dask.config.get("distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_")
    with dask_client(workers=1) as c:
        assert list(c.run(env).values()) == [(str(KEEP_FREED["MALLOC_TRIM_THRESHOLD_"]),
                                              str(KEEP_FREED["MALLOC_MMAP_THRESHOLD_"]))]
        kept = list(c.run(_chunk_faults).values())[0]
    with dask_client(workers=1, malloc_trim=True) as c:
        assert list(c.run(env).values()) == [(str(dask_default), None)]
        given_back = list(c.run(_chunk_faults).values())[0]
    if given_back >= 200:  # else this kernel maps the arrays in with few faults anyway
        assert kept < 50
    assert "MALLOC_MMAP_THRESHOLD_" not in os.environ  # the nanny's settings stay its own
