"""The raw post record: the contract between every connector and preprocessing.

One JSON object per line, in the raw zone (``raw/<source>/<shard>.jsonl``: a forum
crawl, a Reddit dump file, a Bluesky month), never in git and never shared. It holds
the raw author name and the post's permalink, so nothing downstream of preprocessing
may read it (study protocol §7). Every connector (forum crawler, Reddit dumps,
Bluesky search) writes the same fields, all strings:

========================  ==================================================================
``source``                the configured source name (``[a-z0-9_]``)
``post_id``               the post's id on its platform, unique within the source
``thread_id``             the id of the thread (forum topic, Reddit submission, Bluesky root)
``parent_id``             the id of the post it answers; ``""`` for a thread's first post or
                          where the platform does not say (a flat forum thread)
``thread_title``          the thread's title (``""`` where the connector does not see it)
``board``                 where it was posted: forum board, subreddit, ``"bluesky"``
``url``                   permalink (raw zone only)
``author``                author handle (raw zone only; pseudonymised by preprocessing)
``created_at``            ISO 8601 with a time zone (normalised to UTC downstream)
``collected_at``          ISO 8601 with a time zone: when the connector (or the dump) read it
``language``              the language the platform declares (``""`` when none); the study
                          detects it again (Bluesky's tag is wrong for about a quarter of
                          "French" posts)
``text``                  the post (title + body for a Reddit submission)
``raw_location``          where the raw record was read: ``<dump file>:<line>``, a page URL,
                          a search query and page (raw zone only)
========================  ==================================================================

Optional: ``quote_author`` and ``quote_text`` (a forum quote). ``parent_id``,
``language`` and ``raw_location`` came with the Reddit and Bluesky connectors: a raw
file written before them is read with ``""`` in their place.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from perivigil.errors import InputError
from perivigil.files import iter_json_lines

RAW_FIELDS: tuple[str, ...] = (
    "source",
    "post_id",
    "thread_id",
    "thread_title",
    "board",
    "url",
    "author",
    "created_at",
    "text",
    "collected_at",
)
# Written by every connector; read as "" from raw files written before they existed.
LATER_FIELDS: tuple[str, ...] = ("parent_id", "language", "raw_location")
OPTIONAL_FIELDS: tuple[str, ...] = ("quote_author", "quote_text")
# The order in which connectors write a record's fields (readable raw files; same bytes each run).
FIELD_ORDER: tuple[str, ...] = (
    "source",
    "post_id",
    "thread_id",
    "parent_id",
    "thread_title",
    "board",
    "url",
    "author",
    "created_at",
    "collected_at",
    "language",
    "text",
    "raw_location",
)


def raw_record(**fields: str) -> dict[str, str]:
    """A raw record with its fields in :data:`FIELD_ORDER` (then any quote fields); every field required."""
    missing = [name for name in FIELD_ORDER if name not in fields]
    unknown = [name for name in fields if name not in FIELD_ORDER and name not in OPTIONAL_FIELDS]
    if missing or unknown:
        raise TypeError(f"raw_record: missing {missing}, unknown {unknown}")
    record = {name: fields[name] for name in FIELD_ORDER}
    record.update({name: fields[name] for name in OPTIONAL_FIELDS if name in fields})
    return record


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
    for name in (*LATER_FIELDS, *OPTIONAL_FIELDS):
        if name in record and not isinstance(record[name], str):
            raise InputError(f"{where}: field '{name}' must be a string, got {type(record[name]).__name__}")
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
