"""The annotation round trip: scheme, sample, batches for the tools, import of their returns, gold."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from perivigil.annotation.exports import POST_TYPE, text_hash, write_batch
from perivigil.annotation.gold import build_gold, disagreements, read_adjudication
from perivigil.annotation.imports import import_inbox
from perivigil.annotation.sampling import allocate, assign, build_frame, draw, situations, stratum_keys
from perivigil.annotation.scheme import load_scheme
from perivigil.errors import InputError


@pytest.fixture(scope="module")
def scheme(root):
    return load_scheme(root / "config/labels.yaml")


@pytest.fixture()
def sample():
    return pd.DataFrame(
        {
            "post_id": ["f-1", "f-2", "f-3"],
            "text": ["J'ai pris un advil à 30 SA.", "Kardégic 100 à 32 SA.", "Coucou les filles\nça va ?"],
        }
    )


# ----------------------------------------------------------------------------- scheme
def test_scheme_parses_values_and_refuses_outsiders(scheme):
    assert scheme.names == ("iso_t1", "nsaid_late", "exposure", "person", "drug", "gestational_age_sa", "dose_mg_day")
    assert scheme["iso_t1"].parse(1, "f") == "1" and scheme["iso_t1"].parse(1.0, "f") == "1"
    assert scheme["gestational_age_sa"].parse("30,5", "f") == "30.5"
    with pytest.raises(InputError, match="^f: field 'exposure' has value 'taken' outside the scheme"):
        scheme["exposure"].parse("taken", "f")
    with pytest.raises(InputError, match=r"^f: field 'gestational_age_sa' = 60 is outside \[0, 44\]$"):
        scheme["gestational_age_sa"].parse(60, "f")


# ----------------------------------------------------------------------------- sampling
def test_allocation_is_minimum_then_proportional_with_largest_remainders():
    # sizes 10/30/60, 20 to draw, 1 each first: 17 left over rooms 9/29/59 -> 1.58/5.08/10.34 -> 2/5/10
    assert allocate(pd.Series({"a": 10, "b": 30, "c": 60}), 20, 1).to_dict() == {"a": 3, "b": 6, "c": 11}


def test_allocation_refuses_a_minimum_it_cannot_meet():
    with pytest.raises(InputError, match="min_per_stratum"):
        allocate(pd.Series({"a": 5, "b": 5, "c": 5}), 2, 1)


def _posts_and_mentions():
    created = pd.to_datetime(["2020-01-01T00:00:00+00:00"] * 6 + ["2021-01-01T00:00:00+00:00"] * 6, utc=True)
    posts = pd.DataFrame(
        {
            "post_id": [f"p{i:02d}" for i in range(12)],
            "thread_id": "t",
            "source": "s",
            "board": "b",
            "created_at": created,
            "duplicate_of": [None] * 11 + ["p00"],
        }
    )
    mentions = pd.DataFrame(
        {
            "post_id": ["p00", "p01", "p02", "p06", "p07", "p07"],
            "drug_class": ["nsaid", "isotretinoin", "other", "nsaid", "nsaid", "isotretinoin"],
        }
    )
    return posts, mentions


def test_frame_strata_and_inclusion_probabilities():
    posts, mentions = _posts_and_mentions()
    frame = build_frame(posts, mentions, ["situation", "period"], "year")
    assert dict(zip(frame["post_id"], frame["stratum"]))["p07"] == "both | 2021"
    assert dict(zip(frame["post_id"], frame["stratum"]))["p02"] == "noncandidate"  # paracetamol-like: no interest
    drawn = draw(frame, n_candidates=4, n_noncandidates=3, min_per_stratum=1, seed=7)
    assert drawn["selected"].sum() == 7
    probabilities = drawn.drop_duplicates("stratum").set_index("stratum")["inclusion_probability"].to_dict()
    # 4 candidate strata of one post each: all drawn; 3 of the 7 eligible non-candidates
    assert probabilities == {
        "nsaid | 2020": 1.0,
        "iso | 2020": 1.0,
        "nsaid | 2021": 1.0,
        "both | 2021": 1.0,
        "noncandidate": 3 / 7,
    }
    assert drawn.loc[drawn["post_id"] == "p11", "inclusion_probability"].item() == 0.0  # a duplicate
    assert draw(frame, 4, 3, 1, seed=7).equals(drawn)


def test_situations_and_strata_are_computed_column_by_column():
    mentions = pd.DataFrame(
        {
            "post_id": ["a", "a", "b", "b", "c", "d", "d"],
            "drug_class": ["nsaid", "aspirin", "isotretinoin", "nsaid", "other", "isotretinoin", "isotretinoin"],
        }
    )
    # a: NSAID and aspirin are both "nsaid"; b: both situations; c: nothing of interest; d: iso twice
    assert situations(mentions).to_dict() == {"a": "nsaid", "b": "both", "d": "iso"}
    frame = pd.DataFrame(
        {"situation": ["iso", "both"], "board": ["Grossesse", "Allaitement"], "period": ["2020", "2021"]}
    )
    keys = stratum_keys(frame, ["situation", "board", "period"])
    assert keys.tolist() == ["iso | Grossesse | 2020", "both | Allaitement | 2021"]
    assert stratum_keys(frame, ["board"]).tolist() == ["Grossesse", "Allaitement"]


def test_assignment_overlap_goes_to_everyone_and_the_rest_in_turn():
    table = assign([f"p{i}" for i in range(10)], ["a", "b", "c"], overlap=4, seed=1)
    per_post = table.groupby("post_id")["annotator"].nunique()
    assert (per_post == 3).sum() == 4 and (per_post == 1).sum() == 6
    assert table.groupby("annotator").size().to_dict() == {"a": 6, "b": 6, "c": 6}
    with pytest.raises(InputError, match="a name is used twice"):
        assign(["p1"], ["a", "a"], 0, 1)


# ----------------------------------------------------------------------------- batches and returns
def _fill_returns(batch, inbox, values):
    """Play three annotators: each fills a copy of the batch in another tool and exports it."""
    from cassis import load_cas_from_xmi, load_typesystem

    # Label Studio (annotator "lea"): an export with a relabelled task, a skipped one, a draft, int ids
    tasks = json.loads((batch / "labelstudio_tasks.json").read_text(encoding="utf-8"))
    for index, task in enumerate(tasks):
        task["id"] = index + 1
        post_values = values[task["data"]["post_id"]]
        result = [
            {"from_name": k, "to_name": "text", "type": "choices", "value": {"choices": [v]}}
            for k, v in post_values.items()
        ]
        task["annotations"] = [
            {"id": 10 + index, "result": result, "was_cancelled": False, "updated_at": "2025-02-02T10:00:00Z"}
        ]
        task["drafts"] = [{"id": 1, "result": []}]
    tasks[0]["annotations"].insert(
        0,
        {
            "id": 1,
            "was_cancelled": False,
            "updated_at": "2025-01-01T10:00:00Z",
            "result": [{"from_name": "nsaid_late", "type": "choices", "value": {"choices": ["0"]}}],
        },
    )
    tasks[2]["annotations"] = [{"id": 99, "result": [], "was_cancelled": True}]
    (inbox / "lea").mkdir(parents=True)
    (inbox / "lea" / "export.json").write_text(json.dumps(tasks), encoding="utf-8-sig")
    # doccano ("marc")
    (inbox / "marc").mkdir()
    lines = []
    for line in (batch / "doccano.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record["label"] = [f"{k}:{v}" for k, v in values[record["post_id"]].items()]
        lines.append(json.dumps(record, ensure_ascii=False))
    (inbox / "marc" / "all.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # brat ("noor") and INCEpTION ("ines")
    shutil.copytree(batch / "brat", inbox / "noor" / "brat")
    for ann in (inbox / "noor" / "brat").glob("*.ann"):
        extra = [f"A{i}\t{k} T1 {v}" for i, (k, v) in enumerate(values[ann.stem].items(), start=1)]
        ann.write_text(
            ann.read_text(encoding="utf-8") + "\n".join(extra) + "\n#1\tAnnotatorNotes T1\tgestational_age_sa=30\n",
            encoding="utf-8",
        )
    shutil.copytree(batch / "inception", inbox / "ines" / "inception")
    folder = inbox / "ines" / "inception"
    with (folder / "TypeSystem.xml").open("rb") as handle:
        typesystem = load_typesystem(handle)
    for xmi in folder.glob("*.xmi"):
        with xmi.open("rb") as handle:
            cas = load_cas_from_xmi(handle, typesystem=typesystem)
        post = next(iter(cas.select(POST_TYPE)))
        for k, v in values[post.get("post_id")].items():
            post.set(k, v)
        cas.to_xmi(xmi)
    # spreadsheet ("sam"), CSV with a byte-order mark
    sheet = pd.read_csv(batch / "sheet.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    for name in ("iso_t1", "nsaid_late", "exposure"):
        sheet[name] = [values[p][name] for p in sheet["post_id"]]
    (inbox / "sam").mkdir()
    sheet.to_csv(inbox / "sam" / "sheet.csv", index=False, encoding="utf-8-sig")


VALUES = {
    "f-1": {"iso_t1": "0", "nsaid_late": "1", "exposure": "actual"},
    "f-2": {"iso_t1": "0", "nsaid_late": "0", "exposure": "actual"},
    "f-3": {"iso_t1": "0", "nsaid_late": "0", "exposure": "none"},
}


@pytest.fixture()
def round_trip(tmp_path, scheme, sample, root):
    batch = tmp_path / "batch"
    write_batch(sample, scheme, batch, root / "docs/annotation-guidelines.md")
    inbox = tmp_path / "inbox"
    _fill_returns(batch, inbox, VALUES)
    return inbox


def test_every_tool_format_comes_back_exactly(round_trip, scheme, sample):
    judgements, report = import_inbox(round_trip, scheme, sample)
    by_annotator = judgements.groupby("annotator").size().to_dict()
    # lea skipped f-3 (cancelled); noor's notes add gestational_age_sa to each post
    assert by_annotator == {"ines": 9, "lea": 6, "marc": 9, "noor": 12, "sam": 9}
    values = judgements.pivot_table(index=["post_id", "label"], columns="annotator", values="value", aggfunc="first")
    assert values.loc[("f-1", "nsaid_late")].to_dict() == {
        "ines": "1",
        "lea": "1",
        "marc": "1",
        "noor": "1",
        "sam": "1",
    }
    assert report.counts[("lea", "annotations superseded by a later one")] == 1
    assert report.counts[("lea", "annotations cancelled (skipped)")] == 1
    assert report.counts[("lea", "drafts set aside")] == 3


def test_batch_formats_are_written(tmp_path, scheme, sample, root):
    batch = tmp_path / "batch"
    write_batch(sample, scheme, batch, root / "docs/annotation-guidelines.md")
    config = (batch / "labelstudio_config.xml").read_text(encoding="utf-8")
    assert '<Choices name="exposure" toName="text" choice="single" required="true">' in config
    assert '<Number name="gestational_age_sa" toName="text" min="0" max="44"/>' in config
    conf = (batch / "brat/annotation.conf").read_text(encoding="utf-8")
    assert "exposure\tArg:Post, Value:actual|intended|negated|none" in conf
    assert (batch / "brat/f-3.txt").read_text(encoding="utf-8") == "Coucou les filles\nça va ?"
    first = tmp_path / "again"
    write_batch(sample, scheme, first, root / "docs/annotation-guidelines.md")
    assert (batch / "sheet.xlsx").read_bytes() == (first / "sheet.xlsx").read_bytes()  # byte-stable


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (
            lambda inbox: (inbox / "marc" / "all.jsonl").write_text(
                '{"post_id": "f-1", "text": "J\'ai pris un advil à 30 SA.", "label": ["iso_T1:1"]}\n', encoding="utf-8"
            ),
            r"all\.jsonl, line 1: field 'iso_T1' is not a label of the scheme",
        ),
        (
            lambda inbox: (inbox / "marc" / "all.jsonl").write_text(
                '{"post_id": "f-9", "text": "x", "label": ["iso_t1:1"]}\n', encoding="utf-8"
            ),
            r"all\.jsonl, line 1: field 'post_id' 'f-9' is not in the annotation sample",
        ),
        (
            lambda inbox: shutil.copytree(inbox / "marc", inbox / "Marc"),
            r"two annotators with the same name \('Marc' and 'marc'\)",
        ),
        (
            lambda inbox: (inbox / "lea" / "export.json").write_text(
                (inbox / "lea" / "export.json").read_text(encoding="utf-8-sig")[:200], encoding="utf-8"
            ),
            r"export\.json: not valid JSON at line 1, column \d+: .* \(truncated file\?\)",
        ),
        (
            lambda inbox: (inbox / "sam" / "sheet.csv").write_text(
                (inbox / "sam" / "sheet.csv").read_text(encoding="utf-8-sig").replace("advil", "nurofen"),
                encoding="utf-8-sig",
            ),
            r"sheet\.csv, row 2: field 'text' was edited",
        ),
    ],
)
def test_bad_returns_give_one_line_naming_file_task_and_field(round_trip, scheme, sample, break_it, message):
    break_it(round_trip)
    with pytest.raises(InputError, match=message) as caught:
        import_inbox(round_trip, scheme, sample)
    assert "\n" not in str(caught.value)


# ----------------------------------------------------------------------------- adjudication and gold
def _judgements(rows):
    return pd.DataFrame(rows, columns=["post_id", "annotator", "label", "value"]).assign(
        source_file="x", annotated_at=""
    )


def test_gold_keeps_the_provenance_of_every_label(tmp_path, scheme):
    judgements = _judgements(
        [
            ("p1", "a", "nsaid_late", "1"),
            ("p1", "b", "nsaid_late", "1"),  # unanimous
            ("p2", "a", "nsaid_late", "1"),
            ("p2", "b", "nsaid_late", "0"),  # adjudicated
            ("p3", "a", "nsaid_late", "1"),
            ("p3", "b", "nsaid_late", "0"),
            ("p3", "c", "nsaid_late", "1"),  # majority
            ("p4", "c", "nsaid_late", "0"),  # single
            ("p5", "a", "nsaid_late", "1"),
            ("p5", "b", "nsaid_late", "0"),  # undecided
        ]
    )
    disagreed = disagreements(judgements)
    assert disagreed[["post_id", "label"]].values.tolist() == [
        ["p2", "nsaid_late"],
        ["p3", "nsaid_late"],
        ["p5", "nsaid_late"],
    ]
    sheet = tmp_path / "adjudicated.csv"
    sheet.write_text(
        "post_id,label,decision,adjudicator\np2,nsaid_late,0,dr_crat\np3,nsaid_late,,\np5,nsaid_late,,\n",
        encoding="utf-8",
    )
    adjudicated = read_adjudication(sheet, scheme, disagreed)
    gold, undecided = build_gold(
        judgements,
        adjudicated,
        majority_fallback=True,
        sample_ids=["p1", "p2", "p3", "p4", "p5", "p6"],
        required=("nsaid_late",),
    )
    assert gold[["post_id", "value", "provenance", "decided_by"]].values.tolist() == [
        ["p1", "1", "unanimous", ""],
        ["p2", "0", "adjudicated", "dr_crat"],
        ["p3", "1", "majority", ""],
        ["p4", "0", "single", ""],
    ]
    assert undecided[["post_id", "reason"]].values.tolist() == [
        ["p5", "disagreement without a decision"],
        ["p6", "no annotator gave a value"],
    ]


def test_an_adjudication_outside_the_scheme_is_refused(tmp_path, scheme):
    judgements = _judgements([("p2", "a", "exposure", "actual"), ("p2", "b", "exposure", "intended")])
    sheet = tmp_path / "adjudicated.csv"
    sheet.write_text("post_id,label,decision,adjudicator\np2,exposure,maybe,dr_crat\n", encoding="utf-8")
    with pytest.raises(
        InputError,
        match=r"adjudicated\.csv, row 2, field 'decision': field 'exposure' has value "
        r"'maybe' outside the scheme",
    ):
        read_adjudication(sheet, scheme, disagreements(judgements))


def test_text_hash_is_the_sha256_prefix():
    # printf 'abc' | sha256sum -> ba7816bf8f01cfea414140de5dae2223...
    assert text_hash("abc") == "ba7816bf8f01cfea"


def test_inception_zips_and_project_export_give_one_annotator_per_user(round_trip, scheme, sample, tmp_path):
    import zipfile

    xmi_folder = round_trip / "ines" / "inception"
    inbox = tmp_path / "inbox2"
    (inbox / "one").mkdir(parents=True)
    (inbox / "project").mkdir()
    with zipfile.ZipFile(inbox / "project" / "project.zip", "w") as project:
        project.writestr("exportedproject.json", "{}")
        for xmi in sorted(xmi_folder.glob("*.xmi")):
            document = tmp_path / f"{xmi.stem}.zip"  # what INCEpTION exports for one document
            with zipfile.ZipFile(document, "w") as one:
                one.write(xmi, xmi.name)
                one.write(xmi_folder / "TypeSystem.xml", "TypeSystem.xml")
            shutil.copy(document, inbox / "one" / document.name)
            for user in ("ines", "ivo"):
                project.write(document, f"annotation/{xmi.stem}.txt/{user}.zip")
        project.writestr("curation/x.txt/CURATION_USER.tsv", "#FORMAT=WebAnno TSV 3.2\n")
    judgements, report = import_inbox(inbox, scheme, sample, {"ann_i": ["ines"]})
    assert judgements.groupby("annotator").size().to_dict() == {"ann_i": 9, "one": 9, "project:ivo": 9}
    assert set(judgements.loc[judgements["annotator"] == "one", "source_file"].str.rsplit("/", n=2).str[-2]) == {
        "f-1.zip",
        "f-2.zip",
        "f-3.zip",
    }
    assert report.counts[("project", "curated documents set aside (not an annotator's)")] == 1
    assert report.formats[(inbox / "project" / "project.zip").as_posix()] == "INCEpTION project export"
