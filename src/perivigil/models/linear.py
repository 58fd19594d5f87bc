"""Linear baselines on word and character n-grams (study protocol §6, baseline b).

Each model is a scikit-learn ``Pipeline``: a ``FeatureUnion`` of TF-IDF on word 1–2-grams
and on character 2–5-grams within word boundaries (robust to forum spelling), then either
a logistic regression or a linear SVM calibrated by Platt scaling
(``CalibratedClassifierCV``, sigmoid). Class imbalance is handled by
``class_weight="balanced"``. The regularisation ``C`` is chosen by grouped
cross-validation inside the training split only (``GroupKFold`` over threads, F1), so
that no thread is seen on both sides of a fold. Every random draw takes its seed from
config. A saved model carries its parameters and the SHA-256 of its training data.

Applying the models (:class:`LabelModels`): each label has its own saved pipeline, but
pipelines fitted on the same training texts hold the same fitted vectoriser, and the
vectoriser is nearly all the cost of a prediction (the character n-grams: 99.5 % of the
CPU time on the demo models). Texts are therefore transformed once per distinct
vectoriser, and each label's classifier reads the shared features: its probability
(``predict_proba``) and its decision (its own ``predict`` on the same features, so that
labels are those of ``Pipeline.predict`` bit for bit, ties included). Two vectorisers are
the same when their fitted state is (:func:`fitted_state_digest`); otherwise each label
keeps its own transform.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from perivigil.errors import InputError
from perivigil.files import check_input_file

KINDS = ("logreg", "svm")


def features() -> FeatureUnion:
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    lowercase=True, strip_accents="unicode", ngram_range=(1, 2), min_df=2, sublinear_tf=True
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    lowercase=True,
                    strip_accents="unicode",
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=2,
                    sublinear_tf=True,
                ),
            ),
        ]
    )


def build_pipeline(kind: str, seed: int) -> Pipeline:
    """The untrained pipeline of a linear model (``logreg`` or ``svm``)."""
    if kind == "logreg":
        classifier = LogisticRegression(class_weight="balanced", max_iter=5000, random_state=seed)
    elif kind == "svm":
        classifier = CalibratedClassifierCV(
            LinearSVC(class_weight="balanced", random_state=seed, max_iter=20000), method="sigmoid", cv=3
        )
    else:
        raise InputError(f"config: key 'models.linear': unknown model {kind!r}; expected one of {KINDS}")
    return Pipeline([("features", features()), ("classifier", classifier)])


def data_hash(post_ids: Sequence[str], texts: Sequence[str], labels: Sequence[int]) -> str:
    """SHA-256 of the training data (ids, texts and labels, in id order)."""
    digest = hashlib.sha256()
    for post_id, text, label in sorted(zip(post_ids, texts, labels)):
        digest.update(f"{post_id}\x1f{text}\x1f{label}\x1e".encode())
    return digest.hexdigest()


def fit(
    kind: str,
    texts: Sequence[str],
    labels: Sequence[int],
    groups: Sequence[str],
    c_grid: Sequence[float],
    folds: int,
    seed: int,
) -> tuple[Pipeline, dict[str, Any]]:
    """Fit with ``C`` chosen by grouped CV (F1) inside the training data; return the model and its record."""
    y = np.asarray(labels, int)
    if y.min() == y.max():
        raise InputError(f"training data of {kind}: only one class ({y[0]}): nothing to learn")
    parameter = "classifier__C" if kind == "logreg" else "classifier__estimator__C"
    n_groups = len(set(groups))
    search = GridSearchCV(
        build_pipeline(kind, seed),
        {parameter: list(c_grid)},
        scoring="f1",
        cv=GroupKFold(n_splits=min(folds, n_groups)),
        n_jobs=1,
        error_score=0.0,
    )
    search.fit(list(texts), y, groups=list(groups))
    record = {
        "kind": kind,
        "best_C": float(search.best_params_[parameter]),
        "cv_f1": float(search.best_score_),
        "c_grid": [float(c) for c in c_grid],
        "folds": int(min(folds, n_groups)),
        "seed": seed,
        "n_train": int(len(y)),
        "n_positive": int(y.sum()),
    }
    return search.best_estimator_, record


def save(model: Pipeline, record: Mapping[str, Any], model_path: Path, record_path: Path) -> None:
    model_path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_path)
    record_path.write_text(json.dumps(dict(record), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load(path: Path) -> Pipeline:
    """A model saved by :func:`save`; a missing, truncated or foreign file is a one-line error."""
    path = check_input_file(path, "model file")
    try:
        model = joblib.load(path)
    except Exception as exc:  # unpickling a damaged file raises anything from EOFError to KeyError
        reason = str(exc).splitlines()[0] if str(exc) else "damaged or truncated file"
        raise InputError(f"{path}: cannot load the model ({type(exc).__name__}: {reason})") from None
    if not (hasattr(model, "predict") and hasattr(model, "predict_proba")):
        raise InputError(f"{path}: holds a {type(model).__name__}, not a model saved by the rule train")
    return model


# Attributes of a fitted estimator that record an object's identity, not its state: scikit-learn's
# vectorisers keep ``id(stop_words)`` only to skip a repeated consistency warning.
IDENTITY_ONLY = frozenset({"_stop_words_id"})


def _state(value: Any) -> Any:
    """A picklable image of ``value``'s fitted state, without identity-only attributes."""
    if isinstance(value, BaseEstimator):
        attributes = {key: _state(item) for key, item in sorted(vars(value).items()) if key not in IDENTITY_ONLY}
        return (type(value).__module__, type(value).__qualname__, attributes)
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [_state(item) for item in value]
    if isinstance(value, dict):
        return {key: _state(item) for key, item in value.items()}
    return value


def fitted_state_digest(estimator: Any) -> str:
    """SHA-1 of an estimator's parameters and fitted state (vocabulary, idf, ...): equal digests,
    equal transforms. Dictionaries are hashed in key order (joblib's hasher)."""
    return joblib.hash(_state(estimator), hash_name="sha1")


def _check_binary(label: str, classifier: Any) -> None:
    classes = getattr(classifier, "classes_", None)
    if classes is not None and [int(c) for c in classes] != [0, 1]:
        raise InputError(f"model of {label}: classes {list(classes)}, expected [0, 1]")


class LabelModels:
    """The models of several labels applied together to the same texts.

    Scikit-learn pipelines whose steps before the classifier have the same fitted state share
    one transform per batch; any other model (the transformer) is called once per batch, for
    its probabilities, its labels coming from them (``labels_from_scores``) when it says how.
    """

    def __init__(self, models: Mapping[str, Any]) -> None:
        self.labels = list(models)
        self.groups: list[tuple[Any, list[tuple[str, Any]]]] = []  # (shared features or None, [(label, model)])
        by_state: dict[str, int] = {}
        for label, model in models.items():
            if isinstance(model, Pipeline) and len(model.steps) > 1:
                _check_binary(label, model.steps[-1][1])
                features = model[:-1]
                key = fitted_state_digest(features)
                if key not in by_state:
                    by_state[key] = len(self.groups)
                    self.groups.append((features, []))
                self.groups[by_state[key]][1].append((label, model.steps[-1][1]))
            else:
                self.groups.append((None, [(label, model)]))

    @property
    def transforms(self) -> int:
        """How many times each text is transformed (or read by a model)."""
        return len(self.groups)

    def predict(self, texts: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """label → (0/1 labels, P(label = 1)) of ``texts``, in order."""
        texts = list(texts)
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for features, members in self.groups:
            if not texts:
                out.update({label: (np.zeros(0, int), np.zeros(0)) for label, _ in members})
                continue
            if features is None:
                ((label, model),) = members
                scores = np.asarray(model.predict_proba(texts))[:, 1]
                decide = getattr(model, "labels_from_scores", None)
                labels = decide(scores) if decide is not None else model.predict(texts)
                out[label] = (np.asarray(labels).astype(int), scores)
                continue
            matrix = features.transform(texts)
            for label, classifier in members:
                scores = np.asarray(classifier.predict_proba(matrix))[:, 1]
                out[label] = (np.asarray(classifier.predict(matrix)).astype(int), scores)
        return {label: out[label] for label in self.labels}

    def predict_batches(self, batches: Iterable[Sequence[str]]) -> Iterator[dict[str, tuple[np.ndarray, np.ndarray]]]:
        """:meth:`predict` of each batch of texts, in turn (memory: one batch)."""
        for texts in batches:
            yield self.predict(texts)
