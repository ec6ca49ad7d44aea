"""``replab check``: table and JSON output, malformed input, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from replab import History
from replab.cli import main
from tests.checks_oracle import hist, r, w

NAMES = ["stale-read", "read-your-writes", "monotonic-reads", "consistent-prefix",
         "lost-write"]


@pytest.fixture
def stale_file(tmp_path: Path) -> Path:
    path = tmp_path / "h.jsonl"
    History(hist(w(0, "x", 1), r(1, "x", None), r(1, "x", 1))).to_jsonl(path)
    return path


def test_json_output(stale_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(stale_file), "--format", "json", "--settle-ms", "0"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == ["history", "checks", "linearizable"]
    assert doc["history"] == {"operations": 6, "client_reads": 2, "client_writes": 1,
                              "skipped_unknown": 0, "reads_flagged_more_than_once": 0,
                              "nemesis_ops": 0, "nemesis_windows": []}
    assert list(doc["checks"]) == NAMES
    for entry in doc["checks"].values():
        assert list(entry) == ["count", "examined", "rate", "examples", "ci_low", "ci_high"]
    assert doc["checks"]["stale-read"]["count"] == 1
    assert doc["checks"]["stale-read"]["examined"] == 2
    assert doc["checks"]["stale-read"]["rate"] == 0.5
    ex = doc["checks"]["stale-read"]["examples"][0]
    assert ex["indices"] == [op["index"] for op in ex["ops"]] == [0, 1, 2, 3]
    assert doc["checks"]["lost-write"] == {"count": 0, "examined": 1, "rate": 0.0,
                                           "examples": [], "ci_low": 0.0,
                                           "ci_high": pytest.approx(0.7934506)}
    assert doc["checks"]["stale-read"]["ci_low"] == pytest.approx(0.0945312, abs=1e-7)


def test_table_output(stale_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(stale_file), "--settle-ms", "0"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"6 operations in {stale_file} (2 reads, 1 writes, 0 nemesis ops)"
    assert out[1].split() == ["check", "count", "examined", "rate", "ci_low", "ci_high"]
    assert [line.split()[0] for line in out[2:7]] == NAMES
    assert out[2].split()[1:4] == ["1", "2", "0.5"]
    assert out[7] == "reads flagged by more than one check: 0"
    assert out[8] == "examples:"
    assert out[9] == (
        "  stale-read: op 3 (process 1 read key 'x' and got null (not found)) is stale: op 1 "
        "(process 0 wrote 1 to key 'x', ok) completed before it was invoked and follows every "
        "write that could have given its value")


def test_shipped_jsonl_history(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "data" / "histories" / "primary_standby.jsonl"
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    counts = {line.split()[0]: int(line.split()[1]) for line in out[2:7]}
    assert counts == {"stale-read": 3, "read-your-writes": 1, "monotonic-reads": 1,
                      "consistent-prefix": 0, "lost-write": 0}
    assert out[7:9] == ["reads flagged by more than one check: 2",
                        "nemesis stall from op 4 to op 17 (resume)"]


def test_empty_file_checks_to_zero_in_python_but_the_cli_refuses_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An empty history is valid to the library (nothing examined), but the command says
    so instead of printing a table of zeros (issue 13: accepted silently)."""
    from replab.checks import check_history

    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    results = check_history(History.read(path))
    assert {n: r.to_dict() for n, r in results.items()} == {
        n: {"count": 0, "examined": 0, "rate": 0.0, "examples": []} for n in NAMES}
    assert main(["check", str(path), "--format", "json"]) == 2
    assert "holds no client reads or writes" in capsys.readouterr().err


@pytest.mark.parametrize("line, message", [
    ("{not json", "line 2: not valid JSON (Expecting property name enclosed in double "
                  "quotes)"),
    ('[1, 2]', "line 2: an operation must be a JSON object, got [1, 2]"),
    ('{"time": 1, "process": 0, "type": "done", "f": "read", "key": "x"}',
     "line 2: 'type' must be one of invoke, ok, fail, info, got 'done'"),
    ('{"time": 1, "process": 0, "type": "ok", "key": "x"}', "line 2: missing field 'f'"),
    ('{"time": NaN, "process": 0, "type": "ok", "f": "read", "key": "x"}',
     "line 2: NaN is not valid JSON"),
    ('{"time": 1, "process": 1, "type": "ok", "f": "write", "key": "x"}',
     "line 2: process 1 completes a write of key 'x' but its pending invoke (line 1) is a "
     "read of key 'x'"),
])
def test_malformed_line_names_its_number(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    good = '{"time": 0, "process": 1, "type": "invoke", "f": "read", "key": "x"}'
    path.write_text(good + "\n" + line + "\n")
    assert main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"replab check: error: {message}\n"


def test_invalid_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bin.jsonl"
    path.write_bytes(b"\n\xff\xfe\n")
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err == "replab check: error: line 2: not valid UTF-8 text\n"


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope.jsonl"
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"replab check: error: cannot read {str(path)!r}: No such file or directory\n")


def test_bad_format_is_a_usage_error(stale_file: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", str(stale_file), "--format", "csv"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "argument --format: invalid choice: 'csv'" in err


def test_foreign_history_via_subprocess(tmp_path: Path) -> None:
    # Not written by replab: int keys, string processes, no index/version/node.
    path = tmp_path / "foreign.jsonl"
    rows = [
        {"time": 0, "process": "n1", "type": "invoke", "f": "write", "key": 3, "value": "a"},
        {"time": 5, "process": "n1", "type": "ok", "f": "write", "key": 3, "value": "a"},
        {"time": 6, "process": "n1", "type": "invoke", "f": "read", "key": 3, "value": None},
        {"time": 9, "process": "n1", "type": "ok", "f": "read", "key": 3, "value": None},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    proc = subprocess.run([sys.executable, "-m", "replab.cli", "check", str(path),
                           "--format", "json", "--settle-ms", "0"], capture_output=True,
                          text=True, check=False, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    checks = json.loads(proc.stdout)["checks"]
    assert {n: checks[n]["count"] for n in NAMES} == {
        "stale-read": 1, "read-your-writes": 1, "monotonic-reads": 0,
        "consistent-prefix": 0, "lost-write": 1}
    proc = subprocess.run([sys.executable, "-m", "replab.cli", "check",
                           str(tmp_path / "missing.jsonl")], capture_output=True, text=True,
                          check=False, cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1


def test_check_refuses_a_history_without_client_operations(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    proc = subprocess.run([sys.executable, "-m", "replab.cli", "check", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr == (f"replab check: error: {str(path)!r} holds no client reads or "
                           "writes (0 operations): nothing to check\n")
