"""perivigil.codebase: which package files a workflow script runs, and their digest (issue 16)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import ROOT

from perivigil.codebase import imported_files, imported_modules, script_digest, source_digest


def _package(src: Path) -> None:
    """A tiny package: perivigil/{__init__, logs, extract/{__init__, dose, text, resources/cues.yaml}, models/rules}."""
    files = {
        "perivigil/__init__.py": "",
        "perivigil/logs.py": "import logging\n",
        "perivigil/extract/__init__.py": "",
        "perivigil/extract/dose.py": "from .text import fold\n\ndef f():\n    from perivigil.logs import x\n",
        "perivigil/extract/text.py": "import re\n",
        "perivigil/extract/resources/cues.yaml": "a: 1\n",
        "perivigil/models/__init__.py": "LABELS = ()\n",
        "perivigil/models/rules.py": "from perivigil.models import LABELS\n",
    }
    for name, text in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text, encoding="utf-8")


def test_imports_are_read_whatever_their_form():
    source = "import os\nimport perivigil.logs\nfrom perivigil.extract import dose, text\nfrom . import sibling\n"
    assert imported_modules(source) == {
        "perivigil.logs",
        "perivigil.extract",
        "perivigil.extract.dose",
        "perivigil.extract.text",
    }
    # relative imports resolve against the importing module (a module, then a package's __init__)
    assert imported_modules("from .text import fold", "perivigil.extract.dose") == {
        "perivigil.extract.text",
        "perivigil.extract.text.fold",
    }
    assert imported_modules("from . import dose", "perivigil.extract", is_package=True) == {
        "perivigil.extract",
        "perivigil.extract.dose",
    }


def test_the_closure_follows_imports_inside_functions_and_takes_the_resources(tmp_path):
    src = tmp_path / "src"
    _package(src)
    script = tmp_path / "extract.py"
    script.write_text("from perivigil.extract.dose import f\n", encoding="utf-8")
    names = [p.relative_to(src).as_posix() for p in imported_files(script, src)]
    assert names == [
        "perivigil/__init__.py",
        "perivigil/extract/__init__.py",
        "perivigil/extract/dose.py",
        "perivigil/extract/resources/cues.yaml",
        "perivigil/extract/text.py",
        "perivigil/logs.py",
    ]  # not perivigil/models/: nothing imports it


def test_the_digest_changes_with_one_imported_file_only(tmp_path):
    src = tmp_path / "src"
    _package(src)
    script = tmp_path / "decide.py"
    script.write_text("from perivigil.models.rules import decide\n", encoding="utf-8")
    before = script_digest(script, src)
    (src / "perivigil/extract/text.py").write_text("import re  # edited\n", encoding="utf-8")
    assert script_digest(script, src) == before  # decide does not import extraction
    (src / "perivigil/models/rules.py").write_text("# edited\n", encoding="utf-8")
    assert script_digest(script, src) != before


def test_the_digest_is_sha256_of_paths_and_bytes(tmp_path):
    (tmp_path / "a.py").write_bytes(b"x = 1\n")
    expected = hashlib.sha256(b"a.py\0x = 1\n\0").hexdigest()[:16]
    assert source_digest([tmp_path / "a.py"], tmp_path) == expected


def test_the_extraction_rule_runs_extraction_code_and_preprocessing_does_not():
    src = ROOT / "src"
    extract = {p.relative_to(src).as_posix() for p in imported_files(ROOT / "workflow/scripts/extract.py", src)}
    preprocess = {p.relative_to(src).as_posix() for p in imported_files(ROOT / "workflow/scripts/preprocess.py", src)}
    assert "perivigil/extract/dose.py" in extract and "perivigil/extract/resources/cues.yaml" in extract
    assert not any(name.startswith("perivigil/extract/") for name in preprocess)
