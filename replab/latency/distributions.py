"""Latency distributions: each draws milliseconds with ``sample(rng, shape)``."""


from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from replab.errors import ConfigError
from replab.validate import check_float

__all__ = [
    "Distribution", "Constant", "Exponential", "Pareto", "LogNormal", "Uniform",
    "Mixture", "Shifted", "Empirical", "Shape",
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
        # -0.0 passes as 0; stored as +0.0, so no delay is ever a negative zero
        object.__setattr__(self, "value", float(self.value) + 0.0)

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
        object.__setattr__(self, "values", arr + 0.0)  # a copy, with -0.0 as +0.0

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


