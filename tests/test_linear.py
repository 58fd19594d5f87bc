"""Linear baselines: grouped-CV fit, the record of a saved model, and classify with a trained model."""

from __future__ import annotations

import json

import pytest

from perivigil.cli import main
from perivigil.errors import InputError
from perivigil.models.linear import data_hash, fit, save

POSITIVE = [
    "J'ai pris un advil à 30 SA",
    "nurofen avalé à 32 SA hier",
    "ibuprofène à 35 SA pour le dos",
    "advil à 28 SA pour une migraine",
    "un nurofen à 33 SA",
    "ibuprofène pris à 31 SA",
]
NEGATIVE = [
    "Doliprane à 30 SA pour la tête",
    "Qui a des idées de prénoms ?",
    "Valise de maternité faite",
    "paracétamol à 32 SA",
    "bébé bouge beaucoup ce soir",
    "les nausées du matin",
]


def _data():
    texts = POSITIVE + NEGATIVE
    labels = [1] * 6 + [0] * 6
    groups = [f"t{i % 4}" for i in range(12)]
    return texts, labels, groups


@pytest.mark.parametrize("kind", ["logreg", "svm"])
def test_fit_chooses_c_by_grouped_cv_and_learns_the_training_data(kind):
    texts, labels, groups = _data()
    model, record = fit(kind, texts, labels, groups, c_grid=[1.0, 10.0], folds=4, seed=1)
    assert record["best_C"] in (1.0, 10.0) and record["folds"] == 4
    assert (record["n_train"], record["n_positive"]) == (12, 6)
    assert list(model.predict(texts)) == labels


def test_one_class_training_data_is_refused():
    with pytest.raises(InputError, match="only one class"):
        fit("logreg", ["a", "b", "c"], [0, 0, 0], ["t1", "t2", "t3"], [1.0], 2, 1)


def test_data_hash_ignores_order_but_not_content():
    assert data_hash(["a", "b"], ["x", "y"], [0, 1]) == data_hash(["b", "a"], ["y", "x"], [1, 0])
    assert data_hash(["a", "b"], ["x", "y"], [0, 1]) != data_hash(["a", "b"], ["x", "y"], [1, 1])


def test_classify_with_a_trained_model_prefix(tmp_path, capsys):
    texts, labels, groups = _data()
    for label in ("iso_t1", "nsaid_late"):
        model, record = fit("logreg", texts, labels, groups, [10.0], 4, 1)
        save(model, record, tmp_path / f"logreg_{label}.joblib", tmp_path / f"logreg_{label}.json")
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps({"post_id": i, "text": t}) for i, t in enumerate(texts)) + "\n")
    code = main(
        ["classify", "--model", str(tmp_path / "logreg"), "--input", str(posts), "--output", str(tmp_path / "out.csv")]
    )
    assert code == 0
    rows = (tmp_path / "out.csv").read_text().splitlines()
    assert rows[0] == "post_id,iso_t1,nsaid_late,iso_t1_evidence,nsaid_late_evidence"
    assert [r.split(",")[2] for r in rows[1:]] == [str(v) for v in labels]
    assert (
        main(
            [
                "classify",
                "--model",
                str(tmp_path / "missing"),
                "--input",
                str(posts),
                "--output",
                str(tmp_path / "o.csv"),
            ]
        )
        == 2
    )
    assert "missing_iso_t1.joblib does not exist" in capsys.readouterr().err
