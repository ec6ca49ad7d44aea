"""Collaborative text editing: OT, a sequence CRDT, and a document lock, side by side.

:func:`edit_session` lets ``sites`` people type into one shared text at random moments
(each site types its own letter: site 0 ``a``, site 1 ``b``, ...; some edits delete a
random character). Messages take a random one-way delay, so edits cross in flight.

``"ot"``
    Operational transformation with a central server (Jupiter / Google Wave style,
    :mod:`replab.models.collab.ot`): edits apply locally at once; the server orders them and
    clients transform incoming operations against their unacknowledged ones.
``"crdt"``
    The RGA sequence CRDT (:class:`~replab.models.collab.sequence.RGA`): edits apply locally at
    once and each site sends the delta of every edit to every other site, peer to peer.
``"lock"``
    Single-leader-like: a site must hold the document lock (granted by a server, with the
    current text) to edit; it applies its pending edits and releases. Sites wait.

An OT client keeps one operation in flight per round trip to the server (``ot.js``
composes its buffer into one operation; single-character operations cannot be composed
here), so with fast typing over slow links OT needs many transforms and settles later
(``end_ms``) than the CRDT, whose messages go out at once.

Every run tracks each typed character by a uid, so a result can show that no edit was
lost (``intention_ok``: the final text holds exactly the characters inserted and not
deleted) besides ``converged`` (identical text everywhere).

Examples
--------
>>> from replab.models.collab import edit_session
>>> r = edit_session(3, 5, method="crdt", seed=1)
>>> r.converged, r.intention_ok, len(set(r.texts))
(True, True, 1)
>>> edit_session(3, 5, method="ot", seed=1).converged
True
>>> lock = edit_session(3, 5, method="lock", seed=1)
>>> lock.converged, lock.metrics["wait_mean_ms"] > 0
(True, True)
"""

from __future__ import annotations

import heapq
import string
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from replab.latency import Distribution, parse_spec
from replab.models.collab.ot import (
    Delete,
    Insert,
    Noop,
    Op,
    OTClient,
    OTServer,
    apply_op,
    transform,
)
from replab.models.collab.sites import SITE_TYPES, Edit, Net
from replab.rng import SeedLike, as_generator
from replab.validate import check_choice, check_int, check_prob, fail

__all__ = [
    "METHODS",
    "EditConfig",
    "EditResult",
    "edit_session",
    "Insert",
    "Delete",
    "Noop",
    "Op",
    "OTClient",
    "OTServer",
    "apply_op",
    "transform",
]

METHODS = ("ot", "crdt", "lock")
LETTERS = string.ascii_lowercase
LOG_COLUMNS = ["time", "site", "kind", "index", "char", "uid", "left", "right", "wait_ms"]


def _dist(value: str | Distribution, name: str) -> Distribution:
    if isinstance(value, str):
        return parse_spec(value)
    if not hasattr(value, "sample"):
        raise fail(name, "EditConfig", "a latency spec such as 'exp:0.05' or a distribution",
                   value)
    return value


@dataclass(frozen=True, kw_only=True)
class EditConfig:
    """Parameters of an edit session (validated on construction).

    Parameters
    ----------
    sites : int
        Number of editors, in [1, 26]; site ``i`` types letter ``i`` of the alphabet.
    ops_per_site : int
        Edits each site makes, >= 0.
    method : {"ot", "crdt", "lock"}
    delete_prob : float
        Chance that an edit deletes a random character (when the text is not empty).
    think : str or Distribution
        Time between a site's edits, ms (default mean 100 ms).
    latency : str or Distribution
        One-way message delay, ms (default mean 20 ms).
    initial : str
        The text every replica starts with.
    """

    sites: int = 3
    ops_per_site: int = 10
    method: str = "ot"
    delete_prob: float = 0.3
    think: str | Distribution = "exp:0.01"
    latency: str | Distribution = "exp:0.05"
    initial: str = ""

    def __post_init__(self) -> None:
        check_int(self.sites, "sites", "EditConfig", low=1, high=len(LETTERS))
        check_int(self.ops_per_site, "ops_per_site", "EditConfig", low=0)
        check_choice(self.method, "method", "EditConfig", METHODS)
        check_prob(self.delete_prob, "delete_prob", "EditConfig")
        _dist(self.think, "think")
        _dist(self.latency, "latency")
        if not isinstance(self.initial, str):
            raise fail("initial", "EditConfig", "a str", self.initial)


@dataclass(frozen=True)
class EditResult:
    """Outcome of :func:`edit_session`.

    ``texts`` is the final text at each site (then the server's, for ``ot`` and ``lock``);
    ``uids`` the matching character uids (``init:k`` for the initial text, ``s<i>:<n>`` for
    the n-th character site i typed).
    ``log`` has one row per edit with columns ``time`` (ms, when applied), ``site``,
    ``kind`` (insert/delete), ``index``, ``char``, ``uid`` (the character's id),
    ``left``/``right`` (uids of its neighbours when typed; None at an end) and ``wait_ms``
    (from wanting to edit to applying the edit).
    """

    method: str
    texts: tuple[str, ...]
    uids: tuple[tuple[str, ...], ...]
    converged: bool
    intention_ok: bool
    metrics: dict[str, Any]
    log: pd.DataFrame


def _simulate(cfg: EditConfig, rng: np.random.Generator) -> tuple[Net, Any]:
    think, latency = _dist(cfg.think, "think"), _dist(cfg.latency, "latency")
    names = [f"s{i}" for i in range(cfg.sites)]
    net = Net(latency=latency, rng=rng)
    nodes = SITE_TYPES[cfg.method](names, cfg.initial, net)
    gaps = think.sample(rng, (cfg.sites, cfg.ops_per_site))
    for i, times in enumerate(np.cumsum(gaps, axis=1)):
        for t in times:
            net.at(float(t), "edit", names[i], None)
    while net.queue:
        t, _, kind, dest, payload = heapq.heappop(net.queue)
        net.now = t
        if kind == "edit":
            nodes.edit(dest, _choose(dest, cfg, rng, t))
        else:
            nodes.receive(dest, payload)
    return net, nodes


def _choose(site: str, cfg: EditConfig, rng: np.random.Generator, t: float) -> Edit:
    """What the user at ``site`` wants to do; the index is picked when the edit applies."""
    return Edit(site=site, char=LETTERS[int(site[1:])],
                delete=bool(rng.random() < cfg.delete_prob), u=float(rng.random()), t=t)


def edit_session(sites: int = 3, ops_per_site: int = 10, method: str = "ot",
                 seed: SeedLike = None, **options: Any) -> EditResult:
    """Simulate concurrent editing of one text by ``sites`` editors with ``method``.

    Parameters
    ----------
    sites, ops_per_site, method
        See :class:`EditConfig`; further ``options`` (``delete_prob``, ``think``,
        ``latency``, ``initial``) go there too.
    seed : int, Generator or None
        Same seed, same result.

    Returns
    -------
    EditResult
        ``metrics`` holds method, sites, ops, inserts, deletes, messages, transforms,
        converged, intention_ok, text_length, wait_mean_ms, wait_max_ms, wait_total_ms and
        end_ms (when the last message was delivered).
    """
    cfg = EditConfig(sites=sites, ops_per_site=ops_per_site, method=method, **options)
    net, nodes = _simulate(cfg, as_generator(seed))
    texts, uids = nodes.texts(), tuple(tuple(u) for u in nodes.uids())
    log = pd.DataFrame(net.log, columns=LOG_COLUMNS)
    ins = set(log.uid[log.kind == "insert"])
    gone = set(log.uid[log.kind == "delete"])
    initial = {f"init:{k}" for k in range(len(cfg.initial))}
    expected = (ins | initial) - gone
    intention_ok = all(set(u) == expected and len(u) == len(expected) for u in uids)
    converged = len(set(texts)) == 1
    waits = log.wait_ms.to_numpy(dtype=float)
    metrics = {
        "method": cfg.method, "sites": cfg.sites, "ops": len(log),
        "inserts": int((log.kind == "insert").sum()), "deletes": int((log.kind == "delete").sum()),
        "messages": net.messages, "transforms": nodes.transforms, "converged": converged,
        "intention_ok": intention_ok, "text_length": len(texts[0]),
        "wait_mean_ms": float(waits.mean()) if len(waits) else 0.0,
        "wait_max_ms": float(waits.max()) if len(waits) else 0.0,
        "wait_total_ms": float(waits.sum()), "end_ms": net.now,
    }
    return EditResult(cfg.method, tuple(texts), uids, converged, intention_ok, metrics, log)
