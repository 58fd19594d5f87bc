"""Which source files of the package a workflow script runs, and one digest of them (issue 16).

Snakemake reruns a job when its inputs, parameters or rule code change, but it does not see the
package the script imports: an edit of ``src/perivigil/extract/`` would rerun nothing. Each rule
that runs package code therefore gets, as a parameter, the digest of the package files its script
can import (:func:`source_digest` of :func:`imported_files`): editing one stage's module changes the
parameter of that stage's rules only, Snakemake's ``params`` trigger reruns them, and their
descendants follow because their inputs are newer.

The closure is read statically from the ``import`` statements (every ``import perivigil...`` and
``from perivigil... import ...``, at module level or inside functions, plus relative imports), with
the ``__init__.py`` of every package on the way and the data files of a package's ``resources/``
folder. No library does this for a source tree without importing it (importing would run the
modules, and ``modulefinder`` follows the standard library and third-party packages too); the
reader is 60 lines.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

PACKAGE = "perivigil"


def _module_file(src: Path, module: str) -> Path | None:
    """The file of a dotted module name under ``src`` (a module or a package's ``__init__.py``)."""
    base = src.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _packages_of(module: str) -> list[str]:
    """``perivigil.extract.dose`` -> ``["perivigil", "perivigil.extract"]``: every package on the way."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imported_modules(source: str, module: str | None = None, is_package: bool = False) -> set[str]:
    """The ``perivigil`` modules a piece of code imports: for ``from X import Y``, both ``X`` and
    ``X.Y`` (``Y`` may be a submodule; a name that is not a file is dropped by the caller).
    ``module`` (the code's own dotted name) resolves relative imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and module:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name == PACKAGE or name.startswith(PACKAGE + ".")}


def imported_files(script: Path, src: Path) -> list[Path]:
    """Every file of the package under ``src`` that ``script`` can import, directly or through other
    modules of the package, with the packages' ``__init__.py`` and ``resources/`` files; sorted."""
    seen: set[Path] = set()
    todo: list[tuple[str, str | None, bool]] = [(script.read_text(encoding="utf-8"), None, False)]
    while todo:
        source, module, is_package = todo.pop()
        for name in sorted(imported_modules(source, module, is_package)):
            for candidate in [*_packages_of(name), name]:
                path = _module_file(src, candidate)
                if path is None or path in seen:
                    continue
                seen.add(path)
                todo.append((path.read_text(encoding="utf-8"), candidate, path.name == "__init__.py"))
    resources = {
        data
        for path in seen
        if (path.parent / "resources").is_dir()
        for data in (path.parent / "resources").rglob("*")
        if data.is_file() and "__pycache__" not in data.parts
    }
    return sorted(seen | resources)


def source_digest(files: Iterable[Path], root: Path) -> str:
    """SHA-256 (hex, first 16 characters) of the files' paths relative to ``root`` and their bytes."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def script_digest(script: Path, src: Path) -> str:
    """The digest of the package code a workflow script runs (the rule's ``code`` parameter)."""
    return source_digest(imported_files(script, src), src)


__all__ = ["imported_files", "imported_modules", "script_digest", "source_digest"]
