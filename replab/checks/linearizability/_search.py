"""The Wing–Gong / Lowe search for one key, with Porcupine's cache.

Operations with a known outcome are call and return *entries* in one doubly linked list,
in history order. The search linearizes an operation whose call entry comes before the
first remaining return entry (it was invoked before every still-pending operation
returned), applies it to the model, *lifts* its two entries out of the list and starts
again from the head. Reaching a return entry means the operation it belongs to cannot be
linearized here: the last linearized operation is undone and the next candidate tried. A
cache of (linearized set, model state) skips states already explored (Lowe's "JIT
linearization"; Porcupine's ``checkSingle``); the set is kept as a compact exact key (see
:func:`search`).

``info`` operations have no return entry: they may be linearized at any point after their
invoke, or never. They sit in lists of their own, one per operation (kind and argument).
The search succeeds when every operation with a return entry (``required``) is
linearized.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["READ", "WRITE", "CAS", "NEVER", "SearchOp", "Outcome", "search", "apply"]

READ, WRITE, CAS, NEVER = 0, 1, 2, 3
_CHECK_EVERY = 1024  # steps between two looks at the clock


class SearchOp(NamedTuple):
    """One operation of a key: ``kind`` (READ/WRITE/CAS/NEVER), its argument (value read,
    value written, or ``(old, new)``), invoke / return positions (``ret = -1``: info)."""

    kind: int
    arg: Any
    inv: int
    ret: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """``verdict`` True / False / None (budget exhausted); ``order``: the full
    linearization (True) or the longest partial one found: the most ops with a known
    outcome placed (op ids, in order)."""

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


class _Lists:
    """Doubly linked lists over entries, in history order, sharing ``nxt``/``prv``: the
    main list (head 0) of required ops' call and return entries, and one list per info
    *class* (same kind and argument) of its ops' call entries (heads ``class_head``). Each
    list ends in a tail entry (op -1, position inf). ``op_of[e]``: the op of a call entry
    (-1 for returns, heads and tails)."""

    def __init__(self, ops: list[SearchOp]) -> None:
        main = sorted([(o.inv, i, True) for i, o in enumerate(ops) if o.ret >= 0]
                      + [(o.ret, i, False) for i, o in enumerate(ops) if o.ret >= 0])
        classes: dict[Any, list[tuple[int, int, bool]]] = {}
        self.class_of = [-1] * len(ops)
        for i, o in enumerate(ops):
            if o.ret < 0:
                members = classes.setdefault((o.kind, o.arg), [])
                self.class_of[i] = list(classes).index((o.kind, o.arg)) if members == [] \
                    else self.class_of[members[0][1]]
                members.append((o.inv, i, True))
        self.nxt: list[int] = []
        self.prv: list[int] = []
        self.op_of: list[int] = []
        self.pos: list[float] = []
        self.call = [0] * len(ops)
        self.ret = [0] * len(ops)
        self._chain(main)
        self.class_head = []
        for members in classes.values():
            self.class_head.append(len(self.nxt))
            self._chain(sorted(members))

    def _chain(self, events: list[tuple[int, int, bool]]) -> None:
        base = len(self.nxt)
        n = len(events)
        self.nxt += [*range(base + 1, base + n + 2), base + n + 1]
        self.prv += [base, *range(base, base + n + 1)]
        self.op_of += [-1] * (n + 2)
        self.pos += [float("-inf")] + [float(p) for p, _, _ in events] + [float("inf")]
        for e, (_, i, is_call) in enumerate(events, start=base + 1):
            if is_call:
                self.op_of[e] = i
                self.call[i] = e
            else:
                self.ret[i] = e


def search(ops: list[SearchOp], initial: Any, deadline: float) -> Outcome:
    """Decide whether ``ops`` (one key) are linearizable from ``initial``.

    ``deadline`` is a ``time.perf_counter()`` value; past it the verdict is ``None``.

    Besides the cache, these prunings keep histories with many ``info`` ops tractable; each
    drops only choices another one dominates, so the verdict is exact:

    * At a node, candidates with a return entry are tried before ``info`` ones (phase 0
      walks the main list up to its first return entry; phase 1 the info classes).
    * A required read (or cas ``[v v]``) that can take effect is taken without
      alternatives: it changes no state, so any completion of the node can place it
      first, and if the node with it fails the node fails. (Not so a write of the current
      value: later in a completion it may overwrite another value.)
    * Info ops with the same operation (kind and argument) form a class; of a class only
      the earliest invoked pending op is tried: once invoked they stay candidates for ever
      (no return entry), so they are interchangeable. The ops of a class taken so far are
      thus always its first ones, and the cache stores a count per class.
    * An ``info`` op that would leave the state as it is is never taken (leaving it out
      keeps every option open), and right after an ``info`` op no write is tried: the
      write would overwrite the info op's value before anything read it.

    The cache key is (``low``, ``win``, info counts, state, ``fresh``): the required ops
    (numbered in invoke order) below ``low`` are all linearized, ``win`` holds the bits of
    the others from ``low`` on, so keys stay small on long histories.
    """
    lists = _Lists(ops)
    nxt, prv, op_of, pos = lists.nxt, lists.prv, lists.op_of, lists.pos
    call, ret, class_head, class_of = lists.call, lists.ret, lists.class_head, lists.class_of
    n_classes = len(class_head)
    kind = [o.kind for o in ops]
    arg = [o.arg for o in ops]
    req = [o.ret >= 0 for o in ops]
    rid = [-1] * len(ops)  # required ops numbered in invoke order
    for n, i in enumerate(i for i, o in enumerate(ops) if o.ret >= 0):
        rid[i] = n
    left = sum(req)
    state, phase, limit, ci = initial, 0, 0.0, 0
    low, win, counts = 0, 0, (0,) * n_classes
    fresh = False  # the last op placed is an info op whose value nothing has read yet
    # frames: (op, state, phase, limit, forced, fresh, low, win, counts, rest of the stack)
    stack: tuple[Any, ...] | None = None
    best: tuple[Any, ...] | None = None
    best_left = left + 1  # the fewest required ops left unplaced at a dead end
    cache: set[tuple[Any, ...]] = set()
    steps = 0
    e = nxt[0]
    clock = time.perf_counter
    while left:
        if steps % _CHECK_EVERY == 0 and clock() > deadline:
            return Outcome(None, _order(best), steps, len(cache))
        steps += 1
        if phase:
            o = -1
            while ci < n_classes:
                e = nxt[class_head[ci]]
                ci += 1
                if op_of[e] >= 0 and pos[e] < limit:
                    o = op_of[e]
                    break
        else:
            o = op_of[e]
            if o < 0:  # required candidates exhausted: the info ones invoked before
                phase, limit, ci = 1, pos[e], 0
                continue
        if o < 0:
            # a dead end: undo linearized ops until a node with untried candidates
            if left < best_left:
                best, best_left = stack, left
            while True:
                if stack is None:
                    return Outcome(False, _order(best), steps, len(cache))
                o, state, phase, limit, forced, fresh, low, win, counts, stack = stack
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
                    ci = class_of[o] + 1
                    break
            continue
        k = kind[o]
        if k == READ:
            ok, new = state == arg[o], state
        elif k == WRITE:
            ok, new = not fresh, arg[o]
        elif k == CAS:
            ok, new = state == arg[o][0], arg[o][1]
        else:
            ok, new = False, state
        r = req[o]
        if not ok or (not r and new == state):
            e = nxt[e]
            continue
        # reads (and cas [v v]) never change the state, whatever it is
        forced = r and (k == READ or (k == CAS and arg[o][0] == arg[o][1]))
        if r:
            nlow, nwin, ncounts = low, win | (1 << (rid[o] - low)), counts
            while nwin & 1:
                nwin >>= 1
                nlow += 1
        else:
            j = class_of[o]
            nlow, nwin, ncounts = low, win, (*counts[:j], counts[j] + 1, *counts[j + 1:])
        # the child's own options depend on ``fresh`` too (no write right after an info op)
        key = (nlow, nwin, ncounts, new, not r)
        if key in cache:
            if forced:  # the node's one choice already failed: so does the node
                phase, limit, ci = 1, float("-inf"), n_classes
            else:
                e = nxt[e]
            continue
        cache.add(key)
        stack = (o, state, phase, limit, forced, fresh, low, win, counts, stack)
        state, low, win, counts, phase, fresh = new, nlow, nwin, ncounts, 0, not r
        left -= r
        # lift the call entry, then its return entry
        nxt[prv[e]] = nxt[e]
        prv[nxt[e]] = prv[e]
        rr = ret[o]
        if rr:
            nxt[prv[rr]] = nxt[rr]
            prv[nxt[rr]] = prv[rr]
        e = nxt[0]
    return Outcome(True, _order(stack), steps, len(cache))


def _order(stack: tuple[Any, ...] | None) -> tuple[int, ...]:
    out: list[int] = []
    while stack is not None:
        out.append(stack[0])
        stack = stack[-1]
    return tuple(reversed(out))
