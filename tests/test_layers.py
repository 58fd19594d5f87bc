"""The direction of imports between stages (issue 12: decisions are made once, by the rule system).

Extraction writes exposure events; the rule system (``perivigil.models``) reads them and
decides. So nothing in ``perivigil/extract/`` may import ``perivigil.models`` — not at the top
of a module, nor inside a function. Read from the source with :mod:`ast` (every ``import`` and
``from … import`` node, wherever it stands), which is what import-linter's "forbidden" contract
checks, without adding a tool to the lock for one rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src/perivigil"


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module named by an import statement of ``path`` (a module of ``package``), relative imports
    resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _package(path: Path) -> str:
    return ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])


@pytest.mark.parametrize("path", sorted((SRC / "extract").rglob("*.py")), ids=lambda p: p.name)
def test_extraction_imports_nothing_from_the_models(path):
    offending = sorted(
        m
        for m in imported_modules(path, _package(path))
        if m == "perivigil.models" or m.startswith("perivigil.models.")
    )
    assert offending == [], f"{path.relative_to(SRC.parent)} imports {offending}"


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import json\n\ndef f():\n    from perivigil.models.rules import decide\n    from ..models import LABELS\n"
        "    return decide, LABELS\n",
        encoding="utf-8",
    )
    found = imported_modules(probe, "perivigil.extract")
    assert {
        "json",
        "perivigil.models.rules",
        "perivigil.models.rules.decide",
        "perivigil.models",
        "perivigil.models.LABELS",
    } == found
