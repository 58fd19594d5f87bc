"""Evaluation statistics and the split: published values, coverage, degenerate cases, leaks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from perivigil.errors import InputError
from perivigil.evaluation import (
    bca_interval,
    cluster_counts,
    mcnemar_exact,
    metric_intervals,
    metrics_from_counts,
    paired_f1_difference,
    rogan_gladen,
)
from perivigil.split import check_no_leak, split_gold, text_clusters


def test_metrics_from_counts_by_hand():
    # tp 3, fp 1, fn 2, tn 4: precision 3/4, recall 3/5, F1 6/9, specificity 4/5, accuracy 7/10
    values = metrics_from_counts(np.array([3.0, 1.0, 2.0, 4.0]))
    assert {k: round(float(v), 6) for k, v in values.items()} == {
        "precision": 0.75,
        "recall": 0.6,
        "f1": 0.666667,
        "specificity": 0.8,
        "npv": 0.666667,
        "accuracy": 0.7,
        "prevalence": 0.5,
        "apparent_prevalence": 0.4,
    }


def test_cluster_counts_sum_posts_of_each_thread():
    counts = cluster_counts([1, 0, 1, 0], [1, 1, 0, 0], ["t1", "t1", "t2", "t2"])
    assert counts.tolist() == [[1, 1, 0, 0], [0, 0, 1, 1]]


def test_mcnemar_exact_statsmodels_value():
    # statsmodels' own test: table [[23, 15], [19, 31]] -> exact p = 0.607591
    pred_a, pred_b = [], []
    for (a_right, b_right), n in {(1, 1): 23, (1, 0): 15, (0, 1): 19, (0, 0): 31}.items():
        pred_a += [a_right] * n
        pred_b += [b_right] * n
    table, p = mcnemar_exact(np.ones(len(pred_a), int), pred_a, pred_b)
    assert table.tolist() == [[23, 15], [19, 31]]
    assert p == pytest.approx(0.607591, abs=1e-6)


def test_rogan_gladen_rsurveillance_example():
    # RSurveillance tp(): 20 positives of 120, Se 0.9, Sp 0.99 -> 0.17603
    assert rogan_gladen(20, 120, 0.9, 0.99) == pytest.approx(0.17603, abs=1e-5)
    assert rogan_gladen(0, 120, 0.9, 0.9) == 0.0  # clipped at 0


def test_bootstrap_coverage_is_about_95_percent():
    """Accuracy of a classifier right with probability 0.8, posts in threads of 3: the interval
    should hold 0.8 in ~95 % of 200 simulated studies (Monte Carlo error ±4.6 % at 3 SE)."""
    rng = np.random.default_rng(11)
    hits = 0
    for study in range(200):
        clusters = np.repeat(np.arange(60), 3)
        truth = rng.random(180) < 0.3
        right = rng.random(180) < 0.8
        prediction = np.where(right, truth, ~truth)
        interval = metric_intervals(truth, prediction, clusters, n_boot=1000, seed=study)["accuracy"]
        hits += interval.low <= 0.8 <= interval.high
    assert 0.89 <= hits / 200 <= 0.99


def test_degenerate_bootstrap_gives_a_clopper_pearson_interval_with_a_reason():
    truth = np.array([1, 0, 1, 0, 1, 0])
    intervals = metric_intervals(truth, truth, ["a", "a", "b", "b", "c", "c"], n_boot=200, seed=1)
    precision = intervals["precision"]
    # 3 of 3 predicted positives right: Clopper-Pearson [0.025^(1/3), 1] = [0.2924, 1]
    assert (precision.estimate, precision.high) == (1.0, 1.0)
    assert precision.low == pytest.approx(0.025 ** (1 / 3))
    assert precision.method == "clopper_pearson" and "BCa undefined" in precision.reason
    assert "n = 3" in precision.reason
    undefined = bca_interval(float("nan"), np.array([np.nan]), np.array([np.nan]))
    assert undefined.method == "none"


def test_paired_difference_of_a_model_with_itself_is_zero():
    rng = np.random.default_rng(2)
    truth = rng.random(90) < 0.4
    pred = np.where(rng.random(90) < 0.8, truth, ~truth)
    interval = paired_f1_difference(truth, pred, pred, np.repeat(np.arange(30), 3), n_boot=500, seed=1)
    assert (interval.estimate, interval.low, interval.high) == (0.0, 0.0, 0.0)


def _posts():
    return pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(12)],
            "thread_id": ["t1", "t1", "t2", "t2", "t3", "t3", "t4", "t4", "t5", "t5", "t6", "t6"],
            "duplicate_of": [None] * 11 + ["p0"],
            "near_duplicate_of": [None] * 12,
        }
    )


def test_split_keeps_threads_together_and_excludes_duplicates_of_train_posts():
    posts = _posts()
    labels = pd.DataFrame({"post_id": posts["post_id"], "iso_t1": [0, 1] * 6, "nsaid_late": [1, 0, 0, 1] * 3})
    split = split_gold(labels, posts, test_fraction=0.34, seed=3)
    used = split[split["split"] != "excluded"]
    assert used.groupby("thread_id")["split"].nunique().max() == 1
    check_no_leak(split)
    if (split.loc[split.post_id == "p0", "split"] == "train").item():
        assert split.loc[split.post_id == "p11", "split"].item() in ("train", "excluded")
    assert text_clusters(posts)["p11"] == "p0"


def test_leak_check_fails_on_a_forged_split():
    forged = pd.DataFrame(
        {
            "post_id": ["p0", "p1"],
            "thread_id": ["t1", "t1"],
            "text_cluster": ["p0", "p1"],
            "split": ["train", "test"],
            "reason": ["", ""],
            "iso_t1": [0, 0],
            "nsaid_late": [0, 1],
        }
    )
    with pytest.raises(InputError, match="split leak: thread 't1' is in train and test"):
        check_no_leak(forged)
    forged["thread_id"] = ["t1", "t2"]
    forged["text_cluster"] = ["p0", "p0"]
    with pytest.raises(InputError, match="split leak: duplicate cluster 'p0'"):
        check_no_leak(forged)


def test_corrected_prevalence_and_its_interval():
    from perivigil.models.apply import corrected_prevalence

    # Test split: 10 positives of which 8 found (Se 0.8), 40 negatives with 2 false alarms (Sp 0.95).
    truth = np.array([1] * 10 + [0] * 40)
    pred = np.array([1] * 8 + [0] * 2 + [1] * 2 + [0] * 38)
    # Corpus: 1,000 posts, 100 labelled positive: RG = (0.10 + 0.95 - 1) / (0.8 + 0.95 - 1) = 0.0666...
    corpus = np.array([1] * 100 + [0] * 900)
    result = corrected_prevalence(corpus, np.arange(1000) // 2, truth, pred, np.arange(50), n_boot=500, seed=1)
    assert result["corrected_prevalence"] == pytest.approx(0.05 / 0.75)
    assert (result["sensitivity"], result["specificity"], result["apparent_prevalence"]) == (0.8, 0.95, 0.1)
    assert result["ci_low"] < result["corrected_prevalence"] < result["ci_high"]


def test_corpus_labels_come_from_the_decisions_in_the_posts_order():
    from perivigil.models.apply import corpus_labels

    decisions = pd.DataFrame(
        {
            "post_id": ["a", "a", "b", "b"],
            "label": ["iso_t1", "nsaid_late"] * 2,
            "value": [1, 0, 0, 1],
            "evidence": ["", "", "", ""],
            "mention_indexes": ["0", "", "", "2"],
        }
    )
    labels = corpus_labels(decisions, pd.Series(["b", "a"]))
    assert labels.values.tolist() == [["b", 0, 1], ["a", 1, 0]]
    with pytest.raises(ValueError, match="1 post\\(s\\) have no decision, first 'c'"):
        corpus_labels(decisions, pd.Series(["a", "c"]))


def test_clopper_pearson_matches_r_binom_test():
    from perivigil.evaluation import clopper_pearson

    # R: binom.test(7, 10)$conf.int = 0.3475471 0.9332605; binom.test(0, 10) upper 0.3084971
    assert clopper_pearson(7, 10) == pytest.approx((0.3475471, 0.9332605), abs=1e-7)
    assert clopper_pearson(0, 10) == pytest.approx((0.0, 0.3084971), abs=1e-7)


def test_kish_effective_sample_size():
    from perivigil.evaluation import kish_effective_n

    # Kish (1965): n_eff = (sum w)^2 / sum w^2; weights 1, 1, 1, 1, 4 -> 64 / 20 = 3.2
    assert kish_effective_n(np.array([1, 1, 1, 1, 4])) == pytest.approx(3.2)
    assert kish_effective_n(np.ones(7)) == pytest.approx(7)


def _hand_case():
    """Stratum A taken whole (weight 1), stratum B one post in four (weight 4)."""
    truth = np.array([1, 1, 0, 0, 1, 0, 0])
    pred = np.array([1, 1, 1, 0, 0, 0, 0])
    weights = np.array([1, 1, 1, 1, 4, 4, 4.0])
    strata = np.array(["A"] * 4 + ["B"] * 3)
    threads = np.array(["t1", "t2", "t3", "t4", "t5", "t6", "t7"])
    return truth, pred, weights, strata, threads


def test_design_weighted_metrics_by_hand():
    from perivigil.evaluation import design_metric_intervals

    # Weighted counts: tp 2, fp 1, fn 4 (one B post x 4), tn 1 + 8 = 9.
    truth, pred, weights, strata, threads = _hand_case()
    design = design_metric_intervals(truth, pred, weights, strata, threads, n_boot=500, seed=1)
    expected = {
        "recall": 2 / 6,
        "specificity": 9 / 10,
        "precision": 2 / 3,
        "npv": 9 / 13,
        "f1": 4 / 9,
        "prevalence": 6 / 16,
        "apparent_prevalence": 3 / 16,
        "accuracy": 11 / 16,
    }
    assert {k: design[k].estimate for k in expected} == pytest.approx(expected)
    sample = metric_intervals(truth, pred, threads, n_boot=500, seed=1)
    assert (sample["recall"].estimate, sample["specificity"].estimate) == pytest.approx((2 / 3, 3 / 4))
    assert all(design[k].method in ("korn_graubard", "rao_wu_percentile", "clopper_pearson_kish") for k in expected)


def test_rao_wu_variance_of_a_total_is_the_textbook_estimator():
    """Rao & Wu (1988): with m_h = n_h - 1 the bootstrap variance of a weighted total equals
    sum_h n_h / (n_h - 1) sum_i (z_hi - mean_h)^2 (with-replacement variance, Wolter 2007 eq. 2.4.5)."""
    from perivigil.evaluation import rao_wu_multipliers

    rng = np.random.default_rng(5)
    stratum = np.repeat([0, 1, 2], [3, 5, 8])
    z = rng.gamma(2.0, 3.0, size=16)
    textbook = sum(
        len(z[stratum == h]) / (len(z[stratum == h]) - 1) * np.sum((z[stratum == h] - z[stratum == h].mean()) ** 2)
        for h in range(3)
    )
    totals = rao_wu_multipliers(stratum, 40000, np.random.default_rng(6)) @ z
    assert totals.mean() == pytest.approx(z.sum(), rel=0.01)
    assert totals.var() == pytest.approx(textbook, rel=0.05)


def test_lonely_strata_are_collapsed():
    from perivigil.evaluation import bootstrap_strata

    units, strata = bootstrap_strata(
        np.array(["a", "a", "b", "c", "d", "d"]), np.array(["t1", "t2", "t3", "t4", "t5", "t5"])
    )
    assert units.tolist() == [0, 1, 2, 3, 4, 4]  # one unit per (stratum, thread)
    assert strata[2] == strata[3] == strata[4] != strata[0]  # b, c, d: one unit each, collapsed together
    _, alone = bootstrap_strata(np.array(["a", "a", "b"]), np.array(["t1", "t2", "t3"]))
    assert alone.tolist() == [0, 0, 0]  # a lone collapsed unit joins the largest stratum


def test_design_intervals_cover_the_corpus_value_at_the_nominal_rate():
    """Coverage of the design-based Se and Sp intervals under the sampling design (seeded, ~6 s).

    Corpus: candidates A (1,000 posts, prevalence 0.4, Se 0.9), B (2,000, 0.2, Se 0.7),
    non-candidates N (20,000, 0.05, Se 0.2: what the lexicon misses), false alarms 3 %;
    threads of 2 posts; 150 samples of 150 posts per stratum. The unweighted Se interval
    misses the corpus value (verification bias). bench/design_coverage.py gives the other
    settings (docs/benchmarks.md)."""
    from perivigil.evaluation import design_metric_intervals

    rng = np.random.default_rng(15)
    stratum = np.repeat(["A", "B", "N"], [1000, 2000, 20000])
    prevalence = np.select([stratum == "A", stratum == "B"], [0.4, 0.2], 0.05)
    se = np.select([stratum == "A", stratum == "B"], [0.9, 0.7], 0.2)
    truth = rng.random(len(stratum)) < prevalence
    pred = np.where(truth, rng.random(len(stratum)) < se, rng.random(len(stratum)) < 0.03)
    true_se, true_sp = pred[truth].mean(), 1 - pred[~truth].mean()
    threads = np.arange(len(stratum)) // 2
    hits = {"recall": 0, "specificity": 0, "naive": 0}
    studies = 150
    for study in range(studies):
        chosen = np.concatenate([rng.choice(np.flatnonzero(stratum == h), 150, replace=False) for h in "ABN"])
        weights = np.array([np.sum(stratum == h) / 150 for h in stratum[chosen]])
        design = design_metric_intervals(
            truth[chosen], pred[chosen], weights, stratum[chosen], threads[chosen], n_boot=300, seed=study
        )
        hits["recall"] += design["recall"].low <= true_se <= design["recall"].high
        hits["specificity"] += design["specificity"].low <= true_sp <= design["specificity"].high
        plain = metric_intervals(truth[chosen], pred[chosen], threads[chosen], n_boot=200, seed=study)["recall"]
        hits["naive"] += plain.low <= true_se <= plain.high
    coverage = {k: v / studies for k, v in hits.items()}
    assert 0.9 <= coverage["recall"] <= 1.0 and 0.9 <= coverage["specificity"] <= 1.0, coverage
    assert coverage["naive"] < 0.5, coverage


def test_design_weighted_rogan_gladen_carries_an_exact_specificity():
    from perivigil.models.apply import corrected_prevalence

    # No false alarm in the test split: Sp = 1 in every replicate, yet the interval must carry its uncertainty.
    truth = np.array([1] * 10 + [0] * 40)
    pred = np.array([1] * 8 + [0] * 2 + [0] * 40)
    weights = np.array([1.0] * 10 + [5.0] * 40)
    strata = np.array(["cand"] * 10 + ["non"] * 40)
    corpus = np.array([1] * 100 + [0] * 900)
    result = corrected_prevalence(
        corpus,
        np.arange(1000) // 2,
        truth,
        pred,
        np.arange(50),
        n_boot=500,
        seed=1,
        test_weights=weights,
        test_strata=strata,
    )
    assert result["specificity"] == 1.0 and result["sensitivity"] == 0.8
    assert result["corrected_prevalence"] == pytest.approx(0.125)
    assert "Sp = 1 in every replicate: drawn from the Jeffreys beta on n = 40.0" in result["ci_note"]
    assert result["ci_low"] < 0.1  # Sp < 1 allowed: the corrected prevalence can fall below 0.125 by more
    assert result["ci_low"] < result["ci_high"]


def test_design_auprc_weights_each_post_by_its_inverse_inclusion_probability():
    from perivigil.evaluation import design_auprc_interval

    # Scores 0.9 (positive, weight 1), 0.8 (negative, weight 3), 0.1 (positive, weight 1).
    # Average precision = sum of (R_k - R_k-1) * P_k: at 0.9, R = 1/2 and P = 1/1; at 0.1, R = 1 and
    # P = 2/(1 + 3 + 1) = 0.4; so 0.5 * 1 + 0.5 * 0.4 = 0.7. Unweighted: 0.5 * 1 + 0.5 * 2/3 = 0.8333.
    y, scores = [1, 0, 1], [0.9, 0.8, 0.1]
    weighted = design_auprc_interval(y, scores, [1, 3, 1], ["a"] * 3, ["t1", "t2", "t3"], n_boot=50, seed=1)
    assert weighted.estimate == pytest.approx(0.7)
    equal = design_auprc_interval(y, scores, [2, 2, 2], ["a"] * 3, ["t1", "t2", "t3"], n_boot=50, seed=1)
    assert equal.estimate == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert weighted.method == "rao_wu_percentile" and weighted.low <= weighted.estimate <= weighted.high
    one_class = design_auprc_interval([0, 0], [0.2, 0.3], [1, 1], ["a", "a"], ["t1", "t2"], n_boot=10, seed=1)
    assert np.isnan(one_class.estimate) and one_class.reason == "one class only in the test split"
