"""Schemas of the tables that cross a rule boundary, checked on write (pandera).

Each schema is strict: a missing, extra or mistyped column fails at the
boundary of the stage that wrote it, with the column and the failing rows.
The data dictionary (``docs/data-dictionary.md``) describes every column.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from perivigil.errors import InputError

LANG_PATTERN = r"^([a-z]{2}|und)$"
PSEUDONYM_PATTERN = r"^u_[0-9a-f]{16}$"

POSTS = pa.DataFrameSchema(
    {
        "post_id": pa.Column(str, unique=True, description="'<source>-<forum post id>'"),
        "source": pa.Column(str, pa.Check.str_matches(r"^[a-z0-9_]+$")),
        "thread_id": pa.Column(str, description="'<source>-<forum thread id>'"),
        "thread_title": pa.Column(str),
        "board": pa.Column(str),
        "author_id": pa.Column(str, pa.Check.str_matches(PSEUDONYM_PATTERN)),
        "created_at": pa.Column("datetime64[us, UTC]"),
        "text": pa.Column(str, pa.Check.str_length(min_value=1)),
        "quote_text": pa.Column(str, nullable=True),
        "quote_author_id": pa.Column(str, pa.Check.str_matches(PSEUDONYM_PATTERN), nullable=True),
        "quoted_post_id": pa.Column(str, nullable=True),
        "lang": pa.Column(str, pa.Check.str_matches(LANG_PATTERN)),
        "lang_confidence": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
        "n_chars": pa.Column("int64", pa.Check.ge(1)),
        "masked_emails": pa.Column("int64", pa.Check.ge(0)),
        "masked_phones": pa.Column("int64", pa.Check.ge(0)),
        "masked_urls": pa.Column("int64", pa.Check.ge(0)),
        "masked_mentions": pa.Column("int64", pa.Check.ge(0)),
        "masked_handles": pa.Column("int64", pa.Check.ge(0)),
        "duplicate_of": pa.Column(str, nullable=True),
        "near_duplicate_of": pa.Column(str, nullable=True),
        "collected_at": pa.Column("datetime64[us, UTC]"),
    },
    strict=True,
    ordered=True,
    name="posts",
)

COLLECTION_REPORT = pa.DataFrameSchema(
    {
        "source": pa.Column(str),
        "level": pa.Column(str, pa.Check.isin(["page", "post", "request"])),
        "outcome": pa.Column(str, pa.Check.isin(["kept", "dropped", "retried"])),
        "reason": pa.Column(str),
        "count": pa.Column("int64", pa.Check.ge(0)),
    },
    strict=True,
    ordered=True,
    name="collection_report",
)

SOURCE_YIELD = pa.DataFrameSchema(
    {
        "source": pa.Column(str),
        "period": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$"), description="UTC month of created_at"),
        **{
            name: pa.Column("int64", pa.Check.ge(0))
            for name in (
                "posts",
                "french_posts",
                "drug_of_interest_posts",
                "pregnancy_term_posts",
                "candidates_iso",
                "candidates_nsaid",
                "rule_iso_t1",
                "rule_nsaid_late",
                "exact_duplicates",
                "near_duplicates",
            )
        },
    },
    checks=[
        pa.Check(
            lambda t: (
                t[
                    [
                        "french_posts",
                        "drug_of_interest_posts",
                        "pregnancy_term_posts",
                        "exact_duplicates",
                        "near_duplicates",
                    ]
                ].le(t["posts"], axis=0)
            ).all(axis=None),
            error="a count is larger than the posts of its row",
        )
    ],
    strict=True,
    ordered=True,
    unique=["source", "period"],
    name="source_yield",
)

CORPUS_BY_BOARD_MONTH = pa.DataFrameSchema(
    {
        "source": pa.Column(str),
        "board": pa.Column(str),
        "month": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
        "n_posts": pa.Column("int64", pa.Check.ge(1)),
    },
    strict=True,
    ordered=True,
    unique=["source", "board", "month"],
    name="corpus_by_board_month",
)


def check(schema: pa.DataFrameSchema, frame, where: str):
    """Validate ``frame``; on failure raise a one-line :class:`InputError` naming the table, column and row.

    An empty table (no trained model, no error to list) gets the schema's types first:
    its columns, built from no rows, have none.
    """
    if len(frame) == 0:
        frame = frame.astype(
            {
                name: column.dtype.type
                for name, column in schema.columns.items()
                if not column.regex and name in frame and column.dtype is not None
            }
        )
    try:
        return schema.validate(frame, lazy=False)
    except (SchemaError, SchemaErrors) as exc:
        failure = getattr(exc, "failure_cases", None)
        detail = str(exc).splitlines()[0]
        if failure is not None and hasattr(failure, "head") and len(failure):
            first = failure.head(1).to_dict("records")[0]
            detail += f" (first failing case: {first})"
        raise InputError(f"{where}: table '{schema.name}' breaks its schema: {detail}") from None


LEXICON = pa.DataFrameSchema(
    {
        "surface": pa.Column(str, pa.Check.str_length(min_value=2), unique=True),
        "inn": pa.Column(str),
        "atc": pa.Column(str),
        "drug_class": pa.Column(
            str,
            pa.Check.isin(["isotretinoin", "nsaid", "aspirin_analgesic", "aspirin_antiplatelet", "aspirin", "other"]),
        ),
        "route": pa.Column(str, pa.Check.isin(["oral", "cutaneous", "rectal", "parenteral", "other", "any"])),
        "unit_mg": pa.Column(float, pa.Check.gt(0), nullable=True),
        "fuzzy": pa.Column(bool),
        "source": pa.Column(str, pa.Check.isin(["forum_variants", "bdpm", "edsnlp"])),
    },
    strict=True,
    ordered=True,
    name="lexicon",
)

MENTIONS = pa.DataFrameSchema(
    {
        "post_id": pa.Column(str),
        "mention_index": pa.Column("int64", pa.Check.ge(0)),
        "start": pa.Column("int64", pa.Check.ge(0)),
        "end": pa.Column("int64", pa.Check.ge(1)),
        "evidence": pa.Column(str, pa.Check.str_length(min_value=1)),
        "sentence": pa.Column(str),
        "surface": pa.Column(str),
        "inn": pa.Column(str),
        "atc": pa.Column(str),
        "drug_class": pa.Column(str),
        "route": pa.Column(str, pa.Check.isin(["oral", "cutaneous", "rectal", "parenteral", "other", "any"])),
        "matched_by": pa.Column(str, pa.Check.isin(["exact", "fuzzy"])),
        "status": pa.Column(
            str, pa.Check.isin(["taken", "not_taken", "intended", "hypothetical", "general", "mentioned"])
        ),
        "person": pa.Column(str, pa.Check.isin(["self", "relative", "other", "general"])),
        "person_pregnant": pa.Column("boolean", nullable=True),
        "timing": pa.Column(
            str, pa.Check.isin(["pregnancy", "unknown", "postpartum", "breastfeeding", "before_conception"])
        ),
        "first_trimester": pa.Column(bool),
        # negative: weeks before the last period (an intake dated before the pregnancy; timing before_conception)
        "gestational_age_sa": pa.Column(float, pa.Check.le(45), nullable=True),
        "gestational_age_min_sa": pa.Column(float, nullable=True),
        "gestational_age_max_sa": pa.Column(float, nullable=True),
        "gestational_age_source": pa.Column(str, nullable=True),
        "gestational_age_text": pa.Column(str, nullable=True),
        "dose_mg_day": pa.Column(float, pa.Check.gt(0), nullable=True),
        "dose_text": pa.Column(str, nullable=True),
        "why": pa.Column(str),
    },
    strict=True,
    ordered=True,
    unique=["post_id", "mention_index"],
    checks=pa.Check(
        lambda f: ~(f["gestational_age_sa"] < 0) | (f["timing"] == "before_conception"),
        name="an_intake_before_the_last_period_is_before_conception",
    ),
    name="mentions",
)

CHALLENGE = pa.DataFrameSchema(
    {
        "phenomenon": pa.Column(str, unique=True),
        "cases": pa.Column("int64", pa.Check.gt(0)),
        "passed": pa.Column("int64", pa.Check.ge(0)),
        "share_passed": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
        "failures": pa.Column(str),
    },
    checks=pa.Check(lambda f: f["passed"] <= f["cases"], name="passed_at_most_cases"),
    strict=True,
    ordered=True,
    name="challenge",
)

DECISIONS = pa.DataFrameSchema(
    {
        "post_id": pa.Column(str),
        "label": pa.Column(str, pa.Check.isin(["iso_t1", "nsaid_late"])),
        "value": pa.Column("int64", pa.Check.isin([0, 1])),
        "evidence": pa.Column(str),
        "mention_indexes": pa.Column(str),
    },
    strict=True,
    ordered=True,
    unique=["post_id", "label"],
    name="decisions",
)

SAMPLE = pa.DataFrameSchema(
    {
        "post_id": pa.Column(str, unique=True),
        "thread_id": pa.Column(str),
        "source": pa.Column(str),
        "board": pa.Column(str),
        "period": pa.Column(str),
        "situation": pa.Column(str, pa.Check.isin(["iso", "nsaid", "both", "none"])),
        "candidate": pa.Column(bool),
        "stratum": pa.Column(str),
        "inclusion_probability": pa.Column(float, pa.Check.in_range(0.0, 1.0, include_min=False)),
        "text": pa.Column(str),
        "overlap": pa.Column(bool),
    },
    strict=True,
    ordered=True,
    name="sample",
)

ANNOTATIONS = pa.DataFrameSchema(
    {
        "post_id": pa.Column(str),
        "annotator": pa.Column(str),
        "label": pa.Column(str),
        "value": pa.Column(str),
        "source_file": pa.Column(str),
        "annotated_at": pa.Column(str),
    },
    strict=True,
    ordered=True,
    unique=["post_id", "annotator", "label"],
    name="annotations",
)

GOLD = pa.DataFrameSchema(
    {
        "post_id": pa.Column(str),
        "label": pa.Column(str),
        "value": pa.Column(str),
        "provenance": pa.Column(str, pa.Check.isin(["single", "unanimous", "adjudicated", "majority"])),
        "decided_by": pa.Column(str),
        "n_annotators": pa.Column("int64", pa.Check.ge(1)),
        "annotator_values": pa.Column(str),
    },
    strict=True,
    ordered=True,
    unique=["post_id", "label"],
    name="gold",
)

SPLIT = pa.DataFrameSchema(
    {
        "post_id": pa.Column(str, unique=True),
        "thread_id": pa.Column(str),
        "text_cluster": pa.Column(str),
        "split": pa.Column(str, pa.Check.isin(["train", "test", "excluded"])),
        "reason": pa.Column(str),
        "iso_t1": pa.Column("int64", pa.Check.isin([0, 1])),
        "nsaid_late": pa.Column("int64", pa.Check.isin([0, 1])),
    },
    strict=True,
    ordered=True,
    name="split",
)

CI_METHODS = [
    "bca",
    "percentile",
    "none",
    "rao_wu_percentile",
    "korn_graubard",
    "clopper_pearson",
    "clopper_pearson_kish",
    "bootstrap_rogan_gladen",
]

METRICS_TABLE = pa.DataFrameSchema(
    {
        "model": pa.Column(str),
        "label": pa.Column(str),
        "metric": pa.Column(str),
        "weighting": pa.Column(str, pa.Check.isin(["design", "sample"])),
        "estimate": pa.Column(float, nullable=True),
        "ci_low": pa.Column(float, nullable=True),
        "ci_high": pa.Column(float, nullable=True),
        "n": pa.Column("int64", pa.Check.ge(0)),
        "ci_method": pa.Column(str, pa.Check.isin(CI_METHODS)),
        "ci_note": pa.Column(str),
    },
    strict=True,
    ordered=True,
    unique=["model", "label", "metric", "weighting"],
    name="metrics",
)

MODEL_NAMES = ["rules", "logreg", "svm", "transformer"]
LABEL_NAMES = ["iso_t1", "nsaid_late"]
_MODEL = r"(?:rules|logreg|svm|transformer)"
_LABEL = r"(?:iso_t1|nsaid_late)"
_PROPORTION = pa.Check.in_range(0, 1)

PREDICTIONS = pa.DataFrameSchema(
    {
        "post_id": pa.Column(str, unique=True),
        "thread_id": pa.Column(str),
        "iso_t1": pa.Column("int64", pa.Check.isin([0, 1])),
        "nsaid_late": pa.Column("int64", pa.Check.isin([0, 1])),
        "stratum": pa.Column(str),
        "weight": pa.Column(float, pa.Check.ge(1)),
        rf"^{_MODEL}_{_LABEL}$": pa.Column("int64", pa.Check.isin([0, 1]), regex=True),
        rf"^{_MODEL}_{_LABEL}_score$": pa.Column(float, _PROPORTION, regex=True, required=False),
    },
    strict=True,
    name="predictions",
)

COMPARISONS = pa.DataFrameSchema(
    {
        "label": pa.Column(str, pa.Check.isin(LABEL_NAMES)),
        "model": pa.Column(str, pa.Check.isin(MODEL_NAMES)),
        "versus": pa.Column(str, pa.Check.isin(MODEL_NAMES)),
        "f1_difference": pa.Column(float, pa.Check.in_range(-1, 1), nullable=True),
        "ci_low": pa.Column(float, nullable=True),
        "ci_high": pa.Column(float, nullable=True),
        "ci_method": pa.Column(str, pa.Check.isin(["bca", "percentile", "none"])),
        "mcnemar_both_right": pa.Column("int64", pa.Check.ge(0)),
        "mcnemar_only_model_right": pa.Column("int64", pa.Check.ge(0)),
        "mcnemar_only_rules_right": pa.Column("int64", pa.Check.ge(0)),
        "mcnemar_both_wrong": pa.Column("int64", pa.Check.ge(0)),
        "mcnemar_exact_p": pa.Column(float, _PROPORTION),
    },
    strict=True,
    ordered=True,
    unique=["label", "model", "versus"],
    name="comparisons",
)

PREVALENCE = pa.DataFrameSchema(
    {
        "model": pa.Column(str, pa.Check.isin(MODEL_NAMES)),
        "label": pa.Column(str, pa.Check.isin(LABEL_NAMES)),
        "weighting": pa.Column(str, pa.Check.isin(["design", "sample"])),
        "posts": pa.Column("int64", pa.Check.ge(0)),
        "positives": pa.Column("int64", pa.Check.ge(0)),
        "apparent_prevalence": pa.Column(float, _PROPORTION),
        "sensitivity": pa.Column(float, _PROPORTION, nullable=True),
        "specificity": pa.Column(float, _PROPORTION, nullable=True),
        "corrected_prevalence": pa.Column(float, _PROPORTION, nullable=True),
        "ci_low": pa.Column(float, _PROPORTION, nullable=True),
        "ci_high": pa.Column(float, _PROPORTION, nullable=True),
        "valid_replicates": pa.Column("int64", pa.Check.ge(0)),
        "ci_note": pa.Column(str),
    },
    strict=True,
    ordered=True,
    unique=["label", "weighting"],
    name="prevalence",
)

SENSITIVITY = pa.DataFrameSchema(
    {
        "scenario": pa.Column(str, pa.Check.str_matches(r"^[A-Za-z0-9_.-]+$")),
        "label": pa.Column(str, pa.Check.isin(LABEL_NAMES)),
        "iso_t1_max_sa": pa.Column(float, pa.Check.in_range(0, 45)),
        "nsaid_late_min_sa": pa.Column(float, pa.Check.in_range(0, 45)),
        "aspirin_min_mg_day": pa.Column(float, pa.Check.gt(0)),
        "posts": pa.Column("int64", pa.Check.ge(0)),
        "positives": pa.Column("int64", pa.Check.ge(0)),
        "apparent_prevalence": pa.Column(float, _PROPORTION),
        "apparent_ci_low": pa.Column(float, _PROPORTION),
        "apparent_ci_high": pa.Column(float, _PROPORTION),
        **{
            column: pa.Column(float, _PROPORTION, nullable=True)
            for column in (
                "corrected_prevalence",
                "corrected_ci_low",
                "corrected_ci_high",
                *(
                    f"{metric}{suffix}"
                    for metric in ("sensitivity", "specificity", "f1")
                    for suffix in ("", "_ci_low", "_ci_high")
                ),
            )
        },
        "ci_note": pa.Column(str),
    },
    strict=True,
    ordered=True,
    unique=["scenario", "label"],
    name="sensitivity",
)

SAMPLE_SIZE = pa.DataFrameSchema(
    {
        "stratum": pa.Column(str, pa.Check.isin(["candidates", "noncandidates"])),
        "label": pa.Column(str, pa.Check.isin(LABEL_NAMES)),
        "expected_prevalence": pa.Column(float, pa.Check.in_range(0, 1, include_min=False, include_max=False)),
        **{
            column: pa.Column("int64", pa.Check.ge(0))
            for column in (
                "n_sensitivity",
                "n_specificity",
                "n_prevalence",
                "planned_posts",
                "annotated_posts",
                "positives",
            )
        },
        **{
            column: pa.Column(float, _PROPORTION, nullable=True)
            for column in ("observed_prevalence", "ci_low", "ci_high")
        },
        "target_half_width": pa.Column(float, pa.Check.in_range(0, 1, include_min=False)),
        "half_width_reached": pa.Column(float, pa.Check.in_range(0, 0.5), nullable=True),
        "level": pa.Column(float, pa.Check.in_range(0, 1, include_min=False, include_max=False)),
        "method": pa.Column(str, pa.Check.isin(["clopper_pearson", "wilson"])),
    },
    strict=True,
    ordered=True,
    unique=["stratum", "label"],
    name="sample_size",
)

POSITIVES_BY_BOARD_MONTH = pa.DataFrameSchema(
    {
        "board": pa.Column(str),
        "month": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
        "iso_t1": pa.Column("int64", pa.Check.ge(0)),
        "nsaid_late": pa.Column("int64", pa.Check.ge(0)),
    },
    strict=True,
    ordered=True,
    unique=["board", "month"],
    name="positives_by_board_month",
)


def _characterisation(column: str, name: str, extra: dict | None = None) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "label": pa.Column(str, pa.Check.isin(LABEL_NAMES)),
            column: pa.Column(str),
            "posts": pa.Column("int64", pa.Check.gt(0)),
            **(extra or {}),
        },
        strict=True,
        ordered=True,
        unique=["label", column],
        name=name,
    )


CHARACTERISATION_DRUGS = _characterisation("inn", "characterisation_drugs")
CHARACTERISATION_AGES = _characterisation("gestational_age", "characterisation_gestational_age")
CHARACTERISATION_PERSON = _characterisation("person", "characterisation_person")
CHARACTERISATION_INDICATION = _characterisation(
    "indication", "characterisation_indication", {"positives": pa.Column("int64", pa.Check.gt(0))}
)

CALIBRATION = pa.DataFrameSchema(
    {
        "model": pa.Column(str, pa.Check.isin(MODEL_NAMES)),
        "label": pa.Column(str, pa.Check.isin(LABEL_NAMES)),
        "bin": pa.Column("int64", pa.Check.ge(1)),
        "mean_predicted": pa.Column(float, _PROPORTION),
        "observed": pa.Column(float, _PROPORTION),
    },
    strict=True,
    ordered=True,
    unique=["model", "label", "bin"],
    name="calibration",
)

LEARNING_CURVE = pa.DataFrameSchema(
    {
        "model": pa.Column(str, pa.Check.isin(MODEL_NAMES)),
        "label": pa.Column(str, pa.Check.isin(LABEL_NAMES)),
        "train_fraction": pa.Column(float, pa.Check.in_range(0, 1, include_min=False)),
        "train_posts": pa.Column("int64", pa.Check.gt(0)),
        "test_f1": pa.Column(float, _PROPORTION, nullable=True),
    },
    strict=True,
    ordered=True,
    unique=["model", "label", "train_fraction"],
    name="learning_curve",
)

ERROR_ANALYSIS = pa.DataFrameSchema(
    {
        "label": pa.Column(str, pa.Check.isin(LABEL_NAMES)),
        "error": pa.Column(str, pa.Check.isin(["false positive", "false negative"])),
        "post_id": pa.Column(str),
        "text": pa.Column(str),
        "evidence": pa.Column(str),
        "mentions_seen": pa.Column(str),
    },
    strict=True,
    ordered=True,
    unique=["label", "post_id"],
    name="error_analysis",
)
