"""Read the annotators' returns, as the tools export them, into long judgements.

The inbox holds one folder per annotator or per tool export. Each file's format is detected
from its content (:mod:`.detect`) and read by the module of its tool, one module per tool
because each tool has its own formats, users and quirks:

- :mod:`.labelstudio`: JSON (cancelled annotations and drafts counted, a relabel's latest
  wins), JSON-MIN, CSV, TSV; one annotator per Label Studio user;
- :mod:`.doccano`: JSONL, JSON, CSV, fastText; one annotator per user file;
- :mod:`.sheet`: the batch's spreadsheet filled in (.csv, .xlsx);
- :mod:`.brat`: the ``Post`` span's attributes and notes (other spans counted, not read);
- :mod:`.inception`: UIMA CAS XMI (folder or zip), the project export (one annotator per user).

Archives (zip, tar.gz) are unpacked and each member is named in messages as
``<archive>/<member>``. A tool user is named through ``annotation.tool_users``; a user not
mapped there is ``<folder>:<user>``, unless the folder holds that one user only: then the
folder's name, as for a folder holding one annotator's export. Everything not read is
counted in the report (:mod:`.report`) per annotator, file and reason. Every problem stops
the import with one line naming the file, the task or row, and the field.
"""

from __future__ import annotations

import re
import tarfile
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from perivigil.annotation.imports.brat import read_brat
from perivigil.annotation.imports.common import JUDGEMENT_COLUMNS, Context
from perivigil.annotation.imports.detect import FORMATS, NOT_EXPORTS, detect_format
from perivigil.annotation.imports.doccano import (
    read_doccano,
    read_doccano_csv,
    read_doccano_fasttext,
    read_doccano_json,
)
from perivigil.annotation.imports.inception import (
    read_inception,
    read_inception_project,
    read_inception_zip,
    refuse_webanno_tsv,
)
from perivigil.annotation.imports.labelstudio import read_labelstudio, read_labelstudio_csv, read_labelstudio_min
from perivigil.annotation.imports.report import REPORT_COLUMNS, ImportReport
from perivigil.annotation.imports.sheet import read_sheet_csv, read_sheet_xlsx
from perivigil.annotation.scheme import Scheme
from perivigil.errors import InputError

__all__ = [
    "FORMATS",
    "JUDGEMENT_COLUMNS",
    "READERS",
    "REPORT_COLUMNS",
    "Context",
    "ImportReport",
    "detect_format",
    "import_inbox",
    "read_sheet_xlsx",
    "tool_user_names",
]

Reader = Callable[[Path, Context], list[dict[str, str]]]


def _read_archive(path: Path, ctx: Context) -> list[dict[str, str]]:
    """A zip or tar.gz the tool hands out (doccano's download, brat's collection): unpacked, then read."""
    with tempfile.TemporaryDirectory(prefix="perivigil-archive-") as tmp:
        root = Path(tmp)
        try:
            if zipfile.is_zipfile(path):
                with zipfile.ZipFile(path) as archive:
                    bad = [m for m in archive.namelist() if m.startswith("/") or ".." in Path(m).parts]
                    if bad:
                        raise InputError(f"{ctx.shown(path)}: member {bad[0]!r} points outside the archive")
                    archive.extractall(root)
            else:
                with tarfile.open(path) as archive:
                    archive.extractall(root, filter="data")
        except (zipfile.BadZipFile, tarfile.TarError) as exc:
            raise InputError(f"{ctx.shown(path)}: not a readable archive ({type(exc).__name__}: {exc})") from None
        ctx.aliases[root.as_posix()] = ctx.shown(path)
        try:
            return read_tree(root, ctx)
        finally:
            del ctx.aliases[root.as_posix()]


READERS: dict[str, Reader] = {
    "labelstudio": read_labelstudio,
    "labelstudio_min": read_labelstudio_min,
    "labelstudio_csv": read_labelstudio_csv,
    "doccano": read_doccano,
    "doccano_json": read_doccano_json,
    "doccano_csv": read_doccano_csv,
    "doccano_fasttext": read_doccano_fasttext,
    "sheet_csv": read_sheet_csv,
    "sheet_xlsx": read_sheet_xlsx,
    "brat": read_brat,
    "inception": read_inception,
    "inception_xmi_zip": read_inception_zip,
    "inception_project": read_inception_project,
    "webanno_tsv": refuse_webanno_tsv,
    "archive": _read_archive,
}


def read_entry(entry: Path, ctx: Context) -> list[dict[str, str]]:
    """One export (a file, or a brat / XMI folder): its format detected, recorded in the report, then read."""
    try:
        fmt = detect_format(entry)
    except InputError as exc:
        raise InputError(str(exc).replace(entry.as_posix(), ctx.shown(entry), 1)) from None
    ctx.report.formats[ctx.shown(entry)] = FORMATS[fmt]
    try:
        return READERS[fmt](entry, ctx)
    except InputError as exc:
        message = str(exc)
        for unpacked, archive in ctx.aliases.items():
            message = message.replace(unpacked, archive)
        raise InputError(message) from None


def read_tree(folder: Path, ctx: Context) -> list[dict[str, str]]:
    """Every export under ``folder``: a brat / XMI folder as one, else each file and sub-folder in turn."""
    if list(folder.glob("*.ann")) or list(folder.glob("*.xmi")):
        return read_entry(folder, ctx)
    rows: list[dict[str, str]] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if entry.is_dir():
            rows.extend(read_tree(entry, ctx))
        elif entry.suffix.lower() in NOT_EXPORTS and not _fasttext(entry):
            ctx.add("files not read (not an annotation export)", file=entry)
        else:
            rows.extend(read_entry(entry, ctx))
    return rows


def _fasttext(path: Path) -> bool:
    return path.suffix.lower() == ".txt" and detect_format(path) == "doccano_fasttext"


def _name_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name.casefold())
    return re.sub(r"[\W_]+", "", "".join(c for c in decomposed if not unicodedata.combining(c)))


def tool_user_names(tool_users: Mapping[str, list[object]] | None) -> dict[str, str]:
    """``annotation.tool_users`` (``{ann_a: ["ann_a@crat.fr", 1]}``) as ``{tool user: annotator}``."""
    names: dict[str, str] = {}
    for annotator, users in (tool_users or {}).items():
        for user in users if isinstance(users, list) else [users]:
            key = str(user).strip()
            if key in names and names[key] != annotator:
                raise InputError(
                    f"config: key 'annotation.tool_users': user {key!r} is mapped to both "
                    f"{names[key]!r} and {annotator!r}"
                )
            names[key] = annotator
    return names


def _settle_names(rows: list[dict[str, str]], ctx: Context) -> None:
    """A folder whose exports hold one tool user only, not mapped: that user is the folder's annotator."""
    if len(ctx.provisional) == 1 and not ctx.users:
        (only,) = ctx.provisional
        for row in rows:
            if row["annotator"] == only:
                row["annotator"] = ctx.annotator
        ctx.report.rename(only, ctx.annotator)


def import_inbox(
    inbox: Path, scheme: Scheme, sample: pd.DataFrame, tool_users: Mapping[str, list[object]] | None = None
) -> tuple[pd.DataFrame, ImportReport]:
    """All judgements of the inbox (``<inbox>/<annotator or export>/<exports>``), in long form, and the report."""
    inbox = Path(inbox)
    texts = dict(zip(sample["post_id"], sample["text"]))
    users = tool_user_names(tool_users)
    report = ImportReport()
    folders = sorted(p for p in inbox.iterdir() if p.is_dir() and not p.name.startswith(".")) if inbox.is_dir() else []
    keys: dict[str, str] = {}
    rows: list[dict[str, str]] = []
    for folder in folders:
        key = _name_key(folder.name)
        if key in keys:
            raise InputError(f"{folder}: two annotators with the same name ({keys[key]!r} and {folder.name!r})")
        keys[key] = folder.name
        ctx = Context(scheme, texts, folder.name, report, users)
        folder_rows = read_tree(folder, ctx)
        _settle_names(folder_rows, ctx)
        rows.extend(folder_rows)
    frame = pd.DataFrame(rows, columns=JUDGEMENT_COLUMNS)
    duplicated = frame.duplicated(["post_id", "annotator", "label"], keep=False)
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise InputError(
            f"{first.source_file}: post {first.post_id!r} field '{first.label}' is annotated twice by "
            f"{first.annotator!r} (in several files)"
        )
    return frame.sort_values(["post_id", "annotator", "label"]).reset_index(drop=True), report
