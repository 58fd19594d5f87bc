"""Linear baselines: grouped-CV fit, the record of a saved model, several labels' models applied together, and
classify with a trained model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from perivigil.cli import main
from perivigil.errors import InputError
from perivigil.models.classify import classify_jsonl_with_models
from perivigil.models.linear import LabelModels, data_hash, fit, fitted_state_digest, save

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


# ----------------------------------------------------------------------------- applying several labels' models
UNSEEN = ["advil pris à 29 SA", "idées de prénoms pour une fille", "nurofen", "rien à voir", ""]


def _count_transforms(monkeypatch) -> list[int]:
    """The number of texts of each FeatureUnion.transform call (the vectoriser's work)."""
    from sklearn.pipeline import FeatureUnion

    calls: list[int] = []
    original = FeatureUnion.transform

    def counted(self, X, **params):
        calls.append(len(X))
        return original(self, X, **params)

    monkeypatch.setattr(FeatureUnion, "transform", counted)
    return calls


def _naive(models, texts):
    """What each label's pipeline gives on its own: its transform for predict and again for predict_proba."""
    return {label: (model.predict(texts), model.predict_proba(texts)[:, 1]) for label, model in models.items()}


def test_models_fitted_on_the_same_texts_share_one_transform_and_give_the_same_labels(monkeypatch):
    texts, labels, groups = _data()
    models = {
        "iso_t1": fit("logreg", texts, labels, groups, [10.0], 4, 1)[0],
        "nsaid_late": fit("svm", texts, labels[::-1], groups, [1.0], 4, 1)[0],
    }
    # a model trained in another process records another id(stop_words): not a difference of state
    models["nsaid_late"].named_steps["features"].transformer_list[0][1]._stop_words_id = 12345
    predictor = LabelModels(models)
    assert predictor.transforms == 1
    new = texts + UNSEEN
    expected = _naive(models, new)
    calls = _count_transforms(monkeypatch)
    result = predictor.predict(new)
    assert calls == [len(new)]
    for label in models:
        assert result[label][0].tolist() == expected[label][0].tolist()
        assert np.array_equal(result[label][1], expected[label][1])  # bit for bit
    assert result["iso_t1"][0].tolist()[:12] == labels and result["nsaid_late"][0].tolist()[:12] == labels[::-1]


def test_models_with_different_vectorisers_keep_their_own_transform(monkeypatch):
    texts, labels, groups = _data()
    more = texts + ["paracétamol et spasfon", "spasfon à 20 SA"]
    models = {
        "iso_t1": fit("logreg", texts, labels, groups, [10.0], 4, 1)[0],
        "nsaid_late": fit("logreg", more, labels + [0, 0], groups + ["t0", "t1"], [10.0], 4, 1)[0],
    }
    assert fitted_state_digest(models["iso_t1"][:-1]) != fitted_state_digest(models["nsaid_late"][:-1])
    predictor = LabelModels(models)
    assert predictor.transforms == 2
    new = more + UNSEEN
    expected = _naive(models, new)
    calls = _count_transforms(monkeypatch)
    batches = list(predictor.predict_batches([new[:5], new[5:]]))
    assert calls == [5, 5, len(new) - 5, len(new) - 5]
    for label in models:
        assert np.concatenate([b[label][0] for b in batches]).tolist() == expected[label][0].tolist()
        assert np.array_equal(np.concatenate([b[label][1] for b in batches]), expected[label][1])


def test_a_model_that_only_scores_is_called_once_per_batch():
    class Scorer:  # the transformer's interface: probabilities, and labels from them
        calls = 0

        def predict_proba(self, texts):
            self.calls += 1
            scores = np.array([0.5 if "advil" in t else 0.25 for t in texts])
            return np.stack([1 - scores, scores], axis=1)

        @staticmethod
        def labels_from_scores(scores):
            return (scores >= 0.5).astype(int)

        def predict(self, texts):
            raise AssertionError("predict would run the model a second time")

    scorer = Scorer()
    result = LabelModels({"iso_t1": scorer}).predict(["advil", "rien"])
    assert scorer.calls == 1
    assert result["iso_t1"][0].tolist() == [1, 0] and result["iso_t1"][1].tolist() == [0.5, 0.25]


def test_classify_with_models_streams_batches_and_writes_what_each_model_says(tmp_path):
    texts, labels, groups = _data()
    models = {
        "iso_t1": fit("logreg", texts, labels[::-1], groups, [10.0], 4, 1),
        "nsaid_late": fit("logreg", texts, labels, groups, [10.0], 4, 1),
    }
    for label, (model, record) in models.items():
        save(model, record, tmp_path / f"logreg_{label}.joblib", tmp_path / f"logreg_{label}.json")
    new = texts + UNSEEN
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps({"post_id": f"p{i}", "text": t}) for i, t in enumerate(new)) + "\n")
    counts = classify_jsonl_with_models(posts, tmp_path / "out.csv", tmp_path / "logreg", batch_size=5)
    naive = _naive({label: model for label, (model, _) in models.items()}, new)
    expected = ["post_id,iso_t1,nsaid_late,iso_t1_evidence,nsaid_late_evidence"] + [
        f"p{i},{naive['iso_t1'][0][i]},{naive['nsaid_late'][0][i]},"
        f"p={naive['iso_t1'][1][i]:.3f},p={naive['nsaid_late'][1][i]:.3f}"
        for i in range(len(new))
    ]
    assert (tmp_path / "out.csv").read_text().splitlines() == expected
    assert counts == {
        "posts": 17,
        "iso_t1": int(naive["iso_t1"][0].sum()),
        "nsaid_late": int(naive["nsaid_late"][0].sum()),
    }
    # a bad line after the first batches: an error naming it, and no output at all
    posts.write_text(posts.read_text() + '{"post_id": "p99"}\n')
    with pytest.raises(InputError, match=r"line 18: field 'text' is missing"):
        classify_jsonl_with_models(posts, tmp_path / "bad.csv", tmp_path / "logreg", batch_size=5)
    assert not (tmp_path / "bad.csv").exists()
