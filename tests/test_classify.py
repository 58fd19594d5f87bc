"""perivigil classify: the fixed command of shared/architecture.md, and extraction to mentions.parquet."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from perivigil.cli import main


def _jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


POSTS = [
    {"post_id": "p1", "text": "Enceinte de 30 SA, j'ai pris un Advil hier soir pour une rage de dents."},
    {"post_id": 2, "text": "Est-ce que je peux prendre un nurofen à 32 SA ?"},
    {"post_id": "p3", "text": "J'étais sous Curacné et test positif à 5 SA, je suis effondrée."},
    {"post_id": "p4", "text": ""},
    {"post_id": "p5", "text": "😭😭😭"},
    {"post_id": "p6", "text": "I took ibuprofen at thirty weeks, is it bad?"},
    {"post_id": "p7", "text": "Kardégic 75 tous les soirs depuis 12 SA, je suis à 30 SA."},
    {"post_id": "p8", "text": "Sous curacné jusqu'à 5 SA sans le savoir, et à 30 SA j'ai pris un advil."},
]


def test_classify_rules_writes_one_row_per_line_in_order(tmp_path, root):
    posts = _jsonl(tmp_path / "posts.jsonl", POSTS)
    out = tmp_path / "predictions.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "perivigil",
            "classify",
            "--model",
            "rules",
            "--input",
            str(posts),
            "--output",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0])[:3] == ["post_id", "iso_t1", "nsaid_late"]
    assert [(r["post_id"], r["iso_t1"], r["nsaid_late"]) for r in rows] == [
        ("p1", "0", "1"),
        ("2", "0", "0"),
        ("p3", "1", "0"),
        ("p4", "0", "0"),
        ("p5", "0", "0"),
        ("p6", "0", "0"),
        ("p7", "0", "0"),
        ("p8", "1", "1"),
    ]
    # "hier" dates the intake; "Enceinte de 30 SA" is today's age, and a day back stays within that week
    assert rows[0]["nsaid_late_evidence"] == "ibuprofen ('Advil') at 30 SA ('hier', time_ago) taken by self"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"post_id": "x", "text": "ok"', "line 2: not valid JSON"),
        ('{"post_id": "x"}', "line 2: field 'text' is missing"),
        ('{"text": "ok"}', "line 2: field 'post_id' is missing"),
        ('{"post_id": "x", "text": 12}', "line 2: field 'text' must be a string, got int"),
        ('["x", "ok"]', "line 2: expected a JSON object, got list"),
    ],
)
def test_a_malformed_line_is_named_by_its_number(tmp_path, root, monkeypatch, capsys, line, message):
    posts = tmp_path / "posts.jsonl"
    posts.write_text(json.dumps(POSTS[0]) + "\n" + line + "\n", encoding="utf-8")
    monkeypatch.chdir(root)
    code = main(["classify", "--model", "rules", "--input", str(posts), "--output", str(tmp_path / "o.csv")])
    assert code == 2
    assert f"{posts}, {message}" in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_a_model_that_does_not_exist_is_refused(tmp_path, root, monkeypatch, capsys):
    monkeypatch.chdir(root)
    posts = _jsonl(tmp_path / "posts.jsonl", POSTS[:1])
    assert main(["classify", "--model", "svm", "--input", str(posts), "--output", str(tmp_path / "o.csv")]) == 2
    assert "--model svm: svm_iso_t1.joblib does not exist" in capsys.readouterr().err


def test_extraction_writes_checked_mentions(tmp_path, root, monkeypatch):
    from perivigil.extract.run import ExtractSettings, extract_posts_file, write_lexicon

    monkeypatch.chdir(root)
    config = yaml.safe_load((root / "config/config.yaml").read_text(encoding="utf-8"))
    write_lexicon(config, tmp_path / "lexicon.parquet", tmp_path / "lexicon.tsv")
    posts = pd.DataFrame({"post_id": [str(p["post_id"]) for p in POSTS], "text": [p["text"] for p in POSTS]})
    posts.to_parquet(tmp_path / "posts.parquet", row_group_size=3)
    counts = extract_posts_file(
        tmp_path / "posts.parquet",
        tmp_path / "lexicon.parquet",
        tmp_path / "mentions.parquet",
        ExtractSettings.from_section(config["extract"]),
    )
    # p1, p2, p3, p6 ("ibuprofen", the English name), p7 name one drug, p8 two; p4, p5 none. Taken: p1 Advil,
    # p3 and p8 Curacné, p7 Kardégic ("tous les soirs"), p8 advil; p2 is a question, p6 has no French verb.
    assert counts == {"posts": 8, "posts_with_mentions": 6, "mentions": 7, "taken": 5, "truncated": 0}
    mentions = pd.read_parquet(tmp_path / "mentions.parquet")
    first = mentions.iloc[0]
    assert (
        first.post_id,
        first.evidence,
        first.inn,
        first.status,
        first.person,
        first.person_pregnant,
        first.gestational_age_sa,
        first.gestational_age_source,
    ) == ("p1", "Advil", "ibuprofen", "taken", "self", True, 30.0, "time_ago")
    kardegic = mentions[mentions.post_id == "p7"].iloc[0]
    assert (kardegic.drug_class, kardegic.dose_mg_day, kardegic.status) == ("aspirin_antiplatelet", 75.0, "taken")
