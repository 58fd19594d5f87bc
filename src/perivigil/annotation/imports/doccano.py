"""doccano text-classification exports: JSONL, JSON, CSV and fastText, one file per user.

Labels are ``name:value`` strings (perivigil's guidelines ask for label names such as
``exposure:actual``). doccano names each user's file after the user (``admin.jsonl``): the
file's stem is the tool user. A collaborative project merges every user's labels into one
file (``all.jsonl``): a label given twice is refused with that reason. Records without a
``post_id`` (fastText, a project created without metadata) are matched to the sample by text.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from perivigil.annotation.imports.common import Context, check_post, check_text, judgement, load_json
from perivigil.errors import InputError
from perivigil.files import decode_text, iter_json_lines, read_delimited


def _post_by_text(ctx: Context, text: object, where: str) -> str:
    wanted = str(text or "").strip()
    found = [post_id for post_id, sample_text in ctx.texts.items() if sample_text.strip() == wanted]
    if len(found) != 1:
        why = "matches no post" if not found else f"matches {len(found)} posts"
        raise InputError(f"{where}: field 'text' {why} of the annotation sample (and the record has no post_id)")
    return found[0]


def _record_rows(ctx: Context, record: dict, where: str, path: Path) -> list[dict[str, str]]:
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected a JSON object (a doccano record)")
    labels = record.get("label", record.get("labels", record.get("cats", [])))
    spans = [item for item in labels or [] if not isinstance(item, str)]
    if spans:
        raise InputError(
            f"{where}: field 'label' holds a span {spans[0]!r}: a sequence-labelling export has no "
            "post-level labels (export a text-classification project)"
        )
    if "post_id" in record:
        post_id = check_post(ctx, record.get("post_id"), where)
        check_text(ctx, post_id, record.get("text"), record.get("text_sha256"), where)
    else:
        post_id = _post_by_text(ctx, record.get("text"), where)
    who = ctx.who(path.stem)
    ctx.add("comments set aside", len(record.get("Comments") or []), file=path, annotator=who)
    if not labels:
        ctx.add("tasks without annotation", file=path, annotator=who)
        return []
    ctx.add("tasks read", file=path, annotator=who)
    seen: dict[str, str] = {}
    rows = []
    for item in labels:
        name, _, raw = item.partition(":")
        if name in seen:
            why = (
                " (the same label twice: a collaborative project merges its users' labels; export with "
                "collaborative annotation off, one file per user)"
                if seen[name] == raw
                else ""
            )
            raise InputError(f"{where}: field '{name}' has two values{why}")
        seen[name] = raw
        row = judgement(ctx, post_id, name, raw, where, path, annotator=who)
        if row:
            rows.append(row)
    return rows


def read_doccano(path: Path, ctx: Context) -> list[dict[str, str]]:
    """doccano's JSONL export (one record a line)."""
    rows = []
    for where, record in iter_json_lines(path):
        rows.extend(_record_rows(ctx, record, where, path))
    return rows


def read_doccano_json(path: Path, ctx: Context) -> list[dict[str, str]]:
    """doccano's JSON export (the JSONL records as one list)."""
    records = load_json(path)
    if not isinstance(records, list):
        raise InputError(f"{path}: expected a doccano JSON export (a list of records)")
    rows = []
    for index, record in enumerate(records, start=1):
        rows.extend(_record_rows(ctx, record, f"{path}, record {index}", path))
    return rows


def read_doccano_csv(path: Path, ctx: Context) -> list[dict[str, str]]:
    """doccano's CSV export: ``id,text,<metadata>,label,Comments``, labels joined with ``#``."""
    header, records = read_delimited(path, "doccano CSV export")
    rows = []
    for number, record in records:
        fields: dict[str, object] = dict(record)
        fields["label"] = [part for part in (record.get("label") or "").split("#") if part]
        fields["Comments"] = [c for c in [record.get("Comments") or ""] if c]
        if not record.get("post_id"):
            fields.pop("post_id", None)
        rows.extend(_record_rows(ctx, fields, f"{path}, row {number}", path))
    return rows


def read_doccano_fasttext(path: Path, ctx: Context) -> list[dict[str, str]]:
    """doccano's fastText export: ``__label__<name:value> … text``, each record quoted; matched by text."""
    text = decode_text(path.read_bytes(), path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\x1f")
    rows = []
    for cells in reader:
        number = reader.line_num
        record = "\x1f".join(cells)
        if not record.strip():
            continue
        words = record.strip().split(" ")
        labels = []
        for word in words:
            if not word.startswith("__label__"):
                break
            labels.append(word[len("__label__") :])
        rest = " ".join(words[len(labels) :])
        rows.extend(_record_rows(ctx, {"text": rest, "label": labels}, f"{path}, line {number}", path))
    return rows
