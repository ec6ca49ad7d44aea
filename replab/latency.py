"""Latency distributions and WARS latency models.

Every distribution draws with ``sample(rng, shape)`` from an explicit
``numpy.random.Generator`` and returns milliseconds as a float64 array.

A short text spec names a distribution on the command line:

==========================  ==============================================
``const:5``                 always 5 ms
``exp:0.1``                 exponential with rate 0.1 per ms (mean 10 ms)
``pareto:0.235,10``         Pareto(xm, alpha): ``xm / U**(1/alpha)``
``lognormal:1.0,0.5``       exp(N(mu, sigma)) ms
``uniform:1,3``             uniform on [1, 3) ms
``empirical:PATH.csv``      resampled from observed latencies
``5+exp:0.1``               shifted: 5 ms plus an exponential
``0.9*exp:1|0.1*const:50``  mixture: weights then ``*``, joined by ``|``
``LNKD-SSD``                a named profile (all four WARS delays)
==========================  ==============================================
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from replab.errors import ConfigError
from replab.validate import check_float

__all__ = [
    "Distribution",
    "Constant",
    "Exponential",
    "Pareto",
    "LogNormal",
    "Uniform",
    "Mixture",
    "Shifted",
    "Empirical",
    "WarsLatency",
    "WanLatency",
    "parse_spec",
    "profile",
    "profile_names",
    "as_wars",
]

Shape = int | tuple[int, ...]


@runtime_checkable
class Distribution(Protocol):
    """Anything with a vectorised ``sample(rng, shape)`` and a ``mean``."""

    def sample(self, rng: np.random.Generator, shape: Shape) -> np.ndarray: ...

    @property
    def mean(self) -> float: ...


@dataclass(frozen=True)
class Constant:
    """Always ``value`` ms."""

    value: float

    def __post_init__(self) -> None:
        check_float(self.value, "value", "Constant", low=0.0)

    def sample(self, rng: np.random.Generator, shape: Shape) -> np.ndarray:
        return np.full(shape, float(self.value))

    @property
    def mean(self) -> float:
        return float(self.value)


@dataclass(frozen=True)
class Exponential:
    """Exponential with ``rate`` per ms (mean ``1/rate`` ms)."""

    rate: float

    def __post_init__(self) -> None:
        check_float(self.rate, "rate", "Exponential", low=0.0, low_open=True)

    def sample(self, rng: np.random.Generator, shape: Shape) -> np.ndarray:
        out = rng.standard_exponential(shape)
        out *= 1.0 / self.rate
        return out

    @property
    def mean(self) -> float:
        return 1.0 / self.rate


@dataclass(frozen=True)
class Pareto:
    """Pareto with scale ``xm`` (the minimum) and shape ``alpha``: ``xm / U**(1/alpha)``."""

    xm: float
    alpha: float

    def __post_init__(self) -> None:
        check_float(self.xm, "xm", "Pareto", low=0.0, low_open=True)
        check_float(self.alpha, "alpha", "Pareto", low=0.0, low_open=True)

    def sample(self, rng: np.random.Generator, shape: Shape) -> np.ndarray:
        # 1 - random() lies in (0, 1], so the power never divides by zero.
        u = 1.0 - rng.random(shape)
        np.power(u, -1.0 / self.alpha, out=u)
        u *= self.xm
        return u

    @property
    def mean(self) -> float:
        return math.inf if self.alpha <= 1 else self.alpha * self.xm / (self.alpha - 1)


@dataclass(frozen=True)
class LogNormal:
    """``exp(N(mu, sigma))`` ms."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        check_float(self.mu, "mu", "LogNormal")
        check_float(self.sigma, "sigma", "LogNormal", low=0.0)

    def sample(self, rng: np.random.Generator, shape: Shape) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, shape)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)


@dataclass(frozen=True)
class Uniform:
    """Uniform on ``[low, high)`` ms."""

    low: float
    high: float

    def __post_init__(self) -> None:
        check_float(self.low, "low", "Uniform", low=0.0)
        check_float(self.high, "high", "Uniform", low=float(self.low))

    def sample(self, rng: np.random.Generator, shape: Shape) -> np.ndarray:
        return rng.uniform(self.low, self.high, shape)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2


@dataclass(frozen=True)
class Shifted:
    """``offset`` ms plus a draw from ``base``."""

    offset: float
    base: Distribution

    def __post_init__(self) -> None:
        check_float(self.offset, "offset", "Shifted", low=0.0)

    def sample(self, rng: np.random.Generator, shape: Shape) -> np.ndarray:
        out = self.base.sample(rng, shape)
        out += self.offset
        return out

    @property
    def mean(self) -> float:
        return self.offset + self.base.mean


@dataclass(frozen=True)
class Mixture:
    """Each sample comes from ``components[i]`` with probability ``weights[i]``."""

    weights: tuple[float, ...]
    components: tuple[Distribution, ...]

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.components) or not self.components:
            raise ConfigError(
                "The 'weights' parameter of Mixture must have one weight per component "
                f"(at least one). Got {len(self.weights)} weights for "
                f"{len(self.components)} components instead."
            )
        for w in self.weights:
            check_float(w, "weights", "Mixture", low=0.0)
        total = sum(self.weights)
        if not math.isclose(total, 1.0, rel_tol=0, abs_tol=1e-6):
            raise ConfigError(
                "The 'weights' parameter of Mixture must sum to 1. "
                f"Got {list(self.weights)!r} (sum {total:g}) instead."
            )

    def sample(self, rng: np.random.Generator, shape: Shape) -> np.ndarray:
        u = rng.random(shape)
        out = np.empty_like(u)
        edges = np.cumsum(self.weights)
        for i, comp in enumerate(self.components):
            if len(self.components) == 1:
                mask = np.ones(u.shape, dtype=bool)
            elif i == 0:
                mask = u < edges[0]
            elif i == len(self.components) - 1:
                mask = u >= edges[i - 1]
            else:
                mask = (u >= edges[i - 1]) & (u < edges[i])
            count = int(np.count_nonzero(mask))
            if count:
                out[mask] = comp.sample(rng, count)
        return out

    @property
    def mean(self) -> float:
        return float(sum(w * c.mean for w, c in zip(self.weights, self.components, strict=True)))


@dataclass(frozen=True, eq=False)
class Empirical:
    """Resamples (with replacement) from observed latencies ``values`` (ms)."""

    values: np.ndarray
    source: str = "array"

    def __post_init__(self) -> None:
        arr = np.asarray(self.values, dtype=float).ravel()
        if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ConfigError(
                "The 'values' parameter of Empirical must be a non-empty array of finite, "
                f"non-negative latencies. Got {arr.size} values from {self.source} instead."
            )
        object.__setattr__(self, "values", arr)

    @classmethod
    def from_csv(cls, path: str | Path, column: int | str = 0) -> Empirical:
        """Read observed latencies (ms) from one column of a CSV file (header optional)."""
        import pandas as pd

        p = Path(path)
        if not p.is_file():
            raise ConfigError(
                f"The 'path' parameter of Empirical.from_csv must be an existing CSV file. "
                f"Got {str(path)!r} instead."
            )
        try:
            df = pd.read_csv(p, header=None)
            if df.shape[0] and not _is_number(df.iloc[0, 0]):
                df = pd.read_csv(p)
            col = df[column] if isinstance(column, str) else df.iloc[:, column]
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
                KeyError, IndexError) as e:
            raise ConfigError(
                f"The 'path' parameter of Empirical.from_csv must name a CSV with one column "
                f"of latencies (ms). Got {str(path)!r}, which cannot be read as one "
                f"({type(e).__name__}), instead."
            ) from None
        vals = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        if np.isnan(vals).any():
            raise ConfigError(
                f"The 'path' parameter of Empirical.from_csv must name a CSV of numbers. "
                f"Got {str(path)!r}, which has non-numeric entries, instead."
            )
        return cls(vals, source=str(path))

    def sample(self, rng: np.random.Generator, shape: Shape) -> np.ndarray:
        idx = rng.integers(0, self.values.size, shape)
        return self.values[idx]

    @property
    def mean(self) -> float:
        return float(self.values.mean())

    def __repr__(self) -> str:
        return f"Empirical(<{self.values.size} values from {self.source}>)"


def _is_number(x: Any) -> bool:
    try:
        float(x)
    except (TypeError, ValueError):
        return False
    return True


# ----------------------------------------------------------------------------- specs

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


# ----------------------------------------------------------------------------- WARS


@dataclass(frozen=True)
class WarsLatency:
    """The four WARS delays: write request (W), write ack (A), read request (R), response (S).

    Each is drawn independently per replica and per trial.
    """

    W: Distribution
    A: Distribution
    R: Distribution
    S: Distribution
    name: str = field(default="custom", compare=False)

    def sample(
        self, rng: np.random.Generator, trials: int, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Draw ``(W, A, R, S)``, each of shape ``(n, trials)`` (one row per replica).

        Replica-major rows keep the per-trial reductions over replicas contiguous.
        """
        shape = (n, trials)
        return (
            self.W.sample(rng, shape),
            self.A.sample(rng, shape),
            self.R.sample(rng, shape),
            self.S.sample(rng, shape),
        )

    @classmethod
    def iid(cls, dist: Distribution, name: str = "custom") -> WarsLatency:
        """All four delays from the same distribution."""
        return cls(dist, dist, dist, dist, name=name)


@dataclass(frozen=True)
class WanLatency(WarsLatency):
    """A WARS model across datacenters (the PBS WAN model).

    Per trial one replica is local to the writer and one, chosen independently, to the
    reader; every message to or from a non-local replica takes ``wan_delay_ms`` more.
    """

    wan_delay_ms: float = 75.0

    def sample(
        self, rng: np.random.Generator, trials: int, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        W, A, R, S = super().sample(rng, trials, n)
        replica = np.arange(n)[:, None]
        writer_local = rng.integers(0, n, trials)
        reader_local = rng.integers(0, n, trials)
        w_extra = np.where(replica != writer_local, self.wan_delay_ms, 0.0)
        r_extra = np.where(replica != reader_local, self.wan_delay_ms, 0.0)
        return W + w_extra, A + w_extra, R + r_extra, S + r_extra


def _load_profiles() -> dict[str, dict[str, Any]]:
    text = resources.files("replab").joinpath("data/profiles.toml").read_text()
    return tomllib.loads(text)


_PROFILES = _load_profiles()
_BY_UPPER = {name.upper(): name for name in _PROFILES}


def profile_names(*, variants: bool = False) -> list[str]:
    """Names of the built-in profiles (the published four; ``variants`` adds the variants,
    such as ``YMMR-code``, the YMMR delays the PBS authors' simulator actually ran)."""
    return [k for k, v in _PROFILES.items() if variants or "variant_of" not in v]


def profile(name: str) -> WarsLatency:
    """The named WARS profile (``LNKD-SSD``, ``LNKD-DISK``, ``YMMR``, ``WAN`` or a variant
    such as ``YMMR-code``); names are case-insensitive."""
    key = _BY_UPPER.get(name.upper(), name) if isinstance(name, str) else name
    if key not in _PROFILES:
        raise ConfigError(
            f"The 'profile' parameter must be one of {', '.join(profile_names())}. "
            f"Got {name!r} instead."
        )
    entry = _PROFILES[key]
    if "base" in entry:
        base = profile(entry["base"])
        return WanLatency(base.W, base.A, base.R, base.S, name=key,
                          wan_delay_ms=float(entry["wan_delay_ms"]))
    dists = {d: parse_spec(entry[d]) for d in "WARS"}
    return WarsLatency(dists["W"], dists["A"], dists["R"], dists["S"], name=key)


def profile_info(name: str) -> dict[str, Any]:
    """The raw table entry (description, source, specs) of a profile."""
    profile(name)
    return dict(_PROFILES[_BY_UPPER[name.upper()]])


def as_wars(latency: Any) -> WarsLatency:
    """Turn a profile name, a spec, a distribution or a WARS model into a WARS model.

    Also accepted: four delays ``(W, A, R, S)`` as a tuple or list, or a dict with keys
    ``"W"``, ``"A"``, ``"R"``, ``"S"``; each a Distribution or a spec string.

    >>> as_wars(("exp:1", "const:0", "const:0", "exp:2")).S.mean
    0.5
    """
    if isinstance(latency, WarsLatency):
        return latency
    if isinstance(latency, dict) and set(latency) == set("WARS"):
        latency = tuple(latency[k] for k in "WARS")
    if isinstance(latency, tuple | list) and len(latency) == 4:
        parts = [parse_spec(d) if isinstance(d, str) else d for d in latency]
        if all(isinstance(d, Distribution) for d in parts):
            W, A, R, S = parts
            return WarsLatency(W, A, R, S, name="custom")
    if isinstance(latency, str):
        if latency.upper() in _BY_UPPER:
            return profile(latency)
        return WarsLatency.iid(parse_spec(latency), name=latency)
    if isinstance(latency, Distribution):
        return WarsLatency.iid(latency, name=repr(latency))
    raise ConfigError(
        "The 'latency' parameter must be a profile name, a spec string, a Distribution, "
        f"four delays (W, A, R, S) or a WarsLatency. Got {latency!r} instead."
    )
