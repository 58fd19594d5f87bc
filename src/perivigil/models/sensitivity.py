"""Sensitivity analyses of the rule system's thresholds (study protocol §3–§4; rule ``sensitivity``).

Each scenario of ``sensitivity.scenarios`` overrides some of the ``rules`` thresholds (aspirin
from 100 mg/day, end of T1 at 12 or 15 SA, NSAIDs from 20 SA). The posts are decided again from
``mentions.parquet`` with those thresholds (no re-extraction), and for each label the table gives
the apparent prevalence in the corpus (interval: cluster bootstrap of threads), the Rogan–Gladen
prevalence corrected with the scenario's design-weighted Se and Sp (:func:`corrected_prevalence`),
and the scenario's design-weighted Se, Sp and F1 on the gold test posts
(:func:`design_metric_intervals`). The gold labels stay those of the primary thresholds: the
annotators labelled against the protocol's definitions, so Se and Sp say how far a scenario's
decisions are from the primary definition, not how well it finds its own.

Memory stays far below the corpus: mentions.parquet is read once, batch by batch, keeping only the
events that may support a label under some thresholds (:func:`perivigil.models.rules.candidate_events`);
each scenario decides them column-wise (:func:`perivigil.models.rules.support_masks`), and a post is
positive when one of its events supports the label. Threads are numbered in their sorted order, so
the bootstrap resamples the same clusters in the same order as it would from their ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from perivigil.evaluation import design_metric_intervals, resampled_sums
from perivigil.models import LABELS
from perivigil.models.apply import corrected_prevalence, replicate_chunk
from perivigil.models.rules import RuleThresholds, candidate_events, support_masks, thresholds_from_config

PRIMARY = "primary"
THRESHOLD_KEYS = tuple(f.name for f in fields(RuleThresholds))


def scenario_thresholds(primary: RuleThresholds, scenario: Mapping[str, Any]) -> RuleThresholds:
    """The primary thresholds with the scenario's ``rules`` overrides."""
    overrides = dict(scenario.get("rules", {}))
    unknown = sorted(set(overrides) - set(THRESHOLD_KEYS))
    if unknown:
        raise ValueError(f"sensitivity scenario {scenario.get('name')!r}: unknown rules key(s) {', '.join(unknown)}")
    return replace(primary, **{key: float(value) for key, value in overrides.items()})


def scenarios_from_config(
    primary: RuleThresholds, scenarios: Sequence[Mapping[str, Any]]
) -> list[tuple[str, RuleThresholds]]:
    """``primary`` first, then each configured scenario, by name (names unique)."""
    out = [(PRIMARY, primary)]
    for scenario in scenarios:
        name = str(scenario["name"])
        if name in {n for n, _ in out}:
            raise ValueError(f"sensitivity: scenario name {name!r} used twice (or is {PRIMARY!r})")
        out.append((name, scenario_thresholds(primary, scenario)))
    return out


def apparent_interval(
    predicted: np.ndarray, threads: np.ndarray, n_boot: int, seed: int, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of the apparent prevalence, resampling the corpus's threads."""
    series = pd.Series(np.asarray(predicted, float))
    corpus = np.stack(
        [series.groupby(threads).sum().to_numpy(), series.groupby(threads).size().to_numpy()], axis=1
    ).astype(float)
    (sums,) = resampled_sums([corpus], n_boot, np.random.default_rng(seed), chunk=replicate_chunk(len(corpus)))
    alpha = (1 - level) / 2
    low, high = np.quantile(sums[:, 0] / sums[:, 1], [alpha, 1 - alpha])
    return float(low), float(high)


def scenario_rows(
    name: str, thresholds: RuleThresholds, corpus: pd.DataFrame, test: pd.DataFrame, n_boot: int, seed: int
) -> list[dict[str, Any]]:
    """One row per label: ``corpus`` has post_id, thread_id and the scenario's 0/1 labels; ``test`` the
    gold test posts (post_id, thread_id, stratum, weight, gold labels) with the scenario's ``pred_<label>``."""
    rows = []
    for label in LABELS:
        predicted = corpus[label].to_numpy()
        low, high = apparent_interval(predicted, corpus["thread_id"].to_numpy(), n_boot, seed)
        prevalence = corrected_prevalence(
            predicted,
            corpus["thread_id"].to_numpy(),
            test[label].to_numpy(),
            test[f"pred_{label}"].to_numpy(),
            test["thread_id"].to_numpy(),
            n_boot,
            seed,
            test["weight"].to_numpy(),
            test["stratum"].to_numpy(),
        )
        metrics = design_metric_intervals(
            test[label].to_numpy().astype(bool),
            test[f"pred_{label}"].to_numpy().astype(bool),
            test["weight"].to_numpy(),
            test["stratum"].to_numpy(),
            test["thread_id"].to_numpy(),
            n_boot,
            seed,
        )
        row: dict[str, Any] = {
            "scenario": name,
            "label": label,
            **{key: getattr(thresholds, key) for key in THRESHOLD_KEYS},
            "posts": prevalence["posts"],
            "positives": prevalence["positives"],
            "apparent_prevalence": prevalence["apparent_prevalence"],
            "apparent_ci_low": low,
            "apparent_ci_high": high,
            "corrected_prevalence": prevalence["corrected_prevalence"],
            "corrected_ci_low": prevalence["ci_low"],
            "corrected_ci_high": prevalence["ci_high"],
        }
        for metric, column in (("recall", "sensitivity"), ("specificity", "specificity"), ("f1", "f1")):
            interval = metrics[metric]
            row.update(
                {column: interval.estimate, f"{column}_ci_low": interval.low, f"{column}_ci_high": interval.high}
            )
        row["ci_note"] = prevalence["ci_note"]
        rows.append(row)
    return rows


def scenario_labels(post_ids: pa.Array, events: pd.DataFrame, thresholds: RuleThresholds) -> dict[str, np.ndarray]:
    """Per label, each post's 0/1 (``post_ids``' order): 1 when one of its ``events`` supports the label."""
    masks = support_masks(events, thresholds)
    event_posts = events["post_id"].to_numpy(dtype=object)
    return {
        label: pc.is_in(post_ids, value_set=pa.array(event_posts[masks[label]], post_ids.type))
        .to_numpy(zero_copy_only=False)
        .astype("int64")
        for label in LABELS
    }


def sensitivity_table(
    post_ids: pd.Series,
    threads: pd.Series,
    events: pd.DataFrame,
    test: pd.DataFrame,
    scenarios: list[tuple[str, RuleThresholds]],
    n_boot: int,
    seed: int,
) -> pd.DataFrame:
    """Every scenario × label: posts decided again with the scenario's thresholds (:func:`support_masks`).

    ``events``: rows of ``mentions.parquet`` with :data:`perivigil.models.rules.DECISION_INPUTS`; those
    that support no label under any thresholds may be left out."""
    ids = pa.array(pd.Series(post_ids, dtype="str"))
    if pc.count_distinct(ids).as_py() != len(ids):
        raise ValueError("sensitivity: a post_id appears more than once in the corpus")
    thread_codes, _ = pd.factorize(pd.Series(threads, dtype="str"), sort=True)
    test_ids = pa.array(test["post_id"].astype("str"))
    known = pc.is_in(test_ids, value_set=ids).to_numpy(zero_copy_only=False)
    if not known.all():
        raise ValueError(f"sensitivity: test post {test['post_id'].iloc[int(np.argmin(known))]!r} is not in the corpus")
    rows = []
    for name, thresholds in scenarios:
        labels = scenario_labels(ids, events, thresholds)
        corpus = pd.DataFrame({"thread_id": thread_codes, **labels})
        test_labels = scenario_labels(test_ids, events, thresholds)
        scenario_test = test.assign(**{f"pred_{label}": test_labels[label] for label in LABELS})
        rows.extend(scenario_rows(name, thresholds, corpus, scenario_test, n_boot, seed))
    return pd.DataFrame(rows)


def sensitivity_figure(table: pd.DataFrame):
    """Corrected prevalence (95 % interval) and apparent prevalence of each scenario, one panel per label."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(
        1, len(LABELS), figsize=(10, 0.5 * table["scenario"].nunique() + 1.5), sharey=True, squeeze=False
    )
    scenarios = list(dict.fromkeys(table["scenario"]))
    y = np.arange(len(scenarios))[::-1]
    for axis, label in zip(axes[0], LABELS):
        rows = table[table["label"] == label].set_index("scenario").loc[scenarios]
        estimate = rows["corrected_prevalence"].to_numpy(float) * 100
        errors = np.abs(np.stack([rows["corrected_ci_low"], rows["corrected_ci_high"]]).astype(float) * 100 - estimate)
        axis.errorbar(
            estimate, y, xerr=np.nan_to_num(errors), fmt="o", color="C0", capsize=3, label="corrected (Rogan-Gladen)"
        )
        axis.plot(rows["apparent_prevalence"].to_numpy(float) * 100, y, "x", color="C1", label="apparent")
        axis.set_yticks(y, scenarios)
        axis.set_title(label)
        axis.set_xlabel("prevalence (% of posts)")
    axes[0][0].legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    return figure


@dataclass(frozen=True)
class SensitivitySettings:
    """The scenarios (the primary thresholds first) and the corpus bootstrap's replicates and seed."""

    scenarios: tuple[tuple[str, RuleThresholds], ...]
    n_boot: int
    seed: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SensitivitySettings:
        """From the validated config's ``rules``, ``sensitivity`` and ``apply`` sections (the bootstrap is
        ``apply``'s, as for the primary prevalence)."""
        scenarios = scenarios_from_config(
            thresholds_from_config(config), config.get("sensitivity", {}).get("scenarios", [])
        )
        return cls(tuple(scenarios), int(config["apply"]["n_boot"]), int(config["apply"]["seed"]))


def sensitivity_analysis(
    posts_path: str,
    mentions_path: str,
    predictions_path: str,
    settings: SensitivitySettings,
    *,
    table_path: str,
    figure: tuple[str, str],
) -> pd.DataFrame:
    """Rule ``sensitivity``: results/tables/sensitivity.csv and its figure (PNG, PDF)."""
    from perivigil.report.figures import save_figure, write_csv
    from perivigil.schemas import SENSITIVITY, check

    posts = pd.read_parquet(posts_path, columns=["post_id", "thread_id"])
    events = candidate_events(mentions_path, ())
    test = pd.read_csv(
        predictions_path,
        dtype={"post_id": str, "thread_id": str, "stratum": str},
        usecols=["post_id", "thread_id", "stratum", "weight", *LABELS],
    )
    table = sensitivity_table(
        posts["post_id"], posts["thread_id"], events, test, list(settings.scenarios), settings.n_boot, settings.seed
    )
    write_csv(check(SENSITIVITY, table, str(table_path)), table_path)
    save_figure(sensitivity_figure(table), *figure)
    return table
