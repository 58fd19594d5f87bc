"""The study configuration: its schema, and one-line errors that name the key."""

from __future__ import annotations

import copy

import pytest
import yaml
from conftest import ROOT, SCHEMA

from perivigil.config import validate_config
from perivigil.errors import InputError


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
    assert _error(config) == (
        "config/config.yaml: key 'apply.model': 'transformer' is not trained by this run "
        "(models.linear = ['logreg', 'svm'], transformer enabled = False)"
    )
    config["models"]["transformer"]["enabled"] = True
    validate_config(config, SCHEMA, "config/config.yaml", check_files=False)


def test_unknown_applied_model_is_named(study_config):
    config = copy.deepcopy(study_config)
    config["apply"]["model"] = "bert"
    assert _error(config).startswith("config/config.yaml: key 'apply.model': 'bert' is not one of")


# ----------------------------------------------------------------------------- issue 11: checks before any job
@pytest.mark.parametrize(
    ("section", "key", "value", "expected"),
    [
        ("rules", "iso_t1_max_sa", -5, "key 'rules.iso_t1_max_sa': -5 is less than or equal to the minimum of 0"),
        ("rules", "nsaid_late_min_sa", 60, "key 'rules.nsaid_late_min_sa': 60 is greater than the maximum of 45"),
        (
            "rules",
            "aspirin_min_mg_day",
            0,
            "key 'rules.aspirin_min_mg_day': 0 is less than or equal to the minimum of 0",
        ),
        (
            "rules",
            "aspirin_min_mg_day",
            -100,
            "key 'rules.aspirin_min_mg_day': -100 is less than or equal to the minimum",
        ),
        ("extract", "t1_max_sa", 0, "key 'extract.t1_max_sa': 0 is less than or equal to the minimum of 0"),
        ("collect", "max_failed_share", 1.5, "key 'collect.max_failed_share': 1.5 is greater than the maximum of 1"),
        ("collect", "deadline_s", 0, "key 'collect.deadline_s': 0 is less than or equal to the minimum of 0"),
    ],
)
def test_a_threshold_out_of_range_is_named(study_config, section, key, value, expected):
    config = copy.deepcopy(study_config)
    config[section][key] = value
    assert expected in _error(config)


def test_the_first_trimester_must_end_before_the_second(study_config):
    config = copy.deepcopy(study_config)
    config["extract"].update(t1_max_sa=30, t2_max_sa=28)
    assert _error(config) == (
        "config/config.yaml: key 'extract.t1_max_sa' (30) must be below 'extract.t2_max_sa' "
        "(28): the first trimester ends before the second"
    )


def test_months_must_increase(study_config):
    config = copy.deepcopy(study_config)
    config["extract"]["months_to_sa"] = [6, 10, 15, 24, 19, 28, 32, 36, 41]  # months 4 and 5 swapped
    assert _error(config) == (
        "config/config.yaml: key 'extract.months_to_sa': must increase month after month, but "
        "month 5 (19 SA) is not above month 4 (24 SA)"
    )


def test_the_isotretinoin_window_must_end_before_the_nsaid_window(study_config):
    config = copy.deepcopy(study_config)
    config["rules"].update(iso_t1_max_sa=24, nsaid_late_min_sa=24)
    assert "key 'rules.iso_t1_max_sa' (24) must be below 'rules.nsaid_late_min_sa' (24)" in _error(config)


def test_a_withdrawn_annotator_must_be_an_annotator(study_config):
    config = copy.deepcopy(study_config)
    config["annotation"]["withdrawn"] = ["ann_z"]
    assert _error(config) == (
        "config/config.yaml: key 'annotation.withdrawn': 'ann_z' is not one of "
        "annotation.annotators ['ann_a', 'ann_b', 'ann_c']"
    )


def _real(study_config, tmp_path, **annotation) -> dict:
    """The shipped config as a real study whose relative paths start at ``tmp_path``."""
    import shutil

    config = copy.deepcopy(study_config)
    config["demo"] = False
    source = config["sources"][0]
    for key in ("snapshot", "snapshot_manifest", "captured_at"):
        source.pop(key)
    shutil.copy(ROOT / source["profile"], tmp_path / "forum.yaml")
    source["profile"] = "forum.yaml"
    config["annotation"].update(
        {"inbox": "annotation/inbox", "adjudicated": "annotation/adjudicated.csv", **annotation}
    )
    return config


def _real_error(config, tmp_path, environ=None) -> str:
    with pytest.raises(InputError) as caught:
        validate_config(
            config, SCHEMA, "config.yaml", check_secrets=environ is not None, environ=environ, root=tmp_path
        )
    assert "\n" not in str(caught.value)
    return str(caught.value)


KEY = {"PERIVIGIL_PSEUDONYM_KEY": "a-real-key-of-32-characters-abcd"}


def test_a_real_study_is_refused_without_its_key_before_any_job(study_config, tmp_path):
    config = _real(study_config, tmp_path)
    validate_config(config, SCHEMA, "config.yaml", check_secrets=True, environ=KEY, root=tmp_path)
    assert _real_error(config, tmp_path, environ={}).startswith(
        "config.yaml: key 'preprocess.pseudonym_key_env': no pseudonymisation key: set $PERIVIGIL_PSEUDONYM_KEY"
    )
    assert "shorter than 16 bytes" in _real_error(config, tmp_path, environ={"PERIVIGIL_PSEUDONYM_KEY": "short"})
    # the demo may run on its public key
    validate_config(study_config, SCHEMA, "config.yaml", check_secrets=True, environ={})


@pytest.mark.parametrize("key", ["inbox", "adjudicated"])
def test_returns_never_go_where_the_dag_writes(study_config, tmp_path, key):
    config = _real(study_config, tmp_path, **{key: "results/annotation/returns"})
    assert _real_error(config, tmp_path).startswith(
        f"config.yaml: key 'annotation.{key}': 'results/annotation/returns' lies inside results/, which the DAG "
        "writes and `make clean` deletes"
    )


def test_the_inbox_holds_one_folder_per_annotator_and_nothing_else(study_config, tmp_path):
    config = _real(study_config, tmp_path)
    inbox = tmp_path / "annotation/inbox"
    (inbox / "ann_a").mkdir(parents=True)
    (inbox / ".DS_Store").write_text("")  # hidden files of the OS are not returns
    validate_config(config, SCHEMA, "config.yaml", root=tmp_path)
    (inbox / "Ann-B").mkdir()
    assert _real_error(config, tmp_path) == (
        "config.yaml: key 'annotation.annotators': the inbox has a folder 'Ann-B' that is not an annotator of the "
        "study ['ann_a', 'ann_b', 'ann_c'] (rename the folder or add the name)"
    )
    (inbox / "Ann-B").rmdir()
    (inbox / "export.json").write_text("[]")
    assert "export.json is a file; returns go in one folder per annotator" in _real_error(config, tmp_path)


def test_the_inbox_and_the_sheet_must_be_of_the_right_kind(study_config, tmp_path):
    config = _real(study_config, tmp_path)
    (tmp_path / "annotation").mkdir()
    (tmp_path / "annotation/inbox").write_text("not a folder")
    assert "key 'annotation.inbox': 'annotation/inbox' is a file; expected a folder" in _real_error(config, tmp_path)
    (tmp_path / "annotation/inbox").unlink()
    (tmp_path / "annotation/adjudicated.csv").mkdir()
    assert "key 'annotation.adjudicated': 'annotation/adjudicated.csv' is a folder" in _real_error(config, tmp_path)


def test_returns_inside_the_repository_must_be_git_ignored(study_config, tmp_path):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    config = _real(study_config, tmp_path)
    assert "key 'annotation.inbox': 'annotation/inbox' is inside the repository and not git-ignored" in _real_error(
        config, tmp_path
    )
    (tmp_path / ".gitignore").write_text("/annotation/\n")
    validate_config(config, SCHEMA, "config.yaml", root=tmp_path)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("selectors", "post", "article.post[[data-id]"),
            "key 'selectors.post': 'article.post[[data-id]' is not a valid CSS selector (Malformed attribute selector",
        ),
        (
            ("selectors", "author", {"selector": "span..author"}),
            "key 'selectors.author'.selector: 'span..author' is not a valid CSS selector",
        ),
        (
            ("dates", "timezone", "Europe/Pariss"),
            "key 'dates.timezone': unknown time zone 'Europe/Pariss' (an IANA name such as 'Europe/Paris')",
        ),
        (("dates", "languages", ["fr", "xx"]), "key 'dates.languages': Unknown language(s): 'xx'"),
        (("dates", "order", "DDMMYY"), "key 'dates.order' is 'DDMMYY'; expected one of ['DMY', 'MDY', 'YMD']"),
        (
            ("selectors", "thread_id", {"selector": "h2 a", "attr": "href", "pattern": "t=\\d+"}),
            "key 'selectors.thread_id'.pattern: 't=\\\\d+' needs exactly one group (the value kept), it has 0",
        ),
    ],
)
def test_a_broken_site_profile_stops_the_config_check(study_config, tmp_path, edit, expected):
    config = _real(study_config, tmp_path)
    profile = yaml.safe_load((tmp_path / "forum.yaml").read_text(encoding="utf-8"))
    section, key, value = edit
    profile.setdefault(section, {})[key] = value
    (tmp_path / "forum.yaml").write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    message = _real_error(config, tmp_path)
    assert message.startswith(f"{tmp_path / 'forum.yaml'}: ")
    assert expected in message


def test_a_profile_in_another_encoding_is_named_with_its_line(study_config, tmp_path):
    config = _real(study_config, tmp_path)
    text = (tmp_path / "forum.yaml").read_text(encoding="utf-8")
    (tmp_path / "forum.yaml").write_bytes(text.encode("cp1252"))  # saved by a Windows editor
    line, char = next((n, c) for n, row in enumerate(text.splitlines(), 1) for c in row if not c.isascii())
    assert _real_error(config, tmp_path) == (
        f"{tmp_path / 'forum.yaml'}, line {line}: not valid UTF-8 "
        f"(byte 0x{char.encode('cp1252')[0]:02x}); save the file as UTF-8"
    )


# -- sources of every kind (issue 13) ------------------------------------------------------------
REDDIT = {"name": "reddit_fr", "type": "reddit_dump", "dumps": ["dumps/RS_2024-01.zst"], "subreddits": ["france"]}
BLUESKY = {"name": "bsky", "type": "bluesky", "queries": ["ibuprofène"], "since": "2024-01", "until": "2024-03"}


def _with_sources(study_config, *sources):
    config = copy.deepcopy(study_config)
    config["sources"] = [*config["sources"], *sources]
    return config


def test_a_forum_a_reddit_dump_and_a_bluesky_search_are_valid_together(study_config):
    validate_config(_with_sources(study_config, REDDIT, BLUESKY), SCHEMA, "c.yaml", check_files=False)


@pytest.mark.parametrize(
    "source, expected",
    [
        ({**REDDIT, "dumps": ["dumps/2024-01.zst"]}, "key 'sources[1].dumps[0]': 'dumps/2024-01.zst' does not match"),
        ({k: v for k, v in REDDIT.items() if k != "subreddits"}, "'subreddits' is a required property"),
        ({k: v for k, v in BLUESKY.items() if k != "queries"}, "'queries' is a required property"),
        ({**BLUESKY, "since": "2024-13"}, "key 'sources[1].since': '2024-13' does not match"),
        ({**BLUESKY, "since": "2024-04"}, "key 'sources[1].since' (2024-04) is after 'sources[1].until' (2024-03)"),
        (
            {**REDDIT, "start_url": "https://x.example/"},
            "key 'sources[1].start_url' does not apply to a reddit_dump source (its keys: dumps, lexicon_filter, name, subreddits, type)",
        ),
        ({**BLUESKY, "password": "hunter2"}, "unknown key 'sources[1].password'"),
        (
            {**REDDIT, "dumps": ["a/RS_2024-01.zst", "b/RS_2024-01.zst"]},
            "key 'sources[1].dumps': 'RS_2024-01.zst' is listed twice",
        ),
    ],
)
def test_a_source_of_the_wrong_shape_is_named(study_config, source, expected):
    message = _error(_with_sources(study_config, source))
    assert expected in message
    assert "hunter2" not in message


def test_a_bluesky_source_needs_its_credentials_in_the_environment(study_config):
    config = _with_sources(study_config, BLUESKY)
    with pytest.raises(InputError) as caught:
        validate_config(
            config,
            SCHEMA,
            "c.yaml",
            check_files=False,
            check_secrets=True,
            environ={"PERIVIGIL_BLUESKY_HANDLE": "crat.bsky.social"},
        )
    assert str(caught.value) == (
        "c.yaml: key 'sources[1].password_env': environment variable "
        "PERIVIGIL_BLUESKY_APP_PASSWORD is not set (see docs/sources.md: a Bluesky app "
        "password, never in config)"
    )
    validate_config(
        config,
        SCHEMA,
        "c.yaml",
        check_files=False,
        check_secrets=True,
        environ={
            "PERIVIGIL_BLUESKY_HANDLE": "crat.bsky.social",
            "PERIVIGIL_BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop",
        },
    )


def test_a_missing_reddit_dump_is_named_before_any_job(study_config, tmp_path):
    with pytest.raises(InputError, match=r"key 'sources\[1\]\.dumps\[0\]': 'dumps/RS_2024-01.zst' does not exist"):
        config = {**copy.deepcopy(study_config), "sources": [study_config["sources"][0], REDDIT]}
        config["sources"][0] = {**config["sources"][0], "profile": str(ROOT / "config/sites/demo_forum.yaml")}
        config["sources"][0].pop("snapshot", None), config["sources"][0].pop("snapshot_manifest", None)
        validate_config(config, SCHEMA, "c.yaml", root=tmp_path, check_files=True)


def test_a_sensitivity_scenario_names_only_rules_keys(study_config):
    assert [s["name"] for s in study_config["sensitivity"]["scenarios"]] == [
        "aspirin_100",
        "t1_end_12",
        "t1_end_15",
        "nsaid_from_20",
    ]
    config = copy.deepcopy(study_config)
    config["sensitivity"]["scenarios"][0]["rules"]["aspirin_mg"] = 100
    assert "unknown key 'sensitivity.scenarios[0].rules.aspirin_mg'" in _error(config)
