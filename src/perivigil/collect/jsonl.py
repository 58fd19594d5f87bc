"""A JSONL export of raw records -> the raw zone: the "bring your own export" source.

A source of ``type: jsonl`` names a file, or a glob of files, each holding raw records
(:mod:`perivigil.collect.records`, ``docs/data-dictionary.md``), one JSON object per
line: what the other connectors write to ``raw/``, from another run of the study, another
collection tool, or a platform's export converted beforehand. Each file is one shard (one
job): ``raw/<source>/<file stem>.jsonl`` and ``results/corpus/collection/<source>/<file
stem>.csv``.

Each line is checked as the preprocessing checks raw records
(:func:`perivigil.collect.records.check_raw_record`): a line that is not UTF-8, not JSON or
not an object, a required field missing or not a string, an empty ``post_id`` or
``thread_id``, a date without a time zone, each stops the job with one line naming the
file, the line and the field, and nothing is written (a broken export is fixed, not half
read). What a collector drops, this one drops and counts (report level ``post``):

- ``empty_text``: a text empty or blank (as the Reddit connector drops one);
- ``duplicate_post_id``: a ``post_id`` already kept from this file (the first is kept; two
  exports concatenated overlap). Preprocessing refuses a ``post_id`` seen twice in a source,
  so the same post in two files of one source stops it, naming the second file and line.

Fields:

- ``source`` becomes the configured source's name (it prefixes post ids and keys the
  pseudonyms); how many records said otherwise is logged (counts only).
- ``parent_id`` and ``language``, which raw files written before them lack, are written as
  ``""``; ``raw_location`` as ``<file name>:<line>`` when the record has none.
- ``quote_author`` and ``quote_text`` are kept; other fields are not written (their names,
  never their values, are logged).

Nothing is pseudonymised here: the raw zone holds author handles for every connector and
preprocessing pseudonymises them all (study protocol §7). Logs carry file names, line
numbers, field names and counts, never a handle, a URL or a text.

Streaming: one line at a time; memory grows only with the set of ``post_id`` kept from the
file (for ``duplicate_post_id``), about 80 bytes a post (peak RSS 178 MiB for 100,000 posts,
251 MiB for 1,000,000: ``docs/benchmarks.md``, "Whole DAG").
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perivigil.collect.records import FIELD_ORDER, OPTIONAL_FIELDS, check_raw_record, raw_record
from perivigil.errors import InputError
from perivigil.files import atomic_path, iter_json_lines
from perivigil.logs import Progress

if TYPE_CHECKING:
    from perivigil.collect.crawler import CollectionReport

LOG = logging.getLogger("perivigil.collect.jsonl")

SOURCE_NAME = re.compile(r"[a-z0-9_]+")
DROP_REASONS = ("empty_text", "duplicate_post_id")
PROGRESS_LINES = 100_000
KNOWN_FIELDS = frozenset((*FIELD_ORDER, *OPTIONAL_FIELDS))


def shard_name(path: Path | str) -> str:
    """The shard of an export file: its name without ``.jsonl`` or ``.ndjson`` (``a/x.jsonl`` -> ``x``)."""
    name = Path(path).name
    for suffix in (".jsonl", ".ndjson"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def check_export_line(item: Any, where: str) -> bool:
    """Check one parsed line as a raw record; return True when its text is empty (dropped, not an error).

    Every field is checked as :func:`check_raw_record` does, except that a blank ``text`` is
    reported to the caller instead of raised.
    """
    blank = isinstance(item, dict) and isinstance(item.get("text"), str) and not item["text"].strip()
    check_raw_record({**item, "text": "-"} if blank else item, where)  # the rest of the record still checked
    return blank


def to_raw_record(item: dict[str, Any], *, source: str, location: str) -> dict[str, str]:
    """The raw record written for a checked line: the configured ``source``, every field in order."""
    fields = {name: item[name] for name in KNOWN_FIELDS if name in item}
    fields["source"] = source
    fields.setdefault("parent_id", "")
    fields.setdefault("language", "")
    if not fields.get("raw_location"):
        fields["raw_location"] = location
    return raw_record(**fields)


@dataclass
class ExportNotes:
    """What was changed in the kept records: fields not written (records per name), records of another source."""

    fields: Counter = field(default_factory=Counter)
    other_source: int = 0


def iter_export(
    path: Path, *, source: str, report: CollectionReport, notes: ExportNotes | None = None
) -> Iterator[dict[str, str]]:
    """The raw records of one export file, in file order, each line checked (see the module docstring).

    Every line is counted in ``report`` (complete once the iterator is exhausted): kept, or
    dropped with its reason; ``notes`` (when given) counts what was changed in kept records.
    """
    path = Path(path)
    if not SOURCE_NAME.fullmatch(source):
        raise InputError(f"source name {source!r}: expected lowercase letters, digits and _")
    notes = ExportNotes() if notes is None else notes
    seen: set[str] = set()
    progress = Progress(f"jsonl {path.name}", "lines")
    kept = 0
    for where, item in iter_json_lines(path):
        progress.advance(1, f"{kept:,} posts kept")
        if check_export_line(item, where):
            report.add("post", "dropped", "empty_text")
            continue
        if item["post_id"] in seen:
            report.add("post", "dropped", "duplicate_post_id")
            continue
        seen.add(item["post_id"])
        notes.fields.update(name for name in item if name not in KNOWN_FIELDS)
        notes.other_source += item["source"] != source
        line = where.rsplit(", line ", 1)[1]  # iter_json_lines's "<path>, line <n>"
        record = to_raw_record(item, source=source, location=f"{path.name}:{line}")
        report.add("post", "kept", "")
        kept += 1
        yield record
    progress.finish(f"{kept:,} posts kept")


def summary(path: Path, report: CollectionReport) -> str:
    """``export.jsonl: 3 posts kept; dropped: duplicate_post_id 1, empty_text 1`` (counts only)."""
    return (
        f"{Path(path).name}: {report.get('post', 'kept'):,} posts kept; "
        f"dropped: {report.reasons('post', 'dropped') or 'none'}"
    )


def collect_export(path: Path, output: Path, *, source: str, report_path: Path | None = None) -> CollectionReport:
    """Write the checked raw records of one export file to ``output`` (atomically), its counts to ``report_path``.

    A file that keeps no post is not an error (it writes an empty file and logs a warning);
    a file with a bad line leaves neither output.
    """
    from perivigil.collect.crawler import CollectionReport
    from perivigil.collect.run import write_report
    from perivigil.files import check_input_file

    path, output = check_input_file(path, "JSONL export"), Path(output)
    if path.resolve() == output.resolve():
        raise InputError(f"{path}: the export is also the raw file to write; put the export outside raw/{source}/")
    report = CollectionReport(source)
    notes = ExportNotes()
    with atomic_path(output) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as handle:
        for record in iter_export(path, source=source, report=report, notes=notes):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if notes.other_source:
        LOG.info("%s: %d records named another source; written as source %r", path.name, notes.other_source, source)
    if notes.fields:
        LOG.info("%s: fields not written (not raw-record fields): %s", path.name, ", ".join(sorted(notes.fields)))
    if report.get("post", "kept") == 0:
        LOG.warning("%s: no post kept (dropped: %s)", path.name, report.reasons("post", "dropped") or "none")
    else:
        LOG.info("%s", summary(path, report))
    if report_path is not None:
        write_report(report, Path(report_path))
    return report
