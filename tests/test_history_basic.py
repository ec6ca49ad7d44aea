import json

import pytest

from replab.errors import HistoryError
from replab.history import FIELDS, History


def sample():
    h = History()
    h.record(0.0, 1, "invoke", "write", "x", 1)
    h.record(1.5, 1, "ok", "write", "x", 1, version=1, node="n0")
    h.record(2.0, "alice", "invoke", "read", "x", None)
    h.record(3.0, "alice", "ok", "read", "x", [1, 2])
    return h


def test_round_trip(tmp_path):
    h = sample()
    p = tmp_path / "h.jsonl"
    h.to_jsonl(p)
    back = History.read_jsonl(p)
    assert back.ops == h.ops
    assert list(back.df.columns) == list(FIELDS)
    first = json.loads(p.read_text().splitlines()[0])
    assert "version" not in first and first["value"] == 1


def test_foreign_history_is_normalised(tmp_path):
    p = tmp_path / "h.jsonl"
    p.write_text('{"time": 1, "process": 0, "type": "invoke", "f": "read", "key": 7}\n\n'
                 '{"time": 2, "process": 0, "type": "ok", "f": "read", "key": 7, '
                 '"value": null}\n')
    h = History.read_jsonl(p)
    assert [op["index"] for op in h] == [0, 1]
    assert h[0]["key"] == "7"


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", "line 2: not valid JSON"),
        ('{"time": 1, "process": 0, "type": "done", "f": "read", "key": "k"}',
         "line 2: 'type' must be one of invoke, ok, fail, info, got 'done'"),
        ('{"process": 0, "type": "ok", "f": "read", "key": "k"}', "line 2: missing field 'time'"),
        ('[1, 2]', "line 2: an operation must be a JSON object"),
        ('{"time": 1, "process": 0, "type": "ok", "f": "cas", "key": "k"}',
         "line 2: 'f' must be one of read, write, got 'cas'"),
    ],
)
def test_malformed_lines_name_their_number(tmp_path, line, message):
    p = tmp_path / "h.jsonl"
    p.write_text('{"time": 0, "process": 0, "type": "invoke", "f": "read", "key": "k"}\n'
                 + line + "\n")
    with pytest.raises(HistoryError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        History.read_jsonl(p)


def test_empty_history(tmp_path):
    p = tmp_path / "empty.jsonl"
    p.write_text("")
    h = History.read_jsonl(p)
    assert len(h) == 0 and h.df.empty
