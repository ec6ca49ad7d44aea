"""One place for parameter checks and their message format.

Every check raises :class:`~replab.errors.ConfigError` with the message
``The '<name>' parameter of <owner> must be <allowed>. Got <value> instead.``
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from replab.errors import ConfigError

__all__ = ["fail", "check_int", "check_float", "check_prob", "check_choice", "check_bool"]


def fail(name: str, owner: str, allowed: str, value: Any) -> ConfigError:
    """Build (not raise) the standard error for a bad parameter."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()  # show numpy scalars as plain numbers
    return ConfigError(
        f"The {name!r} parameter of {owner} must be {allowed}. Got {value!r} instead."
    )


def check_int(
    value: Any,
    name: str,
    owner: str,
    *,
    low: int | None = None,
    high: int | None = None,
    high_label: str | None = None,
) -> int:
    """Return ``value`` if it is an int in ``[low, high]``; raise ConfigError otherwise."""
    lo = "-inf" if low is None else str(low)
    hi = high_label if high_label is not None else ("inf" if high is None else str(high))
    allowed = f"an int in [{lo}, {hi}]" if high is not None else f"an int in [{lo}, inf)"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise fail(name, owner, allowed, value)
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise fail(name, owner, allowed, value)
    return v


def check_float(
    value: Any,
    name: str,
    owner: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``float(value)`` if it is a finite real in the given interval."""
    left = "(" if (low_open or low is None) else "["
    right = ")" if (high_open or high is None) else "]"
    lo = "-inf" if low is None else _fmt(low)
    hi = "inf" if high is None else _fmt(high)
    allowed = f"a finite number in {left}{lo}, {hi}{right}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail(name, owner, allowed, value)
    v = float(value)
    if not math.isfinite(v):
        raise fail(name, owner, allowed, value)
    if low is not None and (v < low or (low_open and v == low)):
        raise fail(name, owner, allowed, value)
    if high is not None and (v > high or (high_open and v == high)):
        raise fail(name, owner, allowed, value)
    return v


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def check_prob(value: Any, name: str, owner: str) -> float:
    """A probability in [0, 1]."""
    return check_float(value, name, owner, low=0.0, high=1.0)


def check_choice(value: Any, name: str, owner: str, choices: list[str] | tuple[str, ...]) -> str:
    """One of a fixed set of strings."""
    if value not in choices:
        allowed = "one of " + ", ".join(repr(c) for c in choices)
        raise fail(name, owner, allowed, value)
    return str(value)


def check_bool(value: Any, name: str, owner: str) -> bool:
    """A real bool (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise fail(name, owner, "a bool", value)
    return value
