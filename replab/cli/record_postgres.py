"""``replab record postgres``: placeholder until the postgres lab lands (registers nothing yet)."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``postgres`` subcommand to ``replab record``."""
