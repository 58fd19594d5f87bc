"""Diagnostics: calibration bins, learning curve shape, the rule system's error table, AUPRC."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from perivigil.evaluation import auprc_interval
from perivigil.models.diagnostics import calibration_table, error_table, learning_table


def test_calibration_table_bins_scores_by_quantile():
    predictions = pd.DataFrame(
        {
            "iso_t1": [0, 0, 1, 1] * 5,
            "nsaid_late": [0, 1] * 10,
            "logreg_iso_t1_score": np.linspace(0.05, 0.95, 20),
            "logreg_nsaid_late_score": np.linspace(0.05, 0.95, 20),
        }
    )
    table = calibration_table(predictions, ["logreg"], bins=2)
    # the 10 lowest scores hold iso_t1 = 0,0,1,1,0,0,1,1,0,0 (4 ones), the 10 highest 6 ones
    assert table[table["label"] == "iso_t1"]["observed"].tolist() == [0.4, 0.6]
    assert table["mean_predicted"].round(3).tolist()[:2] == [0.263, 0.737]


def test_learning_curve_grows_the_training_threads():
    split = pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(16)],
            "thread_id": [f"t{i // 2}" for i in range(16)],
            "split": ["train"] * 12 + ["test"] * 4,
            "iso_t1": [0, 1] * 8,
            "nsaid_late": [1, 0] * 8,
        }
    )
    texts = {f"p{i}": ("advil à 30 SA" if i % 2 == 0 else "doliprane à 30 SA") for i in range(16)}
    records = {"logreg_nsaid_late": {"kind": "logreg", "label": "nsaid_late", "best_C": 10.0, "seed": 1}}
    table = learning_table(split, texts, records, seed=3)
    assert table["train_fraction"].tolist() == [0.25, 0.5, 0.75, 1.0]
    # 6 training threads of 2 posts: round(6 x 0.25) -> 2 (the minimum), 3, round(4.5) = 4, 6 threads
    assert table["train_posts"].tolist() == [4, 6, 8, 12]
    assert table["test_f1"].iloc[-1] == 1.0


def test_error_table_gives_each_miss_its_events(extractor):
    from perivigil.extract.pipeline import event_rows
    from perivigil.models.rules import RuleThresholds, decide_table

    texts = {"a": "J'ai pris un advil à 30 SA.", "b": "Je prends du nurofen en allaitant."}
    rows = [row for post_id, text in texts.items() for row in event_rows(post_id, extractor.extract(text))]
    events = pd.DataFrame([dataclasses.asdict(row) for row in rows])
    decisions = decide_table(["a", "b"], events, RuleThresholds())
    predictions = pd.DataFrame(
        {
            "post_id": ["a", "b"],
            "iso_t1": [0, 0],
            "nsaid_late": [0, 1],
            "rules_iso_t1": [0, 0],
            "rules_nsaid_late": [1, 0],
        }
    )
    table = error_table(predictions, texts, decisions, events)
    assert table[["post_id", "error"]].values.tolist() == [["a", "false positive"], ["b", "false negative"]]
    assert table["evidence"].iloc[0] == "ibuprofen ('advil') at 30 SA ('30 SA', stated) taken by self"
    assert table["mentions_seen"].iloc[1] == "ibuprofen (taken, self, breastfeeding, no age)"


def test_auprc_of_a_perfect_ranking_is_one():
    truth = np.array([0, 0, 1, 1, 0, 1])
    interval = auprc_interval(truth, truth * 0.9 + 0.05, np.arange(6), n_boot=200, seed=1)
    assert (interval.estimate, interval.low, interval.high) == (1.0, 1.0, 1.0)
    assert auprc_interval(np.zeros(4), np.ones(4), np.arange(4), 10, 1).method == "none"
