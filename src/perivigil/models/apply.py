"""Apply the rule system to the whole corpus: counts, corrected prevalence, characterisation tables.

Study protocol §6: the prevalence of each situation in the corpus is corrected for the
classifier's sensitivity and specificity (Rogan–Gladen). Its 95 % interval carries the
uncertainty of both: each bootstrap replicate draws threads of the test split (giving
Se*, Sp*) and threads of the corpus (giving the apparent prevalence p*), and computes
RG(p*, Se*, Sp*); the interval is the replicates' 2.5 and 97.5 percentiles. The
characterisation tables describe the posts labelled positive through the mentions that
make them positive (drug, gestational age, person).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from perivigil.evaluation import cluster_counts, resampled_sums, rogan_gladen
from perivigil.models import LABELS
from perivigil.report.figures import write_csv

AGE_BINS = [0, 14, 24, 28, 32, 36, 45]
AGE_NAMES = ["<= 14 SA", "15-23 SA", "24-27 SA", "28-31 SA", "32-35 SA", ">= 36 SA"]
NO_AGE = "trimester or cue only"


def corpus_labels(mentions: pd.DataFrame, post_ids: pd.Series) -> pd.DataFrame:
    """post_id → iso_t1, nsaid_late (0/1) from the mentions' ``supports_*`` flags (posts without mention: 0)."""
    flags = mentions.groupby("post_id")[["supports_iso_t1", "supports_nsaid_late"]].any()
    frame = pd.DataFrame({"post_id": post_ids})
    frame = frame.merge(flags, left_on="post_id", right_index=True, how="left").fillna(False)
    return frame.rename(columns={"supports_iso_t1": "iso_t1", "supports_nsaid_late": "nsaid_late"}).astype(
        {"iso_t1": int, "nsaid_late": int})


def corrected_prevalence(predicted: np.ndarray, threads: np.ndarray, test_truth: np.ndarray,
                         test_predicted: np.ndarray, test_threads: np.ndarray, n_boot: int,
                         seed: int) -> dict[str, float]:
    """Apparent and Rogan–Gladen prevalence, with a bootstrap interval carrying Se, Sp and sampling."""
    rng = np.random.default_rng(seed)
    test_counts = cluster_counts(test_truth, test_predicted, test_threads)
    tp, fp, fn, tn = test_counts.sum(axis=0)
    sensitivity, specificity = tp / (tp + fn), tn / (tn + fp)
    corpus = np.stack([pd.Series(predicted).groupby(threads).sum().to_numpy(),
                       pd.Series(predicted).groupby(threads).size().to_numpy()], axis=1).astype(float)
    (test_sums,) = resampled_sums([test_counts], n_boot, rng)
    (corpus_sums,) = resampled_sums([corpus], n_boot, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = test_sums[:, 0] / (test_sums[:, 0] + test_sums[:, 2])
        sp = test_sums[:, 3] / (test_sums[:, 3] + test_sums[:, 1])
    replicates = np.array([rogan_gladen(p, n, s, q) for (p, n), s, q in zip(corpus_sums, se, sp)])
    replicates = replicates[np.isfinite(replicates)]
    low, high = (np.quantile(replicates, [0.025, 0.975]) if len(replicates) else (np.nan, np.nan))
    positives, n = float(predicted.sum()), float(len(predicted))
    return {"posts": int(n), "positives": int(positives), "apparent_prevalence": positives / n,
            "sensitivity": float(sensitivity), "specificity": float(specificity),
            "corrected_prevalence": rogan_gladen(positives, n, sensitivity, specificity),
            "ci_low": float(low), "ci_high": float(high), "valid_replicates": int(len(replicates))}


def apply_rules(posts_path: Path, mentions_path: Path, predictions_path: Path, settings: Mapping[str, Any],
                outputs) -> pd.DataFrame:
    posts = pd.read_parquet(posts_path, columns=["post_id", "thread_id", "board", "created_at"])
    mentions = pd.read_parquet(mentions_path)
    labels = corpus_labels(mentions, posts["post_id"]).merge(posts, on="post_id")
    test = pd.read_csv(predictions_path, dtype={"post_id": str, "thread_id": str})
    rows = []
    for label in LABELS:
        result = corrected_prevalence(labels[label].to_numpy(), labels["thread_id"].to_numpy(),
                                      test[label].to_numpy(), test[f"rules_{label}"].to_numpy(),
                                      test["thread_id"].to_numpy(), settings["n_boot"], settings["seed"])
        rows.append({"model": "rules", "label": label, **result})
    prevalence = pd.DataFrame(rows)
    write_csv(prevalence, outputs.prevalence)
    month = labels["created_at"].dt.strftime("%Y-%m")
    counts = (labels.assign(month=month).groupby(["board", "month"])[list(LABELS)].sum().reset_index())
    write_csv(counts[(counts["iso_t1"] > 0) | (counts["nsaid_late"] > 0)], outputs.by_board_month)
    supporting = []
    for label in LABELS:
        chosen = mentions[mentions[f"supports_{label}"]].drop_duplicates(["post_id", "inn"])
        supporting.append(chosen.assign(label=label))
    support = pd.concat(supporting, ignore_index=True)
    drugs = support.groupby(["label", "inn"])["post_id"].nunique().rename("posts").reset_index()
    write_csv(drugs.sort_values(["label", "posts", "inn"], ascending=[True, False, True]), outputs.drugs)
    first = support.drop_duplicates(["label", "post_id"])
    bins = pd.cut(first["gestational_age_sa"], AGE_BINS, labels=AGE_NAMES, right=False)
    ages = first.assign(gestational_age=bins.cat.add_categories([NO_AGE]).fillna(NO_AGE).astype(str))
    write_csv(ages.groupby(["label", "gestational_age"])["post_id"].nunique().rename("posts").reset_index(),
              outputs.ages)
    people = support.drop_duplicates(["label", "post_id"]).groupby(["label", "person"])["post_id"].nunique()
    write_csv(people.rename("posts").reset_index(), outputs.people)
    return prevalence
