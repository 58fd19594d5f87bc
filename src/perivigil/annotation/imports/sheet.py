"""The annotation spreadsheet (the batch's sheet filled in): CSV (UTF-8, Windows-1252, ``,`` or ``;``) or XLSX.

The text hash must match (an edited text is refused); a column outside the sheet's is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from perivigil.annotation.imports.common import Context, check_post, check_text, post_labels
from perivigil.errors import InputError
from perivigil.files import read_delimited


def _sheet_rows(
    ctx: Context, header: list[str], records: Sequence[tuple[int, Mapping[str, object]]], path: Path
) -> list[dict[str, str]]:
    allowed = {"post_id", "text", "text_sha256", "comment", *ctx.scheme.names}
    unknown = sorted(set(header) - allowed)
    if unknown:
        raise InputError(f"{path}, row 1: column(s) {unknown} are not labels of the scheme {list(ctx.scheme.names)}")
    if "post_id" not in header:
        raise InputError(f"{path}, row 1: column 'post_id' is missing (keep the columns of the batch's sheet)")
    rows = []
    for number, record in records:
        where = f"{path}, row {number}"
        post_id = check_post(ctx, record.get("post_id") or "", where)
        text = record.get("text")
        check_text(ctx, post_id, None if text is None else str(text), str(record.get("text_sha256") or ""), where)
        rows.extend(post_labels(ctx, post_id, {name: record.get(name) for name in ctx.scheme.names}, where, path))
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
        raise InputError(
            f"{path}: not a readable XLSX workbook ({type(exc).__name__}); save it again from the spreadsheet as .xlsx"
        ) from None
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
