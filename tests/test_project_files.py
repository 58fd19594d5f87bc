"""The project's own files agree with each other.

- CITATION.cff is valid Citation File Format 1.2.0 and has the version of pyproject.toml.
- CHANGELOG.md has a section for that version, with the date CITATION.cff gives.
- LICENSE is the license that pyproject.toml names.
- The pre-commit hooks run tools that requirements.lock pins.
"""

from __future__ import annotations

import re
import shlex
import tomllib

import yaml

import perivigil

# Citation File Format 1.2.0 (https://github.com/citation-file-format/citation-file-format,
# schema.json): its top-level keys (additionalProperties: false) and the required ones.
CFF_KEYS = {
    "abstract",
    "authors",
    "cff-version",
    "commit",
    "contact",
    "date-released",
    "doi",
    "identifiers",
    "keywords",
    "license",
    "license-url",
    "message",
    "preferred-citation",
    "references",
    "repository",
    "repository-artifact",
    "repository-code",
    "title",
    "type",
    "url",
    "version",
}
CFF_REQUIRED = {"authors", "cff-version", "message", "title"}
ISO_DATE = re.compile(r"^[0-9]{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$")  # the schema's `date`


def _pyproject(root) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _citation(root) -> dict:
    # BaseLoader: every scalar stays a string, as the schema reads them (an unquoted date would be a date).
    return yaml.load((root / "CITATION.cff").read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


def _canonical(name: str) -> str:
    # PEP 503 normalisation: runs of -, _ and . are one dash, lower case.
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock(root) -> dict[str, str]:
    pins = {}
    for line in (root / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.strip().split("==")
            pins[_canonical(name)] = version
    return pins


def test_the_package_has_the_version_of_pyproject(root):
    assert perivigil.__version__ == _pyproject(root)["version"]


def test_citation_has_the_version_and_license_of_pyproject(root):
    project, citation = _pyproject(root), _citation(root)
    assert citation["version"] == project["version"]
    assert citation["license"] == project["license"]


def test_citation_is_citation_file_format_1_2_0(root):
    citation = _citation(root)
    assert citation["cff-version"] == "1.2.0"
    assert CFF_REQUIRED <= set(citation), f"missing: {CFF_REQUIRED - set(citation)}"
    assert set(citation) <= CFF_KEYS, f"not CFF 1.2.0 keys: {set(citation) - CFF_KEYS}"
    assert ISO_DATE.match(citation["date-released"])
    assert citation["type"] in ("software", "dataset")
    # An author is an entity (`name`) or a person (a family or given name, or an alias).
    assert citation["authors"], "at least one author"
    for author in citation["authors"]:
        assert {"name", "family-names", "given-names", "alias"} & set(author), author
    # The contributors of pyproject.toml, and nobody invented.
    assert [a.get("name") for a in citation["authors"]] == [a["name"] for a in _pyproject(root)["authors"]]


def test_changelog_has_a_section_for_the_version_dated_as_the_citation(root):
    version, released = _pyproject(root)["version"], _citation(root)["date-released"]
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", changelog, flags=re.MULTILINE))
    assert version in sections, f"CHANGELOG.md has no '## [{version}] - YYYY-MM-DD' section"
    assert sections[version] == released
    # Newest first (Keep a Changelog): the current version is the first released section.
    assert next(iter(sections)) == version


def test_license_file_is_the_license_pyproject_names(root):
    assert _pyproject(root)["license"] == "MIT"
    lines = (root / "LICENSE").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "MIT License"
    assert re.fullmatch(r"Copyright \(c\) \d{4}(-\d{4})? perivigil contributors", lines[2])
    assert "Permission is hereby granted, free of charge" in lines[4]


def test_pre_commit_hooks_are_local_and_call_pinned_tools(root):
    config = yaml.safe_load((root / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    pins = _lock(root)
    tools = []
    for repo in config["repos"]:
        assert repo["repo"] == "local", "a hook repository would be fetched from the network, unpinned"
        for hook in repo["hooks"]:
            executable, *args = shlex.split(hook["entry"])
            assert executable.startswith(".venv/bin/"), f"hook {hook['id']} must call the venv's tool"
            tool = executable.removeprefix(".venv/bin/")
            assert _canonical(tool) in pins, f"hook {hook['id']}: {tool} is not pinned in requirements.lock"
            tools.append(" ".join([tool, *args[:1]]))
    assert {"ruff check", "ruff format", "snakefmt", "mypy"} <= {t.split(" --")[0] for t in tools}
    assert "pre-commit" in pins
    # `language: unsupported` (the former `system`) needs pre-commit 4.4.0 or later.
    minimum = tuple(int(part) for part in config["minimum_pre_commit_version"].split("."))
    assert tuple(int(part) for part in pins["pre-commit"].split(".")) >= minimum
