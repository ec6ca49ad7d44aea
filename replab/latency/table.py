"""The table of named WARS profiles (``replab/data/profiles.toml``), read once."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

__all__ = ["PROFILES", "BY_UPPER", "profile_names"]


def _load_profiles() -> dict[str, dict[str, Any]]:
    text = resources.files("replab").joinpath("data/profiles.toml").read_text()
    return tomllib.loads(text)


PROFILES = _load_profiles()
BY_UPPER = {name.upper(): name for name in PROFILES}


def profile_names(*, variants: bool = False) -> list[str]:
    """Names of the built-in profiles (the published four; ``variants`` adds the variants,
    such as ``YMMR-code``, the YMMR delays the PBS authors' simulator actually ran)."""
    return [k for k, v in PROFILES.items() if variants or "variant_of" not in v]
