"""``replab record SYSTEM ...``: run a lab on real servers and record a history.

Each system has its own module with ``register(subparsers)``: ``record_postgres``,
``record_mariadb``, ``record_patroni``.
"""

from __future__ import annotations

from typing import Any

from replab.cli import _common, record_mariadb, record_patroni, record_postgres

__all__ = ["register"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "record",
        help="run a lab on real database servers (127.0.0.1, temp dirs) and record a history",
    )
    systems = p.add_subparsers(dest="system", metavar="SYSTEM", parser_class=_common.Parser)
    systems.required = True
    for module in (record_postgres, record_mariadb, record_patroni):
        module.register(systems)
