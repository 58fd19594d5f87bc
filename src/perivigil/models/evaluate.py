"""Run the split, the training of the linear models and the evaluation of every model (files in, files out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from perivigil.errors import InputError
from perivigil.evaluation import (
    auprc_interval,
    design_auprc_interval,
    design_metric_intervals,
    mcnemar_exact,
    metric_intervals,
    paired_f1_difference,
)
from perivigil.logs import Progress
from perivigil.models import LABELS
from perivigil.models.rules import labels_from_decisions
from perivigil.report.figures import write_csv, write_latex
from perivigil.schemas import COMPARISONS, METRICS_TABLE, PREDICTIONS, SPLIT, check
from perivigil.split import check_no_leak, split_gold


@dataclass(frozen=True)
class SplitSettings:
    """Config ``split``: the share of gold threads held out for the test, and the draw's seed."""

    test_fraction: float
    seed: int

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> SplitSettings:
        """From the validated config's ``split`` section."""
        return cls(float(section["test_fraction"]), int(section["seed"]))


@dataclass(frozen=True)
class LinearSettings:
    """Config ``models``: the C values tried by grouped cross-validation, its folds, its seed."""

    c_grid: tuple[float, ...]
    cv_folds: int
    seed: int

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> LinearSettings:
        """From the validated config's ``models`` section (or its keys ``c_grid``, ``cv_folds``, ``seed``)."""
        return cls(tuple(float(c) for c in section["c_grid"]), int(section["cv_folds"]), int(section["seed"]))


@dataclass(frozen=True)
class EvaluationSettings:
    """Config ``evaluation``: bootstrap replicates (metrics, AUPRC) and their seed."""

    n_boot: int
    n_boot_auprc: int
    seed: int

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> EvaluationSettings:
        """From the validated config's ``evaluation`` section."""
        return cls(int(section["n_boot"]), int(section["n_boot_auprc"]), int(section["seed"]))


def gold_labels(gold: pd.DataFrame) -> pd.DataFrame:
    """post_id, iso_t1, nsaid_late (0/1) for the posts whose two labels are decided."""
    wide = gold[gold["label"].isin(LABELS)].pivot(index="post_id", columns="label", values="value")
    return wide.dropna().astype(int).reset_index()[["post_id", *LABELS]]


def make_split(gold_path: Path, posts_path: Path, settings: SplitSettings, output: Path) -> pd.DataFrame:
    """Split the gold posts by thread into train and test (:func:`perivigil.split.split_gold`); write ``output``."""
    posts = pd.read_parquet(posts_path, columns=["post_id", "thread_id", "duplicate_of", "near_duplicate_of"])
    split = split_gold(gold_labels(pd.read_parquet(gold_path)), posts, settings.test_fraction, settings.seed)
    check_no_leak(split)
    write_csv(check(SPLIT, split, str(output)), output)
    return split


def _texts(posts_path: Path, post_ids) -> list[str]:
    posts = pd.read_parquet(posts_path, columns=["post_id", "text"]).set_index("post_id")
    return [posts.loc[p, "text"] for p in post_ids]


def _training_data(split_path: Path, posts_path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The training rows of the split and their texts, in the same order."""
    split = pd.read_csv(split_path, dtype={"post_id": str, "thread_id": str})
    train = split[split["split"] == "train"]
    return train, _texts(posts_path, train["post_id"])


def _training_hash(train: pd.DataFrame, texts: list[str], label: str) -> str:
    from perivigil.models.linear import data_hash

    return data_hash(train["post_id"].tolist(), texts, train[label].tolist())


def train_linear(
    split_path: Path,
    posts_path: Path,
    kind: str,
    label: str,
    settings: LinearSettings,
    model_path: Path,
    record_path: Path,
) -> dict[str, Any]:
    """Fit one linear model for one label on the training split; save it with its record."""
    from perivigil.models.linear import fit, save

    train, texts = _training_data(split_path, posts_path)
    progress = Progress(f"train {kind} {label}", "posts", total=len(train))
    model, record = fit(
        kind, texts, train[label], train["thread_id"], settings.c_grid, settings.cv_folds, settings.seed
    )
    record.update(label=label, training_data_sha256=_training_hash(train, texts, label))
    save(model, record, Path(model_path), Path(record_path))
    progress.done = len(train)
    progress.finish(f"C = {record['best_C']:g} chosen by {record['folds']}-fold grouped CV (F1 {record['cv_f1']:.3f})")
    return record


def train_transformer(
    split_path: Path,
    posts_path: Path,
    label: str,
    settings: Mapping[str, Any],
    seed: int,
    threads: int,
    model_dir: Path,
    record_path: Path,
) -> dict[str, Any]:
    """Fine-tune the optional transformer for one label on the training split; save it with its record."""
    from perivigil.models.transformer import fine_tune, save

    train, texts = _training_data(split_path, posts_path)
    model, tokenizer, record = fine_tune(
        texts, train[label].to_numpy(), train["thread_id"].tolist(), settings, seed, threads
    )
    record.update(label=label, training_data_sha256=_training_hash(train, texts, label))
    save(model, tokenizer, record, Path(model_dir), Path(record_path))
    return record


def design_weights(post_ids: pd.Series, frame: pd.DataFrame) -> pd.DataFrame:
    """post_id → stratum, weight (1 / inclusion probability) from the sampling frame, in ``post_ids``' order."""
    known = frame.set_index("post_id")[["stratum", "inclusion_probability"]]
    missing = post_ids[~post_ids.isin(known.index) | post_ids.map(known["inclusion_probability"]).fillna(0).eq(0)]
    if len(missing):
        raise InputError(
            f"sampling frame: gold post {missing.iloc[0]!r} has no inclusion probability "
            f"({len(missing)} such posts); rerun rule sample"
        )
    chosen = known.loc[post_ids]
    return pd.DataFrame(
        {
            "stratum": chosen["stratum"].astype(str).to_numpy(),
            "weight": 1.0 / chosen["inclusion_probability"].to_numpy(),
        }
    )


def _rows(model: str, label: str, weighting: str, intervals, n: int) -> list[dict[str, Any]]:
    return [
        {
            "model": model,
            "label": label,
            "metric": metric,
            "weighting": weighting,
            "estimate": i.estimate,
            "ci_low": i.low,
            "ci_high": i.high,
            "n": n,
            "ci_method": i.method,
            "ci_note": i.reason,
        }
        for metric, i in intervals.items()
    ]


def evaluate_models(
    split_path: Path,
    posts_path: Path,
    decisions_path: Path,
    model_paths: Mapping[str, str],
    settings: EvaluationSettings,
    frame_path: Path | None = None,
    *,
    predictions_path: Path | str,
    metrics_path: Path | str,
    comparisons_path: Path | str,
    latex_path: Path | str,
) -> pd.DataFrame:
    """Metrics of every model on the test split, both ways, and paired comparisons.

    ``weighting = sample``: the test posts as they are (cluster-bootstrap BCa intervals);
    ``weighting = design``: each post weighted by 1 / its inclusion probability in the
    annotation sample (estimates for the corpus; Rao–Wu bootstrap within strata). Without a
    sampling frame every weight is 1. ``model_paths`` maps ``<kind>_<label>`` to a saved
    model; the rule system needs none.
    """
    from perivigil.models.store import load_model

    split = pd.read_csv(split_path, dtype={"post_id": str, "thread_id": str})
    test = split[split["split"] == "test"].reset_index(drop=True)
    texts = _texts(posts_path, test["post_id"])
    rules = labels_from_decisions(pd.read_parquet(decisions_path)).set_index("post_id")
    predictions = test[["post_id", "thread_id", *LABELS]].copy()
    if frame_path is not None:
        weights = design_weights(predictions["post_id"], pd.read_parquet(frame_path))
    else:
        weights = pd.DataFrame({"stratum": ["all"] * len(predictions), "weight": [1.0] * len(predictions)})
    predictions["stratum"], predictions["weight"] = weights["stratum"].to_numpy(), weights["weight"].to_numpy()
    for label in LABELS:
        predictions[f"rules_{label}"] = rules.loc[predictions["post_id"], label].to_numpy()
    for key, path in sorted(model_paths.items()):
        model = load_model(Path(path))
        predictions[key] = model.predict(texts).astype(int)
        predictions[f"{key}_score"] = model.predict_proba(texts)[:, 1]
    write_csv(check(PREDICTIONS, predictions, str(predictions_path)), predictions_path)
    kinds = {key[: -len(label) - 1] for key in model_paths for label in LABELS if key.endswith("_" + label)}
    models = ["rules", *sorted(kinds)]
    rows, comparisons = [], []
    progress = Progress("evaluate", "models x labels", total=len(LABELS) * len(models))
    for label in LABELS:
        for model in models:
            progress.advance(detail=f"bootstrap of {model} on {label}")
            column = f"{model}_{label}"
            design = design_metric_intervals(
                predictions[label],
                predictions[column],
                predictions["weight"],
                predictions["stratum"],
                predictions["thread_id"],
                settings.n_boot,
                settings.seed,
            )
            intervals = metric_intervals(
                predictions[label], predictions[column], predictions["thread_id"], settings.n_boot, settings.seed
            )
            if f"{column}_score" in predictions:
                design["auprc"] = design_auprc_interval(
                    predictions[label],
                    predictions[f"{column}_score"],
                    predictions["weight"],
                    predictions["stratum"],
                    predictions["thread_id"],
                    settings.n_boot_auprc,
                    settings.seed,
                )
                intervals["auprc"] = auprc_interval(
                    predictions[label],
                    predictions[f"{column}_score"],
                    predictions["thread_id"],
                    settings.n_boot_auprc,
                    settings.seed,
                )
            rows += _rows(model, label, "design", design, len(predictions))
            rows += _rows(model, label, "sample", intervals, len(predictions))
            if model == "rules":
                continue
            table, p_value = mcnemar_exact(predictions[label], predictions[column], predictions[f"rules_{label}"])
            difference = paired_f1_difference(
                predictions[label],
                predictions[column],
                predictions[f"rules_{label}"],
                predictions["thread_id"],
                settings.n_boot,
                settings.seed,
            )
            comparisons.append(
                {
                    "label": label,
                    "model": model,
                    "versus": "rules",
                    "f1_difference": difference.estimate,
                    "ci_low": difference.low,
                    "ci_high": difference.high,
                    "ci_method": difference.method,
                    "mcnemar_both_right": int(table[0, 0]),
                    "mcnemar_only_model_right": int(table[0, 1]),
                    "mcnemar_only_rules_right": int(table[1, 0]),
                    "mcnemar_both_wrong": int(table[1, 1]),
                    "mcnemar_exact_p": p_value,
                }
            )
    progress.finish(f"{settings.n_boot:,} cluster-bootstrap replicates each")
    table = check(METRICS_TABLE, pd.DataFrame(rows), str(metrics_path))
    write_csv(table, metrics_path)
    comparison_table = pd.DataFrame(comparisons, columns=list(COMPARISONS.columns))
    write_csv(check(COMPARISONS, comparison_table, str(comparisons_path)), comparisons_path)
    write_latex(
        latex_metrics(table),
        latex_path,
        caption="Performance on the test split: design-weighted (estimates for the corpus; Rao-Wu "
        "bootstrap within strata) and unweighted (the sample; cluster-bootstrap BCa), 95% CIs.",
        label="tab:metrics",
    )
    return table


def latex_metrics(table: pd.DataFrame) -> pd.DataFrame:
    """Design-weighted figures first, the unweighted ones beside them (one row per model, label, metric)."""
    shown = table[table["metric"].isin(["precision", "recall", "f1", "specificity", "npv"])].copy()
    shown["ci"] = [f"[{lo:.2f}, {hi:.2f}]" for lo, hi in zip(shown["ci_low"], shown["ci_high"])]
    wide = shown.pivot(index=["model", "label", "metric"], columns="weighting", values=["estimate", "ci"])
    order = shown[["model", "label", "metric"]].drop_duplicates()
    wide = wide.reindex(pd.MultiIndex.from_frame(order))
    return pd.DataFrame(
        {
            "model": order["model"].to_numpy(),
            "label": order["label"].to_numpy(),
            "metric": order["metric"].to_numpy(),
            "design": wide[("estimate", "design")].to_numpy(),
            "design 95% CI": wide[("ci", "design")].to_numpy(),
            "sample": wide[("estimate", "sample")].to_numpy(),
            "sample 95% CI": wide[("ci", "sample")].to_numpy(),
        }
    )
