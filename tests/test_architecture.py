"""docs/ARCHITECTURE.md's import table is the rule: every replab module imports only from
the layers its row allows (the page and the code cannot drift apart)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "replab"
ROOT_LAYER = "package root"
#: (importing layer, imported layer): why it is tolerated. Nothing else may be added here
#: without a line in docs/ARCHITECTURE.md.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _layer_names(cell: str) -> list[str]:
    names = re.findall(r"`([^`]+)`", cell)
    return [ROOT_LAYER if n.startswith("replab/__init__") else n for n in names]


def allowed_imports() -> dict[str, set[str] | None]:
    """Layer -> layers it may import (None: anything), from the page's table."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    table = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in table.splitlines() if r.startswith("| ") and not r.startswith("| layer")]
    out: dict[str, set[str] | None] = {}
    layers: list[str] = []
    for row in rows:
        first, _, may = (c.strip() for c in row.strip("|").split("|"))
        names = _layer_names(first) or [ROOT_LAYER]
        if first.startswith("package root"):
            names = [ROOT_LAYER]
        if may.startswith("everything above"):
            allowed: set[str] | None = None
        elif may.startswith("everything except"):
            allowed = set(layers) - set(re.findall(r"`([^`]+)`", may))
        else:
            allowed = {m.strip() for m in may.split(",") if m.strip()}
        for name in names:
            out[name] = None if allowed is None else allowed | set(names)
        layers += names
    return out


def layer_of(module: str) -> str:
    parts = module.split(".")
    return ROOT_LAYER if len(parts) == 1 else parts[1]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "replab":
                found |= {f"replab.{a.name}" if (PACKAGE / a.name).exists()
                          or (PACKAGE / f"{a.name}.py").exists() else "replab"
                          for a in node.names}
            elif node.module.startswith("replab."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "replab"}
    return found


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_the_table_covers_every_module():
    rules = allowed_imports()
    missing = {layer_of(_module(p)) for p in PACKAGE.rglob("*.py")} - set(rules)
    assert not missing, f"docs/ARCHITECTURE.md has no row for {sorted(missing)}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path):
    rules = allowed_imports()
    layer = layer_of(_module(path))
    allowed = rules[layer]
    if allowed is None:
        return
    bad = sorted(
        m for m in _imports(path)
        if layer_of(m) not in allowed and (layer, layer_of(m)) not in KNOWN_EXCEPTIONS
    )
    assert not bad, f"{layer} may import only {sorted(allowed)}; it imports {bad}"


def test_the_rules_catch_a_bad_import(tmp_path):
    # The check itself must be able to fail: a kernel module importing a model.
    rules = allowed_imports()
    assert "models" not in (rules["sim"] or set())
    assert rules["cli"] is None and "cli" not in (rules[ROOT_LAYER] or set())
