"""Classify posts from a JSONL file with the expert rule system (``perivigil classify``).

Input: one JSON object per line with at least ``post_id`` and ``text``. Output: a CSV
with ``post_id,iso_t1,nsaid_late`` (0/1), one row per input line, in input order,
then the evidence of each positive label. Posts are read and written one at a time.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from perivigil.errors import InputError
from perivigil.extract.pipeline import Extractor, event_rows, posted_date
from perivigil.files import atomic_path, iter_json_lines
from perivigil.models.rules import RuleThresholds, decide, describe

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


def classify_jsonl_with_models(input_path: Path, output_path: Path, prefix: Path) -> dict[str, int]:
    """Same CSV with trained linear models: ``<prefix>_iso_t1.joblib`` and ``<prefix>_nsaid_late.joblib``;
    the evidence columns hold each label's predicted probability."""
    from perivigil.models.linear import load

    models = {}
    for label in ("iso_t1", "nsaid_late"):
        path = Path(f"{prefix}_{label}.joblib")
        if not path.exists():
            raise InputError(f"--model {prefix}: {path} does not exist (train it with the DAG's rule train)")
        models[label] = load(path)
    rows = list(read_posts_jsonl(input_path))  # checked whole before any output is written
    texts = [text for _, text, _ in rows]
    scores = {label: model.predict_proba(texts)[:, 1] if texts else [] for label, model in models.items()}
    labels = {label: model.predict(texts) if texts else [] for label, model in models.items()}
    counts = {"posts": len(rows), "iso_t1": 0, "nsaid_late": 0}
    with atomic_path(output_path) as tmp:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(OUTPUT_COLUMNS)
            for i, (post_id, _, _) in enumerate(rows):
                iso, nsaid = int(labels["iso_t1"][i]), int(labels["nsaid_late"][i])
                writer.writerow(
                    [post_id, iso, nsaid, f"p={scores['iso_t1'][i]:.3f}", f"p={scores['nsaid_late'][i]:.3f}"]
                )
                counts["iso_t1"] += iso
                counts["nsaid_late"] += nsaid
    return counts
