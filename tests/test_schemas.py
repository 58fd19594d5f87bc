"""Schemas of the evaluation and application tables, checked on write."""

from __future__ import annotations

import pandas as pd
import pytest

from perivigil.errors import InputError
from perivigil.schemas import COMPARISONS, LEARNING_CURVE, PREDICTIONS, PREVALENCE, check


def _prevalence(**change) -> pd.DataFrame:
    row = {
        "model": "rules",
        "label": "iso_t1",
        "weighting": "design",
        "posts": 100,
        "positives": 10,
        "apparent_prevalence": 0.1,
        "sensitivity": 0.8,
        "specificity": 0.95,
        "corrected_prevalence": 0.05 / 0.75,
        "ci_low": 0.03,
        "ci_high": 0.12,
        "valid_replicates": 2000,
        "ci_note": "",
    }
    return pd.DataFrame([{**row, **change}])


def test_a_valid_prevalence_row_passes():
    assert len(check(PREVALENCE, _prevalence(), "prevalence.csv")) == 1


def test_a_proportion_above_one_is_named_with_its_column():
    with pytest.raises(InputError) as caught:
        check(PREVALENCE, _prevalence(apparent_prevalence=1.5), "results/tables/prevalence.csv")
    message = str(caught.value)
    assert message.startswith("results/tables/prevalence.csv: table 'prevalence' breaks its schema:")
    assert "apparent_prevalence" in message and "\n" not in message


def test_prediction_columns_follow_the_model_label_pattern():
    frame = pd.DataFrame(
        {
            "post_id": ["a"],
            "thread_id": ["t"],
            "iso_t1": [1],
            "nsaid_late": [0],
            "stratum": ["iso | board | 2020"],
            "weight": [3.0],
            "rules_iso_t1": [1],
            "rules_nsaid_late": [0],
            "svm_iso_t1": [1],
            "svm_iso_t1_score": [0.7],
        }
    )
    check(PREDICTIONS, frame, "predictions.csv")
    with pytest.raises(InputError, match="predictions"):
        check(PREDICTIONS, frame.assign(svm_iso_t1_score=[1.2]), "predictions.csv")
    with pytest.raises(InputError, match="bert_iso_t1"):
        check(PREDICTIONS, frame.assign(bert_iso_t1=[1]), "predictions.csv")


@pytest.mark.parametrize("schema", [COMPARISONS, LEARNING_CURVE])
def test_an_empty_table_gets_the_schema_types(schema):
    # a rules-only study trains no model: no comparison, no learning curve
    empty = check(schema, pd.DataFrame([], columns=list(schema.columns)), "empty.csv")
    assert list(empty.columns) == list(schema.columns) and len(empty) == 0
