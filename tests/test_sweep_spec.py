"""Sweep specs: validation messages, skipping infeasible points, targets, the oracle."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from replab.errors import ConfigError
from replab.quorum import availability, k_staleness, staleness
from replab.sweep import sweep
from replab.sweeps.spec import (
    TARGETS,
    SweepSpec,
    load_spec,
    register_target,
    run_spec,
    spec_from_dict,
    target_names,
)

FIXED = {"latency": "LNKD-SSD", "t": [0, 1, 10], "trials": 2000}
EXAMPLE = """
[sweep]
target = "staleness"
seed = 7
replications = 1
[fixed]
latency = "LNKD-SSD"
t = [0, 1, 10]
trials = 2000
[grid]
n = [3]
r = [1, 2, 3]
w = [1, 2, 3]
"""


def _spec(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sweep": {"target": "staleness", "seed": 7},
        "fixed": dict(FIXED),
        "grid": {"n": [3], "r": [1, 2], "w": [1]},
    }
    for dotted, value in overrides.items():
        table, _, key = dotted.partition("__")
        if key:
            data[table][key] = value
        else:
            data[table] = value
    return data


def test_example_spec_equals_the_plain_sweep(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(EXAMPLE)
    spec = load_spec(path)
    assert spec.grid == {"n": [3], "r": [1, 2, 3], "w": [1, 2, 3]}
    result = run_spec(spec, progress=False)
    oracle = sweep(functools.partial(staleness, **FIXED), spec.grid, seed=7, progress=False)
    pd.testing.assert_frame_equal(result.frame, oracle)
    assert (result.computed, result.reused, len(result.skipped)) == (9, 0, 0)


def test_infeasible_points_are_skipped_and_recorded() -> None:
    spec = spec_from_dict(_spec(grid={"n": [2, 3], "r": {"from": 1, "to": 3}, "w": [2]}))
    result = run_spec(spec, progress=False)
    assert result.skipped.to_dict("records") == [
        {"n": 2, "r": 3, "w": 2, "reason": "r=3 > n=2"},
    ]
    assert result.frame[["n", "r"]].drop_duplicates().values.tolist() == [
        [2, 1], [2, 2], [3, 1], [3, 2], [3, 3]
    ]


def test_skipping_does_not_move_the_seeds_of_other_points() -> None:
    spec = spec_from_dict(_spec(grid={"n": [2, 3], "r": [1, 3], "w": [1, 2]}))
    got = run_spec(spec, progress=False).frame[["n", "r", "w", "seed"]].drop_duplicates()
    every = sweep(lambda n, r, w, seed: {}, spec.grid, seed=7, progress=False)
    feasible = every[(every.r <= every.n) & (every.w <= every.n)]
    assert got.values.tolist() == feasible.values.tolist()


def test_replications_in_a_spec() -> None:
    spec = spec_from_dict(_spec(sweep__replications=3))
    frame = run_spec(spec, progress=False).frame
    assert frame.replication.tolist() == [j for _ in range(2) for j in range(3) for _ in "ttt"]
    oracle = sweep(functools.partial(staleness, **FIXED), spec.grid, seed=7, replications=3,
                   progress=False)
    pd.testing.assert_frame_equal(frame, oracle)


def test_every_registered_target_runs() -> None:
    fixed = {
        "staleness": FIXED,
        "t_visibility": {"latency": "LNKD-SSD", "p": [0.9], "trials": 1000},
        "latency_percentiles": {"latency": "LNKD-SSD", "trials": 1000},
        "fresh_read_probability": {"latency": "exp:0.5", "t": [0], "p_fail": 0.0,
                                   "trials": 1000},
        "availability": {"p_fail": [0.1, 0.2]},
        "availability_correlated": {"groups": [0, 0, 1], "p_group": 0.1, "trials": 1000},
        "k_staleness": {"k": 2},
    }
    assert set(fixed) == {n for n, t in TARGETS.items() if t.model is None}  # estimators
    for name, params in fixed.items():
        spec = SweepSpec(target=name, seed=1, grid={"n": [3], "r": [1, 4], "w": [2]},
                         fixed=params)
        result = run_spec(spec, progress=False)
        assert len(result.skipped) == 1 and len(result.frame) > 0, name
        assert list(result.frame.columns[:3]) == ["n", "r", "w"], name
    k = run_spec(SweepSpec(target="k_staleness", seed=1, grid={"n": [3], "r": [1], "w": [1]},
                           fixed={"k": 2}), progress=False).frame
    assert k.p_within_k[0] == pytest.approx(k_staleness(3, 1, 1, 2))
    a = run_spec(SweepSpec(target="availability", seed=1, grid={"n": [3], "r": [2], "w": [2]},
                           fixed={"p_fail": [0.1]}), progress=False).frame
    pd.testing.assert_frame_equal(a.drop(columns=["n", "r", "w", "seed"]),
                                  availability(3, 2, 2, [0.1]))


def test_register_a_new_target() -> None:
    def toy(n: int, scale: float = 1.0, *, seed: int) -> dict[str, float]:
        return {"value": n * scale}

    register_target("toy_model", toy, check=None)
    try:
        spec = SweepSpec(target="toy_model", seed=0, grid={"n": [1, 2]}, fixed={"scale": 2.0})
        assert run_spec(spec, progress=False).frame.value.tolist() == [2.0, 4.0]
    finally:
        del TARGETS["toy_model"]


ALLOWED = ", ".join(repr(t) for t in target_names())
MESSAGES = [
    (_spec(sweep__target="stalness"),
     f"The 'sweep.target' parameter of SweepSpec must be one of {ALLOWED}. "
     "Got 'stalness' instead."),
    (_spec(sweep={"target": "staleness"}),
     "The sweep spec has no 'sweep.seed': add `seed = ...` under [sweep] (an int in "
     "[0, inf); the same seed gives the same results)."),
    (_spec(sweep__seed=-1),
     "The 'sweep.seed' parameter of SweepSpec must be an int in [0, inf). Got -1 instead."),
    (_spec(sweep__replications=0),
     "The 'sweep.replications' parameter of SweepSpec must be an int in [1, inf). "
     "Got 0 instead."),
    (_spec(sweep__skip_invalid="yes"),
     "The 'sweep.skip_invalid' parameter of SweepSpec must be a bool. Got 'yes' instead."),
    (_spec(sweep__batch_size=0),
     "The 'sweep.batch_size' parameter of SweepSpec must be 'auto' or an int in [1, inf). "
     "Got 0 instead."),
    (_spec(sweep__seeed=1),
     "Unknown field 'sweep.seeed' in the sweep spec; known fields: batch_size, executor, "
     "replications, seed, skip_invalid, target."),
    ({**_spec(), "grdi": {}},
     "Unknown table [grdi] in the sweep spec; known tables: [sweep], [fixed], [grid]."),
    (_spec(grid={}),
     "The 'grid' parameter of SweepSpec must be a non-empty table of parameter = [values]. "
     "Got {} instead."),
    (_spec(grid__r=[]),
     "The 'grid.r' parameter of SweepSpec must be a non-empty list of values or a "
     "{from, to, step} table of ints. Got [] instead."),
    (_spec(grid__r=2),
     "The 'grid.r' parameter of SweepSpec must be a non-empty list of values or a "
     "{from, to, step} table of ints. Got 2 instead."),
    (_spec(grid__r={"from": 3, "to": 1}),
     "The 'grid.r.to' parameter of SweepSpec must be an int in [3, inf). Got 1 instead."),
    (_spec(grid__q=[1]),
     "Unknown parameter 'q' in [grid] of the sweep spec; target 'staleness' takes n, r, w, "
     "latency, t, k, trials."),
    (_spec(fixed__seed=3),
     "The sweep sets each point's seed from sweep.seed; remove 'seed' from [fixed]."),
    (_spec(fixed__n=3),
     "Parameter 'n' is in both [grid] and [fixed] of the sweep spec; keep one."),
    (_spec(fixed={"t": [0]}),
     "Target 'staleness' needs parameter 'latency'; give it in [fixed] or [grid] of the "
     "sweep spec."),
]


@pytest.mark.parametrize(("data", "message"), MESSAGES)
def test_bad_specs_name_the_field(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        spec_from_dict(data)


def test_infeasible_points_without_skip_invalid() -> None:
    with pytest.raises(ConfigError, match=re.escape(
        "Grid point n=3, r=4, w=1 is invalid: r=4 > n=3. Set skip_invalid = true in "
        "[sweep] to skip such points."
    )):
        run_spec(spec_from_dict(_spec(sweep__skip_invalid=False, grid__r=[1, 4])))
    with pytest.raises(ConfigError, match=re.escape(
        "Every grid point of the sweep spec is invalid, e.g. n=2, r=3, w=3: r=3 > n=2 and "
        "w=3 > n=2."
    )):
        run_spec(spec_from_dict(_spec(grid={"n": [2], "r": [3], "w": [3]})))
    with pytest.raises(ConfigError, match=re.escape(
        "The 'n' parameter of SweepSpec must be an int in [1, inf). Got '3' instead."
    )):
        run_spec(spec_from_dict(_spec(grid__n=["3"])))


def test_spec_files_that_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=re.escape(
        f"The sweep spec {str(missing)!r} does not exist."
    )):
        load_spec(missing)
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep\ntarget = 1\n")
    with pytest.raises(ConfigError, match=re.escape(
        f"The sweep spec {str(bad)!r} is not valid TOML: "
    )):
        load_spec(bad)
