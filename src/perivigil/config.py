"""Check a study configuration before any job runs, with one-line errors naming the key.

The schema (``workflow/schemas/config.schema.yaml``) refuses unknown keys and values
out of range at every level. What a schema cannot express follows it, in the order a
person would fix it:

- unique source names, the applied model trained by the run;
- clinical thresholds consistent with each other (months increasing, the first
  trimester before the second, the isotretinoin window before the NSAID one);
- the files named by each source, and each site profile read and checked (CSS
  selectors, time zone, date languages);
- for a real study (``demo: false``): the annotation inbox and the adjudicator's sheet
  where the annotators' returns can safely arrive, and the pseudonymisation key in the
  environment, so that a missing key is found before a crawl of hours, not after.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from perivigil.errors import InputError
from perivigil.files import load_yaml

# Folders the DAG writes (and `make clean` deletes): no person's return may live there.
DAG_FOLDERS = ("results", "logs", "benchmarks", ".snakemake")


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = [str(p) if not isinstance(p, int) else f"[{p}]" for p in error.absolute_path]
    return ".".join(parts).replace(".[", "[") or "(top level)"


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        unexpected = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        where = _key_path(error)
        keys = ", ".join(f"'{k}'" if where == "(top level)" else f"'{where}.{k}'" for k in unexpected)
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        return f"unknown key {keys} (allowed here: {allowed})"
    return f"key '{_key_path(error)}': {error.message}"


def validate_config(
    config: Mapping[str, Any],
    schema_path: Path,
    origin: str = "config",
    check_files: bool = True,
    check_secrets: bool = False,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> None:
    """Raise :class:`InputError` on the first problem of ``config``, naming ``origin`` and the key.

    ``check_files=False`` skips the files named by sources and the annotation folders (for
    the command that creates the demo snapshot, and for ``perivigil classify``);
    ``check_secrets`` checks that a real study finds its pseudonymisation key in
    ``environ`` (the process environment by default). ``root`` is the folder relative
    paths start from (the working directory by default).
    """
    schema = load_yaml(schema_path, "config schema")
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(dict(config)), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        raise InputError(f"{origin}: {_message(jsonschema.exceptions.best_match(errors))}")
    names = [source["name"] for source in config["sources"]]
    for index, name in enumerate(names):
        if names.index(name) != index:
            raise InputError(f"{origin}: key 'sources[{index}].name': source name {name!r} is used twice")
    _check_applied_model(config, origin)
    _check_thresholds(config, origin)
    _check_annotators(config, origin)
    root = Path(".") if root is None else Path(root)
    for index, source in enumerate(config["sources"]):
        _check_source_keys(source, index, origin)
        if "snapshot" in source and "captured_at" not in source:
            raise InputError(f"{origin}: key 'sources[{index}].captured_at' is required with a snapshot")
        if check_files:
            _check_source_files(source, index, origin, root)
    if check_files and not config["demo"]:
        _check_returns_paths(config, origin, root)
    if check_secrets and not config["demo"]:
        _check_key(config, origin, environ)
    if check_secrets:
        _check_bluesky_credentials(config, origin, environ)


def _check_applied_model(config: Mapping[str, Any], origin: str) -> None:
    """``apply.model`` must be the rule system or a model the run trains."""
    models = config["models"]
    trained = [*models["linear"], *(["transformer"] if models["transformer"]["enabled"] else [])]
    chosen = config["apply"]["model"]
    if chosen != "rules" and chosen not in trained:
        raise InputError(
            f"{origin}: key 'apply.model': {chosen!r} is not trained by this run "
            f"(models.linear = {models['linear']}, transformer enabled = "
            f"{models['transformer']['enabled']})"
        )


def _check_thresholds(config: Mapping[str, Any], origin: str) -> None:
    """Thresholds that only make sense together (study protocol §1 and §3)."""
    extract, rules = config["extract"], config["rules"]
    months = extract["months_to_sa"]
    for month in range(1, len(months)):
        if months[month] <= months[month - 1]:
            raise InputError(
                f"{origin}: key 'extract.months_to_sa': must increase month after month, but month "
                f"{month + 1} ({months[month]:g} SA) is not above month {month} ({months[month - 1]:g} SA)"
            )
    if extract["t1_max_sa"] >= extract["t2_max_sa"]:
        raise InputError(
            f"{origin}: key 'extract.t1_max_sa' ({extract['t1_max_sa']:g}) must be below "
            f"'extract.t2_max_sa' ({extract['t2_max_sa']:g}): the first trimester ends before the second"
        )
    if rules["iso_t1_max_sa"] >= rules["nsaid_late_min_sa"]:
        raise InputError(
            f"{origin}: key 'rules.iso_t1_max_sa' ({rules['iso_t1_max_sa']:g}) must be below "
            f"'rules.nsaid_late_min_sa' ({rules['nsaid_late_min_sa']:g}): the first-trimester window "
            "ends before the late-pregnancy one begins"
        )


def _check_annotators(config: Mapping[str, Any], origin: str) -> None:
    section = config.get("annotation")
    if not section:
        return
    for name in section["withdrawn"]:
        if name not in section["annotators"]:
            raise InputError(
                f"{origin}: key 'annotation.withdrawn': {name!r} is not one of annotation.annotators "
                f"{section['annotators']}"
            )


# The keys each kind of source reads (the schema lists them all; a key of another kind is a mistake).
SOURCE_KEYS = {
    "forum": {"name", "type", "profile", "start_url", "snapshot", "snapshot_manifest", "captured_at"},
    "reddit_dump": {"name", "type", "dumps", "subreddits", "lexicon_filter"},
    "bluesky": {
        "name",
        "type",
        "service",
        "queries",
        "since",
        "until",
        "lang",
        "handle_env",
        "password_env",
        "max_retries",
        "backoff_s",
        "max_wait_s",
    },
    "jsonl": {"name", "type", "path"},
}


def source_type(source: Mapping[str, Any]) -> str:
    """``forum`` (the default), ``reddit_dump``, ``bluesky`` or ``jsonl``."""
    return str(source.get("type", "forum"))


def _check_source_keys(source: Mapping[str, Any], index: int, origin: str) -> None:
    kind = source_type(source)
    foreign = sorted(set(source) - SOURCE_KEYS[kind])
    if foreign:
        raise InputError(
            f"{origin}: key 'sources[{index}].{foreign[0]}' does not apply to a {kind} source "
            f"(its keys: {', '.join(sorted(SOURCE_KEYS[kind]))})"
        )
    if kind == "reddit_dump":
        stems = [Path(dump).name for dump in source["dumps"]]
        for position, stem in enumerate(stems):
            if stems.index(stem) != position:
                raise InputError(f"{origin}: key 'sources[{index}].dumps': {stem!r} is listed twice")
    if kind == "bluesky" and source["since"] > source["until"]:
        raise InputError(
            f"{origin}: key 'sources[{index}].since' ({source['since']}) is after "
            f"'sources[{index}].until' ({source['until']})"
        )


def _check_bluesky_credentials(config: Mapping[str, Any], origin: str, environ: Mapping[str, str] | None) -> None:
    """A Bluesky source finds its handle and app password in the environment before any job runs."""
    environ = os.environ if environ is None else environ
    for index, source in enumerate(config["sources"]):
        if source_type(source) != "bluesky":
            continue
        for key, default in (
            ("handle_env", "PERIVIGIL_BLUESKY_HANDLE"),
            ("password_env", "PERIVIGIL_BLUESKY_APP_PASSWORD"),
        ):
            variable = source.get(key, default)
            if not environ.get(variable):
                raise InputError(
                    f"{origin}: key 'sources[{index}].{key}': environment variable {variable} is not "
                    "set (see docs/sources.md: a Bluesky app password, never in config)"
                )


def _check_source_files(source: Mapping[str, Any], index: int, origin: str, root: Path) -> None:
    from perivigil.collect.profile import load_profile

    if source_type(source) == "reddit_dump":
        for position, dump in enumerate(source["dumps"]):
            if not (root / dump).is_file():
                raise InputError(f"{origin}: key 'sources[{index}].dumps[{position}]': {dump!r} does not exist")
        return
    if source_type(source) == "bluesky":
        return
    if source_type(source) == "jsonl":
        _check_export_files(source, index, origin, root)
        return
    for key in ("profile", "snapshot", "snapshot_manifest"):
        if key in source and not (root / source[key]).exists():
            raise InputError(f"{origin}: key 'sources[{index}].{key}': {source[key]!r} does not exist")
    if "snapshot" in source and not (root / source["snapshot"]).is_dir():
        raise InputError(f"{origin}: key 'sources[{index}].snapshot': {source['snapshot']!r} is not a folder")
    load_profile(root / source["profile"])


# A JSONL source's shard becomes a file name and a wildcard: raw/<source>/<shard>.jsonl.
SHARD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _check_export_files(source: Mapping[str, Any], index: int, origin: str, root: Path) -> None:
    """A JSONL source's files: at least one, each a file, outside its own raw folder, shard names unique."""
    from perivigil.collect.jsonl import shard_name
    from perivigil.collect.shards import export_files

    key = f"sources[{index}].path"
    files = export_files(source, root)
    if not files:
        raise InputError(f"{origin}: key '{key}': {source['path']!r} matches no file")
    seen: dict[str, str] = {}
    for path in files:
        if not (root / path).is_file():
            raise InputError(f"{origin}: key '{key}': {path!r} does not exist or is not a file")
        if _inside(root / path, root / "raw" / source["name"]):
            raise InputError(
                f"{origin}: key '{key}': {path!r} lies in raw/{source['name']}/, where the source's own "
                "raw files are written; keep the export elsewhere"
            )
        shard = shard_name(path)
        if not SHARD_NAME.fullmatch(shard):
            raise InputError(
                f"{origin}: key '{key}': file name {Path(path).name!r}: expected letters, digits, '_', '.', '-' "
                "(the name becomes the shard's raw file)"
            )
        if shard in seen:
            raise InputError(
                f"{origin}: key '{key}': {seen[shard]!r} and {path!r} would both be shard {shard!r}; "
                "rename one (one shard per file name)"
            )
        seen[shard] = path


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _git_tracks(path: Path, root: Path) -> bool:
    """Whether ``path`` lies in the git work tree of ``root`` and is not git-ignored."""
    if not (root / ".git").exists() or not _inside(path, root):
        return False
    try:
        result = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "check-ignore",
                "-q",
                "--no-index",
                str(path.resolve().relative_to(root.resolve())),
            ],
            capture_output=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 1  # 0: ignored; 1: not ignored; 128: not a repository


def _check_returns_paths(config: Mapping[str, Any], origin: str, root: Path) -> None:
    """Where a real study's annotators and adjudicator return their work (study protocol §5, §7).

    Their returns hold post texts (health data): never in a folder the DAG owns, never
    in git; the inbox holds one folder per configured annotator and nothing else.
    """
    section = config["annotation"]
    inbox, adjudicated = root / section["inbox"], root / section["adjudicated"]
    for key, path in (("inbox", inbox), ("adjudicated", adjudicated)):
        for folder in DAG_FOLDERS:
            if _inside(path, root / folder):
                raise InputError(
                    f"{origin}: key 'annotation.{key}': {section[key]!r} lies inside {folder}/, which the "
                    "DAG writes and `make clean` deletes; keep the returns elsewhere (e.g. annotation/)"
                )
        if _git_tracks(path, root):
            raise InputError(
                f"{origin}: key 'annotation.{key}': {section[key]!r} is inside the repository and not "
                "git-ignored; returns hold post texts (protocol §7): git-ignore it or move it outside"
            )
    if adjudicated.is_dir():
        raise InputError(
            f"{origin}: key 'annotation.adjudicated': {section['adjudicated']!r} is a folder; "
            "expected the path of the adjudicator's CSV sheet"
        )
    if not inbox.exists():
        return
    if not inbox.is_dir():
        raise InputError(
            f"{origin}: key 'annotation.inbox': {section['inbox']!r} is a file; expected a folder "
            "holding one folder per annotator"
        )
    for entry in sorted(inbox.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            folders = ", ".join(f"{Path(section['inbox']) / name}/" for name in section["annotators"])
            raise InputError(
                f"{origin}: key 'annotation.inbox': {entry} is a file; returns go in one folder per "
                f"annotator ({folders})"
            )
        if entry.name not in section["annotators"]:
            raise InputError(
                f"{origin}: key 'annotation.annotators': the inbox has a folder {entry.name!r} that is not "
                f"an annotator of the study {section['annotators']} (rename the folder or add the name)"
            )


def _check_key(config: Mapping[str, Any], origin: str, environ: Mapping[str, str] | None) -> None:
    from perivigil.preprocess.pseudonymise import load_key

    env = config["preprocess"]["pseudonym_key_env"]
    try:
        load_key(env, allow_demo_key=False, environ=dict(os.environ if environ is None else environ))
    except InputError as exc:
        raise InputError(f"{origin}: key 'preprocess.pseudonym_key_env': {exc}") from None


def load_config(config_path: Path, schema_path: Path, check_files: bool = True) -> dict[str, Any]:
    """Read and check a configuration file."""
    config = load_yaml(config_path, "study configuration")
    if not isinstance(config, dict):
        raise InputError(f"{config_path}: expected a mapping at the top level")
    validate_config(config, schema_path, str(config_path), check_files)
    return config
