"""The sequence CRDT (RGA): a list oracle, intention preservation, deltas in any order."""

import re
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.errors import ConfigError
from replab.models.collab.crdt import RGA, merge_all
from tests.crdt_runs import delivery, op_rga, random_run

FAST = settings(max_examples=80, deadline=None)


@FAST
@given(data=st.data())
def test_one_replica_behaves_like_a_python_string(data):
    doc, oracle = RGA(), ""
    for _ in range(data.draw(st.integers(0, 25))):
        if oracle and data.draw(st.booleans()):
            i = data.draw(st.integers(0, len(oracle) - 1))
            k = data.draw(st.integers(1, len(oracle) - i))
            doc, oracle = doc.delete(i, k), oracle[:i] + oracle[i + k:]
        else:
            i = data.draw(st.integers(0, len(oracle)))
            text = data.draw(st.text("xyz", min_size=1, max_size=3))
            doc, oracle = doc.insert(i, text, "A"), oracle[:i] + text + oracle[i:]
        assert doc.value() == oracle and len(doc) == len(oracle)


def _inserts(run):
    """(update, new node ids, left and right visible neighbours at the origin)."""
    for u in run.updates:
        if u.kind == "insert":
            i = u.args[0]
            vis = u.before.visible_ids()
            left = vis[i - 1] if i > 0 else None
            right = vis[i] if i < len(vis) else None
            new = sorted(n.id for n in u.after.nodes - u.before.nodes)
            yield u, new, left, right


@FAST
@given(data=st.data())
def test_concurrent_inserts_keep_their_place_between_their_neighbours(data):
    run = random_run(data, RGA(), op_rga)
    final = merge_all(list(run.finals.values()))
    order = final.order()
    pos = {nid: k for k, nid in enumerate(order)}
    origin = {nid: u for u, new, _, _ in _inserts(run) for nid in new}
    for u, new, left, right in _inserts(run):
        first, last = pos[new[0]], pos[new[-1]]
        assert [pos[n] for n in new] == sorted(pos[n] for n in new)
        # Only text typed later *into* this run (by someone who had seen it) may split it:
        # concurrent runs are never interleaved.
        for nid in order[first:last + 1]:
            assert nid in new or u.uid in origin[nid].seen
        if left is not None:
            assert pos[left] < first
        if right is not None:
            assert last < pos[right]


@FAST
@given(data=st.data())
def test_a_character_survives_exactly_when_no_one_deleted_it(data):
    run = random_run(data, RGA(), op_rga)
    final = merge_all(list(run.finals.values()))
    inserted = {n.id for u in run.updates for n in u.after.nodes - u.before.nodes}
    deleted = {t for u in run.updates for t in u.after.tombstones - u.before.tombstones}
    assert set(final.visible_ids()) == inserted - deleted
    assert len(final.order()) == len(inserted)


@FAST
@given(data=st.data())
def test_deltas_delivered_in_any_order_converge(data):
    # Deltas may arrive before the characters they were typed after: such nodes wait,
    # invisible, until their parent arrives.
    run = random_run(data, RGA(), op_rga)
    deltas = [u.after.delta_since(u.before) for u in run.updates]
    target = merge_all([RGA(), *run.finals.values()])
    for _ in range(3):
        state = RGA()
        for d in delivery(data, deltas):
            state = state.merge(d)
            assert set(state.visible_ids()) <= set(target.order())
        assert state == target and state.value() == target.value()


def test_orphan_waits_for_its_parent():
    base = RGA().insert(0, "a", "A")
    child = base.insert(1, "b", "B").delta_since(base)
    assert RGA().merge(child).value() == ""
    assert RGA().merge(child).merge(base).value() == "ab"


def test_concurrent_runs_at_the_same_place_are_not_interleaved():
    base = RGA().insert(0, "[]", "S")
    a = base.insert(1, "abc", "A")
    b = base.insert(1, "XYZ", "B")
    assert a.merge(b).value() == b.merge(a).value() == "[XYZabc]"


def test_delete_versus_insert_after_the_deleted_character():
    base = RGA().insert(0, "ab", "A")
    deleted = base.delete(0)
    typed = base.insert(1, "!", "B")  # typed after 'a', which A deletes concurrently
    assert deleted.merge(typed).value() == "!b"


def test_states_are_immutable_and_cached_order_is_per_state():
    doc = RGA().insert(0, "abc", "A")
    assert doc.value() == "abc"
    doc.delete(0)
    assert doc.value() == "abc"
    assert doc.delete(1, 2).value() == "a"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: RGA().insert(1, "x", "A"),
         "The 'index' parameter of RGA.insert must be an int in [0, len=0]. Got 1 instead."),
        (lambda: RGA().insert(0, "", "A"),
         "The 'text' parameter of RGA.insert must be a non-empty str. Got '' instead."),
        (lambda: RGA().insert(0, "x", None),
         "The 'replica' parameter of RGA.insert must be a non-empty str. Got None instead."),
        (lambda: RGA().insert(0, "ab", "A").delete(2),
         "The 'index' parameter of RGA.delete must be an int in [0, len-length=1]. "
         "Got 2 instead."),
        (lambda: RGA().insert(0, "ab", "A").delete(0, 3),
         "The 'length' parameter of RGA.delete must be an int in [1, len=2]. Got 3 instead."),
    ],
)
def test_bad_arguments_name_the_parameter(call, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        call()


def test_reduce_over_many_replicas_matches_pairwise_merge():
    docs = [RGA().insert(0, c, r) for c, r in zip("pqr", "ABC", strict=True)]
    assert reduce(RGA.merge, docs) == reduce(RGA.merge, reversed(docs))
