"""A sequence (text) CRDT: the Replicated Growable Array (RGA), state-based.

Every character ever inserted is a node with a unique id ``(counter, replica)`` and the id
of its *parent*: the character it was typed after (``None`` for the start of the text).
The document order is a depth-first walk of that tree in which the children of a node
come in descending id order. A new node gets a counter larger than any it has seen
(a Lamport clock), so it becomes the first child of its parent and lands right after it.
Concurrent inserts after the same character are ordered by id, the same way everywhere.
A delete adds the node's id to ``tombstones``; the node stays, so later inserts that name
it as parent still find their place.

Merge is the union of nodes and of tombstones, so it is commutative, associative and
idempotent. A node whose parent has not arrived yet is kept but not shown (it joins the
text when the parent arrives), so even single-update deltas (:meth:`RGA.delta_since`)
may be merged in any order.

Examples
--------
>>> from replab.models.collab.sequence import RGA
>>> base = RGA().insert(0, "ac", "A")
>>> at_a = base.insert(1, "b", "A")          # "abc"
>>> at_b = base.delete(1).insert(1, "d", "B")  # "ad"
>>> at_a.merge(at_b).value(), at_b.merge(at_a).value()   # B's id (3, 'B') sorts first
('adb', 'adb')
>>> delta = at_a.delta_since(base)           # just the new node
>>> base.merge(delta) == at_a
True

References
----------
H.-G. Roh et al., "Replicated abstract data types: Building blocks for collaborative
applications", J. Parallel Distrib. Comput. 71(3), 2011.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from replab.validate import check_int, fail

__all__ = ["NodeId", "RGANode", "RGA", "check_replica"]

NodeId = tuple[int, str]


def check_replica(replica: Any, owner: str) -> str:
    """A replica id: a non-empty str."""
    if not isinstance(replica, str) or not replica:
        raise fail("replica", owner, "a non-empty str", replica)
    return replica


@dataclass(frozen=True)
class RGANode:
    """One inserted character: its id, the id it was inserted after, and the character."""

    id: NodeId
    parent: NodeId | None
    char: str


@dataclass(frozen=True)
class RGA:
    """Replicated growable array of characters (immutable; updates return new states).

    >>> doc = RGA().insert(0, "hello", "A").delete(0).insert(0, "j", "A")
    >>> doc.value(), len(doc)
    ('jello', 5)
    """

    nodes: frozenset[RGANode] = frozenset()
    tombstones: frozenset[NodeId] = frozenset()

    @cached_property
    def _order(self) -> tuple[RGANode, ...]:
        children: dict[NodeId | None, list[RGANode]] = defaultdict(list)
        for node in self.nodes:
            children[node.parent].append(node)
        out: list[RGANode] = []
        # Push children in ascending id order so the largest id is visited first.
        stack = sorted(children[None], key=lambda n: n.id)
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(sorted(children[node.id], key=lambda n: n.id))
        return tuple(out)

    @cached_property
    def _visible(self) -> tuple[RGANode, ...]:
        return tuple(n for n in self._order if n.id not in self.tombstones)

    def order(self) -> tuple[NodeId, ...]:
        """Ids of every reachable node in document order, deleted ones included."""
        return tuple(n.id for n in self._order)

    def visible_ids(self) -> tuple[NodeId, ...]:
        """Ids of the visible characters, in document order."""
        return tuple(n.id for n in self._visible)

    def value(self) -> str:
        """The text."""
        return "".join(n.char for n in self._visible)

    def __len__(self) -> int:
        return len(self._visible)

    def _clock(self) -> int:
        ids = [n.id for n in self.nodes] + list(self.tombstones)
        return max((c for c, _ in ids), default=0)

    def insert(self, index: int, text: str, replica: str) -> RGA:
        """Insert ``text`` so that it starts at visible position ``index``.

        Parameters
        ----------
        index : int
            In ``[0, len(self)]``; the text goes after the ``index``-th visible character.
        text : str
            One or more characters; they keep their order.
        replica : str
            The replica making the edit (part of every new id).
        """
        check_replica(replica, "RGA.insert")
        n = len(self)
        index = check_int(index, "index", "RGA.insert", low=0, high=n, high_label=f"len={n}")
        if not isinstance(text, str) or not text:
            raise fail("text", "RGA.insert", "a non-empty str", text)
        parent = self._visible[index - 1].id if index > 0 else None
        clock, new = self._clock(), []
        for offset, char in enumerate(text, start=1):
            node = RGANode((clock + offset, replica), parent, char)
            new.append(node)
            parent = node.id
        return RGA(self.nodes | frozenset(new), self.tombstones)

    def delete(self, index: int, length: int = 1) -> RGA:
        """Delete ``length`` visible characters starting at ``index``."""
        n = len(self)
        length = check_int(length, "length", "RGA.delete", low=1, high=max(n, 1),
                           high_label=f"len={n}")
        index = check_int(index, "index", "RGA.delete", low=0, high=n - length,
                          high_label=f"len-length={n - length}")
        gone = frozenset(node.id for node in self._visible[index:index + length])
        return RGA(self.nodes, self.tombstones | gone)

    def merge(self, other: RGA) -> RGA:
        """Union of nodes and of tombstones."""
        return RGA(self.nodes | other.nodes, self.tombstones | other.tombstones)

    def leq(self, other: RGA) -> bool:
        """Lattice order: inclusion of nodes and of tombstones."""
        return self.nodes <= other.nodes and self.tombstones <= other.tombstones

    def delta_since(self, older: RGA) -> RGA:
        """The nodes and tombstones added since ``older``: a small state to ship.

        ``older.merge(self.delta_since(older)) == self`` whenever ``older.leq(self)``.
        """
        return RGA(self.nodes - older.nodes, self.tombstones - older.tombstones)
