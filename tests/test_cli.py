"""The perivigil command: steps by hand, one-line errors and exit status 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

from perivigil.cli import main


def test_preprocess_by_hand(tmp_path, root, monkeypatch, capsys):
    raw = tmp_path / "raw.jsonl"
    raw.write_text(
        json.dumps(
            {
                "source": "demo_forum",
                "post_id": "1",
                "thread_id": "9",
                "thread_title": "t",
                "board": "b",
                "url": "https://f.example/t",
                "author": "caro33",
                "created_at": "2020-02-01T09:00:00+00:00",
                "text": "Bonjour, je suis enceinte de 30 SA.",
                "collected_at": "2025-01-15T09:00:00+00:00",
            }
        )
        + "\n"
    )
    monkeypatch.chdir(root)
    code = main(
        [
            "preprocess",
            "--input",
            str(raw),
            "--output",
            str(tmp_path / "p.parquet"),
            "--summary",
            str(tmp_path / "s.json"),
        ]
    )
    assert code == 0
    assert json.loads((tmp_path / "s.json").read_text())["posts"] == 1


def test_bad_input_gives_one_line_and_status_2(tmp_path, root):
    raw = tmp_path / "raw.jsonl"
    raw.write_text("not json\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "perivigil",
            "preprocess",
            "--input",
            str(raw),
            "--output",
            str(tmp_path / "p.parquet"),
            "--summary",
            str(tmp_path / "s.json"),
        ],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors == [f"perivigil preprocess: error: {raw}, line 1: not valid JSON (Expecting value at column 1)"]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "p.parquet").exists()


def test_unknown_source_is_named(tmp_path, root, monkeypatch, capsys):
    monkeypatch.chdir(root)
    code = main(
        ["collect", "--source", "reddit", "--output", str(tmp_path / "r.jsonl"), "--report", str(tmp_path / "r.csv")]
    )
    assert code == 2
    assert "no source named 'reddit' (sources: ['demo_forum'])" in capsys.readouterr().err


def test_a_reddit_shard_is_collected_by_hand_and_a_wrong_shard_is_named(tmp_path, root, capsys):
    import yaml
    from test_reddit import submission, write_dump

    write_dump(
        tmp_path / "RS_2024-02.zst",
        [submission("a1", "enceinte", title="Advil à 30 SA ?", selftext="ok"), submission("a2", "france")],
    )
    config = yaml.safe_load((root / "config/config.yaml").read_text(encoding="utf-8"))
    config["sources"].append(
        {
            "name": "reddit_fr",
            "type": "reddit_dump",
            "subreddits": ["enceinte"],
            "dumps": [str(tmp_path / "RS_2024-02.zst")],
        }
    )
    config["sources"][0].update(
        profile=str(root / config["sources"][0]["profile"]),
        snapshot=str(root / config["sources"][0]["snapshot"]),
        snapshot_manifest=str(root / config["sources"][0]["snapshot_manifest"]),
    )
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    common = [
        "--config",
        str(tmp_path / "c.yaml"),
        "--schema",
        str(root / "workflow/schemas/config.schema.yaml"),
        "--source",
        "reddit_fr",
        "--output",
        str(tmp_path / "r.jsonl"),
        "--report",
        str(tmp_path / "r.csv"),
    ]
    assert main(["collect", *common, "--shard", "RS_2024-02"]) == 0
    assert [json.loads(line)["post_id"] for line in (tmp_path / "r.jsonl").read_text().splitlines()] == ["t3_a1"]
    assert main(["collect", *common, "--shard", "RS_2024-03"]) == 2
    assert "source reddit_fr: --shard 'RS_2024-03' is not one of its shards (RS_2024-02)" in capsys.readouterr().err


def test_sample_size_per_stratum(capsys):
    assert main(["sample-size", "--prevalence-candidates", "0.3", "--prevalence-noncandidates", "0.01"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "stratum,expected_prevalence,n_sensitivity,n_specificity,n_prevalence,posts",
        "candidates,0.3,116,105,323,323",
        "noncandidates,0.01,3458,74,16,3458",
    ]
    assert main(["sample-size", "--prevalence-candidates", "0", "--prevalence-noncandidates", "0.01"]) == 2
    assert capsys.readouterr().err.strip() == (
        "perivigil sample-size: error: expected prevalence 0.0: expected a proportion strictly between 0 and 1"
    )
