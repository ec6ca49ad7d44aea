"""The results store: exact round trips, atomic parts, resuming after a failure."""

from __future__ import annotations

import functools
import itertools
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import replab
from replab.errors import ConfigError
from replab.quorum import staleness
from replab.sweep import sweep
from replab.sweeps.store import ResultStore, fn_identity, point_key

STALENESS = functools.partial(staleness, latency="LNKD-SSD", t=[0.0, 2.0], trials=2_000)
GRID = {"n": [3], "r": [1, 2, 3], "w": [1, 2, 3]}

# Injected failure: raise once this many points have run in the current process.
_BUDGET: dict[str, Any] = {"calls": 0, "fail_after": None}


def flaky(a: int, b: float, seed: int) -> dict[str, Any]:
    if _BUDGET["fail_after"] is not None and _BUDGET["calls"] >= _BUDGET["fail_after"]:
        raise RuntimeError("injected failure")
    _BUDGET["calls"] += 1
    rng = np.random.default_rng(seed)
    return {"x": float(rng.normal()), "label": f"p{a}", "big": bool(b > 0.5)}


FLAKY_GRID = {"a": [1, 2, 3, 4, 5], "b": [0.25, 0.75]}


def _fail_after(k: int | None) -> None:
    _BUDGET.update(calls=0, fail_after=k)


def test_store_round_trip_is_exact_and_reused(tmp_path: Path) -> None:
    memory = sweep(STALENESS, GRID, seed=1, progress=False)
    stored = sweep(STALENESS, GRID, seed=1, store=tmp_path, batch_size=2, progress=False)
    pd.testing.assert_frame_equal(memory, stored)
    assert len(ResultStore(tmp_path)) == 9
    assert len(list(tmp_path.glob("part-*.csv"))) == 5
    again = sweep(STALENESS, GRID, seed=1, store=tmp_path, progress=False)
    pd.testing.assert_frame_equal(memory, again)
    assert len(list(tmp_path.glob("part-*.csv"))) == 5  # nothing recomputed


@pytest.mark.parametrize("batch_size", [1, 4, "auto"])
@pytest.mark.parametrize("fail_after", [0, 3, 7])
def test_injected_exception_then_resume_gives_the_serial_result(
    tmp_path: Path, fail_after: int, batch_size: int | str
) -> None:
    _fail_after(None)
    serial = sweep(flaky, FLAKY_GRID, seed=5, progress=False)
    _fail_after(fail_after)
    with pytest.raises(RuntimeError, match="injected failure"):
        sweep(flaky, FLAKY_GRID, seed=5, store=tmp_path, batch_size=batch_size,
              progress=False)
    assert len(ResultStore(tmp_path)) == fail_after  # every finished point was kept
    _fail_after(None)
    resumed = sweep(flaky, FLAKY_GRID, seed=5, store=tmp_path, batch_size=batch_size,
                    progress=False)
    assert _BUDGET["calls"] == 10 - fail_after  # only the missing points ran
    pd.testing.assert_frame_equal(serial, resumed)
    assert not resumed.duplicated(["a", "b"]).any()


def test_failure_on_a_process_pool_then_resume(tmp_path: Path) -> None:
    _fail_after(None)
    serial = sweep(flaky, FLAKY_GRID, seed=8, progress=False)
    _fail_after(2)  # each forked worker fails after its second point
    with ProcessPoolExecutor(2) as pool, pytest.raises(RuntimeError, match="injected"):
        sweep(flaky, FLAKY_GRID, seed=8, executor=pool, store=tmp_path, batch_size=1,
              progress=False)
    kept = len(ResultStore(tmp_path))
    assert 1 <= kept <= 4
    _fail_after(None)
    resumed = sweep(flaky, FLAKY_GRID, seed=8, store=tmp_path, progress=False)
    assert _BUDGET["calls"] == 10 - kept
    pd.testing.assert_frame_equal(serial, resumed)


def test_half_written_and_duplicate_parts_are_harmless(tmp_path: Path) -> None:
    memory = sweep(STALENESS, GRID, seed=2, progress=False)
    sweep(STALENESS, GRID, seed=2, store=tmp_path, batch_size=3, progress=False)
    (tmp_path / ".tmp-deadbeef").write_text("#replab-sweep-part 1 {trunc")  # killed mid-write
    part = sorted(tmp_path.glob("part-*.csv"))[0]
    (tmp_path / "part-zzzz-copy.csv").write_bytes(part.read_bytes())  # a racing writer
    store = ResultStore(tmp_path)
    assert not (tmp_path / ".tmp-deadbeef").exists()
    assert len(store) == 9
    again = sweep(STALENESS, GRID, seed=2, store=store, progress=False)
    pd.testing.assert_frame_equal(memory, again)


def test_keys_change_with_params_seed_function_and_version() -> None:
    fid = fn_identity(STALENESS)
    assert fid == ("replab.quorum.wars.staleness(latency='LNKD-SSD', t=[0.0, 2.0], "
                   "trials=2000)")
    base = point_key(fid, {"n": 3, "r": 1}, 7, replab.__version__)
    assert base == point_key(fid, {"r": 1, "n": 3}, 7, replab.__version__)
    others = [
        point_key(fid, {"n": 3, "r": 2}, 7, replab.__version__),
        point_key(fid, {"n": 3, "r": 1.0}, 7, replab.__version__),
        point_key(fid, {"n": 3, "r": 1}, 8, replab.__version__),
        point_key(fid + "x", {"n": 3, "r": 1}, 7, replab.__version__),
        point_key(fid, {"n": 3, "r": 1}, 7, "0.0.0"),
    ]
    assert len({base, *others}) == 6


def test_unstorable_columns_are_refused(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    with pytest.raises(ConfigError, match=re.escape(
        "The results store can keep numbers, bools and non-empty strings; column 'v' has "
        "dtype object with values [(1, 2)]."
    )):
        store.write(["k"], [pd.DataFrame({"v": [(1, 2)]})])
    with pytest.raises(ConfigError, match="column 'v' has dtype str with values"):
        store.write(["k"], [pd.DataFrame({"v": [""]})])
    assert len(store) == 0


def test_a_store_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("")
    with pytest.raises(ConfigError, match=re.escape(
        f"The 'store' parameter of sweep must be a folder. Got {str(f)!r} instead."
    )):
        ResultStore(f)


_fresh = itertools.count()
_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
_text = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8),
    st.sampled_from(["\r", "\n", "\r\n", '"', ",", " x ", "nan", "None", "True", "1.5", "\x00"]),
)


@st.composite
def frames(draw: Any) -> pd.DataFrame:
    rows = draw(st.integers(0, 4))
    cols: dict[str, Any] = {
        "i": draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=rows, max_size=rows)),
        "f": draw(st.lists(_floats, min_size=rows, max_size=rows)),
        "b": draw(st.lists(st.booleans(), min_size=rows, max_size=rows)),
        "s": draw(st.lists(st.one_of(st.none(), _text), min_size=rows, max_size=rows)),
    }
    df = pd.DataFrame(cols).astype({"i": "int64", "f": "float64", "b": "bool"})
    with np.errstate(over="ignore"):  # large doubles become inf in float32: fine
        df["f32"] = df["f"].astype("float32") if draw(st.booleans()) else df["f"]
    return df[draw(st.permutations(list(df.columns)))]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(batch=st.lists(frames(), min_size=1, max_size=4))
def test_any_storable_frames_round_trip_exactly(tmp_path: Path, batch: list[pd.DataFrame]) -> None:
    store = ResultStore(tmp_path / f"s{next(_fresh)}")
    keys = [f"k{i}" for i in range(len(batch))]
    store.write(keys, batch)
    back = ResultStore(store.path).load(reversed(keys))
    for key, frame in zip(keys, batch, strict=True):
        pd.testing.assert_frame_equal(back[key], frame.reset_index(drop=True))
