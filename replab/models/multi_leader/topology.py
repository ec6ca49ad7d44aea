"""Replication topologies between leaders, as directed networkx graphs.

An edge ``u -> v`` means *u ships the changes it applies to v*. An undirected graph is
read as both directions. The named topologies over datacenters ``dc0 ... dc{n-1}``:

==============  =======================================================================
``all-to-all``  every leader ships to every other (a complete digraph)
``circular``    a one-way ring ``dc0 -> dc1 -> ... -> dc0`` (MySQL's default)
``star``        ``dc0`` is the hub; the others ship to it and it ships to them
``tree``        a binary tree rooted at ``dc0`` (``dc{i}``'s parent is ``dc{(i-1)//2}``)
==============  =======================================================================

Forwarding (:func:`forward_targets`): a leader that applies a change ships it to each
successor that is not on the change's path (the ids it carries of the nodes it has
passed, so it never comes back: no replication loop). Unless ``flood``, it also skips a
successor that the previous hop ships to directly (split horizon), so in all-to-all each
change travels one hop and relaying happens only where the graph needs it.

>>> g = topology_graph("circular", 3)
>>> sorted(g.edges)
[('dc0', 'dc1'), ('dc1', 'dc2'), ('dc2', 'dc0')]
>>> forward_targets(g, ("dc0", "dc1"), flood=False)
['dc2']
>>> forward_targets(topology_graph("all-to-all", 3), ("dc0", "dc1"), flood=False)
[]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import networkx as nx

from replab.validate import check_choice, check_int, fail

__all__ = [
    "TOPOLOGIES",
    "all_to_all",
    "circular",
    "star",
    "tree",
    "topology_graph",
    "as_topology",
    "forward_targets",
    "bypass",
    "hops",
]

#: The named topologies.
TOPOLOGIES = ("all-to-all", "circular", "star", "tree")


def _names(n: int) -> list[str]:
    return [f"dc{i}" for i in range(n)]


def all_to_all(names: Sequence[str]) -> nx.DiGraph:
    """Every leader ships to every other."""
    g = nx.DiGraph()
    g.add_nodes_from(names)
    g.add_edges_from((a, b) for a in names for b in names if a != b)
    return g


def circular(names: Sequence[str]) -> nx.DiGraph:
    """A one-way ring in the given order."""
    g = nx.DiGraph()
    g.add_nodes_from(names)
    if len(names) > 1:
        g.add_edges_from(zip(names, [*names[1:], names[0]], strict=True))
    return g


def star(names: Sequence[str]) -> nx.DiGraph:
    """The first name is the hub, linked both ways to every other."""
    g = nx.DiGraph()
    g.add_nodes_from(names)
    for leaf in names[1:]:
        g.add_edges_from([(names[0], leaf), (leaf, names[0])])
    return g


def tree(names: Sequence[str]) -> nx.DiGraph:
    """A binary tree in heap order (both directions along every tree edge)."""
    g = nx.DiGraph()
    g.add_nodes_from(names)
    for i in range(1, len(names)):
        parent = names[(i - 1) // 2]
        g.add_edges_from([(parent, names[i]), (names[i], parent)])
    return g


_BUILDERS = {"all-to-all": all_to_all, "circular": circular, "star": star, "tree": tree}


def topology_graph(name: str, datacenters: int) -> nx.DiGraph:
    """The named topology over ``dc0 ... dc{datacenters-1}``."""
    check_choice(name, "topology", "topology_graph", TOPOLOGIES)
    check_int(datacenters, "datacenters", "topology_graph", low=1, high=64)
    return _BUILDERS[name](_names(datacenters))


def as_topology(topology: str | nx.Graph, datacenters: int,
                owner: str = "MultiLeaderConfig") -> nx.DiGraph:
    """A name or any networkx graph -> a DiGraph whose nodes are leader ids (``str``).

    A user graph's node labels become the leader ids (as ``str``); an undirected graph
    ships both ways along every edge. Self-loops are dropped.
    """
    if isinstance(topology, str):
        check_choice(topology, "topology", owner, TOPOLOGIES)
        return topology_graph(topology, datacenters)
    if not isinstance(topology, nx.Graph) or topology.number_of_nodes() == 0:
        raise fail("topology", owner, "one of " + ", ".join(repr(t) for t in TOPOLOGIES)
                   + " or a non-empty networkx graph", topology)
    labels = [str(n) for n in topology.nodes]
    if len(set(labels)) != len(labels):
        raise fail("topology", owner, "a graph whose node labels are distinct as str",
                   list(topology.nodes))
    g = nx.DiGraph()
    g.add_nodes_from(labels)
    directed = topology.is_directed()
    for a, b in topology.edges():
        if a == b:
            continue
        g.add_edge(str(a), str(b))
        if not directed:
            g.add_edge(str(b), str(a))
    return g


def forward_targets(graph: nx.DiGraph, path: Sequence[Hashable], *, flood: bool) -> list[Any]:
    """Where the last node of ``path`` ships a change that has passed ``path``.

    Successors on the path are skipped (they have it); without ``flood``, so are the
    successors the previous hop ships to directly (it sent them the change itself).
    """
    here = path[-1]
    if here not in graph:
        return []
    on_path = set(path)
    prev = path[-2] if len(path) > 1 and not flood else None
    covered = set(graph.successors(prev)) if prev is not None and prev in graph else set()
    return [s for s in graph.successors(here) if s not in on_path and s not in covered]


def bypass(base: nx.DiGraph, removed: Iterable[Hashable]) -> nx.DiGraph:
    """``base`` reconfigured around the ``removed`` nodes.

    Each removed node keeps its place but loses its edges, and each of its predecessors
    ships to each of its successors instead (a ring closes over the gap; a star whose hub
    is removed becomes all-to-all among the leaves). Nodes are bypassed in sorted order.
    """
    g = base.copy()
    for node in sorted(set(removed), key=str):
        if node not in g:
            continue
        preds, succs = list(g.predecessors(node)), list(g.successors(node))
        g.add_edges_from((p, s) for p in preds for s in succs if p != s)
        g.remove_edges_from([(p, node) for p in preds] + [(node, s) for s in succs])
    return g


def hops(graph: nx.DiGraph) -> dict[tuple[Any, Any], int]:
    """Shortest number of hops from every leader to every other (missing: unreachable)."""
    return {(a, b): d for a, dist in nx.all_pairs_shortest_path_length(graph)
            for b, d in dist.items() if a != b}
