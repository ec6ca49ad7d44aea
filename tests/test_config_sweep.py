import re
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
import pytest

from replab.errors import ConfigError
from replab.models import (
    MultiLeaderConfig,
    SingleLeaderConfig,
    sweep_multi_leader,
    sweep_single_leader,
)


def test_rows_per_point_and_repeat_and_executor_independent():
    base = SingleLeaderConfig(duration_ms=150.0)
    grid = {"mode": ["async", "sync"]}
    df = sweep_single_leader(base, grid, repeats=2, seed=3)
    assert df[["mode", "repeat"]].values.tolist() == [
        ["async", 0], ["async", 1], ["sync", 0], ["sync", 1]]
    assert df.seed.nunique() == 4 and "acked_writes_lost" in df
    with ProcessPoolExecutor(2) as ex:
        pd.testing.assert_frame_equal(
            df, sweep_single_leader(base, grid, repeats=2, seed=3, executor=ex))


@pytest.mark.parametrize("call, owner", [
    (lambda: sweep_single_leader(SingleLeaderConfig(), {"colour": [1]}), "sweep_single_leader"),
    (lambda: sweep_multi_leader(MultiLeaderConfig(), {"colour": [1]}), "sweep_multi_leader"),
])
def test_unknown_grid_field_names_the_owner(call, owner):
    with pytest.raises(ConfigError, match=re.escape(
            f"The 'grid' parameter of {owner} must be a dict naming config fields (")) as e:
        call()
    assert str(e.value).endswith("Got 'colour' instead.")


def test_repeats_must_be_positive():
    with pytest.raises(ConfigError, match=re.escape(
            "The 'repeats' parameter of sweep_single_leader must be an int in [1, inf). "
            "Got 0 instead.")):
        sweep_single_leader(SingleLeaderConfig(), {"mode": ["sync"]}, repeats=0)
