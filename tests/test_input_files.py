"""Issue 11: every input file a person hands the study gets a one-line error, or is read as saved.

Files here are written the way other programs save them: French Excel's CSV (Windows-1252,
``;``, decimal commas), UTF-8 with a byte-order mark, Latin-1 JSONL, a truncated model, a
folder where a file was expected.
"""

from __future__ import annotations

import pandas as pd
import pytest

from perivigil.cli import main
from perivigil.errors import InputError
from perivigil.files import atomic_path, iter_json_lines, load_yaml, read_delimited, read_text


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


# ----------------------------------------------------------------------------- CSV as spreadsheets save it
def test_a_french_excel_csv_is_read_as_saved(tmp_path):
    path = tmp_path / "retour.csv"
    # Excel, "CSV (séparateur : point-virgule)": Windows-1252, ";" separators, CRLF, a quoted ";"
    path.write_bytes(
        'post_id;iso_t1;commentaire\r\ndemo-1;0;"bébé ; né à 38 SA"\r\n;;\r\ndemo-2;1;€\r\n'.encode("cp1252")
    )
    header, rows = read_delimited(path)
    assert header == ["post_id", "iso_t1", "commentaire"]
    assert rows == [
        (2, {"post_id": "demo-1", "iso_t1": "0", "commentaire": "bébé ; né à 38 SA"}),
        (4, {"post_id": "demo-2", "iso_t1": "1", "commentaire": "€"}),
    ]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_csv_with_a_byte_order_mark_is_read(tmp_path, encoding):
    path = tmp_path / "retour.csv"
    path.write_bytes("post_id,valeur\nx,é\n".encode(encoding))
    assert read_delimited(path) == (["post_id", "valeur"], [(2, {"post_id": "x", "valeur": "é"})])


def test_a_row_with_more_cells_than_the_header_is_named(tmp_path):
    path = tmp_path / "retour.csv"
    path.write_text("post_id,iso_t1\ndemo-1,0\ndemo-2,1,oups\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"retour\.csv, row 3: 3 cells for 2 columns in the header"):
        read_delimited(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file, or no header on its first line"),
        (b"PK\x03\x04\x14\x00\x00\x00", "a binary file, not a text file"),
        (b"post_id,post_id\n1,2\n", "row 1: column name 'post_id' appears twice in the header"),
        (b"post_id,,x\n1,2,3\n", "row 1: column 2 of the header has no name"),
    ],
)
def test_a_broken_csv_is_named(tmp_path, content, message):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_delimited(path)


def test_agreement_reads_a_french_spreadsheet(tmp_path, capsys):
    """`perivigil agreement` on a long CSV saved by French Excel: ";" and decimal commas."""
    path = tmp_path / "long.csv"
    rows = ["unit_id;annotator;label;value"] + [
        f"{u};{a};age;{v}"
        for u, a, v in [
            (1, "A", "30,5"),
            (1, "B", "30,5"),
            (2, "A", "12"),
            (2, "B", "12"),
            (3, "A", "24"),
            (3, "B", "25"),
        ]
    ]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    assert (
        main(
            [
                "agreement",
                "--input",
                str(path),
                "--level",
                "interval",
                "--output",
                str(tmp_path / "out"),
                "--n-boot",
                "50",
            ]
        )
        == 0
    )
    import json

    result = json.loads((tmp_path / "out/agreement.json").read_text())["age"]
    assert result["n_units"] == 3 and result["percent_agreement"] == pytest.approx(2 / 3)


# ----------------------------------------------------------------------------- text, YAML, JSONL
def test_a_folder_where_a_file_was_expected_is_named(tmp_path):
    with pytest.raises(InputError, match=rf"^{tmp_path}: is a folder, expected a study configuration$"):
        read_text(tmp_path, "study configuration")
    with pytest.raises(InputError, match=r"nowhere\.yaml: no such YAML file$"):
        load_yaml(tmp_path / "nowhere.yaml")


def test_a_yaml_syntax_error_names_line_and_column(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("demo: true\nsources: [a, b\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_yaml(path)
    assert str(caught.value).startswith(f"{path}, line 3, column 1: not valid YAML (")


def test_a_truncated_jsonl_is_named(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_bytes(b'{"post_id": "1", "text": "a"}\n{"post_id": "2", "te')
    with pytest.raises(
        InputError,
        match=r"line 2: not valid JSON .* \(the file ends in the middle of a line: "
        r"truncated\?\)",
    ):
        list(iter_json_lines(path))


def test_classify_refuses_a_latin_1_jsonl_with_its_line(tmp_path, root, monkeypatch, capsys):
    path = tmp_path / "posts.jsonl"
    second = '{"post_id": "2", "text": "Advil à 30 SA"}'
    path.write_bytes(('{"post_id": "1", "text": "ok"}\n' + second + "\n").encode("latin-1"))
    monkeypatch.chdir(root)
    assert main(["classify", "--model", "rules", "--input", str(path), "--output", str(tmp_path / "p.csv")]) == 2
    column = second.index("à") + 1  # 1-based; every character before it is one byte
    assert _one_line(capsys) == (
        f"perivigil classify: error: {path}, line 2: not valid UTF-8 (byte 0xe0 at column "
        f"{column}); JSONL must be saved as UTF-8"
    )
    assert not (tmp_path / "p.csv").exists()


# ----------------------------------------------------------------------------- outputs and models
def test_an_output_path_that_is_a_folder_is_named(tmp_path, root, monkeypatch, capsys):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"post_id": "1", "text": "Bonjour"}\n', encoding="utf-8")
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(root)
    assert main(["classify", "--model", "rules", "--input", str(path), "--output", str(tmp_path / "out")]) == 2
    assert (
        _one_line(capsys) == f"perivigil classify: error: {tmp_path / 'out'}: is a folder; give the path of a file "
        "to write"
    )
    with pytest.raises(InputError, match="cannot be written, .* is a file, not a folder"):
        with atomic_path(path / "x.csv"):
            pass


@pytest.mark.parametrize("content", [b"", b"\x80\x04\x95 truncated pickle", b"not a model at all\n"])
def test_classify_refuses_a_corrupt_model_file_in_one_line(tmp_path, capsys, content):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"post_id": "1", "text": "Bonjour"}\n', encoding="utf-8")
    for label in ("iso_t1", "nsaid_late"):
        (tmp_path / f"logreg_{label}.joblib").write_bytes(content)
    code = main(
        ["classify", "--model", str(tmp_path / "logreg"), "--input", str(path), "--output", str(tmp_path / "p.csv")]
    )
    assert code == 2
    message = _one_line(capsys)
    assert message.startswith(
        f"perivigil classify: error: {tmp_path / 'logreg_iso_t1.joblib'}: cannot load the model ("
    )


def test_a_model_file_of_another_kind_is_named(tmp_path):
    import joblib

    from perivigil.models.linear import load

    joblib.dump({"weights": [1, 2]}, tmp_path / "m.joblib")
    with pytest.raises(InputError, match=r"m\.joblib: holds a dict, not a model saved by the rule train"):
        load(tmp_path / "m.joblib")


def test_an_xlsx_that_is_not_a_workbook_is_named(tmp_path):
    from conftest import ROOT

    from perivigil.annotation.imports import Context, ImportReport, read_sheet_xlsx
    from perivigil.annotation.scheme import load_scheme

    path = tmp_path / "sheet.xlsx"
    path.write_text("post_id;iso_t1\n", encoding="utf-8")  # a CSV renamed .xlsx
    ctx = Context(load_scheme(ROOT / "config/labels.yaml"), {}, "ann_a", ImportReport())
    with pytest.raises(InputError, match=r"sheet\.xlsx: not a readable XLSX workbook \(BadZipFile\)"):
        read_sheet_xlsx(path, ctx)


def test_an_excel_csv_return_is_imported(tmp_path):
    """An annotator's spreadsheet saved by French Excel as CSV (cp1252, ';') goes through the import."""
    from conftest import ROOT

    from perivigil.annotation.exports import text_hash
    from perivigil.annotation.imports import import_inbox
    from perivigil.annotation.scheme import load_scheme

    texts = {"demo-1": "J'ai pris un Advil à 30 SA.", "demo-2": "Rien à signaler."}
    folder = tmp_path / "inbox/ann_a"
    folder.mkdir(parents=True)
    lines = ["post_id;text_sha256;iso_t1;nsaid_late;exposure;gestational_age_sa"]
    lines += [f"demo-1;{text_hash(texts['demo-1'])};0;1;actual;30,0", f"demo-2;{text_hash(texts['demo-2'])};0;0;none;"]
    (folder / "sheet.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    sample = pd.DataFrame({"post_id": list(texts), "text": list(texts.values())})
    judgements, _ = import_inbox(tmp_path / "inbox", load_scheme(ROOT / "config/labels.yaml"), sample)
    values = {(r.post_id, r.label): r.value for r in judgements.itertuples()}
    assert values == {
        ("demo-1", "iso_t1"): "0",
        ("demo-1", "nsaid_late"): "1",
        ("demo-1", "exposure"): "actual",
        ("demo-1", "gestational_age_sa"): "30",
        ("demo-2", "iso_t1"): "0",
        ("demo-2", "nsaid_late"): "0",
        ("demo-2", "exposure"): "none",
    }
