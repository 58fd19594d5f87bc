"""Read the study's input files and write its outputs, with one-line errors and no half-written file.

Every file a person hands the study (a configuration, a site profile, an annotator's
spreadsheet, a JSONL of posts) goes through these readers, so that a wrong encoding, a
truncated or corrupt file, or a folder where a file was expected stops with one line
naming the file (and the line or row), never a traceback.

Outputs are written atomically: a file appears under its final name complete, or not at
all (the temporary file beside it is removed), so Snakemake and the user never mistake a
truncated table for a result.

French spreadsheets are read as Excel writes them: CSV in Windows-1252 or in UTF-8 with a
byte-order mark (or UTF-16 for "Unicode text"), with ``;`` separators and decimal commas.
The standard library's :mod:`csv` is used with its dialect chosen from the header line,
rather than :class:`csv.Sniffer`, which guesses from quote characters and mistakes a
comma inside a French sentence for the separator.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from perivigil.errors import InputError

# Byte-order marks, longest first (UTF-32's starts with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
SEPARATORS = (";", ",", "\t")


def check_input_file(path: Path | str, what: str = "file") -> Path:
    """``path`` if it is a readable regular file, else a one-line error saying what it is instead."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a {what}")
    if not path.exists():
        raise InputError(f"{path}: no such {what}")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: cannot be read (permission denied)")
    return path


def check_output_path(path: Path | str) -> Path:
    """``path`` if a file can be written there: neither an existing folder nor under a file."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the path of a file to write")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{path}: cannot be written, {parent} is a file, not a folder")
            break
    return path


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it to ``target`` on success."""
    target = check_output_path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _utf8_error(path: Path, data: bytes, exc: UnicodeDecodeError) -> InputError:
    line = data.count(b"\n", 0, exc.start) + 1
    return InputError(f"{path}, line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")


def read_text(path: Path | str, what: str = "file") -> str:
    """The text of a UTF-8 file (a byte-order mark is allowed); one-line errors otherwise."""
    path = check_input_file(path, what)
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _utf8_error(path, data, exc) from None


def load_yaml(path: Path | str, what: str = "YAML file") -> Any:
    """A YAML file's content; a syntax error names the file, line and column on one line."""
    import yaml

    text = read_text(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(f"{where}: not valid YAML ({problem})".replace("\n", " ")) from None


def iter_json_lines(path: Path | str, skip_blank: bool = True) -> Iterator[tuple[str, Any]]:
    """``(where, object)`` for each line of a JSONL file, read one line at a time.

    JSON text is UTF-8 (RFC 8259 §8.1): a line in another encoding, a line that is not JSON
    and a file cut in the middle of a line each raise naming the file and the line. Blank
    lines are skipped, or refused when every line must give one output row.
    """
    path = check_input_file(path, "JSONL file")
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            where = f"{path}, line {number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{where}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column "
                    f"{exc.start + 1}); JSONL must be saved as UTF-8"
                ) from None
            if not line.strip():
                if skip_blank:
                    continue
                raise InputError(f"{where}: empty line (expected a JSON object)")
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as exc:
                cut = " (the file ends in the middle of a line: truncated?)" if not raw.endswith(b"\n") else ""
                raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno}){cut}") from None


def decode_text(data: bytes, path: Path) -> str:
    """Text as Windows programs save it: a byte-order mark's encoding, else UTF-8, else Windows-1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path}: not valid {encoding} despite its byte-order mark (byte {exc.start})"
                ) from None
    if b"\x00" in data[:4096]:
        raise InputError(f"{path}: a binary file, not a text file (an .xlsx or .ods renamed .csv?)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:  # what Excel writes on a French Windows ("CSV (séparateur : point-virgule)")
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            f"{path}, line {line}: neither UTF-8 nor Windows-1252 text (byte 0x{data[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from None


def _separator(header_line: str) -> str:
    """The separator of a delimited file: the one of ``;`` ``,`` tab that splits its header most."""
    counts = {sep: len(next(csv.reader([header_line], delimiter=sep))) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] > 1 else ","


def read_delimited(path: Path | str, what: str = "CSV file") -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """``(header, [(row number, {column: cell})])`` of a CSV written by a person or a spreadsheet.

    Encoding and separator are detected (see the module docstring); blank rows are skipped;
    a row with more cells than the header, a header with an empty or repeated name, and a
    file without a header raise naming the file and the row.
    """
    path = check_input_file(path, what)
    text = decode_text(path.read_bytes(), path)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError(f"{path}: empty file, or no header on its first line")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(lines[0]))
    try:
        header = [name.strip() for name in next(reader)]
        for index, name in enumerate(header, start=1):
            if not name:
                raise InputError(f"{path}, row 1: column {index} of the header has no name")
            if header.index(name) != index - 1:
                raise InputError(f"{path}, row 1: column name {name!r} appears twice in the header")
        rows = []
        for cells in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                raise InputError(
                    f"{path}, row {number}: {len(cells)} cells for {len(header)} columns in the header "
                    "(a separator inside an unquoted cell?)"
                )
            rows.append((number, dict(zip(header, [*cells, *[""] * (len(header) - len(cells))]))))
    except csv.Error as exc:
        raise InputError(f"{path}, row {reader.line_num}: not readable as CSV ({exc})") from None
    return header, rows


def read_delimited_frame(path: Path | str, required: tuple[str, ...] = (), what: str = "CSV file"):
    """A person's CSV as a pandas frame of strings (see :func:`read_delimited`), with its required columns."""
    import pandas as pd

    header, rows = read_delimited(path, what)
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(f"{path}, row 1: missing column(s) {missing}; expected a header with {', '.join(required)}")
    frame = pd.DataFrame([cells for _, cells in rows], columns=header, dtype=object)
    frame.index = [number for number, _ in rows]
    return frame
