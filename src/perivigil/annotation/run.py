"""Run the annotation stages from the study configuration (files in, files out)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from perivigil.annotation.exports import write_batch
from perivigil.annotation.gold import (
    build_gold,
    check_adjudication_covers,
    disagreements,
    read_adjudication,
    write_adjudication_sheet,
)
from perivigil.annotation.imports import REPORT_COLUMNS, ImportReport, import_inbox
from perivigil.annotation.returns import Returns, check_returns, report_rows, returns_progress
from perivigil.annotation.sampling import assign, build_frame, draw
from perivigil.annotation.scheme import load_scheme
from perivigil.annotation.simulate import adjudicate_from_truth, simulate_returns
from perivigil.errors import InputError
from perivigil.files import atomic_path, check_input_file
from perivigil.schemas import ANNOTATIONS, GOLD, SAMPLE, check

LOG = logging.getLogger("perivigil.annotation")


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")


# The columns of posts.parquet the sampling frame reads (the texts are read for the sample only).
FRAME_COLUMNS = ("post_id", "thread_id", "source", "board", "created_at", "duplicate_of")


def posts_text(posts_path: Path, post_ids: Sequence[str]) -> pd.DataFrame:
    """``post_id, text`` of ``post_ids`` only (pyarrow filters each row group as it reads it)."""
    post_ids = list(post_ids)
    if not post_ids:
        return pd.DataFrame({"post_id": pd.Series(dtype="str"), "text": pd.Series(dtype="str")})
    return pd.read_parquet(posts_path, columns=["post_id", "text"], filters=[("post_id", "in", post_ids)])


def sample_posts(
    posts_path: Path,
    mentions_path: Path,
    section: Mapping[str, Any],
    frame_path: Path,
    sample_path: Path,
    assignments_path: Path,
) -> pd.DataFrame:
    posts = pd.read_parquet(posts_path, columns=list(FRAME_COLUMNS))
    mentions = pd.read_parquet(mentions_path, columns=["post_id", "drug_class"])
    frame = draw(
        build_frame(posts, mentions, section["strata"], section["period"]),
        section["n_candidates"],
        section["n_noncandidates"],
        section["min_per_stratum"],
        section["seed"],
    )
    del posts, mentions
    _write_parquet(frame, frame_path)
    chosen = frame[frame["selected"]]
    assignments = assign(chosen["post_id"].tolist(), section["annotators"], section["overlap"], section["seed"])
    overlap = set(assignments.loc[assignments["overlap"], "post_id"])
    sample = (
        chosen[
            [
                "post_id",
                "thread_id",
                "source",
                "board",
                "period",
                "situation",
                "candidate",
                "stratum",
                "inclusion_probability",
            ]
        ]
        .merge(posts_text(posts_path, chosen["post_id"]), on="post_id")
        .assign(overlap=lambda f: f["post_id"].isin(overlap))
        .sort_values("post_id")
        .reset_index(drop=True)
    )
    _write_parquet(check(SAMPLE, sample, str(sample_path)), sample_path)
    _write_csv(assignments, assignments_path)
    LOG.info(
        "sample: %d posts (%d candidates), %d in the overlap", len(sample), int(sample["candidate"].sum()), len(overlap)
    )
    return sample


@dataclass(frozen=True)
class ExportSettings:
    """Config ``annotation``: the label scheme, the guidelines and the annotators a batch is written for."""

    labels: Path
    guidelines: Path
    annotators: tuple[str, ...]

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> ExportSettings:
        """From the validated config's ``annotation`` section (or its keys ``labels``, ``guidelines``, ``annotators``)."""
        return cls(Path(section["labels"]), Path(section["guidelines"]), tuple(section["annotators"]))


def export_batches(sample_path: Path, assignments_path: Path, settings: ExportSettings, output: Path) -> None:
    """One folder per annotator under ``output``: their posts in every tool's format, with the guidelines."""
    sample = pd.read_parquet(sample_path)
    assignments = pd.read_csv(assignments_path, dtype=str)
    scheme = load_scheme(settings.labels)
    for annotator in settings.annotators:
        ids = set(assignments.loc[assignments["annotator"] == annotator, "post_id"])
        write_batch(sample[sample["post_id"].isin(ids)], scheme, Path(output) / annotator, settings.guidelines)


def read_truths(truths: Mapping[str, Path | str]) -> pd.DataFrame:
    """The truth tables of the simulated sources (``{source: truth.csv}``), with the study's post ids."""
    frames = []
    for source, path in sorted(truths.items()):
        truth = pd.read_csv(check_input_file(path, "truth table"), dtype={"post_id": str})
        truth["post_id"] = source + "-" + truth["post_id"]
        frames.append(truth)
    return pd.concat(frames, ignore_index=True)


def simulate_annotators(
    sample_path: Path,
    assignments_path: Path,
    truths: Mapping[str, Path | str],
    section: Mapping[str, Any],
    inbox: Path,
    annotators: Sequence[str] | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """Simulated returns in the inbox, from the truth: every annotator of ``annotation.simulation`` (or
    ``annotators``), each whole batch (or its first ``limit`` posts: a partial return)."""
    profiles = section["simulation"]["annotators"]
    unknown = [name for name in annotators or () if name not in profiles]
    if unknown:
        raise InputError(f"config: key 'annotation.simulation.annotators': no profile for {unknown}")
    return simulate_returns(
        pd.read_parquet(sample_path),
        pd.read_csv(assignments_path, dtype=str),
        read_truths(truths),
        load_scheme(Path(section["labels"])),
        profiles,
        Path(inbox),
        section["seed"],
        annotators,
        limit,
    )


def read_returns(
    inbox: Path, sample_path: Path, assignments_path: Path, section: Mapping[str, Any]
) -> tuple[pd.DataFrame, ImportReport, list[Returns]]:
    """Every judgement of the inbox, the import report, and how much of each batch came back."""
    judgements, report = import_inbox(
        Path(inbox), load_scheme(Path(section["labels"])), pd.read_parquet(sample_path), section.get("tool_users") or {}
    )
    strangers = judgements[~judgements["annotator"].isin(section["annotators"])]
    if len(strangers):
        first = strangers.iloc[0]
        raise InputError(
            f"{first.source_file}: annotator {first.annotator!r} is not one of annotation.annotators "
            f"{list(section['annotators'])}: name the tool's user in annotation.tool_users"
        )
    assignments = pd.read_csv(assignments_path, dtype=str)
    progress = returns_progress(
        judgements, report.skipped, assignments, section["annotators"], section["withdrawn"], inbox
    )
    return judgements, report, progress


def import_annotations(
    inbox: Path, sample_path: Path, assignments_path: Path, section: Mapping[str, Any], output: Path, report_path: Path
) -> pd.DataFrame:
    """``annotations.parquet`` and ``import_report.csv``, once every batch came back (or its annotator withdrew)."""
    judgements, report, progress = read_returns(inbox, sample_path, assignments_path, section)
    check_returns(progress, inbox)
    _write_parquet(check(ANNOTATIONS, judgements, str(output)), output)
    rows = report_rows(progress) + report.rows()
    _write_csv(pd.DataFrame(rows, columns=list(REPORT_COLUMNS)), report_path)
    for withdrawn in (r for r in progress if r.withdrawn):
        LOG.warning(
            "annotator %s withdrawn: %d of %d posts returned",
            withdrawn.annotator,
            withdrawn.returned,
            withdrawn.assigned,
        )
    LOG.info("imported %d judgements from %d annotators", len(judgements), judgements["annotator"].nunique())
    return judgements


def adjudication_sheet(annotations_path: Path, sample_path: Path, csv_path: Path, xlsx_path: Path) -> int:
    judgements = pd.read_parquet(annotations_path)
    sample = pd.read_parquet(sample_path, columns=["post_id", "text"])
    disagreed = disagreements(judgements)
    Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
    write_adjudication_sheet(disagreed, dict(zip(sample["post_id"], sample["text"])), Path(csv_path), Path(xlsx_path))
    return len(disagreed)


def simulate_adjudicator(
    sheet_path: Path, truths: Mapping[str, Path | str], section: Mapping[str, Any], output: Path
) -> int:
    """The simulated adjudicator's sheet, decided from the truth; returns the decisions made."""
    return adjudicate_from_truth(
        Path(sheet_path),
        read_truths(truths),
        load_scheme(Path(section["labels"])),
        Path(output),
        section["simulation"]["adjudicator"],
    )


def make_gold(
    annotations_path: Path,
    adjudicated_path: Path | None,
    sample_path: Path,
    section: Mapping[str, Any],
    gold_path: Path,
    undecided_path: Path,
) -> pd.DataFrame:
    """The gold standard; refused when the adjudicator's sheet does not cover today's disagreements."""
    judgements = pd.read_parquet(annotations_path)
    scheme = load_scheme(Path(section["labels"]))
    disagreed = disagreements(judgements)
    if adjudicated_path is None:
        adjudicated = pd.DataFrame(columns=["post_id", "label", "decision", "adjudicator"])
    else:
        adjudicated = read_adjudication(Path(adjudicated_path), scheme, disagreed)
    check_adjudication_covers(adjudicated, disagreed, adjudicated_path or section["adjudicated"])
    required = tuple(label.name for label in scheme.labels if label.required)
    sample_ids = pd.read_parquet(sample_path, columns=["post_id"])["post_id"].tolist()
    gold, undecided = build_gold(judgements, adjudicated, section["majority_fallback"], sample_ids, required)
    _write_parquet(check(GOLD, gold, str(gold_path)), gold_path)
    _write_csv(undecided, undecided_path)
    LOG.info(
        "gold: %d labels (%s); undecided: %d", len(gold), gold["provenance"].value_counts().to_dict(), len(undecided)
    )
    return gold
