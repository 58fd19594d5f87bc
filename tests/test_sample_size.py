"""Posts to annotate for a target CI half-width (Wald; Buderer 1996), against hand-computed values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from perivigil.sample_size import buderer_n, sample_size_table, stratum_sizes, wald_n
from perivigil.schemas import SAMPLE_SIZE, check


def test_wald_and_buderer_match_hand_computed_values():
    # z = 1.959964, z² = 3.841459
    assert wald_n(0.3, 0.05) == 323  # 3.841459 × 0.21 / 0.0025 = 322.68
    assert buderer_n(0.9, 0.3, 0.1) == 116  # 3.841459 × 0.09 / 0.01 = 34.57 positives; / 0.3 = 115.24
    assert buderer_n(0.95, 0.3, 0.05, specificity=True) == 105  # 72.99 negatives; / 0.7 = 104.27
    assert buderer_n(0.9, 0.3, 0.1, level=0.99) == 200  # z² = 6.634897: 59.71 / 0.3 = 199.05


def test_a_stratum_needs_its_largest_requirement():
    assert stratum_sizes(0.01, 0.9, 0.95, 0.1, 0.05, 0.05) == {
        "sensitivity": 3458,
        "specificity": 74,
        "prevalence": 16,
        "posts": 3458,
    }


def test_impossible_targets_are_named():
    with pytest.raises(ValueError, match=r"^expected prevalence 0.0: expected a proportion strictly between 0 and 1$"):
        buderer_n(0.9, 0.0, 0.1)
    with pytest.raises(ValueError, match=r"^confidence level 1.5: expected 0 < level < 1$"):
        wald_n(0.3, 0.05, level=1.5)


def test_the_table_sets_the_plan_beside_the_posts_annotated_and_the_precision_reached():
    frame = pd.DataFrame({"post_id": list("abcdef"), "candidate": [True] * 4 + [False] * 2})
    gold = pd.DataFrame(
        [
            ("a", "iso_t1", "1"),
            ("b", "iso_t1", "1"),
            ("c", "iso_t1", "1"),  # d: iso_t1 undecided
            ("e", "iso_t1", "0"),
            ("f", "iso_t1", "0"),
            ("a", "nsaid_late", "0"),
            ("a", "drug", "isotretinoin"),
        ],
        columns=["post_id", "label", "value"],
    )
    settings = {"expected_prevalence": {"candidates": 0.5, "noncandidates": 0.1}}  # the rest: defaults
    table = check(SAMPLE_SIZE, sample_size_table(settings, frame, gold), "test").set_index(["stratum", "label"])
    # candidates, p = 0.5: Se 34.57 / 0.5 = 69.15; Sp 3.841459 × 0.0475 / 0.0025 = 72.99 / 0.5 = 145.98;
    # prevalence 3.841459 × 0.25 / 0.0025 = 384.15. Non-candidates, p = 0.1: 345.73; 72.99 / 0.9 = 81.10; 138.29.
    candidates, noncandidates = table.loc[("candidates", "iso_t1")], table.loc[("noncandidates", "iso_t1")]
    assert [candidates[k] for k in ("n_sensitivity", "n_specificity", "n_prevalence", "planned_posts")] == [
        70,
        146,
        385,
        385,
    ]
    assert [noncandidates[k] for k in ("n_sensitivity", "n_specificity", "n_prevalence", "planned_posts")] == [
        346,
        82,
        139,
        346,
    ]
    # 3 of 3: Clopper-Pearson [0.025^(1/3), 1] = [0.292402, 1], half-width 0.353799
    assert (candidates.annotated_posts, candidates.positives, candidates.observed_prevalence) == (3, 3, 1.0)
    assert candidates.ci_low == pytest.approx(0.292402, abs=1e-6)
    assert candidates.half_width_reached == pytest.approx(0.353799, abs=1e-6)
    # 0 of 2: [0, 1 - 0.025^(1/2)] = [0, 0.841886]; 0 of 1: [0, 0.975]
    assert (noncandidates.annotated_posts, noncandidates.positives) == (2, 0)
    assert noncandidates.half_width_reached == pytest.approx(0.420943, abs=1e-6)
    assert table.loc[("candidates", "nsaid_late"), "half_width_reached"] == pytest.approx(0.4875)
    empty = table.loc[("noncandidates", "nsaid_late")]
    assert empty.annotated_posts == 0 and math.isnan(empty.observed_prevalence)
    assert math.isnan(empty.half_width_reached)
    assert set(table["method"]) == {"clopper_pearson"} and set(table["target_half_width"]) == {0.05}
