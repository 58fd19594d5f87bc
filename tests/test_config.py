"""The study configuration: its schema, and one-line errors that name the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from perivigil.config import validate_config
from perivigil.errors import InputError

from conftest import SCHEMA


def _error(config: dict) -> str:
    with pytest.raises(InputError) as caught:
        validate_config(config, SCHEMA, "config/config.yaml", check_files=False)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_shipped_config_is_valid(study_config):
    assert study_config["demo"] is True
    assert [s["name"] for s in study_config["sources"]] == ["demo_forum"]


def test_unknown_top_level_key_is_named(study_config):
    config = copy.deepcopy(study_config)
    config["colect"] = {}
    assert _error(config).startswith("config/config.yaml: unknown key 'colect' (allowed here:")


def test_unknown_nested_key_is_named_with_its_path(study_config):
    config = copy.deepcopy(study_config)
    config["preprocess"]["near_duplicates"]["treshold"] = 0.9
    assert "unknown key 'preprocess.near_duplicates.treshold'" in _error(config)


def test_wrong_type_names_the_key(study_config):
    config = copy.deepcopy(study_config)
    config["collect"]["delay_s"] = "two seconds"
    assert _error(config) == "config/config.yaml: key 'collect.delay_s': 'two seconds' is not of type 'number'"


def test_bad_source_name_names_the_list_item(study_config):
    config = copy.deepcopy(study_config)
    config["sources"][0]["name"] = "Demo Forum"
    assert _error(config).startswith("config/config.yaml: key 'sources[0].name': 'Demo Forum' does not match")


def test_duplicate_source_names_are_refused(study_config):
    config = copy.deepcopy(study_config)
    config["sources"].append(copy.deepcopy(config["sources"][0]))
    assert _error(config) == "config/config.yaml: key 'sources[1].name': source name 'demo_forum' is used twice"


def test_snapshot_needs_its_capture_date(study_config):
    config = copy.deepcopy(study_config)
    del config["sources"][0]["captured_at"]
    assert _error(config) == "config/config.yaml: key 'sources[0].captured_at' is required with a snapshot"


def test_missing_profile_file_is_named(study_config, tmp_path):
    config = copy.deepcopy(study_config)
    config["sources"][0]["profile"] = str(tmp_path / "nowhere.yaml")
    with pytest.raises(InputError, match=r"key 'sources\[0\]\.profile': .*nowhere\.yaml' does not exist"):
        validate_config(config, SCHEMA, "config/config.yaml")


def test_schema_documents_every_key_of_the_shipped_config(root):
    """Each key of config.yaml has a description in the schema (PyPSA-Eur keeps them in step)."""
    schema = yaml.safe_load(SCHEMA.read_text())
    config = yaml.safe_load((root / "config/config.yaml").read_text())

    def walk(value, node, path):
        if isinstance(value, dict):
            for key, sub in value.items():
                properties = node.get("properties", {})
                extra = node.get("additionalProperties")
                assert key in properties or isinstance(extra, dict), f"{path}{key} missing from the schema"
                child = properties.get(key) or {**extra, "description": node.get("description")}
                assert child.get("description") or child.get("items"), f"{path}{key} has no description"
                walk(sub, child, f"{path}{key}.")
        elif isinstance(value, list) and node.get("items", {}).get("type") == "object":
            for item in value:
                walk(item, node["items"], path)

    walk(config, schema, "")


def test_applied_model_must_be_trained_by_the_run(study_config):
    config = copy.deepcopy(study_config)
    config["apply"]["model"] = "transformer"
    assert _error(config) == ("config/config.yaml: key 'apply.model': 'transformer' is not trained by this run "
                              "(models.linear = ['logreg', 'svm'], transformer enabled = False)")
    config["models"]["transformer"]["enabled"] = True
    validate_config(config, SCHEMA, "config/config.yaml", check_files=False)


def test_unknown_applied_model_is_named(study_config):
    config = copy.deepcopy(study_config)
    config["apply"]["model"] = "bert"
    assert _error(config).startswith("config/config.yaml: key 'apply.model': 'bert' is not one of")
