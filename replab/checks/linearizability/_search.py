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

    Besides the cache, three prunings keep histories with many ``info`` ops tractable; each
    drops only choices another one dominates, so the verdict is exact:

    * At a node, candidates with a return entry are tried before ``info`` ones (phase 0,
      then phase 1).
    * A required read (or cas ``[v v]``) that can take effect is taken without
      alternatives: it changes no state, so any completion of the node can place it
      first, and if the node with it fails the node fails. (Not so a write of the current
      value: later in a completion it may overwrite another value.)
    * An ``info`` candidate that would leave the state as it is, is never taken (leaving
      it out keeps every option open), and of several ``info`` candidates with the same
      operation (kind and argument) only the first is tried: they stay candidates for
      ever (no return entry), so they are interchangeable.
    """
    nxt, prv, op_of, call, ret = _entries(ops)
    kind = [o.kind for o in ops]
    arg = [o.arg for o in ops]
    req = [o.ret >= 0 for o in ops]
    left = sum(req)
    state, lin, depth, phase = initial, 0, 0, 0
    tried: set[Any] | None = None  # info ops tried at this node, by (kind, argument)
    # frames: (op, state before, phase, tried, forced, rest of the stack)
    stack: tuple[Any, ...] | None = None
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
            r = req[o]
            if r is not (phase == 0):
                e = nxt[e]
                continue
            k = kind[o]
            if k == READ:
                ok, new = state == arg[o], state
            elif k == WRITE:
                ok, new = True, arg[o]
            elif k == CAS:
                ok, new = state == arg[o][0], arg[o][1]
            else:
                ok, new = False, state
            if not ok or (not r and new == state):
                e = nxt[e]
                continue
            # reads (and cas [v v]) never change the state, whatever it is
            forced = r and (k == READ or (k == CAS and arg[o][0] == arg[o][1]))
            if not r:
                cls = (k, arg[o])
                if tried is None:
                    tried = set()
                elif cls in tried:
                    e = nxt[e]
                    continue
                tried.add(cls)
            nl = lin | (1 << o)
            if (nl, new) not in cache:
                cache.add((nl, new))
                stack = (o, state, phase, tried, forced, stack)
                depth += 1
                state, lin, phase, tried = new, nl, 0, None
                left -= r
                # lift the call entry, then its return entry
                nxt[prv[e]] = nxt[e]
                prv[nxt[e]] = prv[e]
                rr = ret[o]
                if rr:
                    nxt[prv[rr]] = nxt[rr]
                    prv[nxt[rr]] = prv[rr]
                e = nxt[0]
                continue
            if not forced:
                e = nxt[e]
                continue
        elif phase == 0:  # the required candidates are exhausted: now the info ones
            phase = 1
            e = nxt[0]
            continue
        # a dead end: undo linearized ops until a node with untried candidates
        if depth > best_depth:
            best, best_depth = stack, depth
        while True:
            if stack is None:
                return Outcome(False, _order(best), steps, len(cache))
            o, state, phase, tried, forced, stack = stack
            depth -= 1
            lin ^= 1 << o
            left += req[o]
            rr = ret[o]
            if rr:
                nxt[prv[rr]] = rr
                prv[nxt[rr]] = rr
            c = call[o]
            nxt[prv[c]] = c
            prv[nxt[c]] = c
            if not forced:
                e = nxt[c]
                break
    return Outcome(True, _order(stack), steps, len(cache))


def _order(stack: tuple[Any, ...] | None) -> tuple[int, ...]:
    out: list[int] = []
    while stack is not None:
        out.append(stack[0])
        stack = stack[-1]
    return tuple(reversed(out))
