"""The optional transformer: fine-tuning, saving and loading, on a tiny randomly initialised model.

No weights can be downloaded here: each test builds a 1-layer BERT with a word-level
vocabulary of the test sentences (``save_pretrained`` into a temporary directory), the
same layout as a local CamemBERT or DrBERT directory. Needs the ``transformer`` extra
(``make transformer``; CI installs it); skipped without it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the transformer extra is not installed (make transformer)")
transformers = pytest.importorskip("transformers")

from conftest import build_tiny_bert  # noqa: E402

from perivigil.errors import InputError  # noqa: E402
from perivigil.models.store import load_model  # noqa: E402
from perivigil.models.transformer import TransformerClassifier, class_weights, fine_tune, load_base, save  # noqa: E402

POSITIVE = [
    "j'ai pris un advil à 30 sa",
    "nurofen avalé à 32 sa",
    "ibuprofène à 35 sa pour le dos",
    "advil à 28 sa migraine",
    "un nurofen à 33 sa",
    "ibuprofène pris à 31 sa",
]
NEGATIVE = [
    "doliprane à 30 sa pour la tête",
    "des idées de prénoms",
    "valise de maternité faite",
    "paracétamol à 32 sa",
    "bébé bouge beaucoup ce soir",
    "les nausées du matin",
]
TEXTS = POSITIVE + NEGATIVE
LABELS = [1] * 6 + [0] * 6
GROUPS = [f"t{i}" for i in range(12)]


@pytest.fixture(scope="module")
def base_model(tmp_path_factory) -> Path:
    """A tiny, randomly initialised BERT with a word-level vocabulary, saved like a local model."""
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), TEXTS)


def _settings(path: Path) -> dict:
    return {
        "path": str(path),
        "device": "cpu",
        "epochs": 12,
        "batch_size": 4,
        "max_length": 32,
        "learning_rate": 5e-3,
        "weight_decay": 0.0,
        "validation_fraction": 0.25,
    }


def test_class_weights_are_sklearn_balanced():
    # n / (2 n_c): 8 posts, 2 positive -> 8 / 12 and 8 / 4.
    assert class_weights(np.array([0, 0, 0, 0, 0, 0, 1, 1])).tolist() == pytest.approx([2 / 3, 2.0])


def test_fine_tuning_learns_and_keeps_the_best_held_out_epoch(base_model):
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedGroupKFold

    model, tokenizer, record = fine_tune(TEXTS, LABELS, GROUPS, _settings(base_model), seed=7)
    history = record["history"]
    assert len(history) == 12 and history[-1]["train_loss"] < history[0]["train_loss"]
    assert (record["n_train"], record["n_positive"], record["n_validation"]) == (12, 6, 3)
    best = max(history, key=lambda h: h["validation_f1"])  # the first best epoch is kept
    assert (record["best_epoch"], record["validation_f1"]) == (best["epoch"], best["validation_f1"])
    # the returned weights are that epoch's: their F1 on the held-out threads is the recorded one
    _, held = next(StratifiedGroupKFold(n_splits=4, shuffle=True, random_state=7).split(TEXTS, LABELS, GROUPS))
    classifier = TransformerClassifier(model, tokenizer, record, "cpu")
    predicted = classifier.predict([TEXTS[i] for i in held])
    assert f1_score([LABELS[i] for i in held], predicted, zero_division=0.0) == record["validation_f1"]


def test_same_seed_same_weights(base_model):
    first, _, _ = fine_tune(TEXTS, LABELS, GROUPS, {**_settings(base_model), "epochs": 2}, seed=3)
    second, _, _ = fine_tune(TEXTS, LABELS, GROUPS, {**_settings(base_model), "epochs": 2}, seed=3)
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), name


def test_saved_model_loads_and_predicts_the_same(base_model, tmp_path):
    model, tokenizer, record = fine_tune(TEXTS, LABELS, GROUPS, {**_settings(base_model), "epochs": 3}, seed=5)
    before = TransformerClassifier(model, tokenizer, record, "cpu")
    save(model, tokenizer, record, tmp_path / "transformer_nsaid_late", tmp_path / "transformer_nsaid_late.json")
    loaded = load_model(tmp_path / "transformer_nsaid_late")
    assert isinstance(loaded, TransformerClassifier)
    np.testing.assert_allclose(loaded.predict_proba(TEXTS), before.predict_proba(TEXTS), rtol=0, atol=1e-6)
    assert loaded.predict_proba(TEXTS).dtype == np.float64  # the predictions table's schema wants float64
    saved = json.loads((tmp_path / "transformer_nsaid_late.json").read_text())
    assert saved["base_model_sha256"] == record["base_model_sha256"]
    assert saved["best_epoch"] == record["best_epoch"]


def test_base_model_hash_covers_every_file(base_model, tmp_path):
    from perivigil.models.transformer import directory_sha256

    digest = directory_sha256(base_model)
    assert digest == directory_sha256(base_model)
    copy = tmp_path / "copy"
    copy.mkdir()
    for file in base_model.iterdir():
        (copy / file.name).write_bytes(file.read_bytes())
    assert directory_sha256(copy) == digest
    (copy / "vocab.txt").write_text("changed", encoding="utf-8")
    assert directory_sha256(copy) != digest
    assert len(digest) == len(hashlib.sha256().hexdigest())


def test_a_path_without_a_model_is_named(tmp_path):
    with pytest.raises(InputError, match=r"key 'models.transformer.path': .* holds no config.json"):
        load_base(tmp_path, seed=1)


def test_one_class_training_data_is_refused(base_model):
    with pytest.raises(InputError, match="only one class"):
        fine_tune(TEXTS[:3], [1, 1, 1], GROUPS[:3], _settings(base_model), seed=1)


def test_a_directory_that_is_not_a_fine_tuned_model_is_named(base_model):
    with pytest.raises(InputError, match="not a fine-tuned perivigil model"):
        TransformerClassifier.load(base_model, device="cpu")


@pytest.mark.filterwarnings("ignore:The least populated class")  # expected: one positive, four folds
def test_a_part_with_one_class_is_refused(base_model):
    # one positive among twelve posts: the held-out threads or the training ones lack it
    labels = [1] + [0] * 11
    with pytest.raises(InputError, match="threads hold one class only"):
        fine_tune(TEXTS, labels, GROUPS, {**_settings(base_model), "epochs": 1}, seed=1)


def test_the_held_out_threads_hold_both_classes(base_model):
    _, _, record = fine_tune(TEXTS, LABELS, GROUPS, {**_settings(base_model), "epochs": 1}, seed=3)
    assert record["n_validation"] == 3  # one fold of round(1 / 0.25) = 4 over 12 single-post threads


def test_truncated_weights_get_a_one_line_error(base_model, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for file in base_model.iterdir():
        (broken / file.name).write_bytes(file.read_bytes())
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(InputError) as caught:
        load_base(broken, seed=1)
    message = str(caught.value)
    assert message.startswith(f"{broken}: cannot load the transformer (") and "\n" not in message


def test_classify_reads_transformer_folders_and_scores_each_post_once(base_model, tmp_path, monkeypatch):
    from perivigil.models.classify import classify_jsonl_with_models

    model, tokenizer, record = fine_tune(TEXTS, LABELS, GROUPS, {**_settings(base_model), "epochs": 2}, seed=5)
    for label in ("iso_t1", "nsaid_late"):
        save(model, tokenizer, record, tmp_path / f"transformer_{label}", tmp_path / f"transformer_{label}.json")
    loaded = load_model(tmp_path / "transformer_iso_t1")
    expected_labels, expected_scores = loaded.predict(TEXTS), loaded.predict_proba(TEXTS)[:, 1]
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps({"post_id": i, "text": t}) for i, t in enumerate(TEXTS)) + "\n")
    calls = []
    original = TransformerClassifier.predict_proba
    monkeypatch.setattr(
        TransformerClassifier, "predict_proba", lambda self, texts: calls.append(len(texts)) or original(self, texts)
    )
    counts = classify_jsonl_with_models(posts, tmp_path / "out.csv", tmp_path / "transformer", batch_size=5)
    assert calls == [5, 5, 5, 5, 2, 2]  # one forward pass per label and batch: no second one for the labels
    rows = [line.split(",") for line in (tmp_path / "out.csv").read_text().splitlines()[1:]]
    assert [int(r[1]) for r in rows] == expected_labels.tolist() == [int(r[2]) for r in rows]
    assert [r[3] for r in rows] == [f"p={s:.3f}" for s in expected_scores]
    assert counts["posts"] == 12 and counts["iso_t1"] == int(expected_labels.sum())
