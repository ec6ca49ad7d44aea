"""Every shell, Python and TOML block of README.md (and data/README.md) runs here.

Shell blocks run with ``bash -euo pipefail`` in a sandbox that looks like a fresh clone
after ``python3 tasks.py test``: ``data/`` and ``notebooks/`` of this checkout, a copy of
``tasks.py`` and ``pyproject.toml``, and a ``.venv`` whose ``python`` and ``replab`` run
this checkout (its install stamp is current, so ``tasks.py`` installs nothing). ``replab``
is on the PATH only after ``. .venv/bin/activate``: the block that shows how runs in a
plain shell, the others as a user who has activated it.

A block is skipped only when the line right above it is
``<!-- readme-test: skip: REASON -->``; the reason is shown in the test report.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "data" / "README.md"]
SKIP = re.compile(r"<!-- readme-test: skip: (?P<reason>.*\S) -->")
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\w*)\s*$")
BLOCK_TIMEOUT_S = 120


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    code: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}:{self.lang}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with their skip reason if marked."""
    lines = path.read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group("lang"):
            i += 1
            continue
        start, indent = i, len(m.group("indent"))
        i += 1
        body = []
        while not FENCE.match(lines[i]):
            body.append(lines[i][indent:])
            i += 1
        marker = SKIP.fullmatch(lines[start - 1].strip()) if start else None
        out.append(Block(str(path.relative_to(ROOT)), start + 1, m.group("lang"),
                         "\n".join(body) + "\n", marker.group("reason") if marker else None))
        i += 1
    return out


ALL = [b for doc in DOCS for b in blocks(doc)]
RUNNABLE = {"sh", "python", "toml"}
# Blocks that start real database servers run from tests/test_readme_servers.py, so the
# two halves land on different test workers.
SERVER_BLOCKS = [b for b in ALL if "replab record" in b.code or "replab.real" in b.code]
OTHER_BLOCKS = [b for b in ALL if b not in SERVER_BLOCKS]


def test_blocks_are_found_and_every_fence_has_a_known_language():
    langs = {b.lang for b in ALL}
    assert {"sh", "python", "toml"} <= langs, langs
    assert langs <= RUNNABLE, f"add a runner for {langs - RUNNABLE}"
    assert sum(b.skip is None for b in ALL) >= 8


def test_a_skip_marker_needs_a_reason():
    assert SKIP.fullmatch("<!-- readme-test: skip: -->") is None
    assert SKIP.fullmatch("<!-- readme-test: skip: serves until Ctrl-C -->")


def test_readme_links_stay_inside_the_repository():
    text = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)\)", text) + re.findall(r"`(\.\./[^`]+)`", text):
        if "://" in target:
            continue
        assert (ROOT / target).resolve().is_relative_to(ROOT), target
        assert (ROOT / target).exists(), target


def _write_exec(path: Path, body: str) -> None:
    path.write_text(body)
    path.chmod(0o755)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A fresh clone after ``tasks.py test``, running this checkout's replab."""
    box = tmp_path_factory.mktemp("clone")
    for name in ("data", "notebooks"):
        (box / name).symlink_to(ROOT / name)
    for name in ("tasks.py", "pyproject.toml"):
        shutil.copy(ROOT / name, box / name)
    bin_dir = box / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    _write_exec(bin_dir / "python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    _write_exec(bin_dir / "replab", f'#!/bin/sh\nexec "{sys.executable}" -m replab.cli "$@"\n')
    (bin_dir / "activate").write_text(textwrap.dedent(f"""\
        _OLD_PATH="$PATH"; PATH="{bin_dir}:$PATH"; export PATH
        deactivate() {{ PATH="$_OLD_PATH"; export PATH; unset -f deactivate; }}
        """))
    stamp = hashlib.sha256((box / "pyproject.toml").read_bytes()).hexdigest()
    (box / ".venv" / ".replab-installed").write_text(stamp)
    return box


def _env() -> dict[str, str]:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    venv_bin = str(Path(sys.executable).parent)
    # The user's PATH has no replab on it until they activate the environment.
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p != venv_bin)
    return env


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=BLOCK_TIMEOUT_S)


@pytest.mark.parametrize("block", OTHER_BLOCKS, ids=lambda b: b.id)
def test_block_runs(block: Block, sandbox: Path):
    run_block(block, sandbox)


def run_block(block: Block, sandbox: Path) -> None:
    """Run one README block in the sandbox; fail with its output if it fails."""
    if block.skip:
        pytest.skip(block.skip)
    if block.lang == "toml":
        from replab.sweeps.spec import spec_from_dict

        spec_from_dict(tomllib.loads(block.code))
        return
    check_block(block, _run(block_command(block), sandbox))


def block_command(block: Block) -> list[str]:
    """The command that runs a python or sh block as its reader would."""
    if block.lang == "python":
        return [sys.executable, "-c", block.code]
    # Blocks show commands of a user who has activated .venv, except the block that
    # shows how (it must work from a plain shell).
    code = block.code if "activate" in block.code else f". .venv/bin/activate\n{block.code}"
    return ["bash", "-euo", "pipefail", "-c", code]


def check_block(block: Block, done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, (
        f"{block.id} failed ({done.returncode}):\n{block.code}\n--- stdout\n"
        f"{done.stdout[-2000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )
    assert "Traceback" not in done.stderr, done.stderr


def test_replab_is_not_on_the_path_before_activating(sandbox: Path):
    done = _run(["bash", "-c", "command -v replab || echo missing"], sandbox)
    assert done.stdout.strip() == "missing" or ".venv" not in done.stdout


def test_the_failover_example_loses_acknowledged_writes(sandbox: Path):
    """The README promises the single-leader example shows a failover and lost writes."""
    text = (ROOT / "README.md").read_text()
    cmd = re.search(r"(replab simulate single-leader [^\n]*leader_crash_at_ms[^\n]*\\\n[^\n]*)",
                    text).group(1).replace("\\\n", " ")
    cmd = cmd.split("#")[0] + " --format json"
    done = _run(["bash", "-c", f". .venv/bin/activate && {cmd}"], sandbox)
    assert done.returncode == 0, done.stderr
    import json

    metrics = json.loads(done.stdout)
    assert metrics["failovers"] >= 1
    assert metrics["acked_writes_lost"] > 0
