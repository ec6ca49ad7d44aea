"""The Wing–Gong / Lowe search for one key, with Porcupine's cache.

Operations are call and return *entries* in one doubly linked list, in history order.
The search linearizes an operation whose call entry comes before the first remaining
return entry (it was invoked before every still-pending operation returned), applies it
to the model, *lifts* its two entries out of the list and starts again from the head.
Reaching a return entry means the operation it belongs to cannot be linearized here:
the last linearized operation is undone and the next candidate tried. A cache of
(linearized set as an int bitset, model state) skips states already explored (Lowe's
"JIT linearization"; Porcupine's ``checkSingle``).

``info`` operations have no return entry: they may be linearized at any point after their
invoke, or never. The search succeeds when every operation with a return entry
(``required``) is linearized.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

__all__ = ["READ", "WRITE", "CAS", "NEVER", "SearchOp", "Outcome", "search", "apply"]

READ, WRITE, CAS, NEVER = 0, 1, 2, 3
_CHECK_EVERY = 1024  # steps between two looks at the clock


@dataclass(frozen=True, slots=True)
class SearchOp:
    """One operation of a key: ``kind`` (READ/WRITE/CAS/NEVER), its argument (value read,
    value written, or ``(old, new)``), invoke / return positions (``ret = -1``: info)."""

    kind: int
    arg: Any
    inv: int
    ret: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """``verdict`` True / False / None (budget exhausted); ``order``: the full
    linearization (True) or the longest partial one found (op ids, in order)."""

    verdict: bool | None
    order: tuple[int, ...]
    steps: int
    cache_size: int


def apply(op: SearchOp, state: Any) -> tuple[bool, Any]:
    """``(ok, new_state)``: whether ``op`` can take effect in ``state``, and the result."""
    if op.kind == READ:
        return state == op.arg, state
    if op.kind == WRITE:
        return True, op.arg
    if op.kind == CAS:
        return state == op.arg[0], op.arg[1]
    return False, state


def _entries(ops: list[SearchOp]) -> tuple[list[int], list[int], list[int], list[int],
                                          list[int]]:
    """Linked list over entries 1..E (0: head, E+1: tail): next, prev, the op of each entry
    (-1 for a return entry), and each op's call entry and return entry (0: none)."""
    events = sorted([(o.inv, i, True) for i, o in enumerate(ops)]
                    + [(o.ret, i, False) for i, o in enumerate(ops) if o.ret >= 0])
    n_e = len(events)
    nxt = list(range(1, n_e + 2)) + [n_e + 1]
    prv = [0, *range(0, n_e + 1)]
    op_of = [-1] * (n_e + 2)
    call = [0] * len(ops)
    ret = [0] * len(ops)
    for e, (_, i, is_call) in enumerate(events, start=1):
        if is_call:
            op_of[e] = i
            call[i] = e
        else:
            ret[i] = e
    return nxt, prv, op_of, call, ret


def search(ops: list[SearchOp], initial: Any, deadline: float) -> Outcome:
    """Decide whether ``ops`` (one key) are linearizable from ``initial``.

    ``deadline`` is a ``time.perf_counter()`` value; past it the verdict is ``None``.
    """
    nxt, prv, op_of, call, ret = _entries(ops)
    kind = [o.kind for o in ops]
    arg = [o.arg for o in ops]
    req = [1 if o.ret >= 0 else 0 for o in ops]
    left = sum(req)
    state, lin, depth = initial, 0, 0
    stack: tuple[Any, ...] | None = None  # (op, state before, rest of the stack)
    best: tuple[Any, ...] | None = None
    best_depth = -1
    cache: set[tuple[int, Any]] = set()
    steps = 0
    e = nxt[0]
    clock = time.perf_counter
    while left:
        if steps % _CHECK_EVERY == 0 and clock() > deadline:
            return Outcome(None, _order(best), steps, len(cache))
        steps += 1
        o = op_of[e]
        if o >= 0:
            k = kind[o]
            if k == READ:
                ok, new = state == arg[o], state
            elif k == WRITE:
                ok, new = True, arg[o]
            elif k == CAS:
                ok, new = state == arg[o][0], arg[o][1]
            else:
                ok, new = False, state
            if ok:
                nl = lin | (1 << o)
                if (nl, new) not in cache:
                    cache.add((nl, new))
                    stack = (o, state, stack)
                    depth += 1
                    state, lin = new, nl
                    left -= req[o]
                    # lift the call entry, then its return entry
                    nxt[prv[e]] = nxt[e]
                    prv[nxt[e]] = prv[e]
                    r = ret[o]
                    if r:
                        nxt[prv[r]] = nxt[r]
                        prv[nxt[r]] = prv[r]
                    e = nxt[0]
                    continue
            e = nxt[e]
            continue
        # a return entry (or the tail): the search cannot go on from here
        if depth > best_depth:
            best, best_depth = stack, depth
        if stack is None:
            return Outcome(False, _order(best), steps, len(cache))
        o, state, stack = stack
        depth -= 1
        lin ^= 1 << o
        left += req[o]
        r = ret[o]
        if r:
            nxt[prv[r]] = r
            prv[nxt[r]] = r
        c = call[o]
        nxt[prv[c]] = c
        prv[nxt[c]] = c
        e = nxt[c]
    return Outcome(True, _order(stack), steps, len(cache))


def _order(stack: tuple[Any, ...] | None) -> tuple[int, ...]:
    out: list[int] = []
    while stack is not None:
        out.append(stack[0])
        stack = stack[2]
    return tuple(reversed(out))
