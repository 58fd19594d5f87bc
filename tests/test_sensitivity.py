"""Sensitivity analyses of the rule thresholds: scenarios, the apparent interval, the table's schema."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from perivigil.models.rules import RuleThresholds
from perivigil.models.sensitivity import apparent_interval, scenario_thresholds, scenarios_from_config
from perivigil.schemas import SENSITIVITY, check


def test_a_scenario_overrides_only_its_keys():
    primary = RuleThresholds()
    assert scenario_thresholds(
        primary, {"name": "aspirin_100", "rules": {"aspirin_min_mg_day": 100}}
    ) == RuleThresholds(14.0, 24.0, 100.0)
    scenarios = scenarios_from_config(
        primary,
        [
            {"name": "t1_end_12", "rules": {"iso_t1_max_sa": 12}},
            {"name": "nsaid_from_20", "rules": {"nsaid_late_min_sa": 20}},
        ],
    )
    assert scenarios == [
        ("primary", primary),
        ("t1_end_12", RuleThresholds(12.0, 24.0, 500.0)),
        ("nsaid_from_20", RuleThresholds(14.0, 20.0, 500.0)),
    ]


def test_unknown_keys_and_repeated_names_are_refused():
    with pytest.raises(ValueError, match=r"^sensitivity scenario 'x': unknown rules key\(s\) aspirin_mg$"):
        scenario_thresholds(RuleThresholds(), {"name": "x", "rules": {"aspirin_mg": 100}})
    with pytest.raises(ValueError, match=r"^sensitivity: scenario name 'primary' used twice"):
        scenarios_from_config(RuleThresholds(), [{"name": "primary", "rules": {"iso_t1_max_sa": 12}}])


def test_apparent_interval_resamples_threads():
    predicted = np.array([1, 1, 0, 0, 0, 0, 1, 0])
    threads = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    low, high = apparent_interval(predicted, threads, 2000, 1)
    assert 0 <= low < 3 / 8 < high <= 1
    same = apparent_interval(np.ones(8, int), threads, 200, 1)
    assert same == (1.0, 1.0)


def test_the_table_schema_refuses_a_proportion_out_of_range():
    row = {
        "scenario": "primary",
        "label": "iso_t1",
        "iso_t1_max_sa": 14.0,
        "nsaid_late_min_sa": 24.0,
        "aspirin_min_mg_day": 500.0,
        "posts": 10,
        "positives": 1,
        "apparent_prevalence": 0.1,
        "apparent_ci_low": 0.0,
        "apparent_ci_high": 0.3,
        "corrected_prevalence": 0.1,
        "corrected_ci_low": 0.0,
        "corrected_ci_high": 0.3,
        "sensitivity": 1.0,
        "sensitivity_ci_low": 0.5,
        "sensitivity_ci_high": 1.0,
        "specificity": 1.0,
        "specificity_ci_low": 0.8,
        "specificity_ci_high": 1.0,
        "f1": 1.0,
        "f1_ci_low": 0.5,
        "f1_ci_high": 1.0,
        "ci_note": "",
    }
    check(SENSITIVITY, pd.DataFrame([row]), "sensitivity.csv")
    with pytest.raises(Exception, match="sensitivity"):
        check(SENSITIVITY, pd.DataFrame([{**row, "sensitivity": 1.5}]), "sensitivity.csv")
