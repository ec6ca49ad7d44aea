"""``replab record mariadb``: placeholder until the mariadb lab lands (registers nothing yet)."""

from __future__ import annotations

from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``mariadb`` subcommand to ``replab record``."""
