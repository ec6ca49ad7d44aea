"""Test helpers for replab.checks: history builders, generators and a brute-force oracle.

The oracle implements the five definitions directly (quadratic, with an explicit
happened-before graph in networkx) so the fast checkers can be compared against it.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from hypothesis import strategies as st

NEG = float("-inf")


def seq(*rows: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rows ``(process, type, f, key, value[, version])`` -> ops with time = position."""
    out = []
    for i, (p, t, f, k, v, *rest) in enumerate(rows):
        op = {"time": float(i), "process": p, "type": t, "f": f, "key": k, "value": v}
        if rest and rest[0] is not None:
            op["version"] = rest[0]
        out.append(op)
    return out


def w(p: Any, k: Any, v: Any, version: int | None = None, type: str = "ok") -> list[tuple]:
    """A write that completes before the next operation begins."""
    return [(p, "invoke", "write", k, v), (p, type, "write", k, v, version)]


def r(p: Any, k: Any, v: Any, type: str = "ok") -> list[tuple]:
    """A read that completes before the next operation begins."""
    return [(p, "invoke", "read", k, None), (p, type, "read", k, v)]


def hist(*parts: list[tuple]) -> list[dict[str, Any]]:
    """Concatenate :func:`w` / :func:`r` / raw row lists into ops."""
    return seq(*(row for part in parts for row in part))


# --------------------------------------------------------------------------- generators

@st.composite
def linearizable_history(draw: Any, versioned: bool | None = None) -> list[dict[str, Any]]:
    """Random sessions against one node holding one register per key (linearizable).

    With versions, a write takes effect at any moment between its invoke and completion
    and its ``ok`` carries its place in the key's order; without, it takes effect at its
    completion (so completion order is the version order). Reads take effect at any moment
    in between and return the register at that moment. Some writes fail (never take
    effect) or end ``info`` (may or may not take effect); some reads fail or end ``info``.
    """
    if versioned is None:
        versioned = draw(st.booleans())
    nproc = draw(st.integers(1, 4))
    keys = draw(st.sampled_from([["x"], ["x", "y"], ["x", "y", "z"]]))
    steps = draw(st.integers(0, 60))
    reg: dict[str, Any] = {}
    ver: dict[str, int] = {}
    pending: dict[int, dict[str, Any]] = {}
    ops: list[dict[str, Any]] = []
    counter = 0
    for _ in range(steps):
        p = draw(st.integers(0, nproc - 1))
        t = float(len(ops))
        op = pending.get(p)
        if op is None:
            f = draw(st.sampled_from(["read", "write"]))
            k = draw(st.sampled_from(keys))
            counter += 1
            value = f"v{counter}" if f == "write" else None
            pending[p] = {"f": f, "key": k, "value": value, "applied": False}
            ops.append({"time": t, "process": p, "type": "invoke", "f": f, "key": k,
                        "value": value})
            continue
        k = op["key"]
        if (versioned or op["f"] == "read") and not op["applied"] and draw(st.booleans()):
            _apply(op, reg, ver)  # the linearization point, without completing
            continue
        outcome = draw(st.sampled_from(["ok", "ok", "ok", "fail", "info"]))
        if op["f"] == "write":
            if outcome == "fail" and op["applied"]:
                outcome = "ok"
            if outcome == "ok" or (outcome == "info" and draw(st.booleans())):
                _apply(op, reg, ver)
            done = {"time": t, "process": p, "type": outcome, "f": "write", "key": k,
                    "value": op["value"]}
            if outcome == "ok" and versioned:
                done["version"] = op["version"]
        else:
            if not op["applied"]:
                _apply(op, reg, ver)
            done = {"time": t, "process": p, "type": outcome, "f": "read", "key": k,
                    "value": op["value"]}
        ops.append(done)
        del pending[p]
    return ops


def _apply(op: dict[str, Any], reg: dict[str, Any], ver: dict[str, int]) -> None:
    if op["applied"]:
        return
    op["applied"] = True
    k = op["key"]
    if op["f"] == "write":
        ver[k] = ver.get(k, 0) + 1
        op["version"] = ver[k]
        reg[k] = op["value"]
    else:
        op["value"] = reg.get(k)


@st.composite
def random_history(draw: Any) -> list[dict[str, Any]]:
    """Sequential sessions whose reads return anything plausible (any anomaly may occur).

    Reads return null, the value of a write of the key invoked so far (in flight or done,
    possibly failed), siblings, or a value never written. Versions, when drawn, are a
    random order of the key's writes.
    """
    nproc = draw(st.integers(1, 4))
    keys = ["x", "y"]
    versioned = draw(st.booleans())
    steps = draw(st.integers(0, 40))
    pending: dict[int, dict[str, Any]] = {}
    written: dict[str, list[str]] = {k: [] for k in keys}
    ops: list[dict[str, Any]] = []
    for i in range(steps):
        p = draw(st.integers(0, nproc - 1))
        op = pending.pop(p, None)
        if op is None:
            f = draw(st.sampled_from(["read", "write"]))
            k = draw(st.sampled_from(keys))
            value = f"v{i}" if f == "write" else None
            if value is not None:
                written[k].append(value)
            pending[p] = {"f": f, "key": k, "value": value}
            ops.append({"time": float(i), "process": p, "type": "invoke", "f": f, "key": k,
                        "value": value})
            continue
        outcome = draw(st.sampled_from(["ok", "ok", "ok", "fail", "info"]))
        value = op["value"]
        if op["f"] == "read":
            pool = written[op["key"]]
            choice = draw(st.sampled_from(["null", "one", "one", "one", "two", "junk"]))
            if choice == "one" and pool:
                value = draw(st.sampled_from(pool))
            elif choice == "two" and pool:
                value = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2,
                                      unique=True))
            elif choice == "junk":
                value = "junk"
        done = {"time": float(i), "process": p, "type": outcome, "f": op["f"],
                "key": op["key"], "value": value}
        if versioned and op["f"] == "write" and outcome == "ok":
            done["version"] = draw(st.integers(0, 1000))
        ops.append(done)
    return ops


# --------------------------------------------------------------------------- oracle

def _pairs(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Operations as invoke/completion pairs (sequential processes only)."""
    open_: dict[Any, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for i, op in enumerate(ops):
        if op["type"] == "invoke":
            rec = {"inv": i, "comp": None, "status": None, "process": op["process"],
                   "f": op["f"], "key": op["key"], "value": op["value"], "version": None}
            open_[op["process"]] = rec
            out.append(rec)
        else:
            rec = open_.pop(op["process"])
            rec.update(comp=i, status=op["type"], version=op.get("version"))
            if op["value"] is not None or rec["f"] == "read":
                rec["value"] = op["value"]
    return out


def _ranks(pairs: list[dict[str, Any]]) -> dict[tuple[str, Any], tuple[dict, Any]]:
    """(key, value) -> (write, rank or None) for non-failed writes."""
    writes = [p for p in pairs if p["f"] == "write" and p["status"] != "fail"]
    versioned = {p["key"] for p in writes if p["version"] is not None}
    out: dict[tuple[str, Any], tuple[dict, Any]] = {}
    for p in writes:
        ok_rank = p["comp"] if p["status"] == "ok" else None
        rank = p["version"] if p["key"] in versioned else ok_rank
        out.setdefault((p["key"], p["value"]), (p, rank))
    return out


def _observed(rd: dict[str, Any], table: dict) -> tuple[list[dict], float, bool, bool]:
    """(writes observed, max known rank, any unknown rank, any unmatched value)."""
    vals = rd["value"] if isinstance(rd["value"], list) else [rd["value"]]
    found, best, unknown, unmatched = [], NEG, False, False
    for v in vals:
        if v is None:
            continue
        hit = table.get((rd["key"], v))
        if hit is None:
            unknown = unmatched = True
            continue
        found.append(hit[0])
        if hit[1] is None:
            unknown = True
        else:
            best = max(best, hit[1])
    return found, best, unknown, unmatched


def oracle(ops: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """(count, examined) of every checker, straight from the definitions."""
    pairs = _pairs(ops)
    table = _ranks(pairs)
    rank_of = {id(wr): rank for (wr, rank) in table.values()}
    reads = [p for p in pairs if p["f"] == "read" and p["status"] == "ok"]
    ok_writes = [p for p in pairs if p["f"] == "write" and p["status"] == "ok"
                 and rank_of.get(id(p)) is not None]
    obs = {id(rd): _observed(rd, table) for rd in reads}
    graph = _happened_before(pairs, obs)
    out = {name: [0, 0] for name in ("stale-read", "read-your-writes", "monotonic-reads",
                                     "consistent-prefix")}
    for rd in reads:
        _, rank, unknown, _ = obs[id(rd)]
        refs = {
            "stale-read": [rank_of[id(x)] for x in ok_writes
                           if x["key"] == rd["key"] and x["comp"] < rd["inv"]],
            "read-your-writes": [rank_of[id(x)] for x in ok_writes if x["key"] == rd["key"]
                                 and x["comp"] < rd["inv"] and x["process"] == rd["process"]],
            "monotonic-reads": [obs[id(e)][1] for e in reads if e["process"] == rd["process"]
                                and e["key"] == rd["key"] and e["comp"] < rd["inv"]
                                and obs[id(e)][1] > NEG],
            "consistent-prefix": _prefix_refs(rd, pairs, reads, obs, graph, rank_of),
        }
        for name, ref in refs.items():
            if not ref:
                continue
            if rank >= max(ref):
                out[name][1] += 1
            elif not unknown:
                out[name][0] += 1
                out[name][1] += 1
    res = {name: (c, e) for name, (c, e) in out.items()}
    res["lost-write"] = _lost(pairs, reads, obs)
    return res


def _happened_before(pairs: list[dict], obs: dict) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(range(len(pairs)))
    index = {id(p): i for i, p in enumerate(pairs)}
    last: dict[Any, int] = {}
    for i, p in enumerate(pairs):  # pairs are in invoke order
        if p["process"] in last:
            g.add_edge(last[p["process"]], i)
        last[p["process"]] = i
        if id(p) in obs:
            for y in obs[id(p)][0]:
                g.add_edge(index[id(y)], i)
    g.graph["index"] = index
    return g


def _prefix_refs(rd: dict, pairs: list[dict], reads: list[dict], obs: dict,
                 g: nx.DiGraph, rank_of: dict) -> list[float]:
    index = g.graph["index"]
    seen: list[dict] = []
    for e in reads:
        if e["process"] == rd["process"] and e["comp"] < rd["inv"]:
            seen.extend(obs[id(e)][0])
    seen += [p for p in pairs if p["f"] == "write" and p["process"] == rd["process"]
             and p["status"] in ("ok", "info") and p["comp"] is not None
             and p["comp"] < rd["inv"]]
    past: set[int] = set()
    for y in seen:
        past |= nx.ancestors(g, index[id(y)])
    return [rank_of[id(pairs[i])] for i in past
            if pairs[i]["f"] == "write" and pairs[i]["key"] == rd["key"]
            and rank_of.get(id(pairs[i])) is not None]


def _lost(pairs: list[dict], reads: list[dict], obs: dict) -> tuple[int, int]:
    count = examined = 0
    for key in {p["key"] for p in pairs}:
        writes = [p for p in pairs if p["f"] == "write" and p["key"] == key]
        oks = [p for p in writes if p["status"] == "ok"]
        settle = max((p["comp"] if p["comp"] is not None else p["inv"] for p in writes),
                     default=-1)
        finals = [rd for rd in reads if rd["key"] == key and rd["inv"] > settle]
        if not oks or not finals:
            continue
        final = max(finals, key=lambda rd: rd["comp"])
        found, _, _, unmatched = obs[id(final)]
        if unmatched:
            continue
        for wr in oks:
            examined += 1
            if all(y["status"] == "ok" and y["comp"] < wr["inv"] for y in found):
                count += 1
    return count, examined
