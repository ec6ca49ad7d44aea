"""CRDT laws, convergence and semantics for counters, sets and registers (and RGA laws)."""

import re
from functools import reduce

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.errors import ConfigError
from replab.models.collab.crdt import (
    RGA,
    GCounter,
    LWWRegister,
    MVRegister,
    ORSet,
    PNCounter,
    VersionVector,
    merge_all,
)
from tests.crdt_runs import (
    delivery,
    op_gcounter,
    op_lww,
    op_mv,
    op_orset,
    op_pncounter,
    op_rga,
    op_vv,
    random_run,
)

TYPES = {
    "VersionVector": (VersionVector(), op_vv),
    "GCounter": (GCounter(), op_gcounter),
    "PNCounter": (PNCounter(), op_pncounter),
    "ORSet": (ORSet(), op_orset),
    "LWWRegister": (LWWRegister(), op_lww),
    "MVRegister": (MVRegister(), op_mv),
    "RGA": (RGA(), op_rga),
}
PARAMS = pytest.mark.parametrize("name", list(TYPES))
FAST = settings(max_examples=60, deadline=None)


def three_states(data, name):
    empty, make_op = TYPES[name]
    run = random_run(data, empty, make_op)
    pick = st.sampled_from(run.pool)
    return data.draw(pick), data.draw(pick), data.draw(pick)


# -------------------------------------------------------------------------------- laws

@PARAMS
@FAST
@given(data=st.data())
def test_merge_is_commutative(name, data):
    a, b, _ = three_states(data, name)
    assert a.merge(b) == b.merge(a)


@PARAMS
@FAST
@given(data=st.data())
def test_merge_is_associative(name, data):
    a, b, c = three_states(data, name)
    assert a.merge(b).merge(c) == a.merge(b.merge(c))


@PARAMS
@FAST
@given(data=st.data())
def test_merge_is_idempotent_and_an_upper_bound(name, data):
    a, b, _ = three_states(data, name)
    m = a.merge(b)
    assert a.merge(a) == a
    assert m.merge(a) == m and m.merge(b) == m
    assert a.leq(m) and b.leq(m)
    assert a.leq(b) == (m == b)


@PARAMS
@FAST
@given(data=st.data())
def test_updates_inflate_the_state(name, data):
    empty, make_op = TYPES[name]
    run = random_run(data, empty, make_op)
    for u in run.updates:
        assert u.before.leq(u.after)
        assert u.after.merge(u.before) == u.after


@PARAMS
@FAST
@given(data=st.data())
def test_any_delivery_order_with_duplicates_converges(name, data):
    empty, make_op = TYPES[name]
    run = random_run(data, empty, make_op)
    shipped = [u.after for u in run.updates]
    everything = reduce(lambda a, b: a.merge(b), run.finals.values())
    results = []
    for _ in range(3):
        results.append(reduce(lambda s, m: s.merge(m), delivery(data, shipped), empty))
    assert all(r == everything and r.value() == everything.value() for r in results)


def test_merge_all_folds():
    states = [GCounter().increment(r, k) for k, r in enumerate("ABC", start=1)]
    assert merge_all(states) == GCounter(VersionVector.of({"A": 1, "B": 2, "C": 3}))


# ---------------------------------------------------------------------- oracles per type

@FAST
@given(data=st.data())
def test_counters_count_every_update_once(data):
    run = random_run(data, PNCounter(), op_pncounter)
    total = merge_all(list(run.finals.values()))
    expected = sum(u.args[0] * (1 if u.kind == "inc" else -1) for u in run.updates)
    # Replicas that never synced a particular update cannot count it; the merged one can.
    assert total.value() == expected
    g = random_run(data, GCounter(), op_gcounter)
    assert merge_all(list(g.finals.values())).value() == sum(u.args[0] for u in g.updates)


@FAST
@given(data=st.data())
def test_orset_is_add_wins_by_causal_history(data):
    # Oracle from causal histories, not tags: e is present iff some add(e) was not seen by
    # any remove(e) (a remove only removes the adds its replica had seen).
    run = random_run(data, ORSet(), op_orset)
    final = merge_all(list(run.finals.values()))
    adds = [u for u in run.updates if u.kind == "add"]
    removes = [u for u in run.updates if u.kind == "remove"]
    expected = {
        a.args[0] for a in adds
        if not any(r.args[0] == a.args[0] and a.uid in r.seen for r in removes)
    }
    assert final.value() == expected


@FAST
@given(data=st.data())
def test_mvregister_keeps_exactly_the_causally_maximal_writes(data):
    run = random_run(data, MVRegister(), op_mv)
    final = merge_all(list(run.finals.values()))
    maximal = {u.args[0] for u in run.updates
               if not any(u.uid in w.seen for w in run.updates)}
    assert final.value() == maximal


@FAST
@given(data=st.data())
def test_lww_keeps_the_largest_timestamp_then_replica(data):
    run = random_run(data, LWWRegister(), op_lww)
    final = merge_all(list(run.finals.values()))
    if run.updates:
        best = max(run.updates, key=lambda u: (u.args[1], u.replica, repr(u.args[0])))
        assert (final.value(), final.timestamp, final.replica) == (
            best.args[0], best.args[1], best.replica)
    else:
        assert final.value() is None


@FAST
@given(ops=st.lists(st.tuples(st.sampled_from(["add", "remove"]), st.sampled_from("xyz")),
                    max_size=20))
def test_orset_on_one_replica_behaves_like_a_set(ops):
    s, oracle = ORSet(), set()
    for kind, e in ops:
        s = s.add(e, "A") if kind == "add" else s.remove(e)
        (oracle.add if kind == "add" else oracle.discard)(e)
        assert s.value() == oracle and all(s.contains(x) == (x in oracle) for x in "xyz")


# --------------------------------------------------------------------- named scenarios

def test_orset_concurrent_add_and_remove_add_wins_and_readd_after_remove():
    s = ORSet().add("x", "A")
    assert "x" in s.remove("x").merge(s.add("x", "B")).value()
    gone = s.remove("x")
    assert gone.merge(s) == gone and "x" not in gone.merge(s).value()  # remove saw the add
    back = gone.add("x", "A")
    assert back.merge(s).value() == {"x"}
    assert back.entries == {("x", ("A", 2))}  # tags stay unique after a remove


def test_lww_discards_the_older_concurrent_write():
    a = LWWRegister().assign("from A", 10.0, "A")
    b = LWWRegister().assign("from B", 12.5, "B")
    assert a.merge(b).value() == b.merge(a).value() == "from B"
    assert a.assign("late but old", 3.0, "A").value() == "from A"
    assert LWWRegister().assign(1, 5, "A").merge(LWWRegister().assign(2, 5, "B")).value() == 2


def test_mvregister_siblings_and_resolution():
    base = MVRegister().assign("v0", "A")
    left, right = base.assign("L", "A"), base.assign("R", "B")
    both = left.merge(right)
    assert both.values() == ("L", "R") and both.value() == {"L", "R"}
    resolved = both.assign("L+R", "C")
    assert resolved.merge(left).merge(right).values() == ("L+R",)
    assert both.context() == VersionVector.of({"A": 2, "B": 1})


def test_version_vector_compare():
    a = VersionVector.of({"A": 1})
    b = a.increment("B")
    assert (a.compare(b), b.compare(a), a.compare(a)) == ("before", "after", "equal")
    assert a.increment("A").compare(b) == "concurrent"
    assert VersionVector.of({"A": 0, "B": 2}).entries == (("B", 2),)
    assert b.merge(a.increment("A", 3)).as_dict() == {"A": 4, "B": 1}


def test_states_are_immutable():
    g = GCounter()
    g.increment("A")
    assert g.value() == 0
    with pytest.raises(AttributeError):
        g.counts = VersionVector()  # type: ignore[misc]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: GCounter().increment("A", -1),
         "The 'amount' parameter of GCounter.increment must be an int in [0, inf). "
         "Got -1 instead."),
        (lambda: PNCounter().decrement("A", 1.5),
         "The 'amount' parameter of PNCounter.decrement must be an int in [0, inf). "
         "Got 1.5 instead."),
        (lambda: ORSet().add("x", ""),
         "The 'replica' parameter of ORSet.add must be a non-empty str. Got '' instead."),
        (lambda: MVRegister().assign(1, 7),
         "The 'replica' parameter of MVRegister.assign must be a non-empty str. Got 7 instead."),
        (lambda: LWWRegister().assign(1, float("nan"), "A"),
         "The 'timestamp' parameter of LWWRegister.assign must be a finite number in "
         "(-inf, inf). Got nan instead."),
    ],
)
def test_bad_arguments_name_the_parameter(call, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        call()
