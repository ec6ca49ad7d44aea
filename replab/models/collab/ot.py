"""Operational transformation (OT) for character inserts and deletes, and a central server.

``transform(a, b)`` rewrites operation ``a`` so that it can run *after* ``b``, where ``a``
and ``b`` were generated concurrently on the same document. It satisfies the convergence
property TP1::

    apply(apply(doc, a), transform(b, a)) == apply(apply(doc, b), transform(a, b))

Two inserts at the same position are ordered by site id: the larger site's character goes
first, as in the RGA sequence CRDT (whose larger ids come first), so both methods order
such ties alike; two deletes of the same character become one (the second is a :class:`Noop`).

TP1 suffices when one server orders all operations, as in Jupiter and Google Wave (and
the ``ot.js`` client): the :class:`OTServer` transforms each incoming operation against
the operations the client had not yet seen; each :class:`OTClient` keeps at most one
operation in flight, buffers the rest, and transforms incoming server operations against
its in-flight and buffered ones.

A document is a ``str`` or, to follow each character's identity, a tuple of
``(char, uid)`` pairs; :func:`apply_op` handles both.

Examples
--------
>>> from replab.models.collab.ot import Insert, Delete, apply_op, transform
>>> doc = "abc"
>>> a, b = Insert(pos=1, char="X", site="s0"), Delete(pos=1, site="s1")
>>> left = apply_op(apply_op(doc, a), transform(b, a))
>>> right = apply_op(apply_op(doc, b), transform(a, b))
>>> left, right
('aXc', 'aXc')

References
----------
D. A. Nichols et al., "High-latency, low-bandwidth windowing in the Jupiter collaboration
system", UIST 1995. C. A. Ellis and S. J. Gibbs, "Concurrency control in groupware
systems", SIGMOD 1989.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from replab.validate import check_int, fail

__all__ = ["Insert", "Delete", "Noop", "Op", "apply_op", "transform", "OTServer", "OTClient"]


@dataclass(frozen=True, kw_only=True)
class Insert:
    """Insert ``char`` at ``pos`` (0 = front); ``uid`` names the new character."""

    pos: int
    char: str
    site: str
    uid: Any = None


@dataclass(frozen=True, kw_only=True)
class Delete:
    """Delete the character at ``pos``."""

    pos: int
    site: str


@dataclass(frozen=True, kw_only=True)
class Noop:
    """Does nothing (a delete whose character a concurrent delete already removed)."""

    site: str


Op = Insert | Delete | Noop
D = TypeVar("D", str, tuple[tuple[str, Any], ...])


def apply_op(doc: D, op: Op) -> D:
    """Apply ``op`` to a ``str`` or to a tuple of ``(char, uid)`` pairs."""
    if isinstance(op, Noop):
        return doc
    n = len(doc)
    if isinstance(op, Insert):
        check_int(op.pos, "pos", "Insert", low=0, high=n, high_label=f"len={n}")
        item: Any = op.char if isinstance(doc, str) else ((op.char, op.uid),)
        return doc[:op.pos] + item + doc[op.pos:]  # type: ignore[return-value]
    check_int(op.pos, "pos", "Delete", low=0, high=n - 1, high_label=f"len-1={n - 1}")
    return doc[:op.pos] + doc[op.pos + 1:]  # type: ignore[return-value]


def transform(a: Op, b: Op) -> Op:
    """``a`` rewritten to apply after the concurrent ``b`` (ties: larger site first)."""
    if isinstance(a, Noop) or isinstance(b, Noop):
        return a
    if isinstance(b, Insert):
        if isinstance(a, Insert):
            if a.site == b.site:
                raise fail("site", "transform", "different sites for concurrent inserts",
                           a.site)
            first = a.pos < b.pos or (a.pos == b.pos and a.site > b.site)
            return a if first else replace(a, pos=a.pos + 1)
        return a if a.pos < b.pos else replace(a, pos=a.pos + 1)
    # b is a Delete.
    if a.pos < b.pos or (isinstance(a, Insert) and a.pos == b.pos):
        return a
    if isinstance(a, Delete) and a.pos == b.pos:
        return Noop(site=a.site)
    return replace(a, pos=a.pos - 1)


def _transform_pair(a: Op, b: Op) -> tuple[Op, Op]:
    return transform(a, b), transform(b, a)


@dataclass
class OTServer:
    """The central server: orders operations and keeps the authoritative document.

    Mutable: ``receive`` updates ``doc`` and ``history`` in place.
    """

    doc: Any = ""
    history: list[Op] = field(default_factory=list)
    transforms: int = 0

    def receive(self, revision: int, op: Op) -> Op:
        """Accept ``op`` generated at ``revision``; return it transformed, to broadcast."""
        revision = check_int(revision, "revision", "OTServer.receive", low=0,
                             high=len(self.history), high_label=f"{len(self.history)}")
        for seen in self.history[revision:]:
            op = transform(op, seen)
            self.transforms += 1
        self.doc = apply_op(self.doc, op)
        self.history.append(op)
        return op


@dataclass
class OTClient:
    """A client: applies its edits at once, keeps one in flight and buffers the rest.

    Mutable. ``revision`` counts the server operations this client has incorporated
    (its own acknowledged ones included).
    """

    site: str
    doc: Any = ""
    revision: int = 0
    outstanding: Op | None = None
    buffer: list[Op] = field(default_factory=list)
    transforms: int = 0

    def local(self, op: Op) -> tuple[int, Op] | None:
        """Apply a local edit; return ``(revision, op)`` to send now, or None if buffered."""
        self.doc = apply_op(self.doc, op)
        if self.outstanding is None:
            self.outstanding = op
            return self.revision, op
        self.buffer.append(op)
        return None

    def ack(self) -> tuple[int, Op] | None:
        """The server applied our in-flight op; return the next one to send, if any."""
        self.revision += 1
        self.outstanding = self.buffer.pop(0) if self.buffer else None
        return None if self.outstanding is None else (self.revision, self.outstanding)

    def remote(self, op: Op) -> None:
        """Incorporate an operation from another site, as ordered by the server."""
        self.revision += 1
        pending = [] if self.outstanding is None else [self.outstanding, *self.buffer]
        for k, mine in enumerate(pending):
            op, pending[k] = _transform_pair(op, mine)
            self.transforms += 2
        if pending:
            self.outstanding, self.buffer = pending[0], pending[1:]
        self.doc = apply_op(self.doc, op)
