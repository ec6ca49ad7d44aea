from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pandas as pd
import pytest

from replab.errors import ConfigError
from replab.quorum import staleness
from replab.sweep import grid_points, sweep


def point(n, r, w, seed):
    return staleness(n, r, w, "LNKD-DISK", [0.0, 5.0], trials=2000, seed=seed)


def as_dict(n, seed):
    return {"double": 2 * n, "seed_seen": seed}


GRID = {"n": [3], "r": [1, 2], "w": [1, 2]}


def test_grid_points_order():
    assert grid_points({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]


def test_sweep_frame_shape_and_columns():
    df = sweep(point, GRID, seed=1)
    assert list(df.columns[:3]) == ["n", "r", "w"]
    assert df.columns[-1] == "seed"
    assert len(df) == 4 * 2
    assert df.seed.nunique() == 4


def test_dict_results_and_seed_passthrough():
    df = sweep(as_dict, {"n": [1, 2, 3]}, seed=5)
    assert df.double.tolist() == [2, 4, 6]
    assert (df.seed == df.seed_seen).all()


def test_results_do_not_depend_on_the_executor():
    serial = sweep(point, GRID, seed=9)
    with ThreadPoolExecutor(2) as ex:
        threads = sweep(point, GRID, seed=9, executor=ex)
    with ProcessPoolExecutor(2) as ex:
        procs = sweep(point, GRID, seed=9, executor=ex)
    pd.testing.assert_frame_equal(serial, threads)
    pd.testing.assert_frame_equal(serial, procs)


def test_same_seed_same_sweep_and_independent_points():
    a = sweep(point, GRID, seed=3)
    pd.testing.assert_frame_equal(a, sweep(point, GRID, seed=3))
    assert not a.equals(sweep(point, GRID, seed=4))


@pytest.mark.parametrize("grid", [{}, {"n": []}, {"n": "abc"}])
def test_bad_grid(grid):
    with pytest.raises(ConfigError, match="The 'grid' parameter of sweep must"):
        sweep(point, grid)


def test_bad_return_type():
    with pytest.raises(ConfigError, match="must return a DataFrame or a dict. Got int"):
        sweep(lambda n, seed: 1, {"n": [1]})
