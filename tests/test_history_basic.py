import json

import pandas as pd
import pytest

from replab.errors import HistoryError
from replab.history import FIELDS, History
from replab.history._edn import to_plain


def sample():
    h = History()
    h.record(0.0, 1, "invoke", "write", "x", 1)
    h.record(1.5, 1, "ok", "write", "x", 1, version=1, node="n0", ts=17)
    h.record(2.0, "alice", "invoke", "read", "x", None)
    h.record(3.0, "alice", "ok", "read", "x", [1, 2])
    return h


def test_round_trip(tmp_path):
    h = sample()
    p = tmp_path / "h.jsonl"
    h.to_jsonl(p)
    back = History.read_jsonl(p)
    pd.testing.assert_frame_equal(back.df, h.df)
    assert list(back.df.columns) == list(FIELDS)
    first = json.loads(p.read_text().splitlines()[0])
    assert "version" not in first and first["value"] == 1
    assert back[1]["ts"] == 17 and back[1]["node"] == "n0"


def test_foreign_history_is_normalised(tmp_path):
    p = tmp_path / "h.jsonl"
    p.write_text('{"time": 1, "process": 0, "type": "invoke", "f": "read", "key": 7}\n\n'
                 '{"time": 2, "process": 0, "type": "ok", "f": "read", "key": 7, '
                 '"value": null}\n')
    h = History.read_jsonl(p)
    assert [op["index"] for op in h] == [0, 1]
    assert h[0]["key"] == "7"
    assert [h.where(0), h.where(1)] == ["line 1", "line 3"]


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "line 2: not valid JSON"),
        ('{"time": 1, "process": 0, "type": "done", "f": "read", "key": "k"}',
         "line 2: 'type' must be one of invoke, ok, fail, info, got 'done'"),
        ('{"process": 0, "type": "ok", "key": "k"}', "line 2: missing field 'f'"),
        ('{"time": "soon", "process": 0, "type": "ok", "f": "read", "key": "k"}',
         "line 2: 'time' must be a finite number, got 'soon'"),
        ('[1, 2]', "line 2: an operation must be a JSON object"),
        ('{"time": 1, "process": 0, "type": "ok", "f": "txn", "key": "k"}',
         "line 2: 'f' must be one of read, write, cas, got 'txn' (skip such operations "
         "with --skip-unknown)"),
        ('{"time": 1, "process": 2, "type": "invoke", "f": "cas", "key": "k", "value": 3}',
         "line 2: a cas value must be [old, new], got 3"),
        ('{"time": 1, "process": 2, "type": "ok", "f": "read", "key": "k", "version": "v1"}',
         "line 2: 'version' must be an int or absent, got 'v1'"),
    ],
)
def test_malformed_lines_name_their_number(tmp_path, line, message):
    p = tmp_path / "h.jsonl"
    p.write_text('{"time": 0, "process": 0, "type": "invoke", "f": "read", "key": "k"}\n'
                 + line + "\n")
    with pytest.raises(HistoryError, match="^" + message.replace("(", r"\(").replace(
            "[", r"\[").replace(")", r"\)")):
        History.read_jsonl(p)


def test_empty_history(tmp_path):
    p = tmp_path / "empty.jsonl"
    p.write_text("")
    h = History.read_jsonl(p)
    assert len(h) == 0 and h.df.empty


def test_reader_is_chosen_by_content(tmp_path):
    ops = [{"process": 0, "type": "invoke", "f": "read", "key": "k"}]
    (tmp_path / "a.json").write_text(json.dumps(ops))
    (tmp_path / "b.txt").write_text(json.dumps(ops[0]) + "\n")
    (tmp_path / "c.log").write_text("{:process 0, :type :invoke, :f :read, :value [:k nil]}\n")
    for name in ("a.json", "b.txt", "c.log"):
        h = History.read(tmp_path / name)
        assert (h[0]["process"], h[0]["f"], h[0]["key"]) == (0, "read", "k")


def test_edn_values_become_plain_data():
    import edn_format

    form = edn_format.loads('{:a [1 :b #{"c"}], "d" {:e nil}}')
    assert to_plain(form) == {"a": [1, "b", ["c"]], "d": {"e": None}}


def test_operations_in_memory_are_validated_too():
    op = {"time": float("nan"), "process": 0, "type": "invoke", "f": "read", "key": "x"}
    with pytest.raises(HistoryError, match="^operation 0: 'time' must be a finite number"):
        History([op])
    with pytest.raises(HistoryError, match="^operation 1: missing field 'type'"):
        History([dict(op, time=1), {"process": 0, "f": "read"}])
