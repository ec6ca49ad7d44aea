"""The client library of a leaderless store with version vectors: it keeps, per key, the
causal context it last got back, and sends it with its next write of that key.

The context travels only inside messages: a write request carries the session's
context, a response carries the new one (the written version's vector, or the merge of
the siblings a read returned). A response that never arrives teaches the client nothing,
so its next write does not claim to have seen what it never saw.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from replab.sim import Request, Response, Session, VersionVector

__all__ = ["ContextRequest", "ContextResponse", "ContextSession"]


class ContextRequest(NamedTuple):
    """A client request with the session's causal context for the key (None: none)."""

    request: Request
    context: VersionVector | None


class ContextResponse(NamedTuple):
    """A coordinator's response with the context the client should keep for the key."""

    response: Response
    context: VersionVector | None


class ContextSession(Session):
    """A session that keeps the contexts it was given and sends them with its writes."""

    with_context = False  # set by the model: only version vectors need contexts

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contexts: dict[str, VersionVector] = {}

    def send(self, dst: Any, msg: Any) -> None:
        if self.with_context and isinstance(msg, Request):
            msg = ContextRequest(msg, self.contexts.get(msg.key))
        super().send(dst, msg)

    def on_ContextResponse(self, src: Any, msg: ContextResponse) -> None:
        cur, resp = self.current, msg.response
        if (cur is not None and resp.op_id == cur[0] and resp.type == "ok"
                and msg.context is not None):
            self.contexts[cur[2]] = msg.context
        self.on_Response(src, resp)
