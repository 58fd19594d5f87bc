"""Every genuine export of ../shared/genuine-exports read right, or refused with the right reason.

The files are written by the annotation tools themselves (see that folder's README.md); they
are never copied into this repository. Each is put alone in ``inbox/x/`` with a sample holding
its posts' texts. The expected outcome of each file is in ``OUTCOMES``: the judgements
``(post_id, annotator, label) -> value`` (checkable by opening the file) with their number,
or the one-line refusal. A file of the folder with no row here fails the test.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from perivigil.annotation.imports import detect_format, import_inbox
from perivigil.annotation.scheme import load_scheme
from perivigil.errors import InputError

GENUINE = Path(__file__).resolve().parents[2] / "shared/genuine-exports"
pytestmark = pytest.mark.skipif(not GENUINE.is_dir(), reason=f"{GENUINE} is absent (genuine exports not shared here)")

LS = "labelstudio/run-1.23.2/labelstudio-1.23.2-two-annotators"
DOC = "doccano/run-1.8.4"
P2, P3, P5, P80 = "demo_forum-100002", "demo_forum-100003", "demo_forum-100005", "demo_forum-100080"
# Label Studio project 1: user 1 (admin) and user 2 (annotator2); README of labelstudio/
LS_VALUES = {
    (P2, "x:1", "iso_t1"): "1",
    (P2, "x:1", "dose_mg_day"): "20",
    (P2, "x:2", "iso_t1"): "0",
    (P5, "x:1", "exposure"): "none",
    (P80, "x:1", "gestational_age_sa"): "30.5",
    (P80, "x:2", "gestational_age_sa"): "30",
    (P3, "x:2", "exposure"): "negated",
}
LS_READ = {"n": 30, "annotators": ["x:1", "x:2"], "values": LS_VALUES}
# doccano project 1, one user per file (admin, annotator2): README of doccano/
DOC_ADMIN = {
    "n": 8,
    "annotators": ["x"],
    "values": {(P2, "x", "iso_t1"): "0", (P2, "x", "drug"): "isotretinoin", (P5, "x", "exposure"): "none"},
}
DOC_ANN2 = {"n": 9, "annotators": ["x"], "values": {(P2, "x", "iso_t1"): "1", (P80, "x", "gestational_age_sa"): "31"}}
DOC_ZIP = {
    "n": 17,
    "annotators": ["x:admin", "x:annotator2"],
    "values": {
        (P2, "x:admin", "iso_t1"): "0",
        (P2, "x:annotator2", "iso_t1"): "1",
        (P80, "x:annotator2", "gestational_age_sa"): "31",
    },
}
BRAT = {
    "n": 12,
    "annotators": ["x"],
    "values": {
        (P2, "x", "iso_t1"): "0",
        (P2, "x", "drug"): "isotretinoin",
        (P2, "x", "dose_mg_day"): "20",
        (P80, "x", "person"): "relative",
        (P80, "x", "drug"): "diclofenac",
        (P80, "x", "gestational_age_sa"): "31",
    },
}
OTHER_SPANS = "spans of another type (not read): "
COLLABORATIVE = r"line 1: field 'exposure' has two values \(the same label twice: a collaborative project"
NO_POST_TEXT = r"field 'text' matches no post of the annotation sample \(and the record has no post_id\)"
XMI_TYPE = r"\.xmi: type 'webanno\.custom\.PostLabels' is not in TypeSystem\.xml: no post-level labels"
TSV = r"\.tsv, line 1: WebAnno TSV 3\.x holds no document-level labels .*export the documents as 'UIMA CAS XMI"
NOT_XMI = r"an INCEpTION project export with {} not UIMA CAS XMI: export the project with the secondary format"

OUTCOMES: dict[str, tuple[str, dict | str]] = {
    # path under genuine-exports: (format detected, expected read or refusal regex)
    f"{LS}-json.json": (
        "labelstudio",
        {**LS_READ, "report": {("x:2", "annotations cancelled (skipped)"): 1, ("x", "drafts set aside"): 1}},
    ),
    f"{LS}-json-annotated-only.json": ("labelstudio", LS_READ),
    f"{LS}-json-min.json": ("labelstudio_min", LS_READ),
    f"{LS}-csv.csv": ("labelstudio_csv", LS_READ),
    f"{LS}-tsv.tsv": ("labelstudio_csv", LS_READ),
    "labelstudio/run-1.23.2/labelstudio-1.23.2-edited-interface-json.json": (
        "labelstudio",
        r"task 6: field 'exposure' has value 'unsure' outside the scheme",
    ),
    "labelstudio/repo-fixtures/sdk-csv_test2.json": ("labelstudio", r"task 4: field 'post_id' '' is not in the"),
    "labelstudio/repo-fixtures/sdk-csv_test_history.json": ("labelstudio", r"task 6141: field 'post_id' '' is not"),
    "labelstudio/repo-fixtures/sdk-csv_test2_result.csv": ("labelstudio_csv", r"row 1: column 'post_id' is missing"),
    f"{DOC}/extracted/project1-JSONL/admin.jsonl": ("doccano", DOC_ADMIN),
    f"{DOC}/extracted/project1-JSONL/annotator2.jsonl": ("doccano", DOC_ANN2),
    f"{DOC}/extracted/project1-JSON/admin.json": ("doccano_json", DOC_ADMIN),
    f"{DOC}/extracted/project1-JSON/annotator2.json": ("doccano_json", DOC_ANN2),
    f"{DOC}/extracted/project1-CSV/admin.csv": ("doccano_csv", DOC_ADMIN),
    f"{DOC}/extracted/project1-CSV/annotator2.csv": ("doccano_csv", DOC_ANN2),
    f"{DOC}/extracted/project1-fastText/admin.txt": ("doccano_fasttext", DOC_ADMIN),
    f"{DOC}/extracted/project1-fastText/annotator2.txt": ("doccano_fasttext", DOC_ANN2),
    f"{DOC}/extracted/project1-JSONL-approved-only/admin.jsonl": (
        "doccano",
        {"n": 3, "annotators": ["x"], "values": {(P5, "x", "exposure"): "none"}},
    ),
    f"{DOC}/extracted/project1-JSONL-approved-only/annotator2.jsonl": (
        "doccano",
        {"n": 6, "annotators": ["x"], "values": {(P80, "x", "gestational_age_sa"): "31"}},
    ),
    f"{DOC}/extracted/project2-JSONL/all.jsonl": ("doccano", COLLABORATIVE),
    f"{DOC}/extracted/project3-JSONL/admin.jsonl": ("doccano", r"line 1: field 'exposure' has value 'unsure'"),
    f"{DOC}/extracted/project3-JSONL/annotator2.jsonl": ("doccano", {"n": 0, "annotators": [], "values": {}}),
    f"{DOC}/zips/doccano-1.8.4-project1-JSONL.zip": ("archive", DOC_ZIP),
    f"{DOC}/zips/doccano-1.8.4-project1-JSON.zip": ("archive", DOC_ZIP),
    f"{DOC}/zips/doccano-1.8.4-project1-CSV.zip": ("archive", DOC_ZIP),
    f"{DOC}/zips/doccano-1.8.4-project1-fastText.zip": ("archive", DOC_ZIP),
    f"{DOC}/zips/doccano-1.8.4-project1-JSONL-approved-only.zip": (
        "archive",
        {"n": 9, "annotators": ["x:admin", "x:annotator2"], "values": {}},
    ),
    f"{DOC}/zips/doccano-1.8.4-project2-JSONL.zip": ("archive", r"project2-JSONL\.zip/all\.jsonl, " + COLLABORATIVE),
    f"{DOC}/zips/doccano-1.8.4-project3-JSONL.zip": ("archive", r"project3-JSONL\.zip/admin\.jsonl, line 1: field"),
    "doccano/repo-export-examples/text_classification-example.jsonl": ("doccano", "line 1: " + NO_POST_TEXT),
    "doccano/repo-export-examples/text_classification-example.json": ("doccano_json", "record 1: " + NO_POST_TEXT),
    "doccano/repo-export-examples/text_classification-example.csv": ("doccano_csv", "row 2: " + NO_POST_TEXT),
    "doccano/repo-export-examples/text_classification-example.txt": ("doccano_fasttext", "line 1: " + NO_POST_TEXT),
    "doccano/repo-export-examples/intent_detection-example.jsonl": ("doccano", "line 1: " + NO_POST_TEXT),
    "doccano/repo-export-examples/sequence_labeling-example.jsonl": (
        "doccano",
        r"line 1: field 'label' holds a span \[0, 2, 'ORG'\]: a sequence-labelling export",
    ),
    "doccano/repo-export-examples/relation_extraction-example.jsonl": (
        "refused",
        r"relation_extraction-example\.jsonl: a doccano sequence-labelling / relation export",
    ),
    "brat/perivigil": ("brat", {**BRAT, "report": {("x", "tasks without annotation"): 1}}),
    "brat/downloads/perivigil.tar.gz": ("archive", BRAT),
    "brat/perivigil-quirks": (
        "brat",
        {
            "n": 12,
            "annotators": ["x"],
            "absent": [(P2, "x", "person")],
            "values": {(P80, "x", "gestational_age_sa"): "30.5", (P2, "x", "exposure"): "actual"},
            "report": {("x", "free-text notes on the post (not name=value, not read)"): 1},
        },
    ),
    "brat/spans-fr": (
        "brat",
        {
            "n": 0,
            "annotators": [],
            "values": {},
            "report": {
                ("x", OTHER_SPANS + "Drug"): 2,
                ("x", OTHER_SPANS + "Dose"): 1,
                ("x", OTHER_SPANS + "GestationalAge"): 2,
                ("x", "relations (not read)"): 3,
                ("x", "notes on another span, event or relation (not read)"): 2,
                ("x", "tasks without annotation"): 1,
            },
        },
    ),
    "brat/downloads/spans-fr.tar.gz": (
        "archive",
        {"n": 0, "annotators": [], "values": {}, "report": {("x", "relations (not read)"): 3}},
    ),
    "brat/example-data-tutorial-news": (
        "brat",
        {
            "n": 0,
            "annotators": [],
            "values": {},
            "report": {
                ("x", OTHER_SPANS + "Person"): 16,
                ("x", OTHER_SPANS + "Merge-org"): 12,
                ("x", "events (not read)"): 17,
                ("x", "equivalences (not read)"): 1,
                ("x", "normalisations (not read)"): 1,
                ("x", "tasks without annotation"): 6,
            },
        },
    ),
    "inception/xmi-relation-layer": ("inception", r"relation_test" + XMI_TYPE),
    "inception/xmi-emoji-dkpro-cassis": ("inception", r"cas_with_smileys" + XMI_TYPE),
    "inception/webanno-tsv/example2.tsv": ("webanno_tsv", "example2" + TSV),
    "inception/webanno-tsv/testSentenceWithEmoji-reference.tsv": ("webanno_tsv", "reference" + TSV),
    "inception/project-export/Export+Test+-+Curated+annotation+project_3_6_1.zip": (
        "inception_project",
        NOT_XMI.format(r"annotations in \['\.txt'\],"),
    ),
    "inception/project-export/test-project-with-recommenders.zip": (
        "inception_project",
        NOT_XMI.format("annotations only in Java-serialised .ser files,"),
    ),
}
# what the outcomes above cover: every export file of the folder (the READMEs, configs and inputs aside)
NOT_EXPORTS = {"labelstudio/run-1.23.2/labelstudio_tasks-imported.json"}


def _sample() -> pd.DataFrame:
    """The posts sent to the tools: the five demo posts, and each brat document's text."""
    tasks = json.loads((GENUINE / "labelstudio/run-1.23.2/labelstudio_tasks-imported.json").read_text("utf-8"))
    texts = {t["data"]["post_id"]: t["data"]["text"] for t in tasks}
    for txt in (GENUINE / "brat/example-data-tutorial-news").glob("*.txt"):
        texts[txt.stem] = txt.read_text("utf-8")
    texts["forum-fr-001"] = (GENUINE / "brat/spans-fr/forum-fr-001.txt").read_text("utf-8").removesuffix("\n")
    return pd.DataFrame({"post_id": list(texts), "text": list(texts.values())})


@pytest.fixture(scope="module")
def scheme(root):
    return load_scheme(root / "config/labels.yaml")


def _inbox(tmp_path: Path, name: str) -> Path:
    source = GENUINE / name
    folder = tmp_path / "inbox" / "x"
    folder.mkdir(parents=True)
    (shutil.copytree if source.is_dir() else shutil.copy)(source, folder / source.name)
    return folder / source.name


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_genuine_export(tmp_path, scheme, name):
    fmt, expected = OUTCOMES[name]
    copied = _inbox(tmp_path, name)
    if fmt == "refused":
        with pytest.raises(InputError, match=expected):
            detect_format(copied)
    else:
        assert detect_format(copied) == fmt
    if isinstance(expected, str):
        with pytest.raises(InputError) as error:
            import_inbox(tmp_path / "inbox", scheme, _sample())
        message = str(error.value)
        assert "\n" not in message and copied.name in message
        assert __import__("re").search(expected, message), message
        return
    judgements, report = import_inbox(tmp_path / "inbox", scheme, _sample())
    values = {(r.post_id, r.annotator, r.label): r.value for r in judgements.itertuples()}
    assert len(judgements) == expected["n"]
    assert sorted(judgements["annotator"].unique()) == expected["annotators"]
    assert {key: values.get(key) for key in expected["values"]} == expected["values"]
    assert [key for key in expected.get("absent", []) if key in values] == []
    assert {key: report.counts[key] for key in expected.get("report", {})} == expected.get("report", {})
    assert all(row["file"] for row in report.rows())  # every count names its file


def test_every_genuine_export_has_an_outcome():
    files = {p.relative_to(GENUINE).as_posix() for p in GENUINE.rglob("*") if p.is_file()}
    covered = {f for f in files for name in OUTCOMES if f == name or f.startswith(name + "/")}
    left = sorted(
        f for f in files - covered - NOT_EXPORTS if not f.endswith((".md", ".conf", ".xml")) and "/brat/" not in f"/{f}"
    )
    assert left == []


def test_label_studio_formats_agree_and_users_map_to_study_names(tmp_path, scheme):
    """JSON, JSON-MIN, CSV and TSV give the same judgements; annotation.tool_users names the users."""
    tables = []
    for suffix in ("-json.json", "-json-min.json", "-csv.csv", "-tsv.tsv"):
        inbox = tmp_path / suffix / "inbox"
        (inbox / "labelstudio").mkdir(parents=True)
        shutil.copy(GENUINE / f"{LS}{suffix}", inbox / "labelstudio")
        judgements, _ = import_inbox(inbox, scheme, _sample(), {"ann_a": ["admin@example.com", 1], "ann_b": [2]})
        tables.append(judgements.drop(columns="source_file"))
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])
    assert sorted(tables[0]["annotator"].unique()) == ["ann_a", "ann_b"]


def test_import_annotations_command_gives_two_annotators_for_two_label_studio_users(tmp_path, capsys):
    from perivigil.cli import main

    _sample().to_parquet(tmp_path / "sample.parquet")
    (tmp_path / "inbox" / "labelstudio").mkdir(parents=True)
    shutil.copy(GENUINE / f"{LS}-json.json", tmp_path / "inbox" / "labelstudio")
    assert (
        main(
            [
                "import-annotations",
                "--inbox",
                str(tmp_path / "inbox"),
                "--sample",
                str(tmp_path / "sample.parquet"),
                "--output",
                str(tmp_path / "annotations.csv"),
            ]
        )
        == 0
    )
    table = pd.read_csv(tmp_path / "annotations.csv", dtype=str)
    assert sorted(table["annotator"].unique()) == ["labelstudio:1", "labelstudio:2"] and len(table) == 30
    assert "annotations cancelled (skipped)\t1" in capsys.readouterr().out
