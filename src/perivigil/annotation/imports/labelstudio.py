"""Label Studio exports: JSON (every annotation of every user), JSON-MIN, CSV and TSV (one row per annotation).

JSON: one annotator per ``completed_by`` (an id, or an object with ``id`` and ``email``); per
task and annotator, cancelled annotations (``Skip``) and drafts are set aside and counted, and
when an annotator relabelled a task the latest (``updated_at``) wins. JSON-MIN, CSV and TSV
hold one flat record per annotation (``annotator`` = the user), numbers as ``[{"number": 20}]``;
Label Studio leaves cancelled annotations and drafts out of them, so they cannot be counted.
"""

from __future__ import annotations

import json
from pathlib import Path

from perivigil.annotation.imports.common import Context, check_post, check_text, judgement, load_json
from perivigil.errors import InputError
from perivigil.files import read_delimited

DATA_FIELDS = ("post_id", "text", "text_sha256")
# keys of a JSON-MIN / CSV record that are not labels (Label Studio's own, and the SDK converter's)
META_FIELDS = {
    "id",
    "annotator",
    "annotation_id",
    "created_at",
    "updated_at",
    "lead_time",
    "agreement",
    "drafts",
    "predictions",
    "annotations",
    "meta",
    "inner_id",
    "total_annotations",
}


def _user(ctx: Context, annotation: dict) -> str:
    by = annotation.get("completed_by")
    if isinstance(by, dict):
        return ctx.who(by.get("email"), by.get("id"))
    return ctx.who(by)


def _result_value(item: dict, where: str) -> object:
    value = item.get("value") or {}
    if "choices" in value:
        choices = value["choices"] or []
        if len(choices) > 1:
            raise InputError(f"{where}: field '{item.get('from_name')}' has {len(choices)} choices {choices}")
        return choices[0] if choices else None
    if "number" in value:
        return value["number"]
    raise InputError(f"{where}: field '{item.get('from_name')}' has an unreadable result type {item.get('type')!r}")


def _annotation_rows(
    ctx: Context, annotation: dict, post_id: str, who: str, where: str, path: Path
) -> list[dict[str, str]]:
    at = str(annotation.get("updated_at") or annotation.get("created_at") or "")
    rows = []
    for item in annotation.get("result") or []:
        row = judgement(ctx, post_id, str(item.get("from_name")), _result_value(item, where), where, path, at, who)
        if row:
            rows.append(row)
    return rows


def read_labelstudio(path: Path, ctx: Context) -> list[dict[str, str]]:
    tasks = load_json(path)
    if not isinstance(tasks, list):
        raise InputError(f"{path}: expected a Label Studio JSON export (a list of tasks)")
    users = list(
        dict.fromkeys(
            _user(ctx, a)
            for t in tasks
            if isinstance(t, dict)
            for a in t.get("annotations") or []
            if isinstance(a, dict)
        )
    )
    rows = []
    for index, task in enumerate(tasks, start=1):
        where = f"{path}, task {task.get('id', index) if isinstance(task, dict) else index}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise InputError(f"{where}: field 'data' is missing")
        post_id = check_post(ctx, task["data"].get("post_id", ""), where)
        check_text(ctx, post_id, task["data"].get("text"), task["data"].get("text_sha256"), where)
        ctx.add("drafts set aside", len(task.get("drafts") or []), file=path)
        ctx.add("predictions set aside (not an annotator's)", len(task.get("predictions") or []), file=path)
        annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
        if not users:
            ctx.add("tasks without annotation", file=path)
        for who in users:
            theirs = [a for a in annotations if _user(ctx, a) == who]
            kept = [a for a in theirs if not a.get("was_cancelled")]
            ctx.add("annotations cancelled (skipped)", len(theirs) - len(kept), file=path, annotator=who)
            if not kept:
                if theirs:  # every annotation cancelled: the annotator pressed "Skip"
                    ctx.report.skipped[who].add(post_id)
                ctx.add("tasks without annotation", file=path, annotator=who)
                continue
            kept.sort(key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), str(a.get("id"))))
            ctx.add("annotations superseded by a later one", len(kept) - 1, file=path, annotator=who)
            ctx.add("tasks read", file=path, annotator=who)
            rows.extend(_annotation_rows(ctx, kept[-1], post_id, who, where, path))
    return rows


def _cell(raw: object, name: str, where: str) -> object:
    """A JSON-MIN / CSV value: ``"0"``, ``[{"number": 20}]`` (as JSON text in CSV), ``{"choices": [...]}``."""
    if isinstance(raw, str) and raw.strip().startswith(("[", "{")):
        text = raw
        try:
            raw = json.loads(text)
        except json.JSONDecodeError:
            raise InputError(f"{where}: field '{name}' is not readable JSON: {text[:60]!r}") from None
    if isinstance(raw, dict):
        raw = [raw]
    if isinstance(raw, list):
        values = []
        for item in raw:
            if isinstance(item, dict) and "number" in item:
                values.append(item["number"])
            elif isinstance(item, dict) and "choices" in item:
                values.extend(item["choices"])
            elif isinstance(item, (str, int, float)):
                values.append(item)
            else:
                raise InputError(f"{where}: field '{name}' has an unreadable value {item!r}")
        if len(values) > 1:
            raise InputError(f"{where}: field '{name}' has {len(values)} values {values}")
        return values[0] if values else None
    return raw


def _flat_record(ctx: Context, record: dict, where: str, path: Path) -> list[dict[str, str]]:
    post_id = check_post(ctx, record.get("post_id", ""), where)
    check_text(ctx, post_id, record.get("text") or None, record.get("text_sha256") or None, where)
    if record.get("annotator") in (None, "") and record.get("annotation_id") in (None, ""):
        ctx.add("tasks without annotation", file=path)
        return []
    who = ctx.who(record.get("annotator"))
    at = str(record.get("updated_at") or record.get("created_at") or "")
    ctx.add("tasks read", file=path, annotator=who)
    rows = []
    for name, raw in record.items():
        if name in META_FIELDS or name in DATA_FIELDS or name.startswith("_"):
            continue
        row = judgement(ctx, post_id, name, _cell(raw, name, where), where, path, at, who)
        if row:
            rows.append(row)
    return rows


def read_labelstudio_min(path: Path, ctx: Context) -> list[dict[str, str]]:
    records = load_json(path)
    if not isinstance(records, list):
        raise InputError(f"{path}: expected a Label Studio JSON-MIN export (a list of records)")
    rows = []
    for index, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise InputError(f"{path}, record {index}: expected an object")
        where = f"{path}, task {record.get('id', index)}"
        if record.get("annotation_id") not in (None, ""):
            where += f", annotation {record['annotation_id']}"
        rows.extend(_flat_record(ctx, record, where, path))
    return rows


def read_labelstudio_csv(path: Path, ctx: Context) -> list[dict[str, str]]:
    """Label Studio's CSV or TSV export (the JSON-MIN records, one per row)."""
    header, records = read_delimited(path, "Label Studio CSV/TSV export")
    if "post_id" not in header:
        raise InputError(f"{path}, row 1: column 'post_id' is missing (import the batch's tasks with their post_id)")
    rows = []
    for number, record in records:
        rows.extend(_flat_record(ctx, record, f"{path}, row {number}", path))
    return rows
