"""Classify posts from a JSONL file with the expert rule system (``perivigil classify``).

Input: one JSON object per line with at least ``post_id`` and ``text``. Output: a CSV
with ``post_id,iso_t1,nsaid_late`` (0/1), one row per input line, in input order,
then the evidence of each positive label. Posts are read and written one at a time (rules) or
one batch at a time (trained models): memory stays flat whatever the file's size.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from perivigil.errors import InputError
from perivigil.extract.pipeline import Extractor, event_rows, posted_date
from perivigil.files import atomic_path, iter_json_lines
from perivigil.models import LABELS
from perivigil.models.rules import RuleThresholds, decide, describe

T = TypeVar("T")

OUTPUT_COLUMNS = ("post_id", "iso_t1", "nsaid_late", "iso_t1_evidence", "nsaid_late_evidence")


def read_posts_jsonl(path: Path) -> Iterator[tuple[str, str, str | None]]:
    """``(post_id, text, created_at)`` per line (``created_at`` optional: it dates the post, so that calendar
    dates become ages); a malformed line raises naming the file, the line and the field."""
    for where, record in iter_json_lines(path, skip_blank=False):
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(record).__name__}")
        for field in ("post_id", "text"):
            if field not in record:
                raise InputError(f"{where}: field '{field}' is missing")
        post_id, text = record["post_id"], record["text"]
        if not isinstance(post_id, (str, int)) or isinstance(post_id, bool):
            raise InputError(f"{where}: field 'post_id' must be a string or an integer")
        if not isinstance(text, str):
            raise InputError(f"{where}: field 'text' must be a string, got {type(text).__name__}")
        created_at = record.get("created_at")
        yield str(post_id), text, created_at if isinstance(created_at, str) else None


def classify_jsonl(
    input_path: Path, output_path: Path, extractor: Extractor, thresholds: RuleThresholds
) -> dict[str, int]:
    """Write the predictions CSV; return counts of posts and positives."""
    counts = {"posts": 0, "iso_t1": 0, "nsaid_late": 0}
    with atomic_path(output_path) as tmp:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(OUTPUT_COLUMNS)
            for post_id, text, created_at in read_posts_jsonl(input_path):
                events = event_rows(post_id, extractor.extract(text, posted_date(created_at)))
                decision = decide(events, thresholds)
                writer.writerow(
                    [
                        post_id,
                        decision.iso_t1,
                        decision.nsaid_late,
                        " | ".join(describe(e) for e in decision.iso_t1_evidence),
                        " | ".join(describe(e) for e in decision.nsaid_late_evidence),
                    ]
                )
                counts["posts"] += 1
                counts["iso_t1"] += decision.iso_t1
                counts["nsaid_late"] += decision.nsaid_late
    return counts


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def label_model_path(prefix: Path, label: str) -> Path:
    """``<prefix>_<label>.joblib`` (a linear model), else the folder ``<prefix>_<label>`` (a fine-tuned
    transformer); neither is an error naming the joblib file."""
    path = Path(f"{prefix}_{label}.joblib")
    folder = Path(f"{prefix}_{label}")
    if not path.exists() and folder.is_dir():
        return folder
    if not path.exists():
        raise InputError(f"--model {prefix}: {path} does not exist (train it with the DAG's rule train)")
    return path


def classify_jsonl_with_models(
    input_path: Path, output_path: Path, prefix: Path, batch_size: int = 2000
) -> dict[str, int]:
    """Same CSV with trained models: ``<prefix>_iso_t1.joblib`` and ``<prefix>_nsaid_late.joblib`` (linear), or
    the folders ``<prefix>_iso_t1/`` and ``<prefix>_nsaid_late/`` (transformer); the evidence columns hold each
    label's predicted probability. Posts are read, scored and written ``batch_size`` at a time (memory: one
    batch), each text transformed once for both labels when their vectorisers are the same
    (:class:`perivigil.models.linear.LabelModels`); a malformed line leaves no output."""
    from perivigil.models.linear import LabelModels
    from perivigil.models.store import load_model

    predictor = LabelModels({label: load_model(label_model_path(prefix, label)) for label in LABELS})
    counts = {"posts": 0, "iso_t1": 0, "nsaid_late": 0}
    with atomic_path(output_path) as tmp:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(OUTPUT_COLUMNS)
            for batch in batched(read_posts_jsonl(input_path), batch_size):
                result = predictor.predict([text for _, text, _ in batch])
                (iso, iso_p), (nsaid, nsaid_p) = result["iso_t1"], result["nsaid_late"]
                writer.writerows(
                    [post_id, int(iso[i]), int(nsaid[i]), f"p={iso_p[i]:.3f}", f"p={nsaid_p[i]:.3f}"]
                    for i, (post_id, _, _) in enumerate(batch)
                )
                counts["posts"] += len(batch)
                counts["iso_t1"] += int(iso.sum())
                counts["nsaid_late"] += int(nsaid.sum())
    return counts
