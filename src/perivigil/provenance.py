"""The provenance of a run (``results/provenance.json``): code, config, inputs, outputs, versions, time.

A reviewer holding a table or a figure finds its SHA-256 under ``outputs``, with the
rule that made it; the code is the git commit (and whether the tree was dirty), the
settings are the config (and its hash), the data are the SHA-256 of every input the
config names, the environment is the version of every installed package.

The record depends only on what rule ``provenance`` declares: its inputs (the study's
outputs, and the files and folders the config names: :func:`source_paths`) and its
params (the config, and each rule's declared output patterns). No private record of
Snakemake's is read, and no file written beside the DAG:

- ``inputs``: each file the config names, with its SHA-256; a folder (a site snapshot,
  an annotation inbox: up to hundreds of thousands of files) is one entry, its
  manifest summed up (:func:`folder_manifest`: file count, bytes, and the SHA-256 of its
  ``sha256sum`` listing), so that the record's size does not grow with the data;
- ``outputs``: each file of ``results/`` that a rule declares as an output (a file, or
  a file inside a ``directory()`` output), with its SHA-256 and that rule; files no rule
  declares (the report, leftovers) are not read;
- ``outputs_made``: the modification times of the oldest and newest output, which
  bracket the runs that made them, and ``finished_at``, when the record was written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
LOG = logging.getLogger(__name__)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def config_sha256(config: Mapping[str, Any]) -> str:
    """SHA-256 of the config as canonical JSON (sorted keys, no spaces): the same for the same settings."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seeds(config: Mapping[str, Any], prefix: str = "") -> dict[str, int]:
    """Every config key named ``seed`` or ``*_seed``, by its dotted path."""
    found: dict[str, int] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.update(seeds(value, path + "."))
        elif (key == "seed" or key.endswith("_seed")) and isinstance(value, int):
            found[path] = value
    return found


def config_paths(config: Any, root: Path) -> set[Path]:
    """Every string value of the config that names an existing file or folder under ``root``."""
    found: set[Path] = set()
    if isinstance(config, Mapping):
        for value in config.values():
            found |= config_paths(value, root)
    elif isinstance(config, list):
        for value in config:
            found |= config_paths(value, root)
    elif isinstance(config, str) and config and "\n" not in config and len(config) < 500:
        candidate = Path(config) if Path(config).is_absolute() else root / config
        if _exists(candidate):
            found.add(candidate)
    return found


def _exists(path: Path) -> bool:
    """Whether ``path`` exists; a string too long or odd to be a file name names no file."""
    try:
        return path.exists()
    except OSError:
        return False


def git_state(root: Path) -> dict[str, Any]:
    """``commit`` and ``dirty`` (uncommitted changes to tracked files), or nulls and the reason."""

    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = run("rev-parse", "HEAD")
        dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError) as exc:
        reason = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        return {"commit": None, "dirty": None, "reason": f"not a git checkout: {reason}"[:200]}
    return {"commit": commit, "dirty": dirty}


# Folders under the working directory that hold what the DAG makes, never its inputs.
MADE = ("results/", "logs/", "raw/", ".snakemake/")
# A wildcard of a Snakemake file pattern, with its optional inline constraint: ``{name}`` or
# ``{name,regex}`` (the syntax of snakemake.io's wildcard regex; a constraint may hold ``{m,n}``).
WILDCARD = re.compile(r"\{\s*(?P<name>\w+?)(\s*,\s*(?P<constraint>([^{}]+|\{\d+(,\d+)?\})*))?\s*\}")


def source_paths(config: Mapping[str, Any], config_files: Iterable[str], root: Path) -> list[str]:
    """The study's inputs for the record: the config files and every file or folder the config names,
    relative to ``root``, but what the DAG makes (``results/``, ``logs/``, ``raw/``)."""
    named = {relative(path, root) for path in config_paths(config, root)} | {
        relative(root / f, root) for f in config_files
    }
    return sorted(name for name in named if not (name + "/").startswith(MADE))


def folder_manifest(folder: Path) -> dict[str, Any]:
    """``files``, ``bytes`` and ``sha256`` of a folder: the SHA-256 of the lines ``<sha256>  <path>``
    (``sha256sum``'s format, paths relative to the folder, sorted bytewise) of every file in it;
    the same as ``cd FOLDER && find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum``."""
    digest = hashlib.sha256()
    files = size = 0
    names = []
    for directory, _, filenames in os.walk(folder):
        names += [Path(directory, name).relative_to(folder).as_posix() for name in filenames]
    for name in sorted(names, key=lambda n: n.encode("utf-8")):
        path = folder / name
        digest.update(f"{file_sha256(path)}  {name}\n".encode())
        files += 1
        size += path.stat().st_size
    return {"files": files, "bytes": size, "sha256": digest.hexdigest()}


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The regular expression of a Snakemake file pattern (a wildcard without constraint: ``.+``;
    a wildcard seen again: the same text)."""
    parts, seen, last = [], set(), 0
    for match in WILDCARD.finditer(pattern):
        parts.append(re.escape(pattern[last : match.start()]))
        name = match.group("name")
        if name in seen:
            parts.append(f"(?P={name})")
        else:
            parts.append(f"(?P<{name}>{match.group('constraint') or '.+'})")
            seen.add(name)
        last = match.end()
    parts.append(re.escape(pattern[last:]))
    return re.compile("".join(parts))


def declared_outputs(
    root: Path, rules: Mapping[str, Sequence[Sequence[Any]]], under: str = "results"
) -> dict[str, str]:
    """path → rule of every file under ``root/under`` that a rule declares as an output: ``rules`` maps
    each rule to its output patterns as ``(pattern, is_directory)``; a file inside a directory output
    belongs to that output's rule. The first rule whose pattern matches wins."""
    compiled = [
        (rule, pattern_regex(str(pattern)), bool(directory))
        for rule, outputs in rules.items()
        for pattern, directory in outputs
    ]
    found: dict[str, str] = {}
    base = root / under
    for directory, _, filenames in os.walk(base):
        for filename in filenames:
            name = Path(directory, filename).relative_to(root).as_posix()
            ancestors = [name.rsplit("/", depth)[0] for depth in range(1, name.count("/") + 1)]
            for rule, regex, is_directory in compiled:
                if (regex.fullmatch(name) and not is_directory) or (
                    is_directory and any(regex.fullmatch(a) for a in ancestors)
                ):
                    found[name] = rule
                    break
    return dict(sorted(found.items()))


def output_times(paths: Iterable[Path]) -> dict[str, str | None]:
    """``first`` and ``last``: the oldest and newest modification time of ``paths`` (UTC, ISO 8601)."""
    times = [path.stat().st_mtime for path in paths]
    if not times:
        return {"first": None, "last": None}

    def stamp(seconds: float) -> str:
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")

    return {"first": stamp(min(times)), "last": stamp(max(times))}


def package_versions() -> dict[str, str]:
    return {
        dist.metadata["Name"].lower(): dist.version
        for dist in sorted(metadata.distributions(), key=lambda d: d.metadata["Name"].lower())
    }


def relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def build(
    root: Path,
    config: Mapping[str, Any],
    config_files: Iterable[str],
    sources: Iterable[str],
    rules: Mapping[str, Sequence[Sequence[Any]]],
    finished_at: str,
    exclude: Iterable[str] = (),
) -> dict[str, Any]:
    """The provenance record of the run in ``root`` (paths relative to it): ``sources`` are the inputs
    (:func:`source_paths`), ``rules`` each rule's output patterns (:func:`declared_outputs`)."""
    root = Path(root)
    inputs: dict[str, Any] = {}
    for name in sorted(set(sources)):
        path = root / name
        if path.is_dir():
            inputs[name] = folder_manifest(path)
        elif path.is_file():
            inputs[name] = file_sha256(path)
    excluded = set(exclude)
    made = {name: rule for name, rule in declared_outputs(root, rules).items() if name not in excluded}
    produced = {name: {"sha256": file_sha256(root / name), "rule": rule} for name, rule in made.items()}
    return {
        "git": git_state(root),
        "config_sha256": config_sha256(config),
        "config_files": sorted(config_files),
        "seeds": seeds(config),
        "inputs": inputs,
        "outputs": produced,
        "outputs_made": output_times(root / name for name in made),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "finished_at": finished_at,
    }


def write_provenance(
    config: Mapping[str, Any],
    config_files: Iterable[str],
    sources: Iterable[str],
    rules: Mapping[str, Sequence[Sequence[Any]]],
    output: str | Path,
    root: Path = Path("."),
) -> dict[str, Any]:
    """Write ``output`` for the run in ``root``: its inputs and every declared output of ``results/`` but itself."""
    from perivigil.files import atomic_path

    output = Path(output)
    record = build(
        root,
        config,
        list(config_files),
        sources,
        rules,
        datetime.now(UTC).isoformat(timespec="seconds"),
        exclude=[relative(output, root)],
    )
    with atomic_path(output) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    LOG.info(
        "provenance: %d inputs (%d folders), %d outputs -> %s",
        len(record["inputs"]),
        sum(isinstance(v, dict) for v in record["inputs"].values()),
        len(record["outputs"]),
        output,
    )
    return record
