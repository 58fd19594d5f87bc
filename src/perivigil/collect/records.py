"""The raw post record: the contract between collection and preprocessing.

One JSON object per line, in the raw zone (``raw/<source>/posts.jsonl``), never
in git and never shared. It holds the raw author name, so nothing downstream of
preprocessing may read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from perivigil.errors import InputError
from perivigil.files import iter_json_lines

RAW_FIELDS: tuple[str, ...] = (
    "source", "post_id", "thread_id", "thread_title", "board", "url",
    "author", "created_at", "text", "collected_at",
)
OPTIONAL_FIELDS: tuple[str, ...] = ("quote_author", "quote_text")


def check_raw_record(record: Any, where: str) -> dict[str, str]:
    """Return ``record`` if it is a valid raw post, else raise naming ``where`` and the field."""
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for name in RAW_FIELDS:
        value = record.get(name)
        if not isinstance(value, str):
            problem = "is missing" if value is None else f"must be a string, got {type(value).__name__}"
            raise InputError(f"{where}: field '{name}' {problem}")
    for name in ("source", "post_id", "thread_id", "text"):
        if not record[name].strip():
            raise InputError(f"{where}: field '{name}' is empty")
    for name in OPTIONAL_FIELDS:
        if name in record and not isinstance(record[name], str):
            raise InputError(f"{where}: field '{name}' must be a string")
    for name in ("created_at", "collected_at"):
        try:
            moment = datetime.fromisoformat(record[name])
        except ValueError:
            raise InputError(f"{where}: field '{name}' is not an ISO 8601 date: {record[name]!r}") from None
        if moment.tzinfo is None:
            raise InputError(f"{where}: field '{name}' has no time zone: {record[name]!r}")
    return record


def read_raw_jsonl(path: Path) -> Iterator[dict[str, str]]:
    """Yield the checked records of a raw JSONL file, one line at a time (constant memory).

    A line that is not JSON, or not a valid record, raises :class:`InputError`
    naming the file, the line number and the field.
    """
    for _, record in iter_raw_records(path):
        yield record


def iter_raw_records(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``(where, record)``: each checked record with its file and line, for errors downstream."""
    for where, record in iter_json_lines(path):
        yield where, check_raw_record(record, where)
