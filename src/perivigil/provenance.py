"""The provenance of a run (``results/provenance.json``): code, config, inputs, outputs, versions, times.

A reviewer holding a table or a figure finds its SHA-256 under ``outputs``, with the
rule that made it; the code is the git commit (and whether the tree was dirty), the
settings are the config (and its hash), the data are the SHA-256 of every input file,
the environment is the version of every installed package.

Inputs are the files the DAG read that no rule made (from Snakemake's own record of
each job, ``.snakemake/metadata/``) and every file or folder the config names.
Snakemake keeps no public API for that record from inside a job: its JSON format is
read defensively, and a file it does not describe gets ``rule: null``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import platform
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC
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


def job_records(metadata_dir: Path) -> dict[str, dict[str, Any]]:
    """Snakemake's record of each output file (rule, inputs), keyed by the output's path.

    A record's file name is the URL-safe base64 of the path, cut into ``@``-prefixed
    folders when longer than a file name may be.
    """
    records: dict[str, dict[str, Any]] = {}
    if not metadata_dir.is_dir():
        return records
    unreadable = []
    for file in sorted(p for p in metadata_dir.rglob("*") if p.is_file()):
        encoded = "".join(part.lstrip("@") for part in file.relative_to(metadata_dir).parts)
        try:
            path = base64.urlsafe_b64decode(encoded).decode("utf-8")
            record = json.loads(file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError, OSError):
            unreadable.append(file.name)
            continue
        if isinstance(record, dict):
            records[path] = record
        else:
            unreadable.append(file.name)
    if unreadable:
        LOG.warning(
            "%s: %d job records unreadable, their outputs get rule null (first: %s)",
            metadata_dir,
            len(unreadable),
            unreadable[0],
        )
    return records


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files of ``paths``, folders replaced by the files inside them, sorted, once each."""
    files: set[Path] = set()
    for path in paths:
        if path.is_dir():
            files.update(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            files.add(path)
    return sorted(files)


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
    outputs: Iterable[Path],
    started_at: str | None,
    finished_at: str,
    exclude: Iterable[str] = (),
) -> dict[str, Any]:
    """The provenance record of the run in ``root`` (paths relative to it)."""
    root = Path(root)
    records = job_records(root / ".snakemake" / "metadata")
    made = set(records)
    read = {p for record in records.values() for p in record.get("input", []) if isinstance(p, str)}
    external = {root / p for p in read - made}
    named = config_paths(config, root) | {root / f for f in config_files}
    excluded = set(exclude)
    inputs = {}
    for path in expand(external | named):
        name = relative(path, root)
        if name in made or name.startswith(("results/", "logs/", ".snakemake/")):
            continue
        inputs[name] = file_sha256(path)
    produced = {}
    for path in expand(outputs):
        name = relative(path, root)
        if name in excluded:
            continue
        rule = next((records[key].get("rule") for key in (name,) if key in records), None)
        if rule is None:  # a file inside a directory() output
            rule = next((records[d].get("rule") for d in records if name.startswith(d.rstrip("/") + "/")), None)
        produced[name] = {"sha256": file_sha256(path), "rule": rule}
    return {
        "git": git_state(root),
        "config_sha256": config_sha256(config),
        "config_files": sorted(config_files),
        "seeds": seeds(config),
        "inputs": inputs,
        "outputs": produced,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "started_at": started_at,
        "finished_at": finished_at,
    }


def write_provenance(
    config: Mapping[str, Any], config_files: Iterable[str], output: str | Path, root: Path = Path(".")
) -> dict[str, Any]:
    """Write ``output`` for the run in ``root``: every file of ``results/`` but the report and itself."""
    from datetime import datetime

    from perivigil.files import atomic_path

    started = root / "logs" / "run_started.txt"
    started_at = started.read_text(encoding="utf-8").strip() if started.is_file() else None
    output = Path(output)
    record = build(
        root,
        config,
        list(config_files),
        [root / "results"],
        started_at,
        datetime.now(UTC).isoformat(timespec="seconds"),
        exclude=[relative(output, root), "results/report.html"],
    )
    with atomic_path(output) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return record
