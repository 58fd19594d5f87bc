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


def test_the_bootstrap_draws_do_not_depend_on_the_chunk():
    from perivigil.evaluation import resampled_sums
    from perivigil.models.apply import replicate_chunk

    matrix = np.arange(40, dtype=float).reshape(20, 2)
    (whole,) = resampled_sums([matrix], 50, np.random.default_rng(3))
    (chunked,) = resampled_sums([matrix], 50, np.random.default_rng(3), chunk=7)
    np.testing.assert_array_equal(whole, chunked)
    assert (replicate_chunk(10), replicate_chunk(150_000), replicate_chunk(10**8)) == (1000, 27, 1)


def test_the_table_is_the_one_of_the_row_wise_decisions():
    """The scenarios decided column-wise, threads numbered, on the candidate events only: the table the
    row-wise rule system gave (decisions.parquet of each scenario, string thread ids), to the last digit."""
    from test_rules import event_grid, row_wise_table

    from perivigil.models import LABELS
    from perivigil.models.rules import labels_from_decisions, possible_support
    from perivigil.models.sensitivity import scenario_rows, sensitivity_table

    post_ids, events = event_grid()
    threads = pd.Series([f"t{i % 97}" for i in range(len(post_ids))])  # 't10' sorts before 't2'
    rng = np.random.default_rng(5)
    test = pd.DataFrame({"post_id": post_ids[::9], "thread_id": threads[::9].to_numpy()})
    test = test.assign(
        stratum=np.where(np.arange(len(test)) % 3, "candidates", "noncandidates"),
        weight=np.where(np.arange(len(test)) % 3, 2.0, 10.0),
        **{label: rng.integers(0, 2, len(test)) for label in LABELS},
    )
    scenarios = scenarios_from_config(
        RuleThresholds(),
        [
            {"name": "t1_end_12", "rules": {"iso_t1_max_sa": 12}},
            {"name": "aspirin_100", "rules": {"aspirin_min_mg_day": 100}},
        ],
    )
    expected = []
    for name, thresholds in scenarios:
        labels = labels_from_decisions(row_wise_table(post_ids, events, thresholds))
        corpus = pd.DataFrame({"post_id": post_ids, "thread_id": threads}).merge(labels, on="post_id", how="left")
        by_post = labels.set_index("post_id")
        scenario_test = test.assign(
            **{f"pred_{label}": by_post.loc[test["post_id"], label].to_numpy() for label in LABELS}
        )
        expected.extend(scenario_rows(name, thresholds, corpus, scenario_test, 200, 11))
    expected = pd.DataFrame(expected)
    assert expected["positives"].gt(0).all() and expected["corrected_prevalence"].notna().any()
    candidates = events[possible_support(events)]
    assert len(candidates) < len(events) / 5
    for given in (events, candidates):
        table = sensitivity_table(pd.Series(post_ids), threads, given, test, scenarios, 200, 11)
        pd.testing.assert_frame_equal(table, expected, check_exact=True)


def test_a_test_post_outside_the_corpus_is_named():
    from test_rules import event_grid

    from perivigil.models.sensitivity import sensitivity_table

    post_ids, events = event_grid()
    test = pd.DataFrame({"post_id": [post_ids[0], "elsewhere"], "thread_id": "t", "stratum": "s", "weight": 1.0})
    test = test.assign(iso_t1=0, nsaid_late=0)
    with pytest.raises(ValueError, match=r"^sensitivity: test post 'elsewhere' is not in the corpus$"):
        sensitivity_table(pd.Series(post_ids), pd.Series("t", index=range(len(post_ids))), events, test, [], 10, 1)
