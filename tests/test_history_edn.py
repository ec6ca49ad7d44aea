"""Jepsen EDN as real tests write it: the fast path for flat op maps against edn_format,
tagged literals, truncated files, stdin / gzip / FIFO input (issues 22 and 25)."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replab.cli import main
from replab.errors import HistoryError
from replab.history import History, _edn
from replab.history._edn import parse_edn, parse_edn_slow

ROOT = Path(__file__).resolve().parents[1]
NAME = st.from_regex(r"[a-z][a-z0-9\-]{0,6}(/[a-z][a-z0-9]{0,4})?", fullmatch=True)
ATOM = st.one_of(
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda f: repr(float(f))),
    NAME.map(lambda n: ":" + n),
    st.sampled_from(["nil", "true", "false"]),
    st.from_regex(r'"[a-zA-Z0-9_.\-]{0,8}"', fullmatch=True),
    st.from_regex(r'"[a-z ,:\[\]{}]{0,8}"', fullmatch=True),  # not simple: the slow path
)


def value() -> st.SearchStrategy[str]:
    return st.recursive(ATOM.map(str), lambda inner: st.lists(inner, max_size=3).map(
        lambda xs: "[" + " ".join(xs) + "]"), max_leaves=6)


@st.composite
def op_line(draw: Any) -> str:
    keys = draw(st.lists(NAME, min_size=1, max_size=5, unique=True))
    pairs = [f":{k} {draw(value())}" for k in keys]
    if draw(st.booleans()):
        pairs.append(":f :" + draw(st.sampled_from(["read", "write", "final-read", "cas"])))
    if draw(st.integers(0, 9)) == 0:
        pairs.append(':tagged #object[java.lang.Object 0x1f "x"]')
    return "{" + ", ".join(pairs) + "}"


@settings(max_examples=25, deadline=None)
@given(lines=st.lists(op_line(), min_size=1, max_size=5))
def test_the_fast_path_parses_as_edn_format_does(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    slow, slow_lines = parse_edn_slow(text)
    _edn._jepsen_fields(slow)
    fast, fast_lines = parse_edn(text.encode())
    assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True)
    assert fast == slow and fast_lines == slow_lines


def test_flat_op_maps_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any) -> Any:
        raise AssertionError("edn_format was used")

    monkeypatch.setattr(_edn, "parse_edn_slow", refuse)
    text = (ROOT / "data" / "histories" / "register.edn").read_text()
    flat = "\n".join(ln for ln in text.splitlines() if "#{" not in ln)
    ops, lines = parse_edn(flat.encode())
    assert len(ops) == 19 and lines == list(range(1, 20))
    assert ops[0] == {"type": "invoke", "f": "write", "value": 1, "key": "a", "process": 0,
                      "time": 1.0, "index": 0}


def test_unknown_tagged_literals_become_opaque_values(tmp_path: Path) -> None:
    path = tmp_path / "history.edn"
    path.write_text(
        '#jepsen.history.Op{:index 0, :time 0, :type :invoke, :process 0, :f :write, '
        ':value 1}\n'
        '#jepsen.history.Op{:index 1, :time 5, :type :info, :process 0, :f :write, '
        ':value 1, :exception #object[java.net.SocketTimeoutException 0x5d "timed out"], '
        ':error #error {:cause "timed out", :via [{:type java.net.SocketTimeoutException}]}}'
        '\n')
    h = History.read(path)
    assert [op["type"] for op in h] == ["invoke", "info"]
    assert h[1]["exception"] == '#object [java.net.SocketTimeoutException 93 "timed out"]'
    assert h[1]["error"].startswith("#error {:cause \"timed out\"")
    assert "object" not in _edn.edn_format.edn_parse._serializers  # no tag left behind


def test_a_truncated_file_names_the_line_where_it_breaks(tmp_path: Path) -> None:
    good = (ROOT / "data" / "histories" / "register.edn").read_text()
    path = tmp_path / "history.edn"
    path.write_text(good[: good.index(":index 12}") + 3])
    with pytest.raises(HistoryError, match=r"^line 13: not valid EDN \(the file ends inside "
                                           r"this form: truncated\?\)$"):
        History.read(path)
    # a multi-line (pretty-printed) form that is complete is not blamed
    path.write_text("{:type :invoke, :f :read,\n :process 0, :value nil}\n{:type :ok, :f")
    with pytest.raises(HistoryError, match="^line 3: "):
        History.read(path)


def test_check_reads_stdin_gzip_and_fifos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = ROOT / "data" / "histories" / "primary_standby.jsonl"

    def check(arg: str) -> dict[str, Any]:
        assert main(["check", arg, "--format", "json"]) == 0
        return json.loads(capsys.readouterr().out)["checks"]  # type: ignore[no-any-return]

    checks = check(str(src))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(src.read_bytes())))
    assert check("-") == checks
    gz = tmp_path / "h.jsonl.gz"
    gz.write_bytes(gzip.compress(src.read_bytes()))
    assert check(str(gz)) == checks
    edn = tmp_path / "register.bin"  # gzip told by its bytes, EDN by its content
    edn.write_bytes(gzip.compress((ROOT / "data" / "histories" / "register.edn").read_bytes()))
    assert len(History.read(edn)) == 20
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["bash", "-c", 'cat "$0" > "$1"', str(src), str(fifo)])
    try:
        assert check(str(fifo)) == checks  # read once, as a stream
    finally:
        writer.wait(timeout=10)
    bad = tmp_path / "bad.gz"
    bad.write_bytes(gzip.compress(src.read_bytes())[:40])
    with pytest.raises(HistoryError, match="the gzip stream is truncated"):
        History.read(bad)


def test_json_carries_the_intervals_the_table_shows(capsys: pytest.CaptureFixture[str]) \
        -> None:
    path = ROOT / "data" / "histories" / "primary_standby.jsonl"
    assert main(["check", str(path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)["checks"]
    assert main(["check", str(path)]) == 0
    rows = {ln.split()[0]: ln.split()[1:] for ln in capsys.readouterr().out.splitlines()[2:7]}
    for name, entry in doc.items():
        assert f"{entry['ci_low']:.6g}" == rows[name][3]
        assert f"{entry['ci_high']:.6g}" == rows[name][4]
    assert doc["lost-write"]["count"] == 0 and doc["lost-write"]["examined"] == 3


def test_all_failed_history_is_valid_and_says_so(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "failed.jsonl"
    path.write_text(
        '{"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1}\n'
        '{"process": 0, "type": "fail", "f": "write", "key": "x", "value": 1}\n'
        '{"process": 1, "type": "invoke", "f": "read", "key": "x", "value": null}\n'
        '{"process": 1, "type": "fail", "f": "read", "key": "x", "value": null}\n')
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2].split() == ["stale-read", "0", "0", "0", "0", "1"]
    assert out.count("nothing took effect: every client operation failed") == 1


def test_settle_ms_on_the_command_line(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"time": 0, "process": 0, "type": "invoke", "f": "write", "key": "x", "value": 1}\n'
        '{"time": 1, "process": 0, "type": "ok", "f": "write", "key": "x", "value": 1}\n'
        '{"time": 51, "process": 1, "type": "invoke", "f": "read", "key": "x"}\n'
        '{"time": 52, "process": 1, "type": "ok", "f": "read", "key": "x", "value": null}\n')
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[6].split() == ["lost-write", "not", "examined", "0", "NaN", "NaN", "NaN"]
    assert out[7] == ("  lost-write: not examined: no key has a final read (one invoked "
                      "--settle-ms after the key's last write and the last fault window, "
                      "or marked final)")
    assert main(["check", str(path), "--settle-ms", "50"]) == 0
    assert capsys.readouterr().out.splitlines()[6].split()[:3] == ["lost-write", "1", "1"]
    assert main(["check", str(path), "--settle-ms", "nan"]) == 2
    assert capsys.readouterr().err == (
        "replab check: error: The '--settle-ms' parameter of replab check must be a finite "
        "number in [0, inf). Got nan instead.\n")
