"""Exceptions raised by replab."""

__all__ = ["ReplabError", "ConfigError", "HistoryError"]


class ReplabError(Exception):
    """Base class of every error replab raises on purpose."""


class ConfigError(ReplabError, ValueError):
    """A parameter is missing, of the wrong kind, or out of its allowed range.

    The message names the parameter, the allowed range and the value given, e.g.
    ``The 'w' parameter of QuorumConfig must be an int in [1, n=3]. Got 5 instead.``
    """


class HistoryError(ReplabError, ValueError):
    """A history (JSONL) is malformed; the message names the line."""
