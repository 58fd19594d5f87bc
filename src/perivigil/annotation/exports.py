"""Write an annotator's batch in the formats of the annotation tools the protocol allows.

One folder per annotator, holding the same posts for every tool (study protocol §5):

- Label Studio: ``labelstudio_tasks.json`` (tasks to import) and ``labelstudio_config.xml``
  (the labelling interface: one ``<Choices>`` per categorical label, ``<Number>`` for numbers);
- INCEpTION / WebAnno: ``inception/<post>.xmi`` + ``inception/TypeSystem.xml`` (UIMA CAS XMI,
  written with dkpro-cassis), a document-level ``webanno.custom.PostLabels`` annotation
  with one feature per label;
- doccano: ``doccano.jsonl`` for a text-classification project, labels written ``name:value``;
- brat: ``brat/<post>.txt``, an ``.ann`` with one ``Post`` span, and ``annotation.conf``
  (categorical labels as attributes, numbers as ``name=value`` annotator notes);
- a spreadsheet: ``sheet.csv`` (UTF-8 with BOM, for Excel) and ``sheet.xlsx`` with
  drop-down lists and number ranges, one row per post, and a hash of the text so that an
  edited text is caught on import;
- the annotation guidelines (``guidelines.md``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pandas as pd

from perivigil.annotation.scheme import Scheme

POST_TYPE = "webanno.custom.PostLabels"


def text_hash(text: str) -> str:
    """First 16 hex digits of the SHA-256 of a post's text (the check of an untouched text)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def labelstudio_config(scheme: Scheme) -> str:
    parts = ["<View>", '  <Header value="Post $post_id"/>', '  <Text name="text" value="$text"/>']
    for label in scheme.labels:
        required = ' required="true"' if label.required else ""
        parts.append(f'  <Header value={quoteattr(label.description)} size="6"/>')
        if label.categorical:
            parts.append(f'  <Choices name="{label.name}" toName="text" choice="single"{required}>')
            parts += [f'    <Choice value="{value}"/>' for value in label.values]
            parts.append("  </Choices>")
        else:
            parts.append(
                f'  <Number name="{label.name}" toName="text" min="{label.minimum:g}" '
                f'max="{label.maximum:g}"{required}/>'
            )
    parts.append("</View>")
    return "\n".join(parts) + "\n"


def brat_conf(scheme: Scheme) -> str:
    lines = ["[entities]", "Post", "", "[relations]", "", "[events]", "", "[attributes]"]
    for label in scheme.labels:
        if label.categorical:
            lines.append(f"{label.name}\tArg:Post, Value:{'|'.join(label.values)}")
    lines.append("")
    lines.append("# Numbers go in the annotator notes of the Post span, as name=value;name=value:")
    lines += [f"#   {label.name}" for label in scheme.labels if not label.categorical]
    return "\n".join(lines) + "\n"


def typesystem_xml(scheme: Scheme) -> str:
    features = "\n".join(
        f"        <featureDescription><name>{name}</name><description/>"
        f"<rangeTypeName>uima.cas.String</rangeTypeName></featureDescription>"
        for name in ("post_id", *scheme.names)
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<typeSystemDescription xmlns="http://uima.apache.org/resourceSpecifier">
  <types>
    <typeDescription>
      <name>{POST_TYPE}</name>
      <description>perivigil: one per document, the post's labels</description>
      <supertypeName>uima.tcas.Annotation</supertypeName>
      <features>
{features}
      </features>
    </typeDescription>
  </types>
</typeSystemDescription>
"""


def write_inception(posts: pd.DataFrame, scheme: Scheme, folder: Path) -> None:
    from cassis import Cas, load_typesystem

    folder.mkdir(parents=True, exist_ok=True)
    xml = typesystem_xml(scheme)
    (folder / "TypeSystem.xml").write_text(xml, encoding="utf-8")
    typesystem = load_typesystem(xml)
    post_type = typesystem.get_type(POST_TYPE)
    for row in posts.itertuples(index=False):
        cas = Cas(typesystem=typesystem)
        cas.sofa_string = row.text
        cas.add(post_type(begin=0, end=len(row.text), post_id=row.post_id))
        cas.to_xmi(folder / f"{row.post_id}.xmi")


def write_brat(posts: pd.DataFrame, scheme: Scheme, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "annotation.conf").write_text(brat_conf(scheme), encoding="utf-8")
    for row in posts.itertuples(index=False):
        (folder / f"{row.post_id}.txt").write_text(row.text, encoding="utf-8")
        first_line = row.text.split("\n")[0]
        (folder / f"{row.post_id}.ann").write_text(f"T1\tPost 0 {len(first_line)}\t{first_line}\n", encoding="utf-8")


def write_sheet(posts: pd.DataFrame, scheme: Scheme, csv_path: Path, xlsx_path: Path) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    header = ["post_id", "text", "text_sha256", *scheme.names, "comment"]
    rows = [
        [row.post_id, row.text, text_hash(row.text), *([""] * len(scheme.names)), ""]
        for row in posts.itertuples(index=False)
    ]
    book, sheet = table_files(header, rows, csv_path, "annotation")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "D2"
    sheet.column_dimensions["B"].width = 90
    for cell in sheet["B"][1:]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    last = len(rows) + 1
    for offset, label in enumerate(scheme.labels):
        column = sheet.cell(row=1, column=4 + offset).column_letter
        if label.categorical:
            rule = DataValidation(type="list", formula1=f'"{",".join(label.values)}"', allow_blank=not label.required)
        else:
            rule = DataValidation(
                type="decimal",
                operator="between",
                formula1=str(label.minimum),
                formula2=str(label.maximum),
                allow_blank=True,
            )
        rule.error = f"{label.name}: {label.description}"
        sheet.add_data_validation(rule)
        rule.add(f"{column}2:{column}{last}")
    book.properties.creator = "perivigil"
    save_xlsx(book, xlsx_path)


def table_files(header: list[str], rows: list[list[object]], csv_path: Path, title: str):
    """Write ``rows`` as a CSV for Excel (UTF-8 with BOM); return an openpyxl workbook and sheet holding them."""
    from openpyxl import Workbook

    with Path(csv_path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    return book, sheet


def save_xlsx(book, path: Path) -> None:
    """Save a workbook byte-stable (see :func:`freeze_xlsx`)."""
    book.save(path)
    freeze_xlsx(path)


def write_batch(posts: pd.DataFrame, scheme: Scheme, folder: Path, guidelines: Path) -> dict[str, int]:
    """Write every format of one annotator's batch into ``folder`` (replaced whole)."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    posts = posts[["post_id", "text"]].sort_values("post_id")
    tasks = [
        {"data": {"post_id": r.post_id, "text": r.text, "text_sha256": text_hash(r.text)}}
        for r in posts.itertuples(index=False)
    ]
    (folder / "labelstudio_tasks.json").write_text(
        json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    (folder / "labelstudio_config.xml").write_text(labelstudio_config(scheme), encoding="utf-8")
    with (folder / "doccano.jsonl").open("w", encoding="utf-8") as handle:
        for r in posts.itertuples(index=False):
            handle.write(
                json.dumps(
                    {"text": r.text, "post_id": r.post_id, "text_sha256": text_hash(r.text), "label": []},
                    ensure_ascii=False,
                )
                + "\n"
            )
    write_brat(posts, scheme, folder / "brat")
    write_inception(posts, scheme, folder / "inception")
    write_sheet(posts, scheme, folder / "sheet.csv", folder / "sheet.xlsx")
    shutil.copyfile(guidelines, folder / "guidelines.md")
    return {"posts": len(posts)}


def freeze_xlsx(path: Path) -> None:
    """Make an .xlsx byte-stable: fixed zip timestamps and document dates (openpyxl stamps 'now')."""
    import re
    import zipfile

    path = Path(path)
    with zipfile.ZipFile(path) as source:
        entries = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", data)
            frozen = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            frozen.compress_type = zipfile.ZIP_DEFLATED
            frozen.external_attr = info.external_attr
            target.writestr(frozen, data)
