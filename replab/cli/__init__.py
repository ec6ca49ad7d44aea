"""The ``replab`` command.

Each subcommand lives in its own module with ``register(subparsers)``; bad input becomes
one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from replab.cli import (
    _common,
    check_cmd,
    dashboard_cmd,
    quorum_cmds,
    record_cmd,
    reproduce_cmd,
    simulate_cmd,
    sweep_cmd,
)
from replab.errors import ReplabError

__all__ = ["main", "build_parser"]

# Modules that add subcommands. Later features append theirs here.
COMMAND_MODULES = [
    quorum_cmds,
    simulate_cmd,
    check_cmd,
    sweep_cmd,
    reproduce_cmd,
    dashboard_cmd,
    record_cmd,
]


def build_parser() -> _common.Parser:
    parser = _common.Parser(
        prog="replab",
        description="replab: a research workbench for database replication.",
    )
    from replab import __version__

    parser.add_argument("--version", action="version", version=f"replab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_common.Parser)
    sub.required = True
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ReplabError as e:
        print(f"replab {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `replab staleness ... | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
