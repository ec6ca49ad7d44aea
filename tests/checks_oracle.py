"""Test helpers for replab.checks: history builders, generators and a brute-force oracle.

The oracle shares no code (and no ordering shortcut) with the checkers: for each key it
builds the write-precedence relation straight from the definitions (version order where
both writes carry one, else real time), closes it transitively, enumerates *every* total
order of the key's writes consistent with it, and calls something a violation only if it
holds in every such order and for every write the read could have read from. It is
exponential; keep histories small (a handful of writes per key).
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import strategies as st

INIT = "init"  # the initial value: precedes every write


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


def r(p: Any, k: Any, v: Any, type: str = "ok", version: int | None = None) -> list[tuple]:
    """A read that completes before the next operation begins."""
    return [(p, "invoke", "read", k, None), (p, type, "read", k, v, version)]


def cas(p: Any, k: Any, old: Any, new: Any, type: str = "ok") -> list[tuple]:
    """A compare-and-set that completes before the next operation begins."""
    return [(p, "invoke", "cas", k, [old, new]), (p, type, "cas", k, [old, new])]


def hist(*parts: list[tuple]) -> list[dict[str, Any]]:
    """Concatenate :func:`w` / :func:`r` / :func:`cas` / raw row lists into ops."""
    return seq(*(row for part in parts for row in part))


# --------------------------------------------------------------------------- generators

@st.composite
def linearizable_history(draw: Any, versioned: bool | None = None) -> list[dict[str, Any]]:
    """Sessions against one register per key, each op taking effect inside its interval.

    Values come from a small set (so they repeat); writes may end ``ok``, ``info`` (taken
    effect or not) or ``fail`` (not taken effect); cas succeeds iff the register holds
    ``old``. With versions, ``ok`` writes carry their place in the key's order and some
    reads carry the version they returned.
    """
    if versioned is None:
        versioned = draw(st.booleans())
    nproc = draw(st.integers(1, 4))
    keys = draw(st.sampled_from([["x"], ["x", "y"]]))
    reg: dict[str, Any] = {}
    ver: dict[str, int] = {}
    pending: dict[int, dict[str, Any]] = {}
    ops: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 40))):
        p = draw(st.integers(0, nproc - 1))
        op = pending.get(p)
        if op is None:
            f = draw(st.sampled_from(["read", "read", "write", "write", "cas"]))
            k = draw(st.sampled_from(keys))
            value: Any = None
            if f == "write":
                value = draw(st.integers(0, 2))
            elif f == "cas":
                value = [draw(st.sampled_from([None, 0, 1, 2])), draw(st.integers(0, 2))]
            pending[p] = {"f": f, "key": k, "value": value, "applied": False}
            ops.append({"process": p, "type": "invoke", "f": f, "key": k, "value": value})
        elif not op["applied"] and draw(st.booleans()):
            _apply(op, reg, ver)
        else:
            ops.append(_complete(draw, p, op, reg, ver, versioned))
            del pending[p]
    return [dict(op, time=float(i)) for i, op in enumerate(ops)]


def _apply(op: dict[str, Any], reg: dict[str, Any], ver: dict[str, int]) -> None:
    op["applied"] = True
    k = op["key"]
    if op["f"] == "read":
        op["got"], op["version"] = reg.get(k), ver.get(k)
    elif op["f"] == "write" or reg.get(k) == op["value"][0]:
        ver[k] = ver.get(k, 0) + 1
        op["version"] = ver[k]
        reg[k] = op["value"] if op["f"] == "write" else op["value"][1]
    else:
        op["failed"] = True


def _complete(draw: Any, p: int, op: dict[str, Any], reg: dict[str, Any],
              ver: dict[str, int], versioned: bool) -> dict[str, Any]:
    f, k = op["f"], op["key"]
    if op["applied"]:
        outcome = "fail" if op.get("failed") else draw(st.sampled_from(["ok", "ok", "info"]))
    else:
        outcome = draw(st.sampled_from(["ok", "fail", "info"]))
        if outcome == "ok" or (outcome == "info" and f != "read" and draw(st.booleans())):
            _apply(op, reg, ver)
            if op.get("failed"):
                outcome = "fail"
    done = {"process": p, "type": outcome, "f": f, "key": k, "value": op["value"]}
    if f == "read":
        done["value"] = op.get("got") if outcome == "ok" else None
        if versioned and outcome == "ok" and op.get("version") and draw(st.booleans()):
            done["version"] = op["version"]
    elif versioned and outcome == "ok":
        done["version"] = op["version"]
    return done


@st.composite
def random_history(draw: Any) -> list[dict[str, Any]]:
    """Overlapping sessions whose reads return anything plausible (any anomaly may occur).

    Values repeat (0-2) or are mostly unique (0-50); writes may fail or end ``info``; cas
    appears; reads return null, a value written so far, siblings, or junk. With versions,
    every ``ok`` write carries a distinct random version and some reads carry the version
    of a write of their value.
    At most five writes per key keep the oracle's enumeration small.
    """
    nproc = draw(st.integers(1, 4))
    keys = ["x", "y"]
    versioned = draw(st.booleans())
    pending: dict[int, dict[str, Any]] = {}
    nwrites = dict.fromkeys(keys, 0)
    hi = draw(st.sampled_from([2, 50]))  # repeated values, or (mostly) unique ones
    versions = iter(draw(st.permutations(range(1, 11))))
    ops: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 30))):
        p = draw(st.integers(0, nproc - 1))
        op = pending.pop(p, None)
        if op is None:
            k = draw(st.sampled_from(keys))
            f = draw(st.sampled_from(["read", "read", "write", "cas"]))
            if f != "read" and nwrites[k] >= 5:
                f = "read"
            value: Any = None
            if f == "write":
                value = draw(st.integers(0, hi))
            elif f == "cas":
                value = [draw(st.sampled_from([None, 0, 1, 2])), draw(st.integers(0, hi))]
            nwrites[k] += f != "read"
            pending[p] = {"f": f, "key": k, "value": value}
            ops.append({"process": p, "type": "invoke", "f": f, "key": k, "value": value})
            continue
        ops.append(_random_completion(draw, p, op, ops, versioned, versions))
    return [dict(op, time=float(i)) for i, op in enumerate(ops)]


def _random_completion(draw: Any, p: int, op: dict[str, Any], ops: list[dict[str, Any]],
                       versioned: bool, versions: Any) -> dict[str, Any]:
    outcome = draw(st.sampled_from(["ok", "ok", "ok", "fail", "info"]))
    done = {"process": p, "type": outcome, "f": op["f"], "key": op["key"],
            "value": op["value"]}
    if op["f"] != "read":
        if versioned and outcome == "ok":
            done["version"] = next(versions)
        return done
    written = [o["value"] if o["f"] == "write" else o["value"][1] for o in ops
               if o["type"] == "invoke" and o["f"] != "read" and o["key"] == op["key"]]
    choice = draw(st.sampled_from(["null", "one", "one", "one", "one", "two", "junk"]))
    value: Any = None
    if choice in ("one", "two") and written:
        value = draw(st.sampled_from(written))
        if choice == "two":
            value = sorted({value, draw(st.sampled_from(written))})
    elif choice == "junk":
        value = 99
    done["value"] = value if outcome == "ok" else None
    if versioned and outcome == "ok" and choice == "one" and written and draw(st.booleans()):
        vers = [o["version"] for o in ops if o["f"] == "write" and o["type"] == "ok"
                and o["key"] == op["key"] and o["value"] == value and "version" in o]
        if vers:
            done["version"] = draw(st.sampled_from(vers))
    return done


@st.composite
def causal_history(draw: Any) -> list[dict[str, Any]]:
    """Sessions passing unique values around, with reads that lag (consistent-prefix food).

    Reads return the newest value of their key written so far, an older one, or null; a
    few writes repeat a value or end ``info``; operations of different processes overlap.
    """
    nproc = draw(st.integers(2, 4))
    keys = ["x", "y", "z"]
    pending: dict[int, dict[str, Any]] = {}
    nwrites = dict.fromkeys(keys, 0)
    ops: list[dict[str, Any]] = []
    for i in range(draw(st.integers(0, 36))):
        p = draw(st.integers(0, nproc - 1))
        op = pending.pop(p, None)
        if op is None:
            k = draw(st.sampled_from(keys))
            f = "write" if nwrites[k] < 4 and draw(st.booleans()) else "read"
            value = (draw(st.sampled_from([i, i, i, 0])) if f == "write" else None)
            nwrites[k] += f == "write"
            pending[p] = {"f": f, "key": k, "value": value}
            ops.append({"process": p, "type": "invoke", "f": f, "key": k, "value": value})
            continue
        outcome = draw(st.sampled_from(["ok"] * 6 + ["info", "fail"]))
        done = {"process": p, "type": outcome, "f": op["f"], "key": op["key"],
                "value": op["value"]}
        if op["f"] == "read":
            written = [o["value"] for o in ops if o["f"] == "write" and o["type"] == "invoke"
                       and o["key"] == op["key"]]
            pick = draw(st.sampled_from(["new", "new", "old", "null"]))
            value = None
            if written and pick != "null":
                value = written[-1] if pick == "new" else draw(st.sampled_from(written))
            done["value"] = value if outcome == "ok" else None
        ops.append(done)
    return _with_chain(draw, ops)


def _with_chain(draw: Any, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Splice in a question/answer chain: A writes x, B reads it and writes y, C reads y,
    then C reads x (the value, an older one, or null), each at a random place."""
    chain = [w("A", "x", "q"), r("B", "x", "q"), w("B", "y", "a"), r("C", "y", "a"),
             r("C", "x", draw(st.sampled_from(["q", None, 0])))]
    out = list(ops)
    at = sorted(draw(st.lists(st.integers(0, len(ops)), min_size=5, max_size=5)))
    for n, (part, pos) in enumerate(reversed(list(zip(chain, at, strict=True)))):
        rows = seq(*part)
        del n
        out[pos:pos] = [{k: v for k, v in row.items() if k != "time"} for row in rows]
    return [dict(op, time=float(i)) for i, op in enumerate(out)]


# --------------------------------------------------------------------------- oracle

def _pairs(ops: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(writes, reads): non-failed writes and cas write parts; ok reads and ok cas reads."""
    open_: dict[Any, tuple[int, dict[str, Any]]] = {}
    done: list[tuple[int, int | None, dict[str, Any], dict[str, Any] | None]] = []
    for i, op in enumerate(ops):
        if op["type"] == "invoke":
            open_[op["process"]] = (i, op)
        else:
            j, inv = open_.pop(op["process"])
            done.append((j, i, inv, op))
    done += [(j, None, inv, None) for j, inv in open_.values()]
    writes, reads = [], []
    for j, i, inv, comp in done:
        status = comp["type"] if comp else "info"
        base = {"inv": j, "comp": i, "process": inv["process"], "key": inv["key"],
                "status": status}
        if status == "fail":
            continue
        if inv["f"] == "read":
            if status == "ok":
                reads.append(dict(base, values=_siblings(comp["value"]),
                                  version=comp.get("version"), cas=None,
                                  final=inv.get("final") is True or comp.get("final") is True))
            continue
        version = comp.get("version") if comp else None
        new = inv["value"] if inv["f"] == "write" else inv["value"][1]
        wr = dict(base, value=new, version=version, id=len(writes))
        writes.append(wr)
        if inv["f"] == "cas" and status == "ok":
            reads.append(dict(base, values=[inv["value"][0]], version=None, cas=wr))
    return writes, reads


def _siblings(v: Any) -> list[Any]:
    if isinstance(v, list):
        return list(v) or [None]
    return [v]


def _versioned(writes: list[dict[str, Any]], key: Any) -> bool:
    oks = [x for x in writes if x["key"] == key and x["status"] == "ok"]
    return bool(oks) and all(x["version"] is not None for x in oks)


def _before(a: dict[str, Any], b: dict[str, Any], versioned: bool) -> bool:
    """The raw definition: version order where both carry one, else real time."""
    if versioned and a["version"] is not None and b["version"] is not None:
        return a["version"] < b["version"]
    return a["status"] == "ok" and a["comp"] < b["inv"]


def _orders(writes: list[dict[str, Any]], key: Any) -> list[dict[Any, int]]:
    """Every total order of the key's writes consistent with the closed precedence."""
    mine = [x for x in writes if x["key"] == key]
    versioned = _versioned(writes, key)
    ids = [x["id"] for x in mine]
    rel = {(a["id"], b["id"]) for a in mine for b in mine
           if a is not b and _before(a, b, versioned)}
    for m in ids:  # transitive closure (Floyd-Warshall)
        for a in ids:
            for b in ids:
                if (a, m) in rel and (m, b) in rel:
                    rel.add((a, b))
    # every linear extension, by depth-first search: a write may come next once every
    # write that must precede it is placed (the same set as filtering all permutations,
    # without visiting the n! orders that break the relation)
    preds = {b: {a for a, c in rel if c == b} for b in ids}
    out: list[dict[Any, int]] = []
    order: list[Any] = []

    def extend(placed: set[Any]) -> None:
        if len(order) == len(ids):
            pos = {x: i for i, x in enumerate(order)}
            pos[INIT] = -1
            out.append(pos)
            return
        for x in ids:
            if x not in placed and preds[x] <= placed:
                order.append(x)
                extend(placed | {x})
                order.pop()

    extend(set())
    return out


def order_count(ops: list[dict[str, Any]]) -> int:
    """How many write orders :func:`oracle` would enumerate, summed over keys (a subset
    DP; cheap). Tests keep it small: the oracle is exponential by design."""
    writes, _ = _pairs(ops)
    total = 0
    for key in {x["key"] for x in writes}:
        mine = [x for x in writes if x["key"] == key]
        versioned = _versioned(writes, key)
        n = len(mine)
        need = [sum(1 << j for j in range(n) if j != i and _before(mine[j], mine[i],
                                                                    versioned))
                for i in range(n)]
        ways = [0] * (1 << n)
        ways[0] = 1
        for placed in range(1 << n):
            if ways[placed]:
                for i in range(n):
                    if not placed >> i & 1 and need[i] & placed == need[i]:
                        ways[placed | 1 << i] += ways[placed]
        total += ways[-1]
    return total


def _candidates(rd: dict[str, Any], writes: list[dict[str, Any]]) -> list[Any] | None:
    """Write ids (or INIT) the read could have read from; None if a value has none."""
    out: list[Any] = []
    versioned = _versioned(writes, rd["key"])
    for v in rd["values"]:
        c = []
        if rd["version"] is not None and versioned and v is not None:
            c = [x["id"] for x in writes if x["key"] == rd["key"]
                 and x["version"] == rd["version"] and x["inv"] < rd["comp"]]
        if not c:
            c = [x["id"] for x in writes if x["key"] == rd["key"] and x["value"] == v
                 and x["inv"] < rd["comp"] and x is not rd["cas"]]  # a cas reads before it writes
            if v is None:
                c.append(INIT)
        if not c:
            return None
        out += c
    return out


def _sources(rd: dict[str, Any], writes: list[dict[str, Any]]) -> list[int]:
    """The writes the read certainly read from (a value with a single candidate write)."""
    out = []
    for v in rd["values"]:
        c = _candidates(dict(rd, values=[v]), writes)
        if c is not None and len(c) == 1 and c[0] != INIT:
            out.append(c[0])
    return out


def oracle(ops: list[dict[str, Any]], settle_ms: float = 0.0) -> dict[str, tuple[int, int]]:
    """(count, examined) of every checker, by enumeration."""
    writes, reads = _pairs(ops)
    orders = {k: _orders(writes, k) for k in {x["key"] for x in writes} | {"\0none"}}
    cands = [_candidates(rd, writes) for rd in reads]
    ryw = _session_check(reads, writes, cands, orders, own=True)
    mr = _monotonic(reads, cands, orders)
    res = {"stale-read": _counts(_session_check(reads, writes, cands, orders, own=False)),
           "read-your-writes": _counts(ryw), "monotonic-reads": _counts(mr)}
    excluded = {i for i, (_, bad) in enumerate(ryw) if bad} | \
        {i for i, (_, bad) in enumerate(mr) if bad}
    res["consistent-prefix"] = _counts(_prefix(reads, writes, cands, orders, excluded))
    res["lost-write"] = _lost(ops, reads, writes, cands, settle_ms)
    return res


def lost_oracle(ops: list[dict[str, Any]], settle_ms: float = 0.0) -> tuple[int, int]:
    """lost-write's (count, examined) alone (no orders to enumerate: fast)."""
    writes, reads = _pairs(ops)
    return _lost(ops, reads, writes, [_candidates(rd, writes) for rd in reads], settle_ms)


def _counts(verdicts: list[tuple[bool, bool]]) -> tuple[int, int]:
    return sum(bad for _, bad in verdicts), sum(ex for ex, _ in verdicts)


def _always(orders: list[dict[Any, int]], pred: Any) -> bool:
    return bool(orders) and all(pred(pos) for pos in orders)


def _older_than_some(orders: list[dict[Any, int]], cand: list[Any], refs: list[int]) -> bool:
    """In every order, every candidate precedes one of ``refs``."""
    return _always(orders, lambda pos: all(any(pos[c] < pos[x] for x in refs) for c in cand))


def _session_check(reads: list[dict], writes: list[dict], cands: list, orders: dict,
                   own: bool) -> list[tuple[bool, bool]]:
    out = []
    for rd, cand in zip(reads, cands, strict=True):
        refs = [x["id"] for x in writes if x["key"] == rd["key"] and x["status"] == "ok"
                and x["comp"] < rd["inv"] and (not own or x["process"] == rd["process"])]
        if cand is None or not refs:
            out.append((False, False))
            continue
        out.append((True, _older_than_some(orders[rd["key"]], cand, refs)))
    return out


def _monotonic(reads: list[dict], cands: list, orders: dict) -> list[tuple[bool, bool]]:
    out = []
    for rd, cand in zip(reads, cands, strict=True):
        earlier = [c0 for e, c0 in zip(reads, cands, strict=True)
                   if e["process"] == rd["process"] and e["key"] == rd["key"]
                   and e["comp"] < rd["inv"] and c0 is not None and INIT not in c0]
        if cand is None or not earlier:
            out.append((False, False))
            continue
        bad = _always(orders[rd["key"]], lambda pos, cand=cand, earlier=earlier: any(
            all(pos[c] < pos[c0] for c in cand for c0 in cs) for cs in earlier))
        out.append((True, bad))
    return out


def _causal_past(reads: list[dict], writes: list[dict]) -> dict[int, set[int]]:
    """Strict causal past of every write: session order plus certain reads-from, closed."""
    direct: dict[int, set[int]] = {x["id"]: set() for x in writes}
    for x in writes:
        for y in writes:
            if y["process"] == x["process"] and y["inv"] < x["inv"]:
                direct[x["id"]].add(y["id"])
        for rd in reads:  # read before X was invoked (so a cas's own read does not count)
            if rd["process"] == x["process"] and rd["comp"] < x["inv"]:
                direct[x["id"]].update(_sources(rd, writes))
    past = {x: set(d) for x, d in direct.items()}
    changed = True
    while changed:
        changed = False
        for x in past:
            grown = set().union(past[x], *(past[y] for y in past[x]))
            if grown != past[x]:
                past[x], changed = grown, True
    return past


def _prefix(reads: list[dict], writes: list[dict], cands: list, orders: dict,
            excluded: set[int]) -> list[tuple[bool, bool]]:
    past = _causal_past(reads, writes)
    observed = {s for rd in reads for s in _sources(rd, writes)}
    effect = {x["id"] for x in writes if x["status"] == "ok"} | observed
    by_id = {x["id"]: x for x in writes}
    out = []
    for i, (rd, cand) in enumerate(zip(reads, cands, strict=True)):
        seen = [s for e in reads if e["process"] == rd["process"] and e["comp"] < rd["inv"]
                for s in _sources(e, writes)]
        refs = sorted({y for s in seen for y in past[s] if y in effect
                       and by_id[y]["key"] == rd["key"]
                       and by_id[y]["process"] != rd["process"]})
        if cand is None or not refs or i in excluded:
            out.append((False, False))
            continue
        out.append((True, _older_than_some(orders[rd["key"]], cand, refs)))
    return out


def _lost(ops: list[dict], reads: list[dict], writes: list[dict], cands: list,
          settle_ms: float) -> tuple[int, int]:
    """Straight from the definition, pair by pair (no rank space, no suffix maxima)."""
    count = examined = 0
    by_id = {x["id"]: x for x in writes}
    for key in {x["key"] for x in writes}:
        ends = [ops[int(e)]["time"] if (e := _end(ops, j)) != float("inf") else e
                for j, op in enumerate(ops)
                if op["type"] == "invoke" and op["f"] != "read" and op["key"] == key]
        settle = max(ends)
        finals = [c for rd, c in zip(reads, cands, strict=True)
                  if rd["key"] == key and rd["cas"] is None
                  and (rd.get("final") or ops[rd["inv"]]["time"] >= settle + settle_ms)]
        if not finals or any(c is None for c in finals):
            continue
        seen = [c for c in itertools.chain(*finals) if c != INIT]
        for x in writes:
            if x["key"] != key or x["status"] != "ok":
                continue
            examined += 1
            count += all(_precedes_for_loss(by_id[c], x) for c in seen)
    return count, examined


def _precedes_for_loss(c: dict[str, Any], x: dict[str, Any]) -> bool:
    """``c`` completed ok before ``x`` was invoked, or overlaps it with a lower version."""
    if c["status"] == "ok" and c["comp"] < x["inv"]:
        return True
    overlaps = not x["comp"] < c["inv"]
    return (overlaps and c.get("version") is not None and x.get("version") is not None
            and c["version"] < x["version"])


def _end(ops: list[dict], j: int) -> float:
    """Where the operation invoked at ``j`` ended (its completion; never: infinity)."""
    p = ops[j]["process"]
    for i in range(j + 1, len(ops)):
        if ops[i]["process"] == p:
            return float(i)
    return float("inf")
