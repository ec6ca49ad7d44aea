"""``replab simulate replog``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from replab.cli import _common, main, replog_cmd
from replab.replog import TIMING_METRICS, ReplogConfig


def local_parser() -> _common.Parser:
    """What the shared ``simulate`` registry will build from add_arguments / run."""
    parser = _common.Parser(prog="replab simulate")
    sub = parser.add_subparsers(dest="command", parser_class=_common.Parser)
    p = sub.add_parser("replog")
    replog_cmd.add_arguments(p)
    p.set_defaults(run=replog_cmd.run)
    return parser


def test_model_tuple_names_config_and_run_function():
    name, config_cls, fn = replog_cmd.MODEL
    assert (name, config_cls) == ("replog", ReplogConfig)
    m = fn(ReplogConfig(transactions=5, followers=1), seed=1)
    assert m["transactions"] == 5 and m["divergent_rows"] == 0


def test_local_parser_runs_json(capsys):
    args = local_parser().parse_args(
        ["replog", "--set", "kind=statement", "--set", "workload=nondeterministic",
         "--set", "transactions=30", "--seed", "4", "--format", "json"])
    assert args.run(args) == 0
    m = json.loads(capsys.readouterr().out)
    assert m["kind"] == "statement" and m["divergent_rows"] > 0


def test_table_output_has_metrics_and_followers(capsys):
    rc = main(["simulate", "replog", "--set", "transactions=20", "--set", "kind=trigger",
               "--seed", "1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "bytes_per_write" in out and "divergent_rows" in out
    assert "follower3" in out and "joined_at_lsn" in out


@pytest.mark.parametrize(("argv", "needle"), [
    (["--set", "kind=wal"], "The 'kind' parameter of ReplogConfig must be one of"),
    (["--set", "followers=-1"], "The 'followers' parameter of ReplogConfig must be an int "
     "in [1, 16]. Got -1 instead."),
    (["--set", "follower_page_size=4000"], "must be a power of two in [512, 65536]. "
     "Got 4000 instead."),
    (["--set", "colour=red"], "Unknown setting 'colour' for ReplogConfig"),
    (["--set", "transactions"], "--set expects KEY=VALUE"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, needle):
    assert main(["simulate", "replog", *argv]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_follower_page_size_none_is_accepted(capsys):
    rc = main(["simulate", "replog", "--set", "follower_page_size=none", "--set",
               "transactions=3", "--format", "json"])
    assert rc == 0 and json.loads(capsys.readouterr().out)["apply_errors"] == 0


def test_subprocess_same_seed_same_metrics():
    cmd = [sys.executable, "-m", "replab.cli", "simulate", "replog", "--set", "kind=physical",
           "--set", "transactions=25", "--set", "follower_page_size=8192", "--seed", "9",
           "--format", "json"]
    runs = [subprocess.run(cmd, capture_output=True, text=True, check=True) for _ in range(2)]
    a, b = (json.loads(r.stdout) for r in runs)
    for m in (a, b):
        for k in TIMING_METRICS:
            m.pop(k)
    assert a == b
    assert a["apply_errors"] > 0 and "page size 8192" in a["first_error"]
    bad = subprocess.run([*cmd[:5], "--set", "kind=nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_history_is_refused_with_one_line(capsys, tmp_path):
    rc = main(["simulate", "replog", "--history", str(tmp_path / "h.jsonl")])
    err = capsys.readouterr().err
    assert rc == 2 and err == (
        "replab simulate: error: The 'replog' model runs real SQLite databases and records "
        "no client history; drop --history.\n")
