"""Bad input cannot crash or hang the ``replab`` command.

Hypothesis drives every command with generated argument lists (numbers at the edges, NaN,
huge, negative, wrong types, missing files, malformed specs) and asserts: exit status 0 or
2, nothing escapes ``main`` (no traceback), at most one line on stderr for an error, and a
bounded run time. The resource limits are lowered for these runs (the checks are the same,
the runs that pass them stay short). ``replab record`` (real servers) is left to its own
tests; ``reproduce`` and ``dashboard`` get only arguments that must be refused, so no
notebook or server ever starts here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from replab.cli import main
from replab.cli.simulate_cmd import MODELS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("REPLAB_FUZZ_EXAMPLES", "40"))
SECONDS = 30.0  # per invocation, on a busy 2-core machine
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                derandomize=not os.environ.get("REPLAB_FUZZ_RANDOM"),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

EDGE_NUMBERS = ["0", "-0", "1", "2", "3", "-1", "0.5", "1.5", "nan", "NaN", "inf", "-inf",
                "1e300", "-1e300", "1e-300", "10000000000000", "9" * 40, "", "abc", "1,2",
                "0x10", "1e", "--", "2.5e9", "65535", "65536", "null", "true", "[]", "{}"]
number = st.one_of(st.sampled_from(EDGE_NUMBERS),
                   st.integers(-10**15, 10**15).map(str),
                   st.floats(allow_nan=True, allow_infinity=True).map(repr))
word = st.one_of(st.sampled_from(["LNKD-SSD", "LNKD-DISK", "YMMR", "WAN", "exp:0.1",
                                  "exp:nan", "exp:-1", "pareto:1", "5+exp:0.1",
                                  "0.9*exp:1|0.1*const:50", "empirical:/nonexistent.csv",
                                  "empirical:data/example_latencies.csv",
                                  "empirical:/etc/passwd", "empirical:/dev/null",
                                  "1e308+exp:1e-308", "gauss:1", "|", "*", "const:1e300"]),
                 st.text(max_size=12))
value = st.one_of(number, word)


@pytest.fixture(scope="module", autouse=True)
def small_limits():
    names = ("REPLAB_MAX_MEMORY_GB", "REPLAB_MAX_EVENTS", "REPLAB_MAX_POINTS")
    saved = {k: os.environ.get(k) for k in names}
    os.environ["REPLAB_MAX_MEMORY_GB"] = "0.05"
    os.environ["REPLAB_MAX_EVENTS"] = "200000"
    os.environ["REPLAB_MAX_POINTS"] = "60"  # model sweeps: a few dozen short runs at most
    yield
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


def run_cli(argv: list[str]) -> tuple[int, str, str, float]:
    """``replab ARGV`` in this process: exit status, stdout, stderr, seconds."""
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:  # argparse: --help, usage errors
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    return code, out.getvalue(), err.getvalue(), time.perf_counter() - start


def assert_clean(argv: list[str]) -> None:
    code, _, err, seconds = run_cli(argv)
    assert code in (0, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1, (argv, err)
    assert seconds < SECONDS, (argv, seconds)


def options(spec: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[list[str]]:
    """Any subset of ``--option VALUE`` pairs, in any order, values from the strategies."""
    pairs = st.lists(st.sampled_from(sorted(spec)), max_size=len(spec) + 2).flatmap(
        lambda names: st.tuples(*[spec[n].map(lambda v, n=n: [n, v]) for n in names]))
    return pairs.map(lambda ps: [x for p in ps for x in p])


QUORUM = {"--n": number, "--r": number, "--w": number, "--profile": word, "--latency": word,
          "--trials": number, "--seed": number, "--t": number, "--k": number,
          "--format": st.sampled_from(["table", "csv", "json", "xml"])}
EXTRA = {"staleness": {}, "t-visibility": {"--p": number}, "latency": {"--q": number},
         "availability": {"--p-fail": number}}
#: A valid invocation of each command; examples change, add or drop a few of its options,
#: so that they also get past the parser into the estimators.
BASE = {"--n": "3", "--r": "1", "--w": "1", "--profile": "LNKD-SSD", "--trials": "2000",
        "--seed": "1"}
BASE_EXTRA = {"staleness": {"--t": "5"}, "t-visibility": {"--p": "0.99"},
              "latency": {"--q": "50"}, "availability": {"--p-fail": "0.1"}}
plausible = st.one_of(number, st.sampled_from(["1", "2", "3", "5", "7", "100", "0.001",
                                               "0.99", "99.9", "1000", "50000"]))


@st.composite
def mutated(draw, base: dict[str, str], spec: dict[str, st.SearchStrategy[str]]) -> list[str]:
    opts = dict(base)
    for name in draw(st.lists(st.sampled_from(sorted(spec)), max_size=3)):
        if draw(st.integers(0, 4)) == 0:
            opts.pop(name, None)
        else:
            opts[name] = draw(st.one_of(spec[name], plausible))
    return [x for kv in opts.items() for x in kv]


@FUZZ
@given(command=st.sampled_from(sorted(EXTRA)), data=st.data())
def test_quorum_commands(command, data):
    base = {**BASE, **BASE_EXTRA[command]}
    if command == "availability":
        base = {k: v for k, v in base.items() if k not in ("--profile", "--trials", "--seed")}
    argv = [command, *data.draw(mutated(base, {**QUORUM, **EXTRA[command]}))]
    if data.draw(st.booleans()):
        argv = [command, *data.draw(options({**QUORUM, **EXTRA[command]}))]
    assert_clean(argv)


def _field_values(config_cls: type, name: str) -> st.SearchStrategy[str]:
    """Values for one setting: its allowed choices, scaled defaults, edges and junk."""
    from replab.cli._settings import allowed_values

    allowed = allowed_values(config_cls, name) or ""
    choices = [c.strip().strip("'") for c in allowed.removeprefix("one of ").split(",")
               ] if allowed.startswith("one of") else []
    default = next(f.default for f in dataclasses.fields(config_cls) if f.name == name)
    scaled = []
    if isinstance(default, int | float) and not isinstance(default, bool):
        scaled = [repr(type(default)(default * k)) for k in (0, 0.5, 2, 10, 1000, 10**6, 10**9)]
    return st.one_of(st.sampled_from(choices + scaled + ["true", "false", "none"]), value,
                     st.sampled_from(["500,crash,node=0", "x,y", "[[1]]", "[", "1;2;;",
                                      "dc0,dc2,const:300", "100,partition,groups=[[0],[1]]"]))


def _set_pairs(config_cls: type) -> st.SearchStrategy[list[str]]:
    names = [f.name for f in dataclasses.fields(config_cls)]

    @st.composite
    def pairs(draw) -> list[str]:
        out = []
        for name in draw(st.lists(st.sampled_from(names + ["nosuch", "", "seed"]),
                                  max_size=3)):
            raw = draw(_field_values(config_cls, name)) if name in names else draw(value)
            out += ["--set", f"{name}={raw}"]
        return out

    return pairs()


@FUZZ
@given(model=st.sampled_from(sorted(MODELS)), data=st.data())
def test_simulate(model, data, tmp_path_factory):
    config_cls = MODELS[model][0]
    out = tmp_path_factory.getbasetemp() / "sim"
    out.mkdir(exist_ok=True)
    opts = data.draw(options({
        "--seed": number,
        "--history": st.sampled_from([str(out / "h.jsonl"), "/nonexistent/dir/h.jsonl",
                                      str(out), "/"]),
        "--format": st.sampled_from(["table", "json", "csv"]),
    }))
    assert_clean(["simulate", model, *data.draw(_set_pairs(config_cls)), *opts])


def _toml_value(v: str) -> str:
    try:
        float(v)
        return v if v.lower() not in ("nan", "inf", "-inf", "-0") else f'"{v}"'
    except ValueError:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


SPEC_KEYS = ["n", "r", "w", "latency", "t", "trials", "k", "p", "q", "p_fail", "groups",
             "p_group", "target", "seed", "nosuch"]
#: settings of the model targets (the fuzz keeps their runs short with duration_ms)
MODEL_KEYS = ["n", "r", "w", "followers", "lag_ms", "mitigation", "partitions", "mode",
              "transactions", "topology", "faults", "failover_timeout_ms", "sloppy", "keys"]
MODEL_TARGETS = ["single-leader", "lag-anomalies", "partitioned", "leaderless",
                 "multi-leader", "replog", "record-postgres", "record-mariadb"]
#: grid sizes from one point to 10^15 (refused before a point is built)
GRID_SIZES = st.sampled_from(["{ from = 1, to = 3 }", "{ from = 1, to = 1000 }",
                              "{ from = 0, to = 1000000000000000 }", "{ from = 5, to = 1 }",
                              "{ from = 1, to = 4, step = 0 }", "[]", "[1, 2]"])


@st.composite
def sweep_spec(draw) -> str:
    model = draw(st.booleans())
    target = draw(st.sampled_from(MODEL_TARGETS if model else [
        "staleness", "t_visibility", "availability", "k_staleness", "latency_percentiles",
        "nosuch"]))
    keys = MODEL_KEYS if model else SPEC_KEYS
    lines = []
    if draw(st.booleans()):
        lines.append(f'target = "{target}"')  # at the top, outside any table
    seed = draw(st.sampled_from(["1", "-1", "1.5", '"x"']))
    lines += ["[sweep]", f'target = "{target}"', f"seed = {seed}"]
    if draw(st.booleans()):
        lines.append(f"replications = {draw(st.sampled_from(['1', '2', '0', '1000000']))}")
    if draw(st.booleans()):
        lines.append(f'executor = "{draw(st.sampled_from(["serial", "threads", "x"]))}"')
    for table in ("fixed", "grid"):
        lines.append(f"[{table}]")
        if model and table == "fixed":
            lines.append("duration_ms = 200")
        for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
            if table == "grid" and draw(st.booleans()):
                lines.append(f"{key} = {draw(GRID_SIZES)}")
                continue
            values = draw(st.lists(value.map(_toml_value), min_size=0, max_size=3))
            shown = f"[{', '.join(values)}]" if table == "grid" or len(values) != 1 else values[0]
            lines.append(f"{key} = {shown}")
    return "\n".join(lines) + "\n"


@FUZZ
@given(spec=st.one_of(sweep_spec(), st.text(max_size=60)), data=st.data())
def test_sweep(spec, data, tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "sweep"
    folder.mkdir(exist_ok=True)
    path = folder / "spec.toml"
    path.write_text(spec)
    opts = data.draw(options({
        "--out": st.sampled_from([str(folder / "r.csv"), "/nonexistent/dir/r.csv",
                                  str(folder)]),
        "--workers": st.sampled_from(["0", "-1", "x", "1e9"]),
        "--executor": st.sampled_from(["serial", "threads", "nosuch"]),
        "--summary": st.just("--no-progress"),  # a flag: stands alone before a repeat
    }))
    target = data.draw(st.sampled_from([str(path), str(folder / "missing.toml"), str(folder)]))
    for leftover in [*folder.glob("r.csv*"), *folder.glob("spec.csv*")]:
        subprocess.run(["rm", "-rf", str(leftover)], check=True)
    assert_clean(["sweep", target, "--no-progress", *opts])


@FUZZ
@given(data=st.data())
def test_reproduce_and_dashboard_refuse_bad_arguments(data, tmp_path_factory):
    empty = tmp_path_factory.getbasetemp() / "empty"
    empty.mkdir(exist_ok=True)
    command = data.draw(st.sampled_from(["reproduce", "dashboard"]))
    if command == "reproduce":
        argv = ["reproduce", *data.draw(st.lists(word, max_size=2)),
                "--notebooks", data.draw(st.sampled_from(["/nonexistent", str(empty)])),
                "--timeout", data.draw(number)]
    else:
        argv = ["dashboard", "--no-browser", "--port",
                data.draw(st.sampled_from(["0", "-1", "65536", "x", "1e3", "nan"])),
                *data.draw(st.lists(word, max_size=1))]
    code, _, err, _ = run_cli(argv)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


@FUZZ
@given(content=st.one_of(st.text(max_size=80).map(str.encode), st.binary(max_size=80)),
       name=st.sampled_from(["h.jsonl", "missing.jsonl", ""]))
def test_check(content, name, tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "check"
    folder.mkdir(exist_ok=True)
    path = folder / "h.jsonl"
    path.write_bytes(content)
    assert_clean(["check", str(folder / name) if name else str(folder)])


# ------------------------------------------------------------------ the issue's cases

ISSUE_CASES = [
    (["staleness", "--n", "100000000", "--r", "1", "--w", "1", "--profile", "YMMR",
      "--trials", "1000"], "The 'n' parameter of replab staleness must be at most"),
    (["availability", "--n", "100000", "--r", "50000", "--w", "50001", "--p-fail", "0.1"],
     "The 'n' parameter of replab availability must be an int in [1, 1000]. Got 100000"),
    (["staleness", "--n", "3", "--r", "1", "--w", "1", "--profile", "YMMR",
      "--trials", "10000000000000"], "The 'trials' parameter of replab staleness must be at"),
    (["simulate", "single-leader", "--set", "duration_ms=1e300"],
     "The 'duration_ms' parameter of SingleLeaderConfig must be at most 1e+09 ms"),
    (["sweep", "data/sweeps/availability.toml", "--out", "/nonexistent/dir/r.csv"],
     "The '--out' option must name a file in an existing folder"),
    (["reproduce", "--notebooks", "/nonexistent"], "The 'notebooks' parameter must be an"),
    (["reproduce", "--timeout", "-1"],
     "The 'timeout' parameter of replab reproduce must be an int in [1, inf). Got -1"),
    (["staleness", "--n", "3", "--r", "1", "--w", "1", "--latency", "exp:nan"],
     "'nan' in exp is not a finite number"),
    (["simulate", "single-leader", "--set", "faults=garbage"],
     "On the command line write --set faults=ITEM;ITEM;..."),
    (["simulate", "single-leader", "--set", "faults=-5,crash,node=0"],
     "The 'time' parameter of Fault must be a finite number in [0, inf). Got -5 instead. "
     "(in the 'faults' setting)"),
    (["record", "postgres", "--fault", "stall", "--fault-at-s", "10", "--duration-s", "2",
      "--out", "/nonexistent/h.jsonl"],
     "The 'fault_at_s' parameter of PgLabConfig must be a float in [0, duration_s=2)"),
    (["simulate", "leaderless", "--replications", "0"],
     "argument --replications: must be an int >= 1, got '0'"),
]


#: Runs every case's command line in one fresh interpreter (one start-up, not twelve) and
#: prints, per case, its exit status and everything it wrote to stderr.
ISSUE_DRIVER = """
import contextlib, io, json, sys
from replab.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
    out.append((code, err.getvalue()))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def issue_runs() -> list[tuple[int, str]]:
    import json

    done = subprocess.run([sys.executable, "-c", ISSUE_DRIVER,
                           json.dumps([argv for argv, _ in ISSUE_CASES])], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return [tuple(x) for x in json.loads(done.stdout)]


@pytest.mark.parametrize("case", range(len(ISSUE_CASES)),
                         ids=[" ".join(argv)[:50] for argv, _ in ISSUE_CASES])
def test_the_issue_invocations_are_one_line_and_exit_2(case, issue_runs):
    _, message = ISSUE_CASES[case]
    code, err = issue_runs[case]
    assert code == 2, err
    assert err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err
    assert not Path("/nonexistent").exists()


# ------------------------------------------------------------------ Ctrl-C at any moment

#: starts the command line once the libraries are loaded and says so (Ctrl-C during the
#: imports themselves happens before replab's code runs)
READY = ("import sys; from replab.cli import main; print('ready', flush=True); "
         "sys.exit(main(sys.argv[1:]))")
CTRL_C_SPEC = ('[sweep]\ntarget = "leaderless"\nseed = 1\nreplications = 2\n[fixed]\n'
               'duration_ms = 600\n[grid]\nr = [1, 2, 3]\nw = [1, 2, 3]\n')
CTRL_C = {
    "simulate": ["simulate", "leaderless", "--set", "duration_ms=100000"],
    "replications": ["simulate", "lag-anomalies", "--replications", "40"],
    "sweep": ["sweep", "{spec}", "--no-progress"],
    "sweep-workers": ["sweep", "{spec}", "--workers", "2", "--no-progress", "--out", "{out}"],
}


@settings(max_examples=int(os.environ.get("REPLAB_FUZZ_CTRL_C", "3")), deadline=None,
          derandomize=not os.environ.get("REPLAB_FUZZ_RANDOM"),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking: minutes
@given(command=st.sampled_from(sorted(CTRL_C)), delay=st.floats(0.0, 2.5))
def test_ctrl_c_at_any_moment_stops_everything(command, delay, tmp_path_factory):
    import uuid

    import psutil

    folder = tmp_path_factory.mktemp("ctrl-c")
    (folder / "spec.toml").write_text(CTRL_C_SPEC)
    argv = [a.format(spec=folder / "spec.toml", out=folder / f"{uuid.uuid4().hex}.csv")
            for a in CTRL_C[command]]
    proc = subprocess.Popen([sys.executable, "-c", READY, *argv], cwd=folder, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(ROOT), REPLAB_MAX_EVENTS="1e12",
                                     REPLAB_MAX_POINTS="1000000"),
                            start_new_session=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    time.sleep(delay)
    family = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: its workers get it too
    _, err = proc.communicate(timeout=60)
    deadline = time.monotonic() + 5
    left = family
    while left and time.monotonic() < deadline:
        left = [p for p in left if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.05)
    for p in left:
        p.kill()
    assert left == [], (command, delay, left)
    # -2: the command had ended and the interpreter was exiting (Python's own handler)
    assert proc.returncode in (0, 130, -signal.SIGINT), (command, delay, proc.returncode, err)
    assert "Traceback" not in err and err.count("\n") <= 1, (command, delay, err)
    if proc.returncode == 130:
        assert err.startswith(f"replab {argv[0]}: interrupted"), err


def test_the_entry_point_imports_nothing_heavy_before_it_takes_over_ctrl_c():
    # `replab ...` imports replab.cli and calls main(); main takes over Ctrl-C first and only
    # then imports the commands (numpy, pandas, the models). So the window in which a Ctrl-C
    # is Python's traceback is the interpreter's own start, not a second of imports.
    probe = ("import sys; import replab, replab.cli; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('numpy', 'pandas', 'matplotlib', 'scipy') or m.startswith('replab.models')))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_lazy_namespace_gives_every_public_name():
    import types

    import replab

    for name in replab.__all__:
        assert getattr(replab, name) is not None, name
    import replab.sweep  # the submodule must not hide the function of the same name

    assert isinstance(replab.sweep, types.FunctionType)
    with pytest.raises(AttributeError, match="module 'replab' has no attribute 'nope'"):
        replab.nope  # noqa: B018


def test_a_ctrl_c_at_the_first_step_of_main_names_the_command(monkeypatch, capsys):
    """The CI failure of this case: a Ctrl-C before main() had read its arguments said
    'replab: interrupted', not 'replab simulate: interrupted'."""
    import replab.cli

    class FirstStep:  # the Ctrl-C lands on main()'s first statement
        def clear(self) -> None:
            raise KeyboardInterrupt

        def is_set(self) -> bool:
            return True

    monkeypatch.setattr(replab.cli, "_CTRL_C", FirstStep())
    assert main(["simulate", "leaderless"]) == 130
    assert capsys.readouterr().err == (
        "replab simulate: interrupted (Ctrl-C); everything it started is stopped\n")


@pytest.mark.parametrize("over", ["KeyboardInterrupt", "CancelledError", None])
def test_an_error_raised_over_a_ctrl_c_is_the_ctrl_c(over, monkeypatch, capsys):
    """nbclient's clean-up fails on the kernel manager it never got (an AssertionError)
    when a Ctrl-C, or the cancellation asyncio turned it into, lands while a kernel starts:
    one line and 130, as for the Ctrl-C. The same error with no Ctrl-C behind it is a bug
    and stays one."""
    import argparse
    import asyncio

    import replab.cli

    def run(args: argparse.Namespace) -> int:
        try:
            if over == "KeyboardInterrupt":
                raise KeyboardInterrupt
            if over == "CancelledError":
                raise asyncio.CancelledError
            raise OSError("no Ctrl-C")
        except BaseException:
            raise AssertionError("assert self.km is not None") from None

    class Parser:
        def parse_args(self, argv: list[str]) -> argparse.Namespace:
            return argparse.Namespace(run=run)

    monkeypatch.setattr(replab.cli, "build_parser", Parser)
    if over is None:
        with pytest.raises(AssertionError, match="self.km"):
            main(["reproduce", "01"])
        return
    assert main(["reproduce", "01"]) == 130
    assert capsys.readouterr().err == (
        "replab reproduce: interrupted (Ctrl-C); everything it started is stopped\n")
