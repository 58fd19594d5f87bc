"""Check a study configuration against its JSON schema, with one-line errors naming the key.

The schema (``workflow/schemas/config.schema.yaml``) refuses unknown keys at
every level. Checks a schema cannot express (unique source names, files that
must exist) follow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from perivigil.errors import InputError


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
    if error.validator == "required":
        return f"key '{_key_path(error)}': {error.message}"
    return f"key '{_key_path(error)}': {error.message}"


def load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read YAML: {exc}".replace("\n", " ")) from exc


def validate_config(config: Mapping[str, Any], schema_path: Path, origin: str = "config",
                    check_files: bool = True) -> None:
    """Raise :class:`InputError` on the first problem of ``config``, naming ``origin`` and the key.

    ``check_files=False`` skips checking that the files named by sources exist
    (for the command that creates the demo snapshot).
    """
    schema = load_yaml(schema_path)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(dict(config)), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        raise InputError(f"{origin}: {_message(jsonschema.exceptions.best_match(errors))}")
    names = [source["name"] for source in config["sources"]]
    for index, name in enumerate(names):
        if names.index(name) != index:
            raise InputError(f"{origin}: key 'sources[{index}].name': source name {name!r} is used twice")
    _check_applied_model(config, origin)
    for index, source in enumerate(config["sources"]):
        if "snapshot" in source and "captured_at" not in source:
            raise InputError(f"{origin}: key 'sources[{index}].captured_at' is required with a snapshot")
        if not check_files:
            continue
        for key in ("profile", "snapshot", "snapshot_manifest"):
            if key in source and not Path(source[key]).exists():
                raise InputError(f"{origin}: key 'sources[{index}].{key}': {source[key]!r} does not exist")


def _check_applied_model(config: Mapping[str, Any], origin: str) -> None:
    """``apply.model`` must be the rule system or a model the run trains."""
    models = config["models"]
    trained = [*models["linear"], *(["transformer"] if models["transformer"]["enabled"] else [])]
    chosen = config["apply"]["model"]
    if chosen != "rules" and chosen not in trained:
        raise InputError(f"{origin}: key 'apply.model': {chosen!r} is not trained by this run "
                         f"(models.linear = {models['linear']}, transformer enabled = "
                         f"{models['transformer']['enabled']})")


def load_config(config_path: Path, schema_path: Path, check_files: bool = True) -> dict[str, Any]:
    """Read and check a configuration file."""
    config = load_yaml(config_path)
    if not isinstance(config, dict):
        raise InputError(f"{config_path}: expected a mapping at the top level")
    validate_config(config, schema_path, str(config_path), check_files)
    return config
