"""The sweep contract: grid order, columns, per-point seeds, executor independence."""

from __future__ import annotations

import functools
import re
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from replab.errors import ConfigError
from replab.quorum import staleness
from replab.rng import spawn_seeds
from replab.sweep import grid_points, open_executor, sweep

STALENESS = functools.partial(staleness, latency="LNKD-SSD", t=[0.0, 5.0], trials=2_000)
GRID = {"n": [3], "r": [1, 2, 3], "w": [1, 2]}


def noisy(a: int, b: str, seed: int) -> dict[str, float]:
    """A cheap stochastic point: its value depends on the seed alone."""
    return {"x": float(np.random.default_rng(seed).random()), "a_times_2": 2 * a}


def test_grid_order_columns_and_seeds() -> None:
    df = sweep(noisy, {"a": [1, 2], "b": ["u", "v", "w"]}, seed=11, progress=False)
    assert list(df.columns) == ["a", "b", "x", "a_times_2", "seed"]
    assert df[["a", "b"]].values.tolist() == [[a, b] for a in (1, 2) for b in "uvw"]
    expected = [
        int(s.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
        for s in spawn_seeds(11, 6)
    ]
    assert df.seed.tolist() == expected
    assert df.x.tolist() == [np.random.default_rng(s).random() for s in expected]
    assert df.seed.nunique() == 6


def test_same_seed_same_frame_other_seed_differs() -> None:
    a = sweep(STALENESS, GRID, seed=3, progress=False)
    pd.testing.assert_frame_equal(a, sweep(STALENESS, GRID, seed=3, progress=False))
    assert not a.equals(sweep(STALENESS, GRID, seed=4, progress=False))


def test_frame_rows_come_from_fn_with_the_point_seed() -> None:
    df = sweep(STALENESS, GRID, seed=5, progress=False)
    row = df[(df.r == 2) & (df.w == 1)].reset_index(drop=True)
    direct = STALENESS(3, 2, 1, seed=int(row.seed[0]))
    pd.testing.assert_frame_equal(row.drop(columns=["n", "r", "w", "seed"]), direct)


@pytest.mark.parametrize("batch_size", [1, 2, 5, "auto"])
def test_results_independent_of_executor_and_batching(batch_size: int | str) -> None:
    serial = sweep(STALENESS, GRID, seed=9, progress=False)
    with ThreadPoolExecutor(2) as pool:
        threads = sweep(STALENESS, GRID, seed=9, executor=pool, batch_size=batch_size,
                        progress=False)
    pd.testing.assert_frame_equal(serial, threads)
    pd.testing.assert_frame_equal(
        serial, sweep(STALENESS, GRID, seed=9, batch_size=batch_size, progress=False)
    )


def test_process_pool_matches_serial() -> None:
    serial = sweep(STALENESS, GRID, seed=9, progress=False)
    with ProcessPoolExecutor(2) as pool:
        procs = sweep(STALENESS, GRID, seed=9, executor=pool, batch_size=2, progress=False)
    pd.testing.assert_frame_equal(serial, procs)
    with open_executor("processes", workers=2) as pool:
        pd.testing.assert_frame_equal(
            serial, sweep(STALENESS, GRID, seed=9, executor=pool, progress=False)
        )


def test_replications_add_a_column_and_keep_replication_zero() -> None:
    single = sweep(noisy, {"a": [1, 2, 3], "b": ["u"]}, seed=2, progress=False)
    reps = sweep(noisy, {"a": [1, 2, 3], "b": ["u"]}, seed=2, replications=3,
                 progress=False)
    assert list(reps.columns) == ["a", "b", "replication", "x", "a_times_2", "seed"]
    assert reps[["a", "replication"]].values.tolist() == [
        [a, j] for a in (1, 2, 3) for j in range(3)
    ]
    first = reps[reps.replication == 0].drop(columns="replication").reset_index(drop=True)
    pd.testing.assert_frame_equal(first, single)
    assert reps.seed.nunique() == 9


def test_generator_seed_is_consumed_once() -> None:
    a = sweep(noisy, {"a": [1, 2], "b": ["u"]}, seed=np.random.default_rng(4), progress=False)
    b = sweep(noisy, {"a": [1, 2], "b": ["u"]}, seed=np.random.default_rng(4), progress=False)
    pd.testing.assert_frame_equal(a, b)


def test_progress_bar_appears_on_long_runs(capsys: pytest.CaptureFixture[str]) -> None:
    import time

    def slow(a: int, seed: int) -> dict[str, int]:
        time.sleep(0.3)
        return {"a2": a}

    sweep(slow, {"a": [1, 2, 3, 4]}, seed=0, batch_size=1)
    assert "4/4" in capsys.readouterr().err
    sweep(slow, {"a": [1, 2, 3, 4]}, seed=0, batch_size=1, progress=False)
    assert capsys.readouterr().err == ""


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ConfigError, match=re.escape(
        "The 'replications' parameter of sweep must be an int in [1, inf). Got 0 instead."
    )):
        sweep(noisy, {"a": [1], "b": ["u"]}, replications=0)
    with pytest.raises(ConfigError, match=re.escape(
        "The 'batch_size' parameter of sweep must be 'auto' or an int in [1, inf). "
        "Got 0 instead."
    )):
        sweep(noisy, {"a": [1], "b": ["u"]}, batch_size=0)
    with pytest.raises(ConfigError, match=re.escape("Got 'big' instead.")):
        sweep(noisy, {"a": [1], "b": ["u"]}, batch_size="big")
    with pytest.raises(ConfigError, match=re.escape(
        "must map each parameter to a non-empty list of values. Got a=[] instead."
    )):
        grid_points({"a": []})
    with pytest.raises(ConfigError, match="must return a DataFrame or a dict. Got float"):
        sweep(lambda a, seed: 1.0, {"a": [1]}, progress=False)
    with pytest.raises(ConfigError, match=re.escape(
        "The 'executor' parameter of open_executor must be one of 'serial', 'threads', "
        "'processes', 'dask'. Got 'mpi' instead."
    )), open_executor("mpi"):
        pass
