"""Application of the chosen model to the corpus: its predictions and the characterisation tables."""

from __future__ import annotations

import pandas as pd
import pytest

from perivigil.models.apply import (
    AGE_BANDS,
    age_band,
    age_bands,
    corpus_predictions,
    indication_table,
    supporting_mentions,
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
