"""Exceptions raised by replab."""

__all__ = ["ReplabError", "ConfigError", "HistoryError", "raised_by_ctrl_c"]


class ReplabError(Exception):
    """Base class of every error replab raises on purpose."""


class ConfigError(ReplabError, ValueError):
    """A parameter is missing, of the wrong kind, or out of its allowed range.

    The message names the parameter, the allowed range and the value given, e.g.
    ``The 'w' parameter of QuorumConfig must be an int in [1, n=3]. Got 5 instead.``
    """


class HistoryError(ReplabError, ValueError):
    """A history (JSONL) is malformed; the message names the line."""


def raised_by_ctrl_c(error: BaseException) -> bool:
    """True when ``error`` was raised while a KeyboardInterrupt (or the cancellation asyncio
    turns it into) was being handled: a library's clean-up that failed over a Ctrl-C."""
    import asyncio

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, (KeyboardInterrupt, asyncio.CancelledError)):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
