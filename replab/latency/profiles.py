"""Named profiles and ``as_wars``: whatever names a latency model becomes a WARS model."""

from __future__ import annotations

from typing import Any

from replab.errors import ConfigError
from replab.latency.distributions import Distribution
from replab.latency.spec import parse_spec
from replab.latency.table import BY_UPPER, PROFILES, profile_names
from replab.latency.wars import WanLatency, WarsLatency

__all__ = ["profile", "profile_info", "as_wars"]


def profile(name: str) -> WarsLatency:
    """The named WARS profile (``LNKD-SSD``, ``LNKD-DISK``, ``YMMR``, ``WAN`` or a variant
    such as ``YMMR-code``); names are case-insensitive."""
    key = BY_UPPER.get(name.upper(), name) if isinstance(name, str) else name
    if key not in PROFILES:
        raise ConfigError(
            f"The 'profile' parameter must be one of {', '.join(profile_names())}. "
            f"Got {name!r} instead."
        )
    entry = PROFILES[key]
    if "base" in entry:
        base = profile(entry["base"])
        return WanLatency(base.W, base.A, base.R, base.S, name=key,
                          wan_delay_ms=float(entry["wan_delay_ms"]))
    dists = {d: parse_spec(entry[d]) for d in "WARS"}
    return WarsLatency(dists["W"], dists["A"], dists["R"], dists["S"], name=key)


def profile_info(name: str) -> dict[str, Any]:
    """The raw table entry (description, source, specs) of a profile."""
    profile(name)
    return dict(PROFILES[BY_UPPER[name.upper()]])


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
        if latency.upper() in BY_UPPER:
            return profile(latency)
        return WarsLatency.iid(parse_spec(latency), name=latency)
    if isinstance(latency, Distribution):
        return WarsLatency.iid(latency, name=repr(latency))
    raise ConfigError(
        "The 'latency' parameter must be a profile name, a spec string, a Distribution, "
        f"four delays (W, A, R, S) or a WarsLatency. Got {latency!r} instead."
    )
