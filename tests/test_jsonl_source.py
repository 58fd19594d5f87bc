"""The JSONL source ("bring your own export"): raw records from a file or a glob, one job per file.

Each test writes its export line by line, so that the expected records, counts and error
messages can be checked by hand against the lines above them.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SCHEMA

from perivigil.collect.crawler import CollectionReport
from perivigil.collect.jsonl import collect_export, iter_export, shard_name
from perivigil.collect.records import FIELD_ORDER
from perivigil.collect.shards import collect_shard, export_of, raw_path, report_path, shards
from perivigil.config import validate_config
from perivigil.errors import InputError

FULL = {  # a record as the Reddit connector writes it, with a field of another tool
    "source": "reddit_fr",
    "post_id": "t3_1b2c3d",
    "thread_id": "t3_1b2c3d",
    "parent_id": "",
    "thread_title": "Ibuprofène à 31 SA ?",
    "board": "enceinte",
    "url": "https://www.reddit.com/r/enceinte/comments/1b2c3d/ains/",
    "author": "lucie_lyon",
    "created_at": "2024-03-14T10:00:00+00:00",
    "collected_at": "2024-03-15T10:53:20+00:00",
    "language": "",
    "text": "Ibuprofène à 31 SA ?\n\nJ'ai pris 2 comprimés d'ibuprofène 400 hier soir.",
    "raw_location": "RS_2024-03.zst:1",
    "score": 12,
}
OLD = {  # a forum record written before parent_id, language and raw_location existed, with a quote
    "source": "export_fr",
    "post_id": "100002",
    "thread_id": "5001",
    "thread_title": "Retour à la maison",
    "board": "Accouchement & suites de couches",
    "url": "https://forum.example/sujet/5001.html#msg100002",
    "author": "mimi_nantes",
    "created_at": "2024-12-01T21:54:09+00:00",
    "text": "Pareil pour moi, sous roaccutane 20mg jusqu'au test positif.",
    "collected_at": "2025-01-15T09:00:00+00:00",
    "quote_author": "mimi2019",
    "quote_text": "Baby blues au 3e jour",
}


def _write(path: Path, *lines: dict | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines),
        encoding="utf-8",
    )
    return path


def _export(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "export.jsonl",
        FULL,  # line 1: kept, written as source export_fr, score not written
        OLD,  # line 2: kept, the three later fields filled
        {**OLD, "post_id": "100003", "text": "  \n "},  # line 3: blank text -> empty_text
        "",  # line 4: a blank line, skipped
        {**FULL, "text": "the same post_id again"},  # line 5: -> duplicate_post_id
        {**OLD, "post_id": "100004", "raw_location": ""},  # line 6: kept, raw_location from here
    )


def test_an_export_keeps_checked_records_in_raw_form_and_counts_what_it_drops(tmp_path):
    output, report = tmp_path / "raw/export_fr/export.jsonl", tmp_path / "report.csv"
    collect_export(_export(tmp_path), output, source="export_fr", report_path=report)
    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [r["post_id"] for r in records] == ["t3_1b2c3d", "100002", "100004"]
    assert records[0] == {**{k: v for k, v in FULL.items() if k != "score"}, "source": "export_fr"}
    assert list(records[0]) == list(FIELD_ORDER)
    assert list(records[1]) == [*FIELD_ORDER, "quote_author", "quote_text"]
    assert (records[1]["parent_id"], records[1]["language"], records[1]["raw_location"]) == ("", "", "export.jsonl:2")
    assert records[1]["quote_author"] == "mimi2019"  # pseudonymised by preprocessing, as for every connector
    assert records[2]["raw_location"] == "export.jsonl:6"
    assert pd.read_csv(report, keep_default_na=False).values.tolist() == [
        ["export_fr", "post", "kept", "", 3],
        ["export_fr", "post", "dropped", "duplicate_post_id", 1],
        ["export_fr", "post", "dropped", "empty_text", 1],
    ]


def test_the_log_names_fields_and_counts_never_values(tmp_path, caplog):
    caplog.set_level("INFO", logger="perivigil.collect.jsonl")
    collect_export(_export(tmp_path), tmp_path / "out.jsonl", source="export_fr")
    assert [r.getMessage() for r in caplog.records] == [
        "export.jsonl: 1 records named another source; written as source 'export_fr'",
        "export.jsonl: fields not written (not raw-record fields): score",
        "export.jsonl: 3 posts kept; dropped: duplicate_post_id 1, empty_text 1",
    ]


@pytest.mark.parametrize(
    "bad_line, problem",
    [
        ('{"source": "export_fr" "post_id": "2"}', "not valid JSON (Expecting ',' delimiter at column 24)"),
        ({k: v for k, v in OLD.items() if k != "author"}, "field 'author' is missing"),
        ({**OLD, "thread_id": 5001}, "field 'thread_id' must be a string, got int"),
        ({**OLD, "created_at": "2024-12-01 21:54"}, "field 'created_at' has no time zone: '2024-12-01 21:54'"),
        ({**OLD, "post_id": " "}, "field 'post_id' is empty"),
        ('["a", "list"]', "expected a JSON object, got list"),
    ],
)
def test_a_bad_line_stops_the_job_naming_file_line_and_field_and_writes_nothing(tmp_path, bad_line, problem):
    export = _write(tmp_path / "export.jsonl", FULL, OLD, bad_line)
    output, report = tmp_path / "raw/export_fr/export.jsonl", tmp_path / "report.csv"
    with pytest.raises(InputError) as caught:
        collect_export(export, output, source="export_fr", report_path=report)
    assert str(caught.value) == f"{export}, line 3: {problem}"
    assert not output.exists() and not report.exists() and not list(output.parent.glob("*"))


def test_an_empty_export_writes_an_empty_shard(tmp_path):
    report = collect_export(_write(tmp_path / "none.jsonl"), tmp_path / "out.jsonl", source="export_fr")
    assert (tmp_path / "out.jsonl").read_text() == "" and report.rows() == []


def test_the_export_cannot_be_its_own_raw_file(tmp_path):
    export = _write(tmp_path / "raw/export_fr/a.jsonl", OLD)
    with pytest.raises(InputError, match="the export is also the raw file to write"):
        collect_export(export, export, source="export_fr")
    assert json.loads(export.read_text())["post_id"] == "100002"  # untouched


def test_records_stream_one_at_a_time(tmp_path):
    """The first record comes out before a bad line further down is read."""
    export = _write(tmp_path / "export.jsonl", OLD, "not json")
    records = iter_export(export, source="export_fr", report=CollectionReport("export_fr"))
    assert next(records)["post_id"] == "100002"
    with pytest.raises(InputError, match=r"export\.jsonl, line 2: not valid JSON"):
        next(records)


# ----------------------------------------------------------------------------- shards and configuration
def test_each_file_of_a_glob_is_a_shard_in_sorted_order(tmp_path):
    for name in ("2024-02.jsonl", "2024-01.jsonl", "notes.txt"):
        (tmp_path / "export").mkdir(exist_ok=True)
        (tmp_path / "export" / name).write_text("")
    source = {"name": "export_fr", "type": "jsonl", "path": "export/*.jsonl"}
    assert shards(source, tmp_path) == ["2024-01", "2024-02"]
    assert export_of(source, "2024-02", tmp_path) == "export/2024-02.jsonl"
    assert raw_path(source, "2024-01") == "raw/export_fr/2024-01.jsonl"
    assert report_path(source, "2024-01") == "results/corpus/collection/export_fr/2024-01.csv"
    single = {"name": "export_fr", "type": "jsonl", "path": "/data/posts.ndjson"}
    assert shards(single) == ["posts"]
    assert (shard_name("a/x.jsonl"), shard_name("x.json"), shard_name(".jsonl")) == ("x", "x.json", ".jsonl")
    with pytest.raises(KeyError, match="no JSONL file for shard '2024-03'"):
        export_of(source, "2024-03", tmp_path)


def test_collect_by_hand_reads_the_shards_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "export").mkdir()
    _write(tmp_path / "export/a.jsonl", OLD)
    source = {"name": "export_fr", "type": "jsonl", "path": "export/*.jsonl"}
    report = collect_shard(source, None, {}, Path("raw/export_fr/a.jsonl"), Path("a.csv"))
    assert report.get("post", "kept") == 1
    assert json.loads(Path("raw/export_fr/a.jsonl").read_text())["raw_location"] == "a.jsonl:1"


def _config(study_config: dict, source: dict) -> dict:
    config = copy.deepcopy(study_config)
    config["sources"] = [source]
    return config


def test_a_jsonl_source_is_valid_and_its_files_are_checked(study_config, tmp_path):
    (tmp_path / "export").mkdir()
    _write(tmp_path / "export/a.jsonl", OLD)
    source = {"name": "export_fr", "type": "jsonl", "path": "export/*.jsonl"}
    validate_config(_config(study_config, source), SCHEMA, "c.yaml", root=tmp_path)


@pytest.mark.parametrize(
    "source, files, expected",
    [
        ({"type": "jsonl"}, [], "'path' is a required property"),
        ({"path": "e/*.jsonl", "dumps": ["RS_2024-01.zst"]}, [], "key 'sources[0].dumps' does not apply to a jsonl"),
        ({"path": "e/*.jsonl"}, [], "key 'sources[0].path': 'e/*.jsonl' matches no file"),
        ({"path": "e/a.jsonl"}, [], "key 'sources[0].path': 'e/a.jsonl' does not exist or is not a file"),
        (
            {"path": "*/a.jsonl"},
            ["e/a.jsonl", "f/a.jsonl"],
            "key 'sources[0].path': 'e/a.jsonl' and 'f/a.jsonl' would both be shard 'a'; rename one",
        ),
        ({"path": "e/*"}, ["e/a b.jsonl"], "key 'sources[0].path': file name 'a b.jsonl': expected letters"),
        ({"path": "raw/x/*.jsonl"}, ["raw/x/a.jsonl"], "'raw/x/a.jsonl' lies in raw/x/, where the source's own"),
    ],
)
def test_a_wrong_jsonl_source_is_named_before_any_job(study_config, tmp_path, source, files, expected):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    with pytest.raises(InputError) as caught:
        config = _config(study_config, {"name": "x", "type": "jsonl", **source})
        validate_config(config, SCHEMA, "c.yaml", root=tmp_path)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


# ----------------------------------------------------------------------------- the DAG
@pytest.mark.slow
def test_a_jsonl_source_runs_through_collection_and_preprocessing(tmp_path):
    """Two export files (a glob), one job each, then the combined report and posts.parquet."""
    from test_real_study import KEY, _copy_repository

    folder = _copy_repository(tmp_path / "study")
    exports = tmp_path / "exports"
    exports.mkdir()
    _write(exports / "2024-03.jsonl", FULL, {**FULL, "text": " "})
    _write(exports / "2024-12.jsonl", OLD, OLD)
    config = {"demo": False, "sources": [{"name": "export_fr", "type": "jsonl", "path": f"{exports}/*.jsonl"}]}
    config["annotation"] = {"inbox": "annotation/inbox", "adjudicated": "annotation/adjudicated.csv"}
    (folder / "config/real.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**os.environ, "PERIVIGIL_PSEUDONYM_KEY": KEY, "PYTHONPATH": str(ROOT / "src")}  # this checkout's package
    command = [sys.executable, "-m", "snakemake", "--configfile", "config/real.yaml", "--cores", "2"]
    targets = ["results/corpus/posts.parquet", "results/corpus/collection_report.csv"]
    result = subprocess.run([*command, *targets], cwd=folder, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stderr.count("rule collect_jsonl:") == 2
    assert (folder / "benchmarks/collect/export_fr/2024-03.tsv").is_file()
    report = pd.read_csv(folder / "results/corpus/collection_report.csv", keep_default_na=False)
    assert report.values.tolist() == [
        ["export_fr", "post", "kept", "", 2],
        ["export_fr", "post", "dropped", "empty_text", 1],
        ["export_fr", "post", "dropped", "duplicate_post_id", 1],
    ]
    posts = pd.read_parquet(folder / "results/corpus/posts.parquet")
    assert posts["post_id"].tolist() == ["export_fr-t3_1b2c3d", "export_fr-100002"]
    assert posts["author_id"].str.fullmatch(r"u_[0-9a-f]{16}").all()
    assert "lucie_lyon" not in posts.to_csv() and "mimi" not in posts.to_csv()
