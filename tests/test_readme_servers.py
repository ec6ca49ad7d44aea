"""The README blocks that start real PostgreSQL / MariaDB servers (see test_readme.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import test_readme as readme

sandbox = readme.sandbox


def test_the_server_blocks_are_found():
    assert any("record postgres" in b.code for b in readme.SERVER_BLOCKS)
    assert any("record mariadb" in b.code for b in readme.SERVER_BLOCKS)


@pytest.mark.parametrize("block", readme.SERVER_BLOCKS, ids=lambda b: b.id)
def test_server_block_runs(block: readme.Block, sandbox: Path):
    readme.run_block(block, sandbox)
