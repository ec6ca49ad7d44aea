"""The README blocks that start real PostgreSQL / MariaDB servers (see test_readme.py)."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import test_readme as readme

sandbox = readme.sandbox


def test_the_server_blocks_are_found():
    assert any("record postgres" in b.code for b in readme.SERVER_BLOCKS)
    assert any("record mariadb" in b.code for b in readme.SERVER_BLOCKS)


@pytest.fixture(scope="module")
def server_runs(sandbox: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every server block run at once, each in its own process: they mostly wait on
    their servers, and each lab has its own folders and ports (the blocks write files of
    different names)."""
    blocks = [b for b in readme.SERVER_BLOCKS if not b.skip]
    with ThreadPoolExecutor(max(1, len(blocks))) as pool:
        runs = {b.id: pool.submit(readme._run, readme.block_command(b), sandbox)
                for b in blocks}
        return {name: run.result() for name, run in runs.items()}


def test_the_server_blocks_write_files_of_different_names():
    written = [set(re.findall(r"--out (\S+)", b.code)) for b in readme.SERVER_BLOCKS]
    assert sum(map(len, written)) == len(set().union(*written))


@pytest.mark.parametrize("block", readme.SERVER_BLOCKS, ids=lambda b: b.id)
def test_server_block_runs(block: readme.Block, server_runs):
    if block.skip:
        pytest.skip(block.skip)
    readme.check_block(block, server_runs[block.id])
