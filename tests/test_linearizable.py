"""The linearizability checker: oracle agreement, witnesses, semantics, budget, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.linearizability import etcd_history
from replab import History
from replab.checks import check_history, linearizable
from replab.errors import ConfigError
from tests.linearizability_oracle import is_linearization, oracle, register_history


def op(p: Any, t: str, f: str, value: Any, key: str = "x") -> dict[str, Any]:
    return {"process": p, "type": t, "f": f, "key": key, "value": value}


def seq(*pairs: tuple[Any, str, Any, Any]) -> list[dict[str, Any]]:
    """Sequential ops: (process, f, value, result) each invoked and completed ok."""
    out = []
    for p, f, value, result in pairs:
        out += [op(p, "invoke", f, value), op(p, "ok", f, result)]
    return out


def witness(res: Any, key: str) -> list[tuple[int, Any]]:
    v = res.keys[key]
    return [(v.ops[o].inv, s) for o, s in zip(v.order, v.states, strict=True)]


@settings(max_examples=200, deadline=None)
@given(register_history() | register_history(max_events=18, keys=("x",)))
def test_verdicts_agree_with_the_brute_force_oracle(ops: list[dict[str, Any]]) -> None:
    res = linearizable(ops, model="cas-register")
    for key, v in res.keys.items():
        assert v.verdict == ("linearizable" if oracle(ops, key) else "not linearizable")
        # the witness is a legal run: complete when linearizable, a prefix otherwise
        assert is_linearization(ops, key, witness(res, key),
                                complete=v.verdict == "linearizable")
        if v.verdict == "not linearizable":
            assert v.blocked or v.failing is not None
            assert v.example is not None and v.example["indices"]


@settings(max_examples=120, deadline=None)
@given(register_history(keys=("x",)))
def test_linearizable_histories_have_no_other_finding(ops: list[dict[str, Any]]) -> None:
    if linearizable(ops, model="cas-register").verdict != "linearizable":
        return
    res = check_history(ops, ["stale-read", "read-your-writes", "monotonic-reads",
                              "lost-write"])
    assert {name: r.count for name, r in res.items()} == dict.fromkeys(res, 0)


def test_a_stale_read_is_not_linearizable_with_a_witness() -> None:
    ops = seq((0, "write", 1, 1), (1, "read", None, 1), (0, "write", 2, 2),
              (1, "read", None, 1))
    v = linearizable(ops).keys["x"]
    assert v.verdict == "not linearizable"
    assert v.order == (0, 1, 2) and v.states == (1, 1, 2)
    assert v.failing == 3
    assert v.blocked == ({"op": 3, "index": 6,
                          "reason": "read 1, but the register held 2"},)
    assert v.example is not None
    assert v.example["indices"] == [4, 5, 6, 7]
    assert v.example["message"] == (
        "key 'x' is not linearizable: the longest linearization found places 3 of 4 ops "
        "(the last is op 4); none of the ops that could come next can take effect: op 6 "
        "read 1, but the register held 2")


def test_concurrent_ops_may_take_effect_in_either_order() -> None:
    ops = [op(0, "invoke", "write", 1), op(1, "invoke", "read", None),
           op(1, "ok", "read", 1), op(0, "ok", "write", 1),
           *seq((1, "read", None, 1))]
    v = linearizable(ops).keys["x"]
    assert v.verdict == "linearizable"
    assert [v.ops[o].f for o in v.order] == ["write", "read", "read"]


def test_info_write_may_take_effect_late_or_never() -> None:
    late = [op(0, "invoke", "write", 1), op(0, "info", "write", None),
            *seq((1, "read", None, None), (1, "read", None, 1), (1, "read", None, 1))]
    assert linearizable(late).verdict == "linearizable"
    never = [op(0, "invoke", "write", 1), op(0, "info", "write", None),
             *seq((1, "read", None, None), (1, "read", None, None))]
    assert linearizable(never).verdict == "linearizable"
    # ... but not before its invoke
    early = [*seq((1, "read", None, 1)), op(0, "invoke", "write", 1),
             op(0, "info", "write", None)]
    assert linearizable(early).verdict == "not linearizable"


def test_failed_ops_never_happened_and_unknown_reads_constrain_nothing() -> None:
    ops = [op(0, "invoke", "write", 1), op(0, "fail", "write", 1),
           op(1, "invoke", "read", None), op(1, "info", "read", None),
           op(2, "invoke", "cas", [None, 2]), op(2, "fail", "cas", [None, 2]),
           *seq((1, "read", None, None))]
    assert linearizable(ops, model="cas-register").keys["x"].verdict == "linearizable"
    assert linearizable(ops + seq((1, "read", None, 1)), model="cas-register").verdict == \
        "not linearizable"


def test_cas_and_the_initial_value() -> None:
    ops = seq((0, "cas", [0, 1], [0, 1]), (1, "read", None, 1))
    assert linearizable(ops, model="cas-register").verdict == "not linearizable"
    res = linearizable(ops, model="cas-register", initial=0)
    assert res.verdict == "linearizable" and res.keys["x"].states == (1, 1)
    v = linearizable(ops, model="cas-register").keys["x"]
    assert v.blocked[0]["reason"] == "cas expected 0, but the register held null (not found)"


def test_siblings_are_never_linearizable_but_one_sibling_is_a_value() -> None:
    two = seq((0, "write", 1, 1), (1, "read", None, [1, 2]))
    v = linearizable(two).keys["x"]
    assert v.verdict == "not linearizable"
    assert v.blocked[0]["reason"] == "returned 2 siblings; a register holds one value"
    assert linearizable(seq((0, "write", 1, 1), (1, "read", None, [1]))).verdict == \
        "linearizable"
    assert linearizable(seq((1, "read", None, []))).verdict == "linearizable"


def test_keys_are_decided_independently() -> None:
    ops = seq((0, "write", 1, 1)) + [op(1, "invoke", "read", None, "y"),
                                     op(1, "ok", "read", 1, "y")]
    res = linearizable(ops)
    assert {k: v.verdict for k, v in res.keys.items()} == \
        {"x": "linearizable", "y": "not linearizable"}
    assert res.counts() == {"linearizable": 1, "not linearizable": 1, "unknown": 0}
    row = res.check_result()
    assert (row.name, row.count, row.examined) == ("linearizable", 1, 2)


def test_budget_exhausted_is_unknown_never_a_guess() -> None:
    ops = seq((0, "write", 1, 1), (1, "read", None, 2))
    res = linearizable(ops, budget_s=0)
    assert res.verdict == "unknown"
    assert res.check_result().examined == 0
    assert res.to_dict()["keys"][0]["verdict"] == "unknown"


def test_jepsen_edn_register() -> None:
    res = linearizable(History.read("data/histories/register.edn"), model="cas-register")
    assert {k: v.verdict for k, v in res.keys.items()} == \
        {"a": "linearizable", "b": "linearizable"}


def test_bad_parameters_are_named() -> None:
    with pytest.raises(ConfigError, match=r"^The 'model' parameter of linearizable must be "
                       r"one of 'register', 'cas-register'\. Got 'queue' instead\.$"):
        linearizable([], model="queue")
    with pytest.raises(ConfigError, match=r"'budget_s' parameter of linearizable must be a "
                       r"finite number in \[0, inf\)\. Got -1 instead"):
        linearizable([], budget_s=-1)
    cas = seq((0, "cas", [0, 1], [0, 1]))
    with pytest.raises(ConfigError, match=r"must be 'cas-register' for a history with cas "
                       r"operations\. Got 'register' instead"):
        linearizable(cas)


def test_empty_history_is_linearizable() -> None:
    res = linearizable([])
    assert res.verdict == "linearizable" and res.keys == {}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6))
def test_etcd_shaped_histories_agree_with_the_memoized_oracle(seed: int) -> None:
    """Longer histories (40 ops, 30 % info, stale reads in frequent partitions): the
    search's prunings (required first, reads without alternatives, info symmetry) against
    an exhaustive search that has none of them."""
    ops = etcd_history(40, seed, info=0.3, partition_every_ms=50)
    res = linearizable(ops, model="cas-register")
    assert res.keys["k0"].verdict == \
        ("linearizable" if oracle(ops, "k0", memo=True) else "not linearizable")


@pytest.mark.parametrize("name, verdict", [("etcd_000", "not linearizable"),
                                           ("etcd_001", "not linearizable"),
                                           ("etcd_002", "linearizable"),
                                           ("etcd_003", "not linearizable"),
                                           ("etcd_005", "linearizable"),
                                           ("etcd_007", "linearizable")])
def test_jepsen_etcd_histories_as_porcupine_decides_them(name: str, verdict: str) -> None:
    """Porcupine's test data (Jepsen's etcd runs of 2014): its tests expect these verdicts."""
    res = linearizable(History.read(f"data/histories/jepsen_etcd/{name}.jsonl"),
                       model="cas-register", budget_s=10)
    assert res.verdict == verdict


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6))
def test_linearizable_etcd_shaped_histories_have_no_other_finding(seed: int) -> None:
    ops = etcd_history(60, seed, ops_per_key=20, info=0.2, partition_every_ms=50)
    res = linearizable(ops, model="cas-register")
    clean = [k for k, v in res.keys.items() if v.verdict == "linearizable"]
    only = [op for op in ops if op["key"] in clean]
    found = check_history(only, ["stale-read", "read-your-writes", "monotonic-reads",
                                 "lost-write"])
    assert {name: r.count for name, r in found.items()} == dict.fromkeys(found, 0)


def test_porcupine_log_converter() -> None:
    from benchmarks.porcupine_convert import convert

    lines = ["INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]", "0\t:invoke\t:read\tnil",
             "0\t:ok\t:read\t2", "3\t:info\t:cas\t:timed-out"]
    assert convert(lines) == [
        {"index": 0, "process": 3, "type": "invoke", "f": "cas", "value": [1, 4]},
        {"index": 1, "process": 0, "type": "invoke", "f": "read", "value": None},
        {"index": 2, "process": 0, "type": "ok", "f": "read", "value": 2},
        {"index": 3, "process": 3, "type": "info", "f": "cas", "value": [1, 4]}]
