"""One home for each study fact (issue 16): the configuration, its schema's defaults and the code's
defaults say the same thing, so that a function called without the config (a test, a notebook, the
CLI) applies the protocol the study applies. Values: study protocol §2 (14 SA, 24 SA, 500 mg/day) and
§3 (the months-to-SA table; trimesters T1 <= 14 SA, T2 up to 28 SA)."""

from __future__ import annotations

import re
from dataclasses import asdict

import pytest
import yaml
from conftest import ROOT

from perivigil.extract.events import EventReader
from perivigil.extract.gestational_age import DEFAULT_MONTHS_TO_SA, DEFAULT_TRIMESTERS
from perivigil.models import LABELS
from perivigil.models.apply import LABEL_CLASSES, age_bands
from perivigil.models.rules import RuleThresholds


@pytest.fixture(scope="module")
def schema() -> dict:
    return yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text(encoding="utf-8"))


def _defaults(schema: dict, section: str) -> dict:
    properties = schema["properties"][section]["properties"]
    return {key: spec["default"] for key, spec in properties.items() if "default" in spec}


def test_the_rule_thresholds_are_the_same_in_config_schema_and_code(study_config, schema):
    assert study_config["rules"] == {"iso_t1_max_sa": 14, "nsaid_late_min_sa": 24, "aspirin_min_mg_day": 500}
    assert _defaults(schema, "rules") == study_config["rules"]
    assert asdict(RuleThresholds()) == study_config["rules"]


def test_the_gestational_age_conventions_are_the_same_in_config_schema_and_code(study_config, schema):
    extract = study_config["extract"]
    assert extract == {"months_to_sa": [6, 10, 15, 19, 24, 28, 32, 36, 41], "t1_max_sa": 14, "t2_max_sa": 28}
    assert _defaults(schema, "extract") == extract
    assert list(DEFAULT_MONTHS_TO_SA.values()) == extract["months_to_sa"] and list(DEFAULT_MONTHS_TO_SA) == [
        *range(1, 10)
    ]
    assert (DEFAULT_TRIMESTERS[1][1], DEFAULT_TRIMESTERS[2][1]) == (extract["t1_max_sa"], extract["t2_max_sa"])
    assert EventReader().t1_max_sa == extract["t1_max_sa"]


def test_the_characterisation_age_bands_follow_the_thresholds(study_config):
    rules = study_config["rules"]
    assert age_bands() == age_bands(rules["iso_t1_max_sa"], rules["nsaid_late_min_sa"])
    # a moved threshold moves the bands (config/test/threshold.yaml: isotretinoin up to 12 SA)
    assert [name for _, name in age_bands(12, 24)][:2] == ["<= 12 SA", "> 12 and < 24 SA"]


def test_the_labels_are_the_two_binary_labels_of_the_scheme_in_order():
    scheme = yaml.safe_load((ROOT / "config/labels.yaml").read_text(encoding="utf-8"))["labels"]
    assert tuple(name for name, spec in scheme.items() if spec["type"] == "binary") == LABELS
    assert tuple(LABEL_CLASSES) == LABELS


def test_the_scheme_sent_to_annotators_states_the_configured_thresholds(study_config):
    """The label descriptions annotators read quote the protocol's thresholds; a study that moves them
    for its primary analysis must say so to its annotators too (sensitivity scenarios do not)."""
    scheme = yaml.safe_load((ROOT / "config/labels.yaml").read_text(encoding="utf-8"))["labels"]
    rules = study_config["rules"]
    assert re.search(rf"<= {rules['iso_t1_max_sa']} SA", scheme["iso_t1"]["description"])
    assert re.search(rf">= {rules['aspirin_min_mg_day']} mg/day", scheme["nsaid_late"]["description"])
    assert re.search(rf"beyond {rules['nsaid_late_min_sa']} SA", scheme["nsaid_late"]["description"])


def test_the_modelling_stage_settings_are_built_once_from_the_config(study_config):
    # The values are config/config.yaml's (split, models, evaluation); the library functions
    # take these frozen objects, never a raw config section.
    from dataclasses import FrozenInstanceError

    from perivigil.models.evaluate import EvaluationSettings, LinearSettings, SplitSettings

    split = SplitSettings.from_section(study_config["split"])
    assert split == SplitSettings(test_fraction=0.25, seed=20250401)
    assert LinearSettings.from_section(study_config["models"]) == LinearSettings((0.1, 1.0, 10.0), 5, 20250403)
    assert EvaluationSettings.from_section(study_config["evaluation"]) == EvaluationSettings(10000, 1000, 20250402)
    with pytest.raises(FrozenInstanceError):
        split.seed = 1  # type: ignore[misc]


def test_the_export_settings_are_built_once_from_the_config(study_config):
    from pathlib import Path

    from perivigil.annotation.run import ExportSettings

    # config/config.yaml's annotation section, read once into a frozen object
    assert ExportSettings.from_section(study_config["annotation"]) == ExportSettings(
        Path("config/labels.yaml"), Path("docs/annotation-guidelines.md"), ("ann_a", "ann_b", "ann_c")
    )


def test_the_extraction_settings_derive_the_trimesters_from_the_config(study_config):
    # config extract: months_to_sa [6, 10, ..., 41], T1 <= 14 SA, T2 up to 28 SA (protocol §3)
    from perivigil.extract.run import ExtractSettings

    settings = ExtractSettings.from_section(study_config["extract"])
    assert settings.months() == {m: float(sa) for m, sa in DEFAULT_MONTHS_TO_SA.items()}
    assert settings.trimesters() == DEFAULT_TRIMESTERS == {1: (0.0, 14.0), 2: (15.0, 28.0), 3: (29.0, 42.0)}
    moved = ExtractSettings.from_section({**study_config["extract"], "t1_max_sa": 12})
    assert moved.trimesters() == {1: (0.0, 12.0), 2: (13.0, 28.0), 3: (29.0, 42.0)}


def test_the_sensitivity_settings_hold_the_primary_thresholds_and_each_scenario(study_config):
    # config sensitivity.scenarios (protocol §4): aspirin from 100 mg/day, T1 ending at 12 or 15 SA,
    # NSAIDs from 20 SA; the bootstrap is apply's (2,000 replicates)
    from perivigil.models.sensitivity import SensitivitySettings

    settings = SensitivitySettings.from_config(study_config)
    primary = RuleThresholds()
    assert settings.scenarios == (
        ("primary", primary),
        ("aspirin_100", RuleThresholds(aspirin_min_mg_day=100.0)),
        ("t1_end_12", RuleThresholds(iso_t1_max_sa=12.0)),
        ("t1_end_15", RuleThresholds(iso_t1_max_sa=15.0)),
        ("nsaid_from_20", RuleThresholds(nsaid_late_min_sa=20.0)),
    )
    assert (settings.n_boot, settings.seed) == (2000, 20250404)


def test_the_language_thresholds_are_the_same_in_config_schema_and_code(study_config, schema):
    # fastText decides at probability >= 0.9, lingua below; 'und' under 0.5 (docs/decisions.md, "Language")
    from perivigil.preprocess.pipeline import PreprocessSettings

    language = study_config["preprocess"]["language"]
    assert (language["fasttext_min_probability"], language["min_confidence"]) == (0.9, 0.5)
    defaults = schema["properties"]["preprocess"]["properties"]["language"]["properties"]
    assert (defaults["fasttext_min_probability"]["default"], defaults["min_confidence"]["default"]) == (0.9, 0.5)
    code = PreprocessSettings(pseudonym_key=b"k")
    assert (code.language_fasttext_min_probability, code.language_min_confidence) == (0.9, 0.5)
    assert code.language_candidates == tuple(language["candidates"])
