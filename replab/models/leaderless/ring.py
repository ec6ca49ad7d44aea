"""Consistent hashing with virtual nodes: which replicas are home to a key.

Every node owns ``vnodes`` points (tokens) on a 64-bit ring; a key is hashed onto the
ring and its *walk* is the sequence of distinct nodes met going clockwise from it. The
first ``n`` nodes of the walk are the key's home replicas (its preference list); the rest
are the fallbacks a sloppy quorum borrows, in order. Several datacenters each have their
own ring (Cassandra's NetworkTopologyStrategy keeps ``n`` replicas in every datacenter).

Hashing is MD5 of text, so placements are the same in every process and on every run.

>>> ring = Ring([0, 1, 2, 3], vnodes=8)
>>> ring.walk("k1") == ring.walk("k1"), sorted(ring.walk("k1"))
(True, [0, 1, 2, 3])
>>> ring.home("k1", 3) == ring.walk("k1")[:3]
True
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from collections.abc import Hashable, Sequence

__all__ = ["Ring", "key_hash"]

_MASK = (1 << 64) - 1


def key_hash(text: str) -> int:
    """A stable 64-bit position on the ring for ``text``."""
    return int.from_bytes(hashlib.md5(text.encode()).digest()[:8], "big") & _MASK


class Ring:
    """One datacenter's ring.

    Parameters
    ----------
    nodes : sequence of node ids
        Ids must have a stable ``str`` (ints or strings).
    vnodes : int
        Tokens per node; more tokens spread keys (and a failed node's load) more evenly.
    """

    def __init__(self, nodes: Sequence[Hashable], vnodes: int) -> None:
        self.nodes = list(nodes)
        tokens = sorted(
            (key_hash(f"{node}#{i}"), j) for j, node in enumerate(self.nodes)
            for i in range(vnodes)
        )
        self._positions = [t for t, _ in tokens]
        self._owners = [j for _, j in tokens]
        self._walks: dict[int, tuple] = {}

    def walk(self, key: str) -> tuple:
        """Every node of the ring, in the order met clockwise from ``key``'s position."""
        start = bisect_right(self._positions, key_hash(key)) % len(self._owners)
        walk = self._walks.get(start)
        if walk is None:  # at most one walk per token, computed when first needed
            seen: list[int] = []
            owners, size, want = self._owners, len(self._owners), len(self.nodes)
            i = start
            while len(seen) < want:
                j = owners[i % size]
                if j not in seen:
                    seen.append(j)
                i += 1
            walk = self._walks[start] = tuple(self.nodes[j] for j in seen)
        return walk

    def home(self, key: str, n: int) -> tuple:
        """The key's ``n`` home replicas (its preference list in this ring)."""
        return self.walk(key)[:n]

    def load(self, keys: Sequence[str], n: int) -> dict[Hashable, int]:
        """How many of ``keys`` each node is home to (a balance check)."""
        out = dict.fromkeys(self.nodes, 0)
        for k in keys:
            for node in self.home(k, n):
                out[node] += 1
        return out
