"""Posts to annotate for a target CI half-width (Wald; Buderer 1996), against hand-computed values."""

from __future__ import annotations

import pytest

from perivigil.sample_size import buderer_n, stratum_sizes, wald_n


def test_wald_and_buderer_match_hand_computed_values():
    # z = 1.959964, z² = 3.841459
    assert wald_n(0.3, 0.05) == 323                 # 3.841459 × 0.21 / 0.0025 = 322.68
    assert buderer_n(0.9, 0.3, 0.1) == 116           # 3.841459 × 0.09 / 0.01 = 34.57 positives; / 0.3 = 115.24
    assert buderer_n(0.95, 0.3, 0.05, specificity=True) == 105  # 72.99 negatives; / 0.7 = 104.27
    assert buderer_n(0.9, 0.3, 0.1, level=0.99) == 200  # z² = 6.634897: 59.71 / 0.3 = 199.05


def test_a_stratum_needs_its_largest_requirement():
    assert stratum_sizes(0.01, 0.9, 0.95, 0.1, 0.05, 0.05) == {"sensitivity": 3458, "specificity": 74,
                                                               "prevalence": 16, "posts": 3458}


def test_impossible_targets_are_named():
    with pytest.raises(ValueError, match=r"^expected prevalence 0.0: expected a proportion strictly between 0 and 1$"):
        buderer_n(0.9, 0.0, 0.1)
    with pytest.raises(ValueError, match=r"^confidence level 1.5: expected 0 < level < 1$"):
        wald_n(0.3, 0.05, level=1.5)
