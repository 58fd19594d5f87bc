"""The demo DAG end to end, in a temporary working directory: outputs, privacy, up-to-dateness, determinism."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile")]
PATH_KEYS = ("profile", "snapshot", "snapshot_manifest")


def _config_in(workdir: Path) -> None:
    """The shipped configuration, with its paths made absolute, in ``workdir/config/``."""
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    for source in config["sources"]:
        for key in PATH_KEYS:
            source[key] = str(ROOT / source[key])
    for key in ("seeds", "fragments", "site", "manifest", "truth"):
        config["demo_forum"][key] = str(ROOT / config["demo_forum"][key])
    for key in ("bdpm", "substances", "forum_variants"):
        config["lexicon"][key] = str(ROOT / config["lexicon"][key])
    for key in ("labels", "guidelines"):
        config["annotation"][key] = str(ROOT / config["annotation"][key])
    (workdir / "config").mkdir()
    (workdir / "config/config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")


def _run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SNAKEMAKE, "--directory", str(workdir), "--cores", "2", *args],
                          capture_output=True, text=True, cwd=workdir)


def _digests(workdir: Path) -> dict[str, str]:
    """SHA-256 of every result, pickled models aside: they are not byte-stable (they hold object
    ids); their predictions are compared instead (results/evaluation/predictions.csv)."""
    return {str(p.relative_to(workdir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((workdir / "results").rglob("*")) if p.is_file() and p.suffix != ".joblib"}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("study")
    _config_in(workdir)
    result = _run(workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


@pytest.mark.slow
def test_demo_dag_builds_the_corpus_and_its_figure(demo_run):
    posts = pd.read_parquet(demo_run / "results/corpus/posts.parquet")
    assert len(posts) >= 1000
    for name in ("figures/corpus_by_board_month.png", "figures/corpus_by_board_month.pdf",
                 "tables/corpus_by_board_month.csv", "tables/corpus_by_board_year.tex",
                 "corpus/collection_report.csv", "corpus/mentions.parquet", "lexicon/lexicon.tsv"):
        assert (demo_run / "results" / name).stat().st_size > 0, name
    table = pd.read_csv(demo_run / "results/tables/corpus_by_board_month.csv")
    assert table["n_posts"].sum() == len(posts)
    report = pd.read_csv(demo_run / "results/corpus/collection_report.csv", keep_default_na=False)
    kept = report.query("level == 'post' and outcome == 'kept'")["count"].sum()
    assert kept == len(posts)
    mentions = pd.read_parquet(demo_run / "results/corpus/mentions.parquet")
    assert set(mentions["post_id"]) <= set(posts["post_id"])
    assert mentions["supports_iso_t1"].any() and mentions["supports_nsaid_late"].any()


@pytest.mark.slow
def test_no_raw_author_name_reaches_results_or_logs(demo_run):
    raw = [json.loads(line) for line in (demo_run / "raw/demo_forum/posts.jsonl").open(encoding="utf-8")]
    authors = {r["author"] for r in raw} | {r["quote_author"] for r in raw if r.get("quote_author")}
    assert len(authors) > 100
    texts = []
    for path in sorted((demo_run / "results").rglob("*")) + sorted((demo_run / "logs").rglob("*")):
        if path.suffix == ".parquet":  # compressed: read the values, not the bytes
            texts.append(pd.read_parquet(path).astype(str).to_csv())
        elif path.is_file():
            texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    blob = "\n".join(texts)
    leaked = sorted(a for a in authors if a in blob)
    assert leaked == []


@pytest.mark.slow
def test_a_second_run_has_nothing_to_do(demo_run):
    result = _run(demo_run, "--dry-run")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.slow
def test_rerunning_from_the_raw_zone_gives_identical_bytes(demo_run):
    before = _digests(demo_run)
    result = _run(demo_run, "--forcerun", "collect", "preprocess")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _digests(demo_run) == before


@pytest.mark.slow
def test_a_wrong_config_value_stops_before_any_job(tmp_path):
    _config_in(tmp_path)
    result = _run(tmp_path, "--config", "demo=maybe")
    assert result.returncode != 0
    assert "config (config/config.yaml and any --configfile/--config): key 'demo': 'maybe' is not of type 'boolean'" \
        in result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "raw").exists()


def test_raw_zone_results_and_logs_are_git_ignored(root):
    ignored = (root / ".gitignore").read_text().split()
    assert {"/raw/", "/results/", "/logs/"} <= set(ignored)


@pytest.mark.slow
def test_the_readme_figure_is_the_one_the_dag_builds(demo_run, root):
    built = (demo_run / "results/figures/corpus_by_board_month.png").read_bytes()
    assert (root / "docs/img/corpus_by_board_month.png").read_bytes() == built
