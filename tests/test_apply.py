"""Application of the chosen model to the corpus: its predictions and the characterisation tables."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from perivigil.models.apply import (
    AGE_BANDS,
    age_band,
    age_bands,
    age_bands_of,
    apply_model,
    corpus_predictions,
    corrected_prevalence,
    indication_table,
    replicate_chunk,
    supporting_events,
    supporting_mentions,
    texts_of,
    with_unexplained,
)
from perivigil.models.linear import fit, save


def _mentions() -> pd.DataFrame:
    # post a: the rules count its ibuprofen; post b: a trained model's positive, aspirin and
    # paracetamol mentioned but not counted by the rules; post c: negative.
    return pd.DataFrame(
        {
            "post_id": ["a", "a", "b", "b", "c"],
            "mention_index": [0, 1, 0, 1, 0],
            "start": [10, 40, 0, 30, 5],
            "inn": ["ibuprofen", "paracetamol", "aspirin", "paracetamol", "ibuprofen"],
            "drug_class": ["nsaid", "other", "aspirin", "other", "nsaid"],
        }
    )


def _decisions() -> pd.DataFrame:
    # decisions.parquet: the rules counted mention 0 of post a for nsaid_late, nothing else
    return pd.DataFrame(
        {
            "post_id": ["a", "a", "b", "b", "c", "c"],
            "label": ["iso_t1", "nsaid_late"] * 3,
            "value": [0, 1, 0, 0, 0, 0],
            "evidence": ["", "ibuprofen ('Advil')", "", "", "", ""],
            "mention_indexes": ["", "0", "", "", "", ""],
        }
    )


def test_supporting_mentions_fall_back_to_the_label_drug_classes():
    labels = pd.DataFrame({"post_id": ["a", "b", "c"], "iso_t1": [0, 0, 0], "nsaid_late": [1, 1, 0]})
    support = supporting_mentions(_mentions(), labels, "nsaid_late", _decisions())
    assert support[["post_id", "inn", "label"]].values.tolist() == [
        ["a", "ibuprofen", "nsaid_late"],
        ["b", "aspirin", "nsaid_late"],
    ]
    assert supporting_mentions(_mentions(), labels, "iso_t1", _decisions()).empty


def test_indication_table_counts_posts_per_indication():
    labels = pd.DataFrame({"post_id": ["a", "b", "c"], "iso_t1": [0, 0, 0], "nsaid_late": [1, 1, 0]})
    texts = {"a": "Migraine. J'ai pris un Advil à 30 SA.", "b": "Aspirine à 32 SA, fièvre et migraine", "c": "rien"}
    support = pd.DataFrame({"post_id": ["a", "b"], "start": [11, 0], "label": ["nsaid_late"] * 2})
    table = indication_table(labels, support, texts)
    assert table.values.tolist() == [["nsaid_late", "headache", 2, 2], ["nsaid_late", "fever_or_infection", 1, 2]]


def test_corpus_predictions_of_a_trained_model(tmp_path):
    texts = [
        "advil à 30 SA",
        "nurofen à 32 SA",
        "ibuprofène à 35 SA",
        "advil à 28 SA",
        "prénoms ?",
        "valise faite",
        "bébé bouge",
        "nausées",
    ]
    labels = [1, 1, 1, 1, 0, 0, 0, 0]
    paths = {}
    for label in ("iso_t1", "nsaid_late"):
        model, record = fit(
            "logreg",
            texts,
            labels if label == "nsaid_late" else labels[::-1],
            [f"t{i % 4}" for i in range(8)],
            [10.0],
            2,
            seed=1,
        )
        paths[f"logreg_{label}"] = tmp_path / f"logreg_{label}.joblib"
        save(model, record, paths[f"logreg_{label}"], tmp_path / f"logreg_{label}.json")
    posts = pd.DataFrame({"post_id": [f"p{i}" for i in range(8)], "text": texts})
    frame = corpus_predictions("logreg", posts, _mentions(), paths, batch_size=3)
    assert frame["nsaid_late"].tolist() == labels
    assert frame["iso_t1"].tolist() == labels[::-1]


@pytest.mark.parametrize(
    ("sa", "band"),
    [
        (4.0, "<= 14 SA"),
        (14.0, "<= 14 SA"),  # protocol §3: the first trimester ends at 14 SA
        (14.5, "> 14 and < 24 SA"),
        (23.9, "> 14 and < 24 SA"),
        (24.0, "24 to < 28 SA"),  # protocol §4: NSAIDs contraindicated from 24 SA
        (31.0, "28 to < 32 SA"),
        (35.5, "32 to < 36 SA"),
        (36.0, ">= 36 SA"),
        (41.0, ">= 36 SA"),
        (float("nan"), "trimester or cue only"),
    ],
)
def test_age_bands_close_on_the_protocol_thresholds(sa, band):
    assert age_band(sa) == band


def test_age_bands_of_a_column_are_those_of_each_age():
    ages = [4.0, 14.0, 14.5, 23.9, 24.0, 31.0, 35.5, 36.0, 41.0, float("nan")]
    assert age_bands_of(pd.Series(ages)).tolist() == [age_band(sa) for sa in ages]
    bands = age_bands(12, 20)
    assert age_bands_of(np.array(ages), bands).tolist() == [age_band(sa, bands) for sa in ages]
    assert age_bands_of(np.array([12.0, 19.9, 20.0]), bands).tolist() == [
        "<= 12 SA",
        "> 12 and < 20 SA",
        "20 to < 28 SA",
    ]


def test_age_bands_follow_the_thresholds():
    assert age_bands(14, 24) == AGE_BANDS
    bands = age_bands(12, 20)
    assert age_band(12.0, bands) == "<= 12 SA" and age_band(13.0, bands) == "> 12 and < 20 SA"
    assert age_band(20.0, bands) == "20 to < 28 SA" and age_band(29.0, bands) == "28 to < 32 SA"
    assert [name for _, name in age_bands(15, 30)] == ["<= 15 SA", "> 15 and < 30 SA", "30 to < 32 SA", "32 to < 36 SA"]
    with pytest.raises(ValueError, match=r"^age bands: need 0 < iso_t1_max_sa \(24\) < nsaid_late_min_sa \(14\)"):
        age_bands(24, 14)


def test_positive_posts_without_a_mention_are_counted_not_dropped():
    labels = pd.DataFrame({"post_id": ["a", "b", "c"], "iso_t1": [0, 0, 0], "nsaid_late": [1, 1, 1]})
    support = pd.DataFrame({"post_id": ["a"], "label": ["nsaid_late"]})
    table = pd.DataFrame({"label": ["nsaid_late"], "inn": ["ibuprofen"], "posts": [1]})
    assert with_unexplained(table, "inn", labels, support).values.tolist() == [
        ["nsaid_late", "ibuprofen", 1],
        ["nsaid_late", "no drug mention", 2],
    ]


def test_nothing_unexplained_leaves_the_table_and_its_types():
    labels = pd.DataFrame({"post_id": ["a"], "iso_t1": [0], "nsaid_late": [1]})
    table = pd.DataFrame({"label": ["nsaid_late"], "inn": ["ibuprofen"], "posts": [1]})
    result = with_unexplained(table, "inn", labels, pd.DataFrame({"post_id": ["a"], "label": ["nsaid_late"]}))
    assert result.values.tolist() == [["nsaid_late", "ibuprofen", 1]] and result["posts"].dtype == "int64"


def test_supporting_events_give_one_row_per_counted_mention():
    decisions = pd.DataFrame(
        {
            "post_id": ["a", "a", "b", "b"],
            "label": ["iso_t1", "nsaid_late"] * 2,
            "value": [1, 1, 0, 1],
            "mention_indexes": ["2", "0,3", "", "1"],
        }
    )
    assert supporting_events(decisions, "nsaid_late").values.tolist() == [["a", 0], ["a", 3], ["b", 1]]
    assert supporting_events(decisions, "iso_t1").values.tolist() == [["a", 2]]
    assert supporting_events(decisions.iloc[:0], "iso_t1").empty


def test_the_corpus_bootstrap_does_not_depend_on_its_chunks(monkeypatch):
    rng = np.random.default_rng(3)
    threads = np.repeat(np.arange(500), 4).astype(str)
    predicted = (rng.random(2000) < 0.1).astype(int)
    test_truth = (rng.random(300) < 0.3).astype(int)
    test_predicted = np.where(rng.random(300) < 0.9, test_truth, 1 - test_truth)
    test_threads = np.arange(300).astype(str)
    args = (predicted, threads, test_truth, test_predicted, test_threads, 200, 11)
    assert replicate_chunk(500) == 1000 and replicate_chunk(10**6) == 4 and replicate_chunk(10**8) == 1
    whole = corrected_prevalence(*args)
    monkeypatch.setattr("perivigil.models.apply.BOOTSTRAP_CELLS", 7 * 500)  # 7 replicates at a time
    assert corrected_prevalence(*args) == whole  # the same draws, in the same order


TRAINING = [
    "advil à 30 SA pour une migraine",
    "nurofen à 32 SA",
    "ibuprofène à 35 SA",
    "advil à 28 SA",
    "prénoms ?",
    "valise faite",
    "bébé bouge",
    "nausées",
]


def _tiny_study(tmp_path):
    """posts, mentions, decisions and test predictions of 8 posts, and logreg models that learnt them
    (nsaid_late: the first four posts; iso_t1: the last four)."""
    nsaid = [1, 1, 1, 1, 0, 0, 0, 0]
    paths = {}
    for label, values in (("iso_t1", nsaid[::-1]), ("nsaid_late", nsaid)):
        model, record = fit("logreg", TRAINING, values, [f"t{i % 4}" for i in range(8)], [10.0], 2, seed=1)
        paths[f"logreg_{label}"] = str(tmp_path / f"logreg_{label}.joblib")
        save(model, record, tmp_path / f"logreg_{label}.joblib", tmp_path / f"logreg_{label}.json")
    ids = [f"p{i}" for i in range(8)]
    created = pd.to_datetime(["2024-01-10T10:00:00+00:00"] * 4 + ["2024-02-10T10:00:00+00:00"] * 4, utc=True)
    posts = pd.DataFrame(
        {
            "post_id": ids,
            "thread_id": [f"t{i // 2}" for i in range(8)],
            "board": ["a", "a", "b", "b", "a", "b", "a", "b"],
            "created_at": created,
            "text": TRAINING,
        }
    )
    posts.to_parquet(tmp_path / "posts.parquet", index=False, row_group_size=3)
    mentions = pd.DataFrame(
        {
            "post_id": ["p0"],
            "mention_index": [0],
            "start": [0],
            "inn": ["ibuprofen"],
            "drug_class": ["nsaid"],
            "gestational_age_sa": [30.0],
            "person": ["self"],
        }
    )
    mentions.to_parquet(tmp_path / "mentions.parquet", index=False)
    decisions = pd.DataFrame(
        {
            "post_id": np.repeat(ids, 2),
            "label": ["iso_t1", "nsaid_late"] * 8,
            "value": 0,
            "evidence": "",
            "mention_indexes": "",
        }
    )
    decisions.to_parquet(tmp_path / "decisions.parquet", index=False)
    truth = [1, 0, 1, 0, 0, 1]
    pd.DataFrame(
        {
            "post_id": [f"s{i}" for i in range(6)],
            "thread_id": [f"u{i}" for i in range(6)],
            "iso_t1": truth,
            "nsaid_late": truth[::-1],
            "stratum": "all",
            "weight": 1.0,
            "logreg_iso_t1": truth,
            "logreg_nsaid_late": truth[::-1],
        }
    ).to_csv(tmp_path / "predictions.csv", index=False)
    return paths


def _apply(tmp_path, paths, out, batch_size):
    names = ("prevalence", "by_board_month", "drugs", "ages", "people", "indications")
    outputs = SimpleNamespace(**{name: out / f"{name}.csv" for name in names})
    apply_model(
        tmp_path / "posts.parquet",
        tmp_path / "mentions.parquet",
        tmp_path / "decisions.parquet",
        tmp_path / "predictions.csv",
        paths,
        {"model": "logreg", "n_boot": 50, "seed": 5},
        outputs,
        batch_size=batch_size,
    )
    return {name: getattr(outputs, name).read_text() for name in names}


def test_a_trained_model_is_applied_batch_by_batch(tmp_path):
    paths = _tiny_study(tmp_path)
    tables = _apply(tmp_path, paths, tmp_path / "by3", batch_size=3)
    assert tables["by_board_month"].splitlines() == [
        "board,month,iso_t1,nsaid_late",
        "a,2024-01,0,2",
        "a,2024-02,2,0",
        "b,2024-01,0,2",
        "b,2024-02,2,0",
    ]
    # the one mention supports p0 (a trained model's positive: by its drug class); the other positives have none
    assert tables["drugs"].splitlines() == [
        "label,inn,posts",
        "nsaid_late,ibuprofen,1",
        "iso_t1,no drug mention,4",  # the posts without a supporting mention come last
        "nsaid_late,no drug mention,3",
    ]
    # only p0 states why (its text read back from posts.parquet: "pour une migraine")
    assert tables["indications"].splitlines() == [
        "label,indication,posts,positives",
        "iso_t1,not stated,4,4",
        "nsaid_late,not stated,3,4",
        "nsaid_late,headache,1,4",
    ]
    prevalence = pd.read_csv(tmp_path / "by3/prevalence.csv")
    assert prevalence["positives"].tolist() == [4, 4, 4, 4] and prevalence["posts"].tolist() == [8, 8, 8, 8]
    # the batches change nothing
    assert _apply(tmp_path, paths, tmp_path / "whole", batch_size=1000) == tables


def test_texts_of_reads_the_texts_asked_for_only(tmp_path):
    _tiny_study(tmp_path)
    assert texts_of(tmp_path / "posts.parquet", ["p7", "p0", "p0"], batch_size=2) == {
        "p0": "advil à 30 SA pour une migraine",
        "p7": "nausées",
    }
    assert texts_of(tmp_path / "posts.parquet", []) == {}
