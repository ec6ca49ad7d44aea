"""Formats ``replab check`` reads: Jepsen EDN, JSON arrays, independent keys, nemesis ops,
``index`` order, unknown functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from replab import History
from replab.checks import check_history, check_report
from replab.cli import main
from replab.errors import HistoryError
from tests.checks_oracle import cas, hist, linearizable_history, r, w

DATA = Path(__file__).resolve().parents[1] / "data" / "histories"


def edn_value(v: Any) -> str:
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list | tuple):
        return "[" + " ".join(edn_value(x) for x in v) + "]"
    return json.dumps(v)


def edn_op(op: dict[str, Any], i: int, independent: bool) -> str:
    """One Jepsen op map; with ``independent`` the key goes into the value as ``[k v]``."""
    value = [op["key"], op.get("value")] if independent else op.get("value")
    proc = ":nemesis" if op["process"] == "nemesis" else edn_value(op["process"])
    extra = f", :version {op['version']}" if "version" in op else ""
    return (f"{{:type :{op['type']}, :f :{op['f']}, :value {edn_value(value)}, "
            f":process {proc}, :time {i * 1000}, :index {i}{extra}}}")


def write_edn(path: Path, ops: list[dict[str, Any]], independent: bool = True) -> Path:
    path.write_text("".join(edn_op(op, i, independent) + "\n" for i, op in enumerate(ops)))
    return path


def counts(h: Any) -> dict[str, tuple[int, int]]:
    return {n: (x.count, x.examined) for n, x in check_history(h, settle_ms=0).items()}


# ---------------------------------------------------------------------------------- EDN

def test_knossos_register_with_cas_is_read_and_linearizable(tmp_path: Path) -> None:
    # A single register (no key, as Knossos writes them), with cas.
    ops = hist(w(0, None, 0), cas(1, None, 0, 3), r(2, None, 3), cas(0, None, 1, 4, "fail"),
               w(0, None, 1), r(1, None, 1))
    path = write_edn(tmp_path / "history.edn", ops, independent=False)
    h = History.read(path)
    assert [op["f"] for op in h][:4] == ["write", "write", "cas", "cas"]
    assert h[2]["value"] == [0, 3] and h[0].get("key") is None
    got = counts(h)
    assert all(c == 0 for c, _ in got.values())
    assert got["stale-read"] == (0, 3)  # two reads and the ok cas


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=linearizable_history())
def test_linearizable_edn_histories_report_zero_everywhere(tmp_path: Path,
                                                           ops: list[dict[str, Any]]) -> None:
    path = write_edn(tmp_path / "history.edn", ops)
    got = counts(History.read_edn(path))
    assert got == counts(ops)
    assert all(c == 0 for c, _ in got.values())


def test_shipped_edn_history() -> None:
    results, summary = check_report(History.read(DATA / "register.edn"))
    assert {n: x.count for n, x in results.items()} == dict.fromkeys(results, 0)
    assert results["stale-read"].examined == 3
    assert summary["nemesis_ops"] == 4
    assert summary["nemesis_windows"] == [
        {"f": "start", "start": 6, "end": 15, "closed_by": "stop",
         "value": ["isolated", {"n1": ["n2", "n3"]}]}]


def test_edn_with_an_anomaly_and_a_vector_of_ops(tmp_path: Path) -> None:
    ops = hist(w(0, "x", 1), w(0, "x", 2), r(1, "x", 1))
    body = " ".join(edn_op(op, i, True) for i, op in enumerate(ops))
    path = tmp_path / "h.edn"
    path.write_text("[" + body + "]\n")
    res = check_history(History.read(path))
    assert res["stale-read"].count == 1
    assert res["stale-read"].examples[0]["indices"] == [2, 3, 4, 5]


def test_malformed_edn_is_one_clear_error(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.edn"
    path.write_text('{:type :invoke, :f :read, :process 0, :value [:x nil]}\n'
                    '{:type :ok, :f :add, :process 0, :value [:x 1]}\n')
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == ("replab check: error: line 2: 'f' must be one of read, write, cas, got "
                   "'add' (skip such operations with --skip-unknown)\n")
    path.write_text("{:type :invoke, :f\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == ("replab check: error: line 1: not valid EDN (the file ends inside this "
                   "form: truncated?)\n")


# ------------------------------------------------------------------ JSON, keys, order

def test_json_array_and_independent_keys(tmp_path: Path) -> None:
    ops = [{"process": 0, "type": "invoke", "f": "write", "value": ["x", 1]},
           {"process": 0, "type": "ok", "f": "write", "value": ["x", 1]},
           {"process": 1, "type": "invoke", "f": "read", "value": ["x", None]},
           {"process": 1, "type": "ok", "f": "read", "value": ["x", None]},
           {"process": 1, "type": "invoke", "f": "cas", "value": ["y", [None, 2]]},
           {"process": 1, "type": "ok", "f": "cas", "value": ["y", [None, 2]]}]
    path = tmp_path / "h.json"
    path.write_text(json.dumps(ops))
    h = History.read(path)
    assert [(op["key"], op["value"]) for op in h] == [
        ("x", 1), ("x", 1), ("x", None), ("x", None), ("y", [None, 2]), ("y", [None, 2])]
    assert counts(h)["stale-read"] == (1, 1)


def test_index_orders_operations_not_the_file(tmp_path: Path) -> None:
    ops = hist(w(0, "x", 1), r(1, "x", None))
    for i, op in enumerate(ops):
        op["index"] = 10 + i
    path = tmp_path / "h.jsonl"
    # The read first in the file: by file position it would not be stale.
    path.write_text("".join(json.dumps(op) + "\n" for op in ops[2:] + ops[:2]))
    h = History.read(path)
    assert [op["index"] for op in h] == [10, 11, 12, 13]
    assert h.where(0) == "line 3"
    res = check_history(h)["stale-read"]
    assert res.count == 1 and res.examples[0]["indices"] == [10, 11, 12, 13]


def test_duplicate_or_missing_index_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    rows = [{"index": 3, "process": 0, "type": "invoke", "f": "read", "key": "x"},
            {"index": 3, "process": 0, "type": "ok", "f": "read", "key": "x"}]
    path.write_text("".join(json.dumps(op) + "\n" for op in rows))
    with pytest.raises(HistoryError, match=r"^line 2: duplicate index 3 \(also at line 1\)$"):
        History.read(path)
    del rows[1]["index"]
    path.write_text("".join(json.dumps(op) + "\n" for op in rows))
    with pytest.raises(HistoryError, match="^line 2: missing field 'index'"):
        History.read(path)


# ------------------------------------------------------------- nemesis and unknown f

def _pg_like() -> list[dict[str, Any]]:
    ops = hist(w(0, "x", 1, version=1), r(1, "x", 1))
    ops.append({"process": "nemesis", "type": "info", "f": "stall", "value": "standby"})
    ops += hist(w(0, "x", 2, version=2), r(1, "x", 1))
    ops.append({"process": "nemesis", "type": "info", "f": "resume", "value": "standby"})
    ops.append({"process": "nemesis", "type": "info", "f": "promote", "value": "standby"})
    return ops


def test_nemesis_ops_are_windows_not_client_ops() -> None:
    ops = _pg_like()
    results, summary = check_report(ops)
    assert results["stale-read"].count == 1
    assert summary["nemesis_ops"] == 3
    assert summary["nemesis_windows"] == [
        {"f": "stall", "start": 4, "end": 9, "closed_by": "resume", "value": "standby"},
        {"f": "promote", "start": 10, "end": 10, "closed_by": None, "value": "standby"}]


def test_unknown_f_is_an_error_unless_skipped(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    ops = hist(w(0, "x", 1), [(1, "invoke", "add", "x", 1), (1, "ok", "add", "x", 1)],
               r(1, "x", None))
    path = tmp_path / "h.jsonl"
    History(hist(w(0, "x", 1))).to_jsonl(path)
    path.write_text("".join(json.dumps(op) + "\n" for op in ops))
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err == (
        "replab check: error: line 3: 'f' must be one of read, write, cas, got 'add' "
        "(skip such operations with --skip-unknown)\n")
    assert main(["check", str(path), "--skip-unknown", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["history"]["skipped_unknown"] == 2
    assert doc["checks"]["stale-read"]["count"] == 1
    with pytest.raises(HistoryError, match="^operation 2: 'f' must be one of"):
        History(ops)
    assert len(History(ops, skip_unknown=True)) == 4
