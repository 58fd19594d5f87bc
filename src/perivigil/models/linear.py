"""Linear baselines on word and character n-grams (study protocol §6, baseline b).

Each model is a scikit-learn ``Pipeline``: a ``FeatureUnion`` of TF-IDF on word 1–2-grams
and on character 2–5-grams within word boundaries (robust to forum spelling), then either
a logistic regression or a linear SVM calibrated by Platt scaling
(``CalibratedClassifierCV``, sigmoid). Class imbalance is handled by
``class_weight="balanced"``. The regularisation ``C`` is chosen by grouped
cross-validation inside the training split only (``GroupKFold`` over threads, F1), so
that no thread is seen on both sides of a fold. Every random draw takes its seed from
config. A saved model carries its parameters and the SHA-256 of its training data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
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
    labels = np.asarray(labels, int)
    if labels.min() == labels.max():
        raise InputError(f"training data of {kind}: only one class ({labels[0]}): nothing to learn")
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
    search.fit(list(texts), labels, groups=list(groups))
    record = {
        "kind": kind,
        "best_C": float(search.best_params_[parameter]),
        "cv_f1": float(search.best_score_),
        "c_grid": [float(c) for c in c_grid],
        "folds": int(min(folds, n_groups)),
        "seed": seed,
        "n_train": int(len(labels)),
        "n_positive": int(labels.sum()),
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
