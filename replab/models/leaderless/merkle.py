"""Merkle trees over a replica's keys, for anti-entropy.

The key space is cut into ``leaves`` buckets by key hash; a leaf's hash summarises the
write ids held for the keys in its bucket, and every inner node hashes its two children.
Two replicas compare trees top-down, descending only into subtrees whose hashes differ,
so the number of hashes exchanged grows with the number of differences, not with the
number of keys. Leaves are a power of two.

>>> a = leaf_hashes({"k1": (1,), "k2": (2,)}, 8)
>>> b = leaf_hashes({"k1": (1,), "k2": (3,)}, 8)
>>> diff, visited = compare(a, b)
>>> len(diff), visited >= 1 + 2 * 3
(1, True)
>>> compare(a, a)
([], 1)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from replab.models.leaderless.ring import key_hash

__all__ = ["bucket_of", "leaf_hashes", "tree_levels", "compare", "INDEX_BYTES"]

#: Bytes of one tree-node or leaf index in an anti-entropy message.
INDEX_BYTES = 4


def bucket_of(key: str, leaves: int) -> int:
    """The leaf a key falls in (the top bits of its hash)."""
    return key_hash(key) * leaves >> 64


def leaf_hashes(held: Mapping[str, Iterable[int]], leaves: int) -> list[int]:
    """One hash per leaf over ``key -> write ids``; an empty leaf hashes to 0.

    Uses Python's tuple hash of ints and MD5 positions, both stable across processes.
    """
    buckets: list[list[tuple[int, tuple[int, ...]]]] = [[] for _ in range(leaves)]
    for key, ids in held.items():
        h = key_hash(key)
        buckets[h * leaves >> 64].append((h, tuple(sorted(ids))))
    return [hash(tuple(sorted(b))) if b else 0 for b in buckets]


def tree_levels(leaves: list[int]) -> list[list[int]]:
    """All levels of the tree, leaves first, root last."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        lv = levels[-1]
        levels.append([hash((lv[i], lv[i + 1])) for i in range(0, len(lv), 2)])
    return levels


def compare(a: list[int], b: list[int]) -> tuple[list[int], int]:
    """Differing leaves of two trees, and how many node hashes a top-down descent compares."""
    la, lb = tree_levels(a), tree_levels(b)
    frontier = [0]
    visited = 1
    for depth in range(len(la) - 1, 0, -1):
        nxt = []
        for i in frontier:
            if la[depth][i] != lb[depth][i]:
                nxt += [2 * i, 2 * i + 1]
        visited += len(nxt)
        frontier = nxt
    diff = [i for i in frontier if a[i] != b[i]]
    return diff, visited
