"""Model diagnostics on the test split: calibration curves, learning curves, error analysis.

- Calibration: observed frequency against mean predicted probability in quantile bins
  (scikit-learn ``calibration_curve``), for each trained model and label.
- Learning curve: each linear model refitted (its chosen ``C``) on growing shares of the
  training *threads* (seeded), F1 on the fixed test split, to plan the annotation budget.
- Error analysis: the rule system's false positives and false negatives on the test split,
  with the evidence it used (or the mentions it saw), for the supervisors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import f1_score

from perivigil.models import LABELS
from perivigil.models.linear import KINDS, build_pipeline
from perivigil.report.figures import save_figure, write_csv
from perivigil.schemas import CALIBRATION, ERROR_ANALYSIS, LEARNING_CURVE, check

FRACTIONS = (0.25, 0.5, 0.75, 1.0)


def calibration_table(predictions: pd.DataFrame, models: list[str], bins: int = 5) -> pd.DataFrame:
    rows = []
    for model in models:
        for label in LABELS:
            score = predictions.get(f"{model}_{label}_score")
            if score is None or predictions[label].nunique() < 2:
                continue
            observed, predicted = calibration_curve(predictions[label], score, n_bins=bins, strategy="quantile")
            rows += [
                {"model": model, "label": label, "bin": i + 1, "mean_predicted": p, "observed": o}
                for i, (p, o) in enumerate(zip(predicted, observed))
            ]
    return pd.DataFrame(rows, columns=["model", "label", "bin", "mean_predicted", "observed"])


def learning_table(
    split: pd.DataFrame, texts: dict[str, str], records: Mapping[str, Mapping[str, Any]], seed: int
) -> pd.DataFrame:
    train, test = split[split["split"] == "train"], split[split["split"] == "test"]
    threads = np.array(sorted(train["thread_id"].unique()))
    order = np.random.default_rng(seed).permutation(threads)
    rows = []
    for _key, record in sorted(records.items()):
        kind, label = record["kind"], record["label"]
        if kind not in KINDS:  # refitting a transformer four times per label is not a diagnostic's job
            continue
        for fraction in FRACTIONS:
            chosen = set(order[: max(2, int(round(fraction * len(order))))])
            part = train[train["thread_id"].isin(chosen)]
            f1 = float("nan")
            if part[label].nunique() == 2:
                model = build_pipeline(kind, record["seed"])
                model.set_params(
                    **(
                        {"classifier__C": record["best_C"]}
                        if kind == "logreg"
                        else {"classifier__estimator__C": record["best_C"]}
                    )
                )
                model.fit([texts[p] for p in part["post_id"]], part[label])
                f1 = float(f1_score(test[label], model.predict([texts[p] for p in test["post_id"]]), zero_division=0))
            rows.append(
                {"model": kind, "label": label, "train_fraction": fraction, "train_posts": len(part), "test_f1": f1}
            )
    return pd.DataFrame(rows, columns=["model", "label", "train_fraction", "train_posts", "test_f1"])


def error_table(
    predictions: pd.DataFrame, texts: dict[str, str], decisions: pd.DataFrame, events: pd.DataFrame
) -> pd.DataFrame:
    """The rule system's errors on the test split, with its evidence and every event it read in the post
    (from ``decisions.parquet`` and ``mentions.parquet``: nothing is extracted again)."""
    evidence = {(r.post_id, r.label): r.evidence for r in decisions.itertuples(index=False)}
    seen_by_post: dict[str, list[str]] = {}
    for event in events.itertuples(index=False):
        age = event.gestational_age_text if isinstance(event.gestational_age_text, str) else "no age"
        seen_by_post.setdefault(event.post_id, []).append(
            f"{event.inn} ({event.status}, {event.person}, {event.timing}, {age})"
        )
    rows = []
    for label in LABELS:
        wrong = predictions[predictions[label] != predictions[f"rules_{label}"]]
        for row in wrong.itertuples(index=False):
            rows.append(
                {
                    "label": label,
                    "error": "false positive" if getattr(row, label) == 0 else "false negative",
                    "post_id": row.post_id,
                    "text": texts[row.post_id][:300],
                    "evidence": evidence.get((row.post_id, label), ""),
                    "mentions_seen": "; ".join(seen_by_post.get(row.post_id, [])),
                }
            )
    return pd.DataFrame(rows, columns=["label", "error", "post_id", "text", "evidence", "mentions_seen"])


def figures(calibration: pd.DataFrame, learning: pd.DataFrame) -> tuple[Figure, Figure]:
    cal = Figure(figsize=(6.5, 3))
    axes = cal.subplots(1, 2, sharey=True)
    for ax, label in zip(axes, LABELS):
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
        for model, part in calibration[calibration["label"] == label].groupby("model"):
            ax.plot(part["mean_predicted"], part["observed"], "o-", label=model)
        ax.set_title(label)
        ax.set_xlabel("mean predicted probability")
    axes[0].set_ylabel("observed frequency")
    axes[0].legend(frameon=False, fontsize="small")
    lrn = Figure(figsize=(6.5, 3))
    axes = lrn.subplots(1, 2, sharey=True)
    for ax, label in zip(axes, LABELS):
        for model, part in learning[learning["label"] == label].groupby("model"):
            ax.plot(part["train_posts"], part["test_f1"], "o-", label=model)
        ax.set_title(label)
        ax.set_xlabel("training posts")
    axes[0].set_ylabel("F1 on the test split")
    axes[0].legend(frameon=False, fontsize="small")
    return cal, lrn


def write_diagnostics(
    split_path: Path | str,
    posts_path: Path | str,
    predictions_path: Path | str,
    decisions_path: Path | str,
    mentions_path: Path | str,
    record_paths: list[str],
    seed: int,
    *,
    calibration_path: Path | str,
    learning_path: Path | str,
    errors_path: Path | str,
) -> None:
    """The calibration, learning-curve and error-analysis tables (``seed``: the learning curve's
    order of training threads, config ``evaluation.seed``)."""
    split = pd.read_csv(split_path, dtype={"post_id": str, "thread_id": str})
    predictions = pd.read_csv(predictions_path, dtype={"post_id": str, "thread_id": str})
    posts = pd.read_parquet(posts_path, columns=["post_id", "text"])
    texts = dict(zip(posts["post_id"], posts["text"]))
    records = {Path(p).stem: json.loads(Path(p).read_text(encoding="utf-8")) for p in record_paths}
    models = sorted({r["kind"] for r in records.values()})
    calibration = calibration_table(predictions, models)
    learning = learning_table(split, texts, records, seed)
    write_csv(check(CALIBRATION, calibration, str(calibration_path)), calibration_path)
    write_csv(check(LEARNING_CURVE, learning, str(learning_path)), learning_path)
    test_ids = set(predictions["post_id"])
    decisions = pd.read_parquet(decisions_path)
    events = pd.read_parquet(
        mentions_path, columns=["post_id", "inn", "status", "person", "timing", "gestational_age_text"]
    )
    errors = error_table(
        predictions, texts, decisions[decisions["post_id"].isin(test_ids)], events[events["post_id"].isin(test_ids)]
    )
    write_csv(check(ERROR_ANALYSIS, errors, str(errors_path)), errors_path)


def write_diagnostic_figures(
    calibration_path: Path | str,
    learning_path: Path | str,
    *,
    calibration: tuple[Path | str, Path | str],
    learning: tuple[Path | str, Path | str],
) -> None:
    """The calibration and learning-curve figures (PNG and PDF each), drawn from the tables as written."""
    cal, lrn = figures(
        check(CALIBRATION, pd.read_csv(calibration_path), str(calibration_path)),
        check(LEARNING_CURVE, pd.read_csv(learning_path), str(learning_path)),
    )
    save_figure(cal, *calibration)
    save_figure(lrn, *learning)
