"""Which export a returned file is, from its content (its name only breaks ties)."""

from __future__ import annotations

import csv
import json
import tarfile
import zipfile
from pathlib import Path

from perivigil.errors import InputError

FORMATS = {
    "labelstudio": "Label Studio JSON",
    "labelstudio_min": "Label Studio JSON-MIN",
    "labelstudio_csv": "Label Studio CSV/TSV",
    "doccano": "doccano JSONL",
    "doccano_json": "doccano JSON",
    "doccano_csv": "doccano CSV",
    "doccano_fasttext": "doccano fastText",
    "sheet_csv": "annotation sheet (CSV)",
    "sheet_xlsx": "annotation sheet (XLSX)",
    "brat": "brat standoff",
    "inception": "UIMA CAS XMI (INCEpTION)",
    "inception_xmi_zip": "UIMA CAS XMI zip (INCEpTION)",
    "inception_project": "INCEpTION project export",
    "webanno_tsv": "WebAnno TSV 3.x",
    "archive": "archive (zip / tar.gz), unpacked",
}
NOT_EXPORTS = (".md", ".conf", ".xml", ".txt", ".pdf", ".html", ".log")  # read only when their content is an export


def _zip_format(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise InputError(f"{path}: not a readable zip archive (truncated download?)") from None
    if "[Content_Types].xml" in names:
        return "sheet_xlsx"
    if any(Path(n).name.startswith("exportedproject") and n.endswith(".json") for n in names):
        return "inception_project"
    if any(n.endswith(".xmi") for n in names) and any(Path(n).name == "TypeSystem.xml" for n in names):
        return "inception_xmi_zip"
    return "archive"


def _json_format(path: Path, text: str) -> str:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return "labelstudio" if text.startswith("[") else "doccano"  # the reader names the broken line
    if isinstance(data, dict):
        if "entities" in data or "relations" in data:
            raise InputError(
                f"{path}: a doccano sequence-labelling / relation export (spans, pretty-printed JSON), "
                "which holds no post-level labels: export a text-classification project as JSONL"
            )
        return "doccano"
    records = [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []
    if not records or any("annotations" in r or "data" in r for r in records):
        return "labelstudio"
    if any("label" in r or "labels" in r or "cats" in r for r in records):
        return "doccano_json"
    return "labelstudio_min"


def _header(line: str) -> set[str]:
    best: list[str] = []
    for sep in (",", ";", "\t"):
        cells = next(csv.reader([line], delimiter=sep))
        best = cells if len(cells) > len(best) else best
    return {cell.strip() for cell in best}


def detect_format(path: Path) -> str:
    """The format of a returned export (a key of :data:`FORMATS`), or raise naming the file and what to export."""
    path = Path(path)
    if path.is_dir():
        if list(path.glob("*.ann")):
            return "brat"
        if list(path.glob("*.xmi")):
            return "inception"
        raise InputError(f"{path}: a folder without .ann (brat) nor .xmi (INCEpTION) files")
    head = path.read_bytes()[:65536]
    if head.startswith(b"PK\x03\x04"):
        return _zip_format(path)
    if head.startswith(b"\x1f\x8b") or tarfile.is_tarfile(path):
        return "archive"
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    first = text.splitlines()[0] if text else ""
    if first.startswith("#FORMAT=WebAnno TSV"):
        return "webanno_tsv"
    if first.startswith(("[", "{")):
        whole = path.read_bytes().decode("utf-8-sig", errors="replace").strip()
        if first.startswith("{") and whole.count("\n") and _is_json(first):
            return "doccano"
        return _json_format(path, whole)
    if first.lstrip('"').startswith("__label__") or (path.suffix.lower() == ".txt" and "__label__" in text):
        return "doccano_fasttext"
    header = _header(first)
    if {"annotation_id", "annotator"} <= header:
        return "labelstudio_csv"
    if {"label", "text"} <= header:
        return "doccano_csv"
    if path.suffix.lower() in (".csv", ".tsv") or "post_id" in header:
        return "sheet_csv"
    fallback = {".xlsx": "sheet_xlsx", ".jsonl": "doccano", ".json": "labelstudio"}
    if path.suffix.lower() in fallback:
        return fallback[path.suffix.lower()]
    raise InputError(
        f"{path}: unknown annotation export format (expected Label Studio JSON / JSON-MIN / CSV / TSV, "
        "doccano JSONL / JSON / CSV / fastText, a filled sheet .csv / .xlsx, a brat or INCEpTION XMI "
        "folder, or a zip / tar.gz of these)"
    )


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True
