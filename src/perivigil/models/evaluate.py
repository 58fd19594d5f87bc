"""Run the split and the evaluation of the rule system from the configuration (files in, files out)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from perivigil.evaluation import METRICS, metric_intervals
from perivigil.extract.run import extractor_from_config, thresholds_from_config
from perivigil.models.rules import decide
from perivigil.report.figures import write_csv, write_latex
from perivigil.schemas import METRICS_TABLE, SPLIT, check
from perivigil.split import check_no_leak, split_gold

LABELS = ("iso_t1", "nsaid_late")


def gold_labels(gold: pd.DataFrame) -> pd.DataFrame:
    """post_id, iso_t1, nsaid_late (0/1) for the posts whose two labels are decided."""
    wide = gold[gold["label"].isin(LABELS)].pivot(index="post_id", columns="label", values="value")
    return wide.dropna().astype(int).reset_index()[["post_id", *LABELS]]


def make_split(gold_path: Path, posts_path: Path, section: Mapping[str, Any], output: Path) -> pd.DataFrame:
    posts = pd.read_parquet(posts_path, columns=["post_id", "thread_id", "duplicate_of", "near_duplicate_of"])
    split = split_gold(gold_labels(pd.read_parquet(gold_path)), posts, section["test_fraction"], section["seed"])
    check_no_leak(split)
    write_csv(check(SPLIT, split, str(output)), output)
    return split


def evaluate_rules(split_path: Path, posts_path: Path, lexicon_path: Path, config: Mapping[str, Any],
                   metrics_path: Path, latex_path: Path, predictions_path: Path) -> pd.DataFrame:
    """Metrics of the rule system on the test split, with cluster-bootstrap (threads) BCa intervals."""
    split = pd.read_csv(split_path, dtype={"post_id": str, "thread_id": str})
    test = split[split["split"] == "test"]
    posts = pd.read_parquet(posts_path, columns=["post_id", "text"]).set_index("post_id")
    extractor = extractor_from_config(config, pd.read_parquet(lexicon_path))
    thresholds = thresholds_from_config(config)
    decisions = [decide(extractor.extract(posts.loc[p, "text"]), thresholds) for p in test["post_id"]]
    predictions = test[["post_id", "thread_id", *LABELS]].assign(
        pred_iso_t1=[d.iso_t1 for d in decisions], pred_nsaid_late=[d.nsaid_late for d in decisions])
    write_csv(predictions, predictions_path)
    rows = []
    settings = config["evaluation"]
    for label in LABELS:
        intervals = metric_intervals(predictions[label], predictions[f"pred_{label}"], predictions["thread_id"],
                                     settings["n_boot"], settings["seed"])
        for metric in METRICS:
            interval = intervals[metric]
            rows.append({"model": "rules", "label": label, "metric": metric, "estimate": interval.estimate,
                         "ci_low": interval.low, "ci_high": interval.high, "n": len(predictions),
                         "ci_method": interval.method, "ci_note": interval.reason})
    table = check(METRICS_TABLE, pd.DataFrame(rows), str(metrics_path))
    write_csv(table, metrics_path)
    shown = table[table["metric"].isin(["precision", "recall", "f1", "specificity"])].copy()
    shown["95% CI"] = [f"[{lo:.2f}, {hi:.2f}]" for lo, hi in zip(shown["ci_low"], shown["ci_high"])]
    write_latex(shown[["model", "label", "metric", "estimate", "95% CI"]], latex_path,
                caption="Performance on the test split (95% cluster-bootstrap BCa intervals over threads).",
                label="tab:metrics")
    return table
