"""The importers on files written by the annotation tools themselves (see tests/data/genuine/README.md)."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from perivigil.annotation.imports import import_inbox
from perivigil.annotation.scheme import load_scheme

GENUINE = __import__("pathlib").Path(__file__).parent / "data" / "genuine"


@pytest.fixture(scope="module")
def scheme(root):
    return load_scheme(root / "config/labels.yaml")


def test_label_studio_1_23_export(tmp_path, scheme):
    # Produced by Label Studio 1.23.2 itself: a relabelled task, a skipped one, a draft.
    export = GENUINE / "labelstudio-1.23.2-export.json"
    tasks = json.loads(export.read_text(encoding="utf-8"))
    sample = pd.DataFrame(
        {"post_id": [t["data"]["post_id"] for t in tasks], "text": [t["data"]["text"] for t in tasks]}
    )
    (tmp_path / "inbox" / "lea").mkdir(parents=True)
    shutil.copy(export, tmp_path / "inbox" / "lea" / export.name)
    judgements, report = import_inbox(tmp_path / "inbox", scheme, sample)
    values = {(r.post_id, r.label): r.value for r in judgements.itertuples()}
    first, second = tasks[0]["data"]["post_id"], tasks[1]["data"]["post_id"]
    # task 1 was relabelled: the later annotation (nsaid_late 0, intended, no age) wins
    assert {k[1]: v for k, v in values.items() if k[0] == first} == {
        "iso_t1": "0",
        "nsaid_late": "0",
        "exposure": "intended",
    }
    assert {k[1]: v for k, v in values.items() if k[0] == second} == {
        "iso_t1": "0",
        "nsaid_late": "0",
        "exposure": "none",
        "person": "self",
    }
    assert set(judgements["post_id"]) == {first, second}
    assert dict(report.counts) == {
        ("lea", "tasks read"): 2,
        ("lea", "annotations superseded by a later one"): 1,
        ("lea", "annotations cancelled (skipped)"): 1,
        ("lea", "tasks without annotation"): 2,
        ("lea", "drafts set aside"): 1,
    }


def test_doccano_1_8_export(tmp_path, scheme):
    # Produced by doccano 1.8.4 itself (export JSONL of a text-classification project).
    export = GENUINE / "doccano-1.8.4-admin.jsonl"
    records = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    sample = pd.DataFrame({"post_id": [r["post_id"] for r in records], "text": [r["text"] for r in records]})
    (tmp_path / "inbox" / "marc").mkdir(parents=True)
    shutil.copy(export, tmp_path / "inbox" / "marc" / export.name)
    judgements, report = import_inbox(tmp_path / "inbox", scheme, sample)
    first = records[0]["post_id"]
    assert {r.label: r.value for r in judgements.itertuples() if r.post_id == first} == {
        "iso_t1": "0",
        "nsaid_late": "1",
        "exposure": "actual",
        "person": "self",
    }
    assert report.counts[("marc", "tasks read")] == 2


def test_libreoffice_calc_xlsx(tmp_path, scheme):
    # Written by LibreOffice Calc 7.4 itself (a filled annotation sheet saved as XLSX).
    from openpyxl import load_workbook

    export = GENUINE / "libreoffice-7.4-sheet.xlsx"
    rows = list(load_workbook(export, read_only=True).worksheets[0].iter_rows(values_only=True))
    header = list(rows[0])
    sample = pd.DataFrame([dict(zip(header, r)) for r in rows[1:]])[["post_id", "text"]]
    (tmp_path / "inbox" / "sam").mkdir(parents=True)
    shutil.copy(export, tmp_path / "inbox" / "sam" / export.name)
    judgements, report = import_inbox(tmp_path / "inbox", scheme, sample)
    first = sample["post_id"][0]
    assert {r.label: r.value for r in judgements.itertuples() if r.post_id == first} == {
        "iso_t1": "0",
        "nsaid_late": "1",
        "exposure": "actual",
        "gestational_age_sa": "30",
    }
    assert (report.counts[("sam", "tasks read")], report.counts[("sam", "tasks without annotation")]) == (2, 1)


def test_import_annotations_command_writes_the_long_table(tmp_path, capsys):
    from perivigil.cli import main

    export = GENUINE / "doccano-1.8.4-admin.jsonl"
    records = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    pd.DataFrame({"post_id": [r["post_id"] for r in records], "text": [r["text"] for r in records]}).to_csv(
        tmp_path / "sample.csv", index=False
    )
    (tmp_path / "inbox" / "marc").mkdir(parents=True)
    shutil.copy(export, tmp_path / "inbox" / "marc" / export.name)
    code = main(
        [
            "import-annotations",
            "--inbox",
            str(tmp_path / "inbox"),
            "--sample",
            str(tmp_path / "sample.csv"),
            "--output",
            str(tmp_path / "annotations.csv"),
            "--report",
            str(tmp_path / "report.csv"),
        ]
    )
    assert code == 0
    table = pd.read_csv(tmp_path / "annotations.csv", dtype=str)
    assert list(table.columns) == ["post_id", "annotator", "label", "value", "source_file"]
    assert set(table["annotator"]) == {"marc"}
    out = capsys.readouterr().out
    assert "read as doccano JSONL" in out and "marc\t" in out and "tasks read\t2" in out
    assert pd.read_csv(tmp_path / "report.csv").columns.tolist() == ["annotator", "file", "what", "count"]


def test_import_annotations_command_refuses_with_one_line_and_exit_2(tmp_path, capsys):
    from perivigil.cli import main

    pd.DataFrame({"post_id": ["a"], "text": ["t"]}).to_json(tmp_path / "sample.jsonl", orient="records", lines=True)
    (tmp_path / "inbox" / "x").mkdir(parents=True)
    (tmp_path / "inbox" / "x" / "doc.tsv").write_text("#FORMAT=WebAnno TSV 3.3\n\n", encoding="utf-8")
    code = main(
        [
            "import-annotations",
            "--inbox",
            str(tmp_path / "inbox"),
            "--sample",
            str(tmp_path / "sample.jsonl"),
            "--output",
            str(tmp_path / "annotations.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "doc.tsv, line 1: WebAnno TSV 3.x holds no document-level labels" in err
