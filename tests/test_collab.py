"""Collaborative editing: OT transform laws, the OT protocol, RGA, locking, edit_session."""

import re
import subprocess
import sys
from collections import deque

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.errors import ConfigError
from replab.latency import Constant
from replab.models.collab import (
    METHODS,
    Delete,
    EditConfig,
    Insert,
    Noop,
    OTClient,
    OTServer,
    apply_op,
    edit_session,
    transform,
)

FAST = settings(max_examples=60, deadline=None)


@st.composite
def op_on(draw, n, site):
    if n and draw(st.booleans()):
        return Delete(pos=draw(st.integers(0, n - 1)), site=site)
    return Insert(pos=draw(st.integers(0, n)), char=draw(st.sampled_from("xyz")), site=site,
                  uid=f"{site}:{draw(st.integers(0, 10**6))}")


# ------------------------------------------------------------------------- transform

@settings(max_examples=300, deadline=None)
@given(data=st.data(), doc=st.text("abcd", max_size=6))
def test_transform_satisfies_tp1_on_text_and_on_tagged_characters(data, doc):
    a, b = data.draw(op_on(len(doc), "s0")), data.draw(op_on(len(doc), "s1"))
    assert apply_op(apply_op(doc, a), transform(b, a)) == apply_op(apply_op(doc, b),
                                                                  transform(a, b))
    tagged = tuple((c, f"init:{k}") for k, c in enumerate(doc))
    left = apply_op(apply_op(tagged, a), transform(b, a))
    right = apply_op(apply_op(tagged, b), transform(a, b))
    assert left == right
    # Intention: a deleted character is the one the deleting site saw, an inserted one
    # survives next to the neighbours its site saw.
    for op in (a, b):
        if isinstance(op, Delete):
            assert tagged[op.pos] not in left
        else:
            k = [u for _, u in left].index(op.uid)
            if op.pos > 0 and tagged[op.pos - 1] in left:
                assert left.index(tagged[op.pos - 1]) < k


def test_transform_ties_and_noops():
    a, b = Insert(pos=1, char="A", site="s0"), Insert(pos=1, char="B", site="s1")
    assert transform(b, a) == b and transform(a, b) == Insert(pos=2, char="A", site="s0")
    assert apply_op(apply_op("xy", a), transform(b, a)) == "xBAy"
    d0, d1 = Delete(pos=0, site="s0"), Delete(pos=0, site="s1")
    assert transform(d0, d1) == Noop(site="s0") and apply_op("q", Noop(site="s0")) == "q"
    assert transform(Delete(pos=3, site="s0"), Insert(pos=3, char="z", site="s1")).pos == 4
    assert transform(Insert(pos=3, char="z", site="s0"), Delete(pos=3, site="s1")).pos == 3


# ------------------------------------------------------ OT protocol, hypothesis schedules

def run_ot_schedule(data, n_sites, initial):
    """Drive OTClient/OTServer with a hypothesis-chosen interleaving of edits and deliveries."""
    names = [f"s{i}" for i in range(n_sites)]
    start = tuple((c, f"init:{k}") for k, c in enumerate(initial))
    server = OTServer(doc=start)
    clients = {n: OTClient(site=n, doc=start) for n in names}
    up = {n: deque() for n in names}      # client -> server, FIFO
    down = {n: deque() for n in names}    # server -> client, FIFO
    inserted, deleted, neighbours = set(), set(), []
    for _ in range(data.draw(st.integers(0, 30))):
        actions = ["edit"] + [f"up:{n}" for n in names if up[n]] + \
            [f"down:{n}" for n in names if down[n]]
        act = data.draw(st.sampled_from(actions))
        if act == "edit":
            n = data.draw(st.sampled_from(names))
            doc = clients[n].doc
            op = data.draw(op_on(len(doc), n))
            if isinstance(op, Delete):
                deleted.add(doc[op.pos][1])
            else:
                op = Insert(pos=op.pos, char=op.char, site=n, uid=f"{n}:{len(inserted)}")
                inserted.add(op.uid)
                left = doc[op.pos - 1][1] if op.pos else None
                right = doc[op.pos][1] if op.pos < len(doc) else None
                neighbours.append((left, op.uid, right))
            out = clients[n].local(op)
            if out:
                up[n].append(out)
        else:
            direction, n = act.split(":")
            if direction == "up":
                _deliver_up(server, n, up[n].popleft(), names, down)
            else:
                _deliver_down(clients[n], down[n].popleft(), up[n])
    while any(up.values()) or any(down.values()):  # quiesce
        for n in names:
            while up[n]:
                _deliver_up(server, n, up[n].popleft(), names, down)
            while down[n]:
                _deliver_down(clients[n], down[n].popleft(), up[n])
    expected = ({u for _, u in start} | inserted) - deleted
    return server, clients, expected, neighbours


def _deliver_up(server, src, msg, names, down):
    op = server.receive(*msg)
    for n in names:
        down[n].append("ack" if n == src else op)


def _deliver_down(client, msg, up):
    if msg == "ack":
        nxt = client.ack()
        if nxt:
            up.append(nxt)
    else:
        client.remote(msg)


def assert_order_kept(final, neighbours):
    pos = {u: k for k, u in enumerate(final)}
    for left, uid, right in neighbours:
        if uid in pos:
            assert left not in pos or pos[left] < pos[uid]
            assert right not in pos or pos[uid] < pos[right]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n_sites=st.integers(2, 4), initial=st.text("01", max_size=3))
def test_ot_protocol_converges_under_any_interleaving(data, n_sites, initial):
    server, clients, expected, neighbours = run_ot_schedule(data, n_sites, initial)
    for c in clients.values():
        assert c.doc == server.doc and c.outstanding is None and not c.buffer
        assert c.revision == len(server.history)
    final = [u for _, u in server.doc]
    assert set(final) == expected and len(final) == len(expected)
    assert_order_kept(final, neighbours)


def test_ot_client_buffers_while_an_op_is_in_flight():
    c = OTClient(site="s1", doc="ab")
    assert c.local(Insert(pos=0, char="x", site="s1")) == (0, Insert(pos=0, char="x",
                                                                      site="s1"))
    assert c.local(Insert(pos=3, char="y", site="s1")) is None and len(c.buffer) == 1
    c.remote(Insert(pos=0, char="Q", site="s0"))   # s1 > s0: x stays first
    assert c.doc == "xQaby" and c.buffer == [Insert(pos=4, char="y", site="s1")]
    assert c.outstanding == Insert(pos=0, char="x", site="s1")
    assert c.ack() == (2, Insert(pos=4, char="y", site="s1"))


def test_server_rejects_a_revision_from_the_future():
    msg = "The 'revision' parameter of OTServer.receive must be an int in [0, 0]. Got 1 instead."
    with pytest.raises(ConfigError, match=re.escape(msg)):
        OTServer(doc="").receive(1, Noop(site="s0"))


# ------------------------------------------------------------------------ edit_session

@FAST
@given(method=st.sampled_from(METHODS), sites=st.integers(2, 4), ops=st.integers(0, 8),
       delete_prob=st.floats(0, 0.8), seed=st.integers(0, 2**32 - 1),
       initial=st.sampled_from(["", "hello"]))
def test_every_method_converges_and_keeps_every_surviving_edit(method, sites, ops,
                                                               delete_prob, seed, initial):
    r = edit_session(sites, ops, method=method, seed=seed, delete_prob=delete_prob,
                     latency="exp:0.02", initial=initial)
    assert r.converged and r.intention_ok and len(set(r.texts)) == 1
    assert len(r.texts) == sites + (method != "crdt")
    assert r.metrics["ops"] == sites * ops == len(r.log)
    typed = r.log[r.log.kind == "insert"]
    assert all(ch == "abcd"[int(u[1:u.index(":")])] for ch, u in zip(typed.char, typed.uid,
                                                                    strict=True))
    if method != "lock":
        assert_order_kept(r.uids[0], zip(typed.left, typed.uid, typed.right, strict=True))


@pytest.mark.parametrize("method, per_op", [("ot", lambda s: 1 + s), ("crdt", lambda s: s - 1)])
def test_message_counts(method, per_op):
    r = edit_session(3, 7, method=method, seed=4)
    assert r.metrics["messages"] == 21 * per_op(3)


def test_lock_wait_is_a_round_trip_when_uncontended():
    # One site, edits far apart, constant 10 ms links: each edit waits request + grant.
    r = edit_session(1, 4, method="lock", seed=0, think="const:1000", latency="const:10")
    assert r.log.wait_ms.tolist() == [20.0] * 4
    assert r.metrics["messages"] == 4 * 3  # request, grant, release


def test_lock_makes_sites_wait_and_waits_grow_with_latency():
    fast = edit_session(4, 15, method="lock", seed=2, latency="exp:0.1")
    slow = edit_session(4, 15, method="lock", seed=2, latency="exp:0.01")
    assert 0 < fast.metrics["wait_mean_ms"] < slow.metrics["wait_mean_ms"]
    assert (fast.log.wait_ms >= 0).all() and slow.metrics["wait_max_ms"] >= 20.0
    for method in ("ot", "crdt"):
        assert edit_session(4, 15, method=method, seed=2).metrics["wait_total_ms"] == 0.0


@pytest.mark.parametrize("seed, text", [(0, "ba[]"), (1, "[]ba"), (3, "a[b]"), (5, "b[]a")])
def test_concurrent_typing_ot_and_crdt_agree_and_ties_go_to_the_larger_site(seed, text):
    # Both sites type at t=5 ms; neither sees the other's edit before typing.
    for method in ("ot", "crdt"):
        r = edit_session(2, 1, method=method, seed=seed, think=Constant(5.0),
                         delete_prob=0.0, latency="const:50", initial="[]")
        assert r.log.time.tolist() == [5.0, 5.0]
        assert set(r.texts) == {text}


def test_same_seed_same_session_also_in_a_subprocess():
    a = edit_session(3, 6, method="ot", seed=11)
    b = edit_session(3, 6, method="ot", seed=11)
    assert a.texts == b.texts and a.metrics == b.metrics
    pd.testing.assert_frame_equal(a.log, b.log)
    assert edit_session(3, 6, method="ot", seed=12).log.time.tolist() != a.log.time.tolist()
    code = ("from replab.models.collab import edit_session;"
            "r = edit_session(3, 6, method='crdt', seed=11);"
            "print(r.texts[0], r.metrics['end_ms'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    c = edit_session(3, 6, method="crdt", seed=11)
    assert out == [c.texts[0], repr(c.metrics["end_ms"])]


def test_empty_session_and_result_shape():
    r = edit_session(2, 0, method="crdt", seed=1, initial="abc")
    assert r.texts == ("abc", "abc") and r.converged and r.metrics["ops"] == 0
    assert list(r.log.columns) == ["time", "site", "kind", "index", "char", "uid", "left",
                                   "right", "wait_ms"]
    assert r.uids[0] == ("init:0", "init:1", "init:2")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(sites=0), "The 'sites' parameter of EditConfig must be an int in [1, 26]. "
                        "Got 0 instead."),
        (dict(method="paxos"), "The 'method' parameter of EditConfig must be one of 'ot', "
                               "'crdt', 'lock'. Got 'paxos' instead."),
        (dict(delete_prob=1.5), "The 'delete_prob' parameter of EditConfig must be a finite "
                                "number in [0, 1]. Got 1.5 instead."),
        (dict(ops_per_site=-1), "The 'ops_per_site' parameter of EditConfig must be an int "
                                "in [0, inf). Got -1 instead."),
        (dict(latency=5), "The 'latency' parameter of EditConfig must be a latency spec such "
                          "as 'exp:0.05' or a distribution. Got 5 instead."),
        (dict(initial=None), "The 'initial' parameter of EditConfig must be a str. "
                             "Got None instead."),
    ],
)
def test_bad_config_names_the_parameter(kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        EditConfig(**kwargs)
