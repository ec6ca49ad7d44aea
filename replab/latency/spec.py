"""The text spec that names a distribution on the command line (see ``replab.latency``)."""


from __future__ import annotations

import math
import re
from typing import Any

from replab.errors import ConfigError
from replab.latency.distributions import (
    Constant,
    Distribution,
    Empirical,
    Exponential,
    LogNormal,
    Mixture,
    Pareto,
    Shifted,
    Uniform,
)
from replab.latency.table import profile_names

__all__ = ["parse_spec", "MAX_MEAN_MS"]


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_FAMILIES: dict[str, tuple[type, int]] = {
    "const": (Constant, 1),
    "constant": (Constant, 1),
    "exp": (Exponential, 1),
    "pareto": (Pareto, 2),
    "lognormal": (LogNormal, 2),
    "uniform": (Uniform, 2),
}


def _spec_error(spec: str, why: str) -> ConfigError:
    return ConfigError(
        "The 'latency' parameter must be a profile name "
        f"({', '.join(profile_names())}) or a spec such as 'exp:0.1', 'pareto:0.235,10', "
        f"'5+exp:0.1' or '0.9*exp:1|0.1*const:50' ({why}). Got {spec!r} instead."
    )


def parse_spec(spec: str) -> Distribution:
    """Parse a one-distribution text spec (see the module docstring).

    >>> parse_spec("exp:0.5").mean
    2.0
    >>> parse_spec("0.5*const:1|0.5*const:3").mean
    2.0
    """
    if not isinstance(spec, str) or not spec.strip():
        raise _spec_error(str(spec), "empty")
    text = spec.strip()
    if "|" in text:
        weights, comps = [], []
        for part in text.split("|"):
            m = re.fullmatch(rf"\s*({_NUM})\s*\*\s*(.+)", part)
            if not m:
                raise _spec_error(spec, f"mixture part {part.strip()!r} needs WEIGHT*SPEC")
            weights.append(float(m.group(1)))
            comps.append(_parse_single(m.group(2), spec))
        try:
            return _checked_mean(Mixture(tuple(weights), tuple(comps)), spec)
        except ConfigError as e:
            if str(e).startswith("The 'latency'"):
                raise
            raise _spec_error(spec, str(e).split(". Got")[0]) from None
    return _checked_mean(_parse_single(text, spec), spec)


#: The longest mean delay a spec may ask for: 10^12 ms (about 31 years). Longer ones are
#: typos, and their sums overflow to inf inside the estimators.
MAX_MEAN_MS = 1e12


def _checked_mean(dist: Distribution, spec: str) -> Distribution:
    mean = dist.mean
    if math.isfinite(mean) and abs(mean) > MAX_MEAN_MS:
        raise _spec_error(spec, f"its mean delay {mean:.3g} ms is beyond {MAX_MEAN_MS:.0e} ms")
    return dist


def _parse_single(text: str, whole: str) -> Distribution:
    text = text.strip()
    m = re.fullmatch(rf"({_NUM})\s*\+\s*(.+)", text)
    if m:
        base = _parse_single(m.group(2), whole)
        return _build(Shifted, (float(m.group(1)), base), whole)
    fam, _, args = text.partition(":")
    fam = fam.strip().lower()
    if fam == "empirical":
        if not args.strip():
            raise _spec_error(whole, "empirical needs a CSV path")
        return Empirical.from_csv(args.strip())
    if fam not in _FAMILIES:
        raise _spec_error(whole, f"unknown family {fam!r}")
    cls, arity = _FAMILIES[fam]
    parts = [a.strip() for a in args.split(",")] if args.strip() else []
    if len(parts) != arity:
        raise _spec_error(whole, f"{fam} takes {_count(arity)}, {len(parts)} given")
    for part in parts:
        if not re.fullmatch(_NUM, part):
            raise _spec_error(whole, f"{part!r} in {fam} is not a finite number")
    return _build(cls, tuple(float(p) for p in parts), whole)


def _count(arity: int) -> str:
    return "1 number" if arity == 1 else f"{arity} numbers"


def _build(cls: type, args: tuple[Any, ...], whole: str) -> Distribution:
    try:
        dist: Distribution = cls(*args)
    except ConfigError as e:
        raise _spec_error(whole, str(e).split(". Got")[0]) from None
    return dist


