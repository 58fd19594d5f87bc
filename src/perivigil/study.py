"""Where a real study stands between its human steps, what it waits for, and what it found.

A real study (``demo: false``) cannot run in one go: after sampling, annotators work
for weeks; after agreement, the adjudicator decides the disagreements. The DAG runs
every stage whose inputs exist and stops cleanly at the first human step (the targets
of ``rule all`` come from :func:`study_stage`); ``perivigil status`` and the end of
``make study`` print :func:`format_status`, and, once the study is complete,
:func:`headline` (the numbers a supervisor looks for first).

Stages, in order:

1. ``corpus``: collection, preprocessing, extraction, the sample and its batches; then
   the annotators' turn;
2. ``annotators``: waiting until every annotator returned their batch into the inbox
   (or is listed in ``annotation.withdrawn``);
3. ``adjudicator``: the returns are in: agreement and the adjudication sheet are built;
   then waiting for the adjudicator's sheet (``annotation.adjudicated``) to cover it;
4. ``complete``: gold, models, evaluation, prevalence, notebooks, provenance, report.

Everything is read from the files on disk, so the status is the same whether asked
before, during or after a run. The demo (``demo: true``) simulates both human steps
inside the DAG and is always ``complete``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perivigil.annotation.returns import Returns, waiting_for
from perivigil.annotation.run import read_returns
from perivigil.errors import InputError
from perivigil.models import LABELS

STAGES = ("corpus", "annotators", "adjudicator", "complete")
ASSIGNMENTS = "results/annotation/assignments.csv"
SAMPLE = "results/annotation/sample.parquet"
BATCHES = "results/annotation/batches"
SHEET = "results/annotation/adjudication/to_adjudicate.csv"
REPORT = "results/report.html"


@dataclass(frozen=True)
class Adjudication:
    """The adjudication sheet sent out, and what came back."""

    to_decide: int  # (post, label) pairs in the sheet
    returned: int  # of them, rows present in the adjudicator's sheet
    decided: int  # of them, rows with a decision
    sheet_is_current: bool  # no annotator's return is newer than the sheet


@dataclass(frozen=True)
class StudyState:
    """Where the study stands; see the module docstring."""

    stage: str
    demo: bool
    inbox: str
    adjudicated: str
    returns: tuple[Returns, ...] = ()
    adjudication: Adjudication | None = None


def _inbox_files(inbox: Path) -> list[Path]:
    if not inbox.is_dir():
        return []
    return sorted(
        p
        for p in inbox.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(inbox).parts)
    )


def inbox_files(inbox: Path | str) -> list[str]:
    """Every file an annotator dropped in the inbox (hidden files aside): the import's inputs."""
    return [str(p) for p in _inbox_files(Path(inbox))]


def _sheet_keys(path: Path) -> list[tuple[str, str, str]]:
    """``(post_id, label, decision)`` of the rows of an adjudication sheet (CSV)."""
    from perivigil.files import read_delimited

    header, rows = read_delimited(path, "adjudication sheet")
    for column in ("post_id", "label"):
        if column not in header:
            raise InputError(f"{path}, row 1: column {column!r} is missing (keep the columns of to_adjudicate.csv)")
    return [(r["post_id"], r["label"], r.get("decision", "").strip()) for _, r in rows]


def adjudication_state(root: Path, adjudicated: Path, inbox: Path) -> Adjudication | None:
    """What the adjudicator has to decide and has decided; ``None`` before the sheet exists."""
    sheet = root / SHEET
    if not sheet.is_file():
        return None
    wanted = {(p, label) for p, label, _ in _sheet_keys(sheet)}
    back = {(p, label): decision for p, label, decision in _sheet_keys(adjudicated)} if adjudicated.is_file() else {}
    newest_return = max((p.stat().st_mtime for p in _inbox_files(inbox)), default=0.0)
    return Adjudication(
        len(wanted),
        len(wanted & set(back)),
        sum(1 for key in wanted if back.get(key)),
        newest_return <= sheet.stat().st_mtime,
    )


def study_stage(config: Mapping[str, Any], root: Path = Path(".")) -> StudyState:
    """The stage of the study from the files under ``root`` (see the module docstring)."""
    section = config["annotation"]
    inbox, adjudicated = root / section["inbox"], root / section["adjudicated"]
    base = {"demo": bool(config["demo"]), "inbox": section["inbox"], "adjudicated": section["adjudicated"]}
    if config["demo"]:
        return StudyState("complete", **base)
    if not (root / ASSIGNMENTS).is_file() or not (root / SAMPLE).is_file():
        return StudyState("corpus", **base)
    _, _, progress = read_returns(inbox, root / SAMPLE, root / ASSIGNMENTS, section)
    returns = tuple(progress)
    if waiting_for(returns):
        return StudyState("annotators", returns=returns, **base)
    adjudication = adjudication_state(root, adjudicated, inbox)
    done = (
        adjudication is not None and adjudication.sheet_is_current and adjudication.returned == adjudication.to_decide
    )
    return StudyState("complete" if done else "adjudicator", returns=returns, adjudication=adjudication, **base)


# ----------------------------------------------------------------------------- what a person reads
def format_status(state: StudyState, root: Path = Path(".")) -> str:
    """One screen: each stage, done or waiting, and the one thing to do next."""
    lines = [f"perivigil study status ({'demo' if state.demo else 'real study'}: stage '{state.stage}')"]
    posts = root / "results/corpus/posts.parquet"
    if posts.is_file():
        import pyarrow.parquet as pq

        lines.append(
            f"  1. corpus          done: {pq.ParquetFile(posts).metadata.num_rows:,} posts in "
            "results/corpus/posts.parquet"
        )
    else:
        lines.append("  1. corpus          to build: collection, preprocessing, extraction, sample")
    if (root / ASSIGNMENTS).is_file():
        import pandas as pd

        sizes = pd.read_csv(root / ASSIGNMENTS, dtype=str)["annotator"].value_counts().sort_index()
        lines.append(
            f"     batches         {BATCHES}/<annotator>/: "
            + ", ".join(f"{name} {n:,} posts" for name, n in sizes.items())
        )
    if state.demo:
        lines.append("  2. annotators      simulated (demo)")
        lines.append("  3. adjudicator     simulated (demo)")
    elif state.returns:
        word = "waiting for returns" if waiting_for(state.returns) else "every return is in"
        lines.append(f"  2. annotators      {word} ({state.inbox}/): " + ", ".join(r.describe() for r in state.returns))
    else:
        lines.append(f"  2. annotators      not yet: their batches are made in stage 1; returns go in {state.inbox}/")
    if not state.demo:
        lines.append(_adjudication_line(state))
    report = root / REPORT
    lines.append(f"  4. models, report  {'done: ' + REPORT if report.is_file() and state.stage == 'complete' else '—'}")
    lines.append(f"Next: {next_step(state)}")
    return "\n".join(lines)


def _adjudication_line(state: StudyState) -> str:
    adjudication = state.adjudication
    if adjudication is None:
        return "  3. adjudicator     not yet: the sheet is made once every return is in"
    if adjudication.to_decide == 0:
        return "  3. adjudicator     nothing to decide: the annotators agree everywhere"
    if not adjudication.sheet_is_current:
        return "  3. adjudicator     the returns changed since the sheet was made: it is rebuilt by the next run"
    return (
        f"  3. adjudicator     {adjudication.returned} of {adjudication.to_decide} disagreements back in "
        f"{state.adjudicated} ({adjudication.decided} decided), sheet: {SHEET}"
    )


def next_step(state: StudyState) -> str:
    """The one thing a person does next."""
    if state.stage == "corpus":
        return "run `make study`: it collects, preprocesses, extracts and writes the annotation batches"
    if state.stage == "annotators":
        return (
            f"send each annotator their folder of {BATCHES}/; put each return in {state.inbox}/<annotator>/ "
            "as the tool exports it, then run `make study` again"
        )
    if state.stage == "adjudicator":
        adjudication = state.adjudication
        if adjudication is None or not adjudication.sheet_is_current:
            return "run `make study`: it imports the returns, measures agreement and writes the adjudication sheet"
        return (
            f"send {SHEET} (or .xlsx) to the adjudicator; save it back, with the decision and adjudicator "
            f"columns filled, as {state.adjudicated}, then run `make study` again"
        )
    return f"open {REPORT}"


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None or value != value:
        return "—"
    return f"{100 * value:.1f} %" if percent else f"{value:.3f}"


def headline(root: Path = Path(".")) -> str:
    """The study's first numbers: posts, agreement, F1 per model and label, corrected prevalence."""
    import pandas as pd

    lines = ["perivigil study: headline numbers"]
    posts = root / "results/corpus/posts.parquet"
    if posts.is_file():
        import pyarrow.parquet as pq

        table = pq.read_table(posts, columns=["source"]).to_pandas()
        lines.append(f"  posts: {len(table):,} from {table['source'].nunique()} source(s)")
    agreement = root / "results/agreement/agreement.json"
    if agreement.is_file():
        values = json.loads(agreement.read_text(encoding="utf-8"))
        parts = []
        for label in LABELS:
            result = values.get(label, {})
            low, high = result.get("krippendorff_alpha_ci95") or (None, None)
            parts.append(f"{label} {_fmt(result.get('krippendorff_alpha'))} [{_fmt(low)}, {_fmt(high)}]")
        lines.append("  Krippendorff's alpha (95 % CI): " + "; ".join(parts))
    gold = root / "results/annotation/gold.parquet"
    if gold.is_file():
        frame = pd.read_parquet(gold, columns=["post_id"])
        lines.append(f"  gold standard: {frame['post_id'].nunique():,} posts")
    metrics = root / "results/tables/metrics.csv"
    if metrics.is_file():
        table = pd.read_csv(metrics)
        f1 = table[table["metric"] == "f1"]
        if "weighting" in f1:
            f1 = f1[f1["weighting"] == "design"]
        for model, rows in f1.groupby("model", sort=False):
            parts = [f"{r.label} {_fmt(r.estimate)} [{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]" for r in rows.itertuples()]
            lines.append(f"  F1 on the test split, design-weighted, {model} (95 % CI): " + "; ".join(parts))
    prevalence = root / "results/tables/prevalence.csv"
    if prevalence.is_file():
        table = pd.read_csv(prevalence)
        if "weighting" in table:
            table = table[table["weighting"] == "design"]
        parts = [
            f"{r.label} {_fmt(r.corrected_prevalence, True)} [{_fmt(r.ci_low, True)}, {_fmt(r.ci_high, True)}]"
            for r in table.itertuples()
        ]
        model = table["model"].iloc[0] if len(table) else "?"
        lines.append(f"  corrected prevalence ({model}, design-weighted Se/Sp, 95 % CI): " + "; ".join(parts))
    if (root / REPORT).is_file():
        lines.append(f"  report: {REPORT}")
    return "\n".join(lines)
