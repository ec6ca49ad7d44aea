"""The ``replab`` command.

Each subcommand lives in its own module with ``register(subparsers)``; bad input becomes
one line on stderr and exit status 2, never a traceback. Ctrl-C becomes one line and exit
status 130 once everything the command started (servers, kernels, workers) is stopped.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module
from typing import TYPE_CHECKING, Any

from replab.errors import ReplabError, raised_by_ctrl_c

if TYPE_CHECKING:
    from replab.cli._common import Parser

__all__ = ["main", "build_parser"]

# Modules (in replab.cli) that add subcommands, imported only once main() has taken over
# Ctrl-C. Later features append theirs here.
COMMAND_MODULES = [
    "quorum_cmds",
    "simulate_cmd",
    "check_cmd",
    "sweep_cmd",
    "reproduce_cmd",
    "dashboard_cmd",
    "record_cmd",
]


def build_parser() -> Parser:
    from replab.cli import _common

    parser = _common.Parser(
        prog="replab",
        description="replab: a research workbench for database replication.",
    )
    from replab import __version__

    parser.add_argument("--version", action="version", version=f"replab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_common.Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        import_module(f"replab.cli.{name}").register(sub)
    return parser


#: exit status after Ctrl-C (128 + SIGINT), as shells report it
INTERRUPTED = 130
#: set by the first Ctrl-C: whatever a library raises while it is being interrupted (nbclient
#: turns it into an AssertionError or a CancelledError while a kernel starts) is the Ctrl-C,
#: not a new error
_CTRL_C = threading.Event()


@contextmanager
def first_ctrl_c_only() -> Iterator[None]:
    """The first Ctrl-C raises KeyboardInterrupt; later ones are ignored while the command
    stops what it started (a second Ctrl-C would otherwise break off that cleanup and
    leave servers running). Only in the main thread, where signals are delivered."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _CTRL_C.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def interrupted(prog: str) -> int:
    """Say that ``prog`` (``replab COMMAND``) was stopped by Ctrl-C; the exit status."""
    print(f"{prog}: interrupted (Ctrl-C); everything it started is stopped", file=sys.stderr)
    return INTERRUPTED


def _named(argv: Sequence[str] | None) -> str:
    """``replab COMMAND`` as typed (``replab`` without a command): how messages begin.
    Worked out where a message is needed, so a Ctrl-C at the very start still names it."""
    words = sys.argv[1:] if argv is None else argv
    return f"replab {words[0]}" if words and not str(words[0]).startswith("-") else "replab"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:  # first: a Ctrl-C from here on is one line, even while the commands are imported
        with first_ctrl_c_only():
            _CTRL_C.clear()
            args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
            return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return interrupted(_named(argv))
    except ReplabError as e:
        if _CTRL_C.is_set() or raised_by_ctrl_c(e):
            return interrupted(_named(argv))
        print(f"{_named(argv)}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `replab staleness ... | head`
        return 0
    except BaseException as e:
        # asyncio (nbclient's loop) can take SIGINT over and cancel its task: the Ctrl-C
        # then arrives as a CancelledError (no Exception), or as the error a library's
        # clean-up raised over it (nbclient: an AssertionError while a kernel starts)
        if raised_by_ctrl_c(e) or (_CTRL_C.is_set() and not isinstance(e, SystemExit)):
            return interrupted(_named(argv))
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
