import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.errors import ConfigError
from replab.latency import (
    Constant,
    Empirical,
    Exponential,
    LogNormal,
    Mixture,
    Pareto,
    Shifted,
    Uniform,
    WanLatency,
    WarsLatency,
    as_wars,
    parse_spec,
    profile,
    profile_names,
)

N = 200_000


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize(
    "dist, mean",
    [
        (Constant(2.5), 2.5),
        (Exponential(0.5), 2.0),
        (Pareto(1.0, 3.0), 1.5),
        (LogNormal(0.0, 0.5), math.exp(0.125)),
        (Uniform(1.0, 3.0), 2.0),
        (Shifted(5.0, Exponential(1.0)), 6.0),
        (Mixture((0.25, 0.75), (Constant(0.0), Constant(4.0))), 3.0),
    ],
)
def test_sample_means_match_closed_forms(dist, mean):
    x = dist.sample(rng(), N)
    assert x.shape == (N,)
    assert dist.mean == pytest.approx(mean)
    se = x.std() / math.sqrt(N)
    assert abs(x.mean() - mean) <= 5 * se + 1e-12


def test_pareto_minimum_and_tail():
    x = Pareto(0.235, 10).sample(rng(), N)
    assert x.min() >= 0.235
    # P(X > 2 xm) = 2^-alpha
    assert np.mean(x > 0.47) == pytest.approx(2.0**-10, abs=4e-4)


def test_exponential_is_rate_per_ms():
    x = Exponential(1.66).sample(rng(), N)
    assert np.mean(x) == pytest.approx(1 / 1.66, rel=0.02)


def test_shape_tuple_and_determinism():
    d = parse_spec("0.9*pareto:0.235,10|0.1*exp:1.66")
    a, b = d.sample(rng(3), (4, 5)), d.sample(rng(3), (4, 5))
    assert a.shape == (4, 5)
    np.testing.assert_array_equal(a, b)


def test_mixture_weights_are_respected():
    d = Mixture((0.3, 0.7), (Constant(1.0), Constant(2.0)))
    x = d.sample(rng(), N)
    assert np.mean(x == 1.0) == pytest.approx(0.3, abs=0.005)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("const:5", Constant(5.0)),
        ("exp:0.1", Exponential(0.1)),
        ("pareto:0.235,10", Pareto(0.235, 10.0)),
        ("lognormal:1,0.5", LogNormal(1.0, 0.5)),
        ("uniform:1,3", Uniform(1.0, 3.0)),
        ("5+exp:0.1", Shifted(5.0, Exponential(0.1))),
        ("0.5*const:1|0.5*exp:2", Mixture((0.5, 0.5), (Constant(1.0), Exponential(2.0)))),
    ],
)
def test_parse_spec(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    "spec, why",
    [
        ("exp:-1", "The 'rate' parameter of Exponential must be a finite number in (0, inf)"),
        ("exp:nan", "'nan' in exp is not a finite number"),
        ("exp:inf", "'inf' in exp is not a finite number"),
        ("exp:", "exp takes 1 number, 0 given"),
        ("pareto:1", "pareto takes 2 numbers, 1 given"),
        ("gauss:1", "unknown family 'gauss'"),
        ("0.5*exp:1|0.4*exp:2", "'weights' parameter of Mixture must sum to 1"),
        ("exp:1|exp:2", "mixture part 'exp:1' needs WEIGHT*SPEC"),
        ("", "empty"),
    ],
)
def test_bad_specs_name_the_problem(spec, why):
    with pytest.raises(ConfigError) as e:
        parse_spec(spec)
    msg = str(e.value)
    assert msg.startswith("The 'latency' parameter must be a profile name")
    assert why in msg
    assert msg.endswith(f"Got {spec!r} instead.")


def test_distribution_parameter_errors_are_exact():
    with pytest.raises(ConfigError, match=re.escape(
        "The 'alpha' parameter of Pareto must be a finite number in (0, inf). Got -2 instead."
    )):
        Pareto(1.0, -2)
    with pytest.raises(ConfigError, match=re.escape(
        "The 'value' parameter of Constant must be a finite number in [0, inf). "
        "Got nan instead."
    )):
        Constant(float("nan"))


def test_empirical_from_array_and_csv(tmp_path):
    e = Empirical(np.array([1.0, 2.0, 3.0]))
    x = e.sample(rng(), 1000)
    assert set(np.unique(x)) <= {1.0, 2.0, 3.0}
    p = tmp_path / "lat.csv"
    p.write_text("latency_ms\n1.5\n2.5\n")
    e2 = parse_spec(f"empirical:{p}")
    assert isinstance(e2, Empirical)
    np.testing.assert_array_equal(e2.values, [1.5, 2.5])
    p2 = tmp_path / "noheader.csv"
    p2.write_text("4\n5\n")
    np.testing.assert_array_equal(Empirical.from_csv(p2).values, [4.0, 5.0])


def test_empirical_rejects_bad_input(tmp_path):
    with pytest.raises(ConfigError, match="must be a non-empty array"):
        Empirical(np.array([1.0, -1.0]))
    with pytest.raises(ConfigError, match="must be an existing CSV file"):
        Empirical.from_csv(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n1\nabc\n")
    with pytest.raises(ConfigError, match="non-numeric"):
        Empirical.from_csv(bad)


def test_profiles_match_reference_table():
    assert profile_names() == ["LNKD-SSD", "LNKD-DISK", "YMMR", "WAN"]
    ssd = profile("LNKD-SSD")
    expected = Mixture((0.9122, 0.0878), (Pareto(0.235, 10.0), Exponential(1.66)))
    assert ssd.W == ssd.A == ssd.R == ssd.S == expected
    disk = profile("lnkd-disk")
    assert disk.W == Mixture((0.38, 0.62), (Pareto(1.05, 1.51), Exponential(0.183)))
    assert disk.A == expected
    ymmr = profile("YMMR")
    assert ymmr.W == Mixture((0.939, 0.061), (Pareto(3.0, 3.35), Exponential(0.0028)))
    assert ymmr.S == Mixture((0.982, 0.018), (Pareto(1.5, 3.8), Exponential(0.0217)))
    wan = profile("WAN")
    assert isinstance(wan, WanLatency) and wan.wan_delay_ms == 75.0 and wan.W == disk.W


def test_unknown_profile():
    with pytest.raises(ConfigError, match=re.escape(
        "The 'profile' parameter must be one of LNKD-SSD, LNKD-DISK, YMMR, WAN. "
        "Got 'nope' instead."
    )):
        profile("nope")


def test_wars_sample_layout_and_wan_legs():
    m = WanLatency(Constant(1.0), Constant(1.0), Constant(1.0), Constant(1.0), wan_delay_ms=75)
    W, A, R, S = m.sample(rng(), 1000, 3)
    assert W.shape == (3, 1000)
    # Exactly one replica per trial is local to the writer, one to the reader.
    assert np.all((W == 1.0).sum(axis=0) == 1)
    assert np.all((R == 1.0).sum(axis=0) == 1)
    assert set(np.unique(W)) == {1.0, 76.0}
    np.testing.assert_array_equal(W, A)
    np.testing.assert_array_equal(R, S)


def test_as_wars_accepts_every_form():
    assert as_wars("LNKD-SSD").name == "LNKD-SSD"
    assert as_wars("exp:1").W == Exponential(1.0)
    assert as_wars(Constant(1.0)).S == Constant(1.0)
    m = WarsLatency.iid(Constant(2.0))
    assert as_wars(m) is m
    four = as_wars((Exponential(1.0), "const:0", Constant(0.0), "exp:2"))
    assert (four.W, four.A, four.R, four.S) == (
        Exponential(1.0), Constant(0.0), Constant(0.0), Exponential(2.0))
    assert as_wars({"W": "exp:1", "A": "exp:1", "R": "exp:1", "S": "exp:1"}).A == Exponential(1.0)
    for bad in (42, ("exp:1", "exp:1"), (1, 2, 3, 4)):
        with pytest.raises(ConfigError, match="The 'latency' parameter must be"):
            as_wars(bad)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.01, 100), st.floats(0.5, 20), st.integers(0, 2**32 - 1))
def test_pareto_never_below_scale(xm, alpha, seed):
    assert Pareto(xm, alpha).sample(np.random.default_rng(seed), 500).min() >= xm
