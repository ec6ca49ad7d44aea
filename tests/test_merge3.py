"""Three-way merges against the common ancestor, version DAGs, and the two-way contrast."""

import re

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.errors import ConfigError
from replab.models.collab.crdt import ORSet
from replab.models.collab.merge3 import (
    ABSENT,
    FieldConflict,
    RecordHistory,
    three_way_merge,
    two_way_merge,
)

FIELDS = list("abcde")
records = st.dictionaries(st.sampled_from(FIELDS), st.integers(0, 3), max_size=5)
edits = st.dictionaries(st.sampled_from(FIELDS), st.one_of(st.none(), st.integers(0, 3)),
                        max_size=5)  # None = delete the field


def edited(record, edit):
    out = dict(record)
    for f, v in edit.items():
        if v is None:
            out.pop(f, None)
        else:
            out[f] = v
    return out


@settings(max_examples=200, deadline=None)
@given(base=records, ours=records, theirs=records)
def test_each_field_follows_the_rule_table(base, ours, theirs):
    r = three_way_merge(base, ours, theirs)
    conflicts = {c.field: c for c in r.conflicts}
    for f in FIELDS:
        b, o, t = (x.get(f, ABSENT) for x in (base, ours, theirs))
        changed_o, changed_t = o != b, t != b
        if changed_o and changed_t and o != t:
            assert conflicts[f] == FieldConflict(f, b, o, t) and f not in r.merged
        else:
            want = o if changed_o else t
            assert f not in conflicts
            assert r.merged.get(f, ABSENT) == want
    mirror = three_way_merge(base, theirs, ours)
    assert mirror.merged == r.merged
    assert [(c.field, c.ours, c.theirs) for c in mirror.conflicts] == [
        (c.field, c.theirs, c.ours) for c in r.conflicts]


@settings(max_examples=200, deadline=None)
@given(base=records, mine=edits, other=edits)
def test_edits_to_different_fields_merge_cleanly_into_both_edits(base, mine, other):
    other = {f: v for f, v in other.items() if f not in mine}
    r = three_way_merge(base, edited(base, mine), edited(base, other))
    assert r.clean and r.merged == edited(edited(base, mine), other)
    assert three_way_merge(base, base, edited(base, other)).merged == edited(base, other)
    assert three_way_merge(base, edited(base, mine), edited(base, mine)).merged == edited(
        base, mine)


@settings(max_examples=100, deadline=None)
@given(ours=records, theirs=records)
def test_two_way_is_three_way_with_an_empty_base(ours, theirs):
    assert two_way_merge(ours, theirs) == three_way_merge({}, ours, theirs)
    assert set(two_way_merge(ours, theirs).merged) | {
        c.field for c in two_way_merge(ours, theirs).conflicts} == set(ours) | set(theirs)


def test_a_deleted_field_stays_deleted_in_three_way_and_comes_back_in_two_way():
    base = {"name": "Ada", "phone": "555", "city": "London"}
    ours = {"name": "Ada", "city": "London"}            # phone deleted
    theirs = {"name": "Ada", "phone": "555", "city": "Paris"}
    assert three_way_merge(base, ours, theirs).merged == {"name": "Ada", "city": "Paris"}
    two = two_way_merge(ours, theirs)
    assert two.merged == {"name": "Ada", "phone": "555"}         # phone resurrected
    assert two.conflicts == (FieldConflict("city", ABSENT, "London", "Paris"),)
    # A CRDT merges two-way too, but its state remembers the delete (a tombstone).
    fields = ORSet()
    for f in base:
        fields = fields.add(f, "A")
    assert fields.remove("phone").merge(fields).value() == {"name", "city"}


def test_delete_versus_modify_is_a_conflict():
    r = three_way_merge({"a": 1}, {}, {"a": 2})
    assert r.conflicts == (FieldConflict("a", 1, ABSENT, 2),) and r.merged == {}
    assert r.resolve(lambda c: c.theirs) == {"a": 2} and r.resolve(lambda c: c.ours) == {}


# ----------------------------------------------------------------------- version DAGs

@st.composite
def dags(draw):
    h = RecordHistory()
    for i in range(draw(st.integers(1, 9))):
        existing = list(h.graph.nodes)
        parents = draw(st.lists(st.sampled_from(existing), unique=True, max_size=2)) \
            if existing else []
        h.commit({"i": i}, parents)
    return h


@settings(max_examples=150, deadline=None)
@given(h=dags(), data=st.data())
def test_merge_bases_agree_with_networkx(h, data):
    a, b = data.draw(st.sampled_from(list(h.graph))), data.draw(st.sampled_from(list(h.graph)))
    bases = h.merge_bases(a, b)
    lca = h.common_ancestor(a, b)
    assert bases == h.merge_bases(b, a)
    if not bases:
        assert lca is None and h.base_record(a, b) == {}
    else:
        assert lca in bases
        if len(bases) == 1:
            assert h.base_record(a, b) == h.record(lca)
    # Brute force: common ancestors with no common ancestor below them.
    anc = {v: nx.ancestors(h.graph, v) | {v} for v in h.graph}
    common = anc[a] & anc[b]
    assert set(bases) == {c for c in common if not any(c in anc[d] and d != c
                                                       for d in common)}


def test_merge_commits_a_clean_result_with_both_parents():
    h = RecordHistory()
    v0 = h.commit({"title": "draft", "tags": "x"})
    v1 = h.commit({"title": "final", "tags": "x"}, [v0])
    v2 = h.commit({"title": "draft"}, [v0])            # tags deleted
    result, v3 = h.merge(v1, v2)
    assert result.clean and h.record(v3) == {"title": "final"}
    assert sorted(h.graph.predecessors(v3)) == [v1, v2]
    # Fast-forward: merging an ancestor changes nothing.
    assert h.merge(v3, v1)[0].merged == {"title": "final"}


def test_conflicting_merge_is_not_committed_unless_resolved():
    h = RecordHistory()
    v0 = h.commit({"x": 1})
    v1, v2 = h.commit({"x": 2}, [v0]), h.commit({"x": 3}, [v0])
    result, none = h.merge(v1, v2)
    assert none is None and result.conflicts == (FieldConflict("x", 1, 2, 3),)
    assert h.graph.number_of_nodes() == 3
    _, v3 = h.merge(v1, v2, on_conflict=lambda c: c.ours + c.theirs)
    assert h.record(v3) == {"x": 5}


def test_criss_cross_merge_uses_a_virtual_base():
    h = RecordHistory()
    v0 = h.commit({"a": 0, "b": 0})
    v1 = h.commit({"a": 1, "b": 0}, [v0])
    v2 = h.commit({"a": 0, "b": 1}, [v0])
    m1 = h.commit({"a": 1, "b": 1}, [v1, v2])      # merged one way
    m2 = h.commit({"a": 1, "b": 1, "c": 9}, [v1, v2])
    assert h.merge_bases(m1, m2) == (v1, v2)
    assert h.base_record(m1, m2) == {"a": 1, "b": 1}
    result, v = h.merge(m1, m2)
    assert result.clean and h.record(v) == {"a": 1, "b": 1, "c": 9}


def test_unrelated_histories_merge_two_way():
    h = RecordHistory()
    a, b = h.commit({"k": 1}), h.commit({"j": 2})
    assert h.merge_bases(a, b) == () and h.common_ancestor(a, b) is None
    assert h.merge(a, b)[0] == two_way_merge({"k": 1}, {"j": 2})


def test_history_frame_and_records_are_copies():
    h = RecordHistory()
    v0 = h.commit({"x": 1})
    h.record(v0)["x"] = 99
    assert h.record(v0) == {"x": 1}
    h.commit({"x": 2}, v0)
    df = h.to_frame()
    assert list(df.columns) == ["version", "parents", "record"]
    pd.testing.assert_series_equal(df.parents, pd.Series([(), ("v0",)], name="parents"))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: RecordHistory().commit({"x": 1}, ["v7"]),
         "The 'parents' parameter of RecordHistory.commit must be ids of existing versions. "
         "Got ['v7'] instead."),
        (lambda: RecordHistory().commit([1, 2]),
         "The 'record' parameter of RecordHistory.commit must be a mapping of field names "
         "to values. Got [1, 2] instead."),
        (lambda: RecordHistory().record("v0"),
         "The 'version' parameter of RecordHistory must be the id of an existing version. "
         "Got 'v0' instead."),
        (lambda: three_way_merge({}, {}, None),
         "The 'theirs' parameter of three_way_merge must be a mapping of field names to "
         "values. Got None instead."),
    ],
)
def test_bad_arguments_name_the_parameter(call, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        call()
