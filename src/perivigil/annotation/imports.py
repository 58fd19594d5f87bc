"""Read the annotators' returns, as the tools export them, into long judgements.

The inbox holds one folder per annotator (the folder's name is the annotator's name);
each file's format is detected from its name and content:

- Label Studio JSON export (a list of tasks with ``annotations``): cancelled (skipped)
  annotations and drafts are set aside and counted; when an annotator relabelled a task
  (several annotations), the latest (``updated_at``) wins; ids may be strings or integers;
- doccano JSONL export (``label`` as ``name:value`` strings);
- a spreadsheet (``.csv``, UTF-8 with or without a byte-order mark, or ``.xlsx``), whose
  text hash must match (an edited text is refused);
- brat (a folder with ``.ann`` files: attributes of the ``Post`` span, numbers in notes);
- INCEpTION / WebAnno UIMA CAS XMI (a folder with ``.xmi`` files and ``TypeSystem.xml``),
  read with dkpro-cassis.

Every problem stops the import with one line naming the file, the task or row, and the
field: an unknown label, a value outside the scheme, a post not in the sample, two
annotators with the same name, a truncated JSON file, an edited text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from perivigil.annotation.exports import POST_TYPE, text_hash
from perivigil.annotation.scheme import Scheme
from perivigil.errors import InputError
from perivigil.files import iter_json_lines, read_delimited, read_text

JUDGEMENT_COLUMNS = ("post_id", "annotator", "label", "value", "source_file", "annotated_at")


@dataclass
class ImportReport:
    """What the import read and set aside, per annotator; and the posts each one skipped on purpose."""

    counts: Counter = field(default_factory=Counter)
    skipped: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, annotator: str, what: str, n: int = 1) -> None:
        self.counts[(annotator, what)] += n

    def rows(self) -> list[dict[str, object]]:
        return [{"annotator": a, "what": w, "count": n} for (a, w), n in sorted(self.counts.items())]


@dataclass(frozen=True)
class Context:
    """What every reader needs: the scheme, the sample's texts, who is annotating, the report."""

    scheme: Scheme
    texts: dict[str, str]
    annotator: str
    report: ImportReport


def _judgement(ctx: Context, post_id: object, label: str, raw: object, where: str, source: Path,
               annotated_at: str = "") -> dict[str, str] | None:
    post_id = str(post_id).strip()
    if post_id not in ctx.texts:
        raise InputError(f"{where}: field 'post_id' {post_id!r} is not in the annotation sample")
    if not ctx.scheme.has(label):
        raise InputError(f"{where}: field '{label}' is not a label of the scheme {list(ctx.scheme.names)}")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None  # a missing judgement is an absent row, never a guess
    value = ctx.scheme[label].parse(raw, where)
    return {"post_id": post_id, "annotator": ctx.annotator, "label": label, "value": value,
            "source_file": source.as_posix(), "annotated_at": annotated_at}


def _load_json(path: Path) -> object:
    text = read_text(path, "annotation export")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (truncated file?)" if not text.rstrip().endswith(("]", "}")) else ""
        raise InputError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}") from None


def _check_text(ctx: Context, post_id: str, text: str | None, digest: str | None, where: str) -> None:
    expected = text_hash(ctx.texts[post_id])
    if (text is not None and text_hash(text) != expected) or (digest and digest != expected):
        raise InputError(f"{where}: field 'text' was edited (its hash no longer matches the sample)")


def read_labelstudio(path: Path, ctx: Context) -> list[dict[str, str]]:
    tasks = _load_json(path)
    if not isinstance(tasks, list):
        raise InputError(f"{path}: expected a Label Studio JSON export (a list of tasks)")
    rows = []
    for index, task in enumerate(tasks, start=1):
        where = f"{path}, task {task.get('id', index) if isinstance(task, dict) else index}"
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise InputError(f"{where}: field 'data' is missing")
        post_id = str(task["data"].get("post_id", "")).strip()
        if post_id not in ctx.texts:
            raise InputError(f"{where}: field 'post_id' {post_id!r} is not in the annotation sample")
        _check_text(ctx, post_id, task["data"].get("text"), task["data"].get("text_sha256"), where)
        ctx.report.add(ctx.annotator, "drafts set aside", len(task.get("drafts") or []))
        annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
        kept = [a for a in annotations if not a.get("was_cancelled")]
        ctx.report.add(ctx.annotator, "annotations cancelled (skipped)", len(annotations) - len(kept))
        if not kept:
            if annotations:  # every annotation cancelled: the annotator pressed "Skip"
                ctx.report.skipped[ctx.annotator].add(post_id)
            ctx.report.add(ctx.annotator, "tasks without annotation")
            continue
        kept.sort(key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), str(a.get("id"))))
        ctx.report.add(ctx.annotator, "annotations superseded by a later one", len(kept) - 1)
        latest = kept[-1]
        ctx.report.add(ctx.annotator, "tasks read")
        for item in latest.get("result") or []:
            name = item.get("from_name")
            value = item.get("value") or {}
            if "choices" in value:
                raw = value["choices"][0] if value["choices"] else None
            elif "number" in value:
                raw = value["number"]
            else:
                raise InputError(f"{where}: field '{name}' has an unreadable result type {item.get('type')!r}")
            row = _judgement(ctx, post_id, str(name), raw, where, path,
                             str(latest.get("updated_at") or latest.get("created_at") or ""))
            if row:
                rows.append(row)
    return rows


def read_doccano(path: Path, ctx: Context) -> list[dict[str, str]]:
    rows = []
    for where, record in iter_json_lines(path):
        post_id = str(record.get("post_id", "")).strip()
        if post_id not in ctx.texts:
            raise InputError(f"{where}: field 'post_id' {post_id!r} is not in the annotation sample")
        _check_text(ctx, post_id, record.get("text"), record.get("text_sha256"), where)
        labels = record.get("label", record.get("labels", []))
        if not labels:
            ctx.report.add(ctx.annotator, "tasks without annotation")
            continue
        ctx.report.add(ctx.annotator, "tasks read")
        seen: set[str] = set()
        for item in labels:
            name, _, raw = str(item).partition(":")
            if name in seen:
                raise InputError(f"{where}: field '{name}' has two values")
            seen.add(name)
            row = _judgement(ctx, post_id, name, raw, where, path)
            if row:
                rows.append(row)
    return rows


def _post_labels(ctx: Context, post_id: str, values: dict[str, object], where: str,
                 source: Path) -> list[dict[str, str]]:
    """Judgements of one post from ``{label: raw value}``; a post with no value is counted, not read."""
    if all(v in (None, "") for v in values.values()):
        ctx.report.add(ctx.annotator, "tasks without annotation")
        return []
    ctx.report.add(ctx.annotator, "tasks read")
    rows = []
    for name, raw in values.items():
        row = _judgement(ctx, post_id, name, raw, where, source)
        if row:
            rows.append(row)
    return rows


def _sheet_rows(ctx: Context, header: list[str], records: list[tuple[int, dict[str, object]]],
                path: Path) -> list[dict[str, str]]:
    allowed = {"post_id", "text", "text_sha256", "comment", *ctx.scheme.names}
    unknown = sorted(set(header) - allowed)
    if unknown:
        raise InputError(f"{path}, row 1: column(s) {unknown} are not labels of the scheme {list(ctx.scheme.names)}")
    if "post_id" not in header:
        raise InputError(f"{path}, row 1: column 'post_id' is missing (keep the columns of the batch's sheet)")
    rows = []
    for number, record in records:
        where = f"{path}, row {number}"
        post_id = str(record.get("post_id") or "").strip()
        if post_id not in ctx.texts:
            raise InputError(f"{where}: field 'post_id' {post_id!r} is not in the annotation sample")
        text = record.get("text")
        _check_text(ctx, post_id, None if text is None else str(text), str(record.get("text_sha256") or ""), where)
        rows.extend(_post_labels(ctx, post_id, {name: record.get(name) for name in ctx.scheme.names}, where, path))
    return rows


def read_sheet_csv(path: Path, ctx: Context) -> list[dict[str, str]]:
    """A spreadsheet saved as CSV: UTF-8 (BOM or not) or Windows-1252, ``,`` or ``;`` (French Excel)."""
    header, records = read_delimited(path, "annotation spreadsheet")
    return _sheet_rows(ctx, header, records, path)


def read_sheet_xlsx(path: Path, ctx: Context) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
        values = list(book.worksheets[0].iter_rows(values_only=True))
    except Exception as exc:  # zipfile, XML and openpyxl errors of a damaged or foreign file
        raise InputError(f"{path}: not a readable XLSX workbook ({type(exc).__name__}); "
                         "save it again from the spreadsheet as .xlsx") from None
    if not values:
        return []
    header = [str(h).strip() if h is not None else "" for h in values[0]]
    records = []
    for number, row in enumerate(values[1:], start=2):
        if all(v in (None, "") for v in row):
            continue
        for column, value in enumerate(row, start=1):
            if value not in (None, "") and (column > len(header) or not header[column - 1]):
                raise InputError(f"{path}, row {number}: a value in column {column}, which has no name in the header")
        records.append((number, {name: value for name, value in zip(header, row) if name}))
    return _sheet_rows(ctx, [name for name in header if name], records, path)


_BRAT_ATTRIBUTE = re.compile(r"^[AM]\d+\t(\S+) ([TE]\d+)(?: (\S+))?$")
_BRAT_NOTE = re.compile(r"^#\d+\tAnnotatorNotes (T\d+)\t(.*)$")


def read_brat(folder: Path, ctx: Context) -> list[dict[str, str]]:
    rows = []
    for ann in sorted(folder.glob("*.ann")):
        post_id = ann.stem
        if post_id not in ctx.texts:
            raise InputError(f"{ann}: field 'post_id' {post_id!r} (the file name) is not in the annotation sample")
        txt = ann.with_suffix(".txt")
        if txt.exists():
            _check_text(ctx, post_id, read_text(txt, "brat text file"), None, str(txt))
        values: dict[str, str] = {}
        for number, line in enumerate(read_text(ann, "brat annotation file").splitlines(), start=1):
            where = f"{ann}, line {number}"
            if match := _BRAT_ATTRIBUTE.match(line):
                values[match.group(1)] = match.group(3) if match.group(3) is not None else "1"
            elif match := _BRAT_NOTE.match(line):
                for pair in filter(None, (p.strip() for p in match.group(2).split(";"))):
                    name, sep, raw = pair.partition("=")
                    if not sep:
                        raise InputError(f"{where}: note {pair!r} is not name=value")
                    values[name.strip()] = raw.strip()
            elif line.startswith(("T", "#", "R", "E", "N", "*")) or not line.strip():
                continue
            else:
                raise InputError(f"{where}: unreadable brat annotation line")
        rows.extend(_post_labels(ctx, post_id, dict(sorted(values.items())), str(ann), ann))
    return rows


def read_inception(folder: Path, ctx: Context) -> list[dict[str, str]]:
    from cassis import load_cas_from_xmi, load_typesystem

    typesystem_path = folder / "TypeSystem.xml"
    if not typesystem_path.exists():
        raise InputError(f"{folder}: TypeSystem.xml is missing (export UIMA CAS XMI with its type system)")
    with typesystem_path.open("rb") as handle:
        typesystem = load_typesystem(handle)
    rows = []
    for xmi in sorted(folder.glob("*.xmi")):
        try:
            with xmi.open("rb") as handle:
                cas = load_cas_from_xmi(handle, typesystem=typesystem)
        except Exception as exc:  # lxml and cassis raise many types for a broken file
            raise InputError(f"{xmi}: not a readable UIMA CAS XMI file ({type(exc).__name__})") from None
        annotations = list(cas.select(POST_TYPE))
        if len(annotations) != 1:
            raise InputError(f"{xmi}: expected one {POST_TYPE} annotation, found {len(annotations)}")
        post = annotations[0]
        post_id = str(post.get("post_id") or xmi.stem)
        if post_id in ctx.texts:
            _check_text(ctx, post_id, cas.sofa_string, None, str(xmi))
        rows.extend(_post_labels(ctx, post_id, {name: post.get(name) for name in ctx.scheme.names}, str(xmi), xmi))
    return rows


def detect_format(path: Path) -> str:
    """``labelstudio``, ``doccano``, ``sheet_csv``, ``sheet_xlsx``, ``brat`` or ``inception``."""
    if path.is_dir():
        if list(path.glob("*.ann")):
            return "brat"
        if list(path.glob("*.xmi")):
            return "inception"
        raise InputError(f"{path}: a folder without .ann (brat) nor .xmi (INCEpTION) files")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return "sheet_xlsx"
    if suffix == ".csv":
        return "sheet_csv"
    if suffix == ".jsonl":
        return "doccano"
    if suffix == ".json":
        head = read_text(path, "annotation export")[:2000].lstrip()
        return "labelstudio" if head.startswith("[") else "doccano"
    raise InputError(f"{path}: unknown annotation export format (expected .json, .jsonl, .csv, .xlsx, or a "
                     "brat / INCEpTION folder)")


READERS = {"labelstudio": read_labelstudio, "doccano": read_doccano, "sheet_csv": read_sheet_csv,
           "sheet_xlsx": read_sheet_xlsx, "brat": read_brat, "inception": read_inception}


def _name_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name.casefold())
    return re.sub(r"[\W_]+", "", "".join(c for c in decomposed if not unicodedata.combining(c)))


def import_inbox(inbox: Path, scheme: Scheme, sample: pd.DataFrame) -> tuple[pd.DataFrame, ImportReport]:
    """All judgements of the inbox (``<inbox>/<annotator>/<export>``), in long form, and the report."""
    inbox = Path(inbox)
    texts = dict(zip(sample["post_id"], sample["text"]))
    report = ImportReport()
    folders = sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if inbox.is_dir() else []
    keys: dict[str, str] = {}
    rows: list[dict[str, str]] = []
    for folder in folders:
        key = _name_key(folder.name)
        if key in keys:
            raise InputError(f"{folder}: two annotators with the same name ({keys[key]!r} and {folder.name!r})")
        keys[key] = folder.name
        ctx = Context(scheme, texts, folder.name, report)
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith(".") or entry.suffix.lower() in (".md", ".conf", ".xml", ".txt"):
                continue
            rows.extend(READERS[detect_format(entry)](entry, ctx))
    frame = pd.DataFrame(rows, columns=JUDGEMENT_COLUMNS)
    duplicated = frame.duplicated(["post_id", "annotator", "label"], keep=False)
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise InputError(f"{first.source_file}: post {first.post_id!r} field '{first.label}' is annotated twice by "
                         f"{first.annotator!r} (in several files)")
    return frame.sort_values(["post_id", "annotator", "label"]).reset_index(drop=True), report
