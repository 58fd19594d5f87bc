"""Issue 13: a real configuration with every kind of source runs through collection,
preprocessing and the yield table, offline.

Four sources in one `demo: false` study copied to a temporary folder: the demo forum (its
snapshot on disk), a phpBB forum served on 127.0.0.1, a Reddit monthly dump written here with
the real compression settings (zstd, window log 31, no content size), and a Bluesky search
answered by a local XRPC server (tests/xrpc_server.py) with credentials in the environment.
Snakemake runs one collection job per shard (the forum, each dump file, each month), then
preprocessing, extraction, decisions and the yield table.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import ROOT
from test_real_study import KEY, PHPBB, _copy_repository
from test_reddit import write_dump
from xrpc_server import XrpcServer, post_view

from perivigil.demo.serve import forum_server

HANDLE, PASSWORD = "crat-etude.test", "wxyz-1234-abcd-5678"
DID = "did:plc:mamanlyon0000000000000000"
AMIE = "did:plc:amie000000000000000000000"


def _reddit_items() -> list[dict]:
    """Items of RS_2024-03 (submissions) as the dumps hold them: ids, epoch seconds, subreddit."""
    submission = {
        "id": "1b2c3d",
        "subreddit": "enceinte",
        "author": "lucie_lyon",
        "created_utc": 1710410400,
        "retrieved_on": 1710500000,
        "permalink": "/r/enceinte/comments/1b2c3d/ains/",
        "title": "Ibuprofène à 31 SA ?",
        "selftext": "Bonjour, j'ai pris 2 comprimés d'ibuprofène 400 hier soir pour une rage de dents, "
        "je suis à 31 SA. La pharmacienne m'a dit que c'était contre-indiqué, je stresse.",
    }
    other = {
        "id": "1b2c3e",
        "subreddit": "france",
        "author": "x",
        "created_utc": 1710410500,
        "retrieved_on": 1710500000,
        "permalink": "/r/france/comments/1b2c3e/x/",
        "title": "Le prix du pain",
        "selftext": "Rien à voir avec la grossesse.",
    }
    removed = {
        "id": "1b2c3f",
        "subreddit": "Enceinte",
        "author": "[deleted]",
        "created_utc": "1710420000",
        "retrieved_on": 1710500000,
        "permalink": "/r/Enceinte/comments/1b2c3f/x/",
        "title": "[removed]",
        "selftext": "[removed]",
    }
    acne = {
        "id": "1b2c40",
        "subreddit": "Enceinte",
        "author": "nina_b",
        "created_utc": 1710430000,
        "retrieved_on": 1710500000,
        "permalink": "/r/Enceinte/comments/1b2c40/roacc/",
        "title": "Roaccutane et test positif",
        "selftext": "J'étais sous roaccutane 20 mg depuis 3 mois et test positif ce matin, "
        "j'en suis à 5 semaines d'aménorrhée. J'ai arrêté direct, j'ai rdv au CRAT.",
    }
    return [submission, other, removed, acne]


def _bluesky_posts() -> dict[str, list[dict]]:
    advil = [
        post_view(
            DID,
            "maman.lyon.test",
            "3kabc1",
            "Enceinte de 7 mois et j'ai pris de l'Advil pour mon dos, la sage-femme m'a grondée 😬",
            "2024-03-12T20:15:00.000Z",
            langs=["fr"],
        ),
        post_view(
            DID,
            "maman.lyon.test",
            "3kabc2",
            "Advil is my best friend during this pregnancy",
            "2024-03-13T08:00:00.000Z",
            langs=["fr"],
        ),  # tagged French, written in English
    ]
    reply = post_view(
        AMIE,
        "amie.test",
        "3kabc3",
        "Surtout pas d'AINS après 24 SA, appelle ta SF !",
        "2024-03-12T21:00:00.000Z",
        langs=["fr"],
        root=advil[0]["uri"],
        parent=advil[0]["uri"],
    )
    return {"advil": [*advil, reply]}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Collect, preprocess, extract and tabulate the yield of the four sources; the run's result."""
    folder = _copy_repository(tmp_path_factory.mktemp("sources") / "study")
    shutil.copytree(ROOT / "resources/demo_forum/site", folder / "resources/demo_forum/site")
    shutil.copy2(ROOT / "resources/demo_forum/site.sha256", folder / "resources/demo_forum/site.sha256")
    dump = write_dump(tmp_path_factory.mktemp("dumps") / "RS_2024-03.zst", _reddit_items())  # window log 31
    phpbb = forum_server(PHPBB, crawl_delay=0)
    xrpc = XrpcServer(identifier=HANDLE, password=PASSWORD, posts=_bluesky_posts()).start()
    shipped = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    config = {
        "demo": False,
        "sources": [
            {**shipped["sources"][0]},
            {
                "name": "ptits_loups",
                "profile": "config/sites/phpbb.yaml",
                "start_url": f"http://127.0.0.1:{phpbb.server_address[1]}/index.html",
            },
            {"name": "reddit_fr", "type": "reddit_dump", "dumps": [str(dump)], "subreddits": ["enceinte"]},
            {
                "name": "bluesky_fr",
                "type": "bluesky",
                "service": xrpc.url,
                "queries": ["advil"],
                "since": "2024-03",
                "until": "2024-03",
                "max_retries": 1,
                "backoff_s": 0.0,
            },
        ],
        "collect": {"delay_s": 0.0, "max_retries": 1, "backoff_s": 0.0, "deadline_s": 20.0},
        "annotation": {"inbox": "annotation/inbox", "adjudicated": "annotation/adjudicated.csv"},
    }
    (folder / "config/real.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    env = {
        **os.environ,
        "PERIVIGIL_PSEUDONYM_KEY": KEY,
        "PERIVIGIL_BLUESKY_HANDLE": HANDLE,
        "PERIVIGIL_BLUESKY_APP_PASSWORD": PASSWORD,
    }
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "snakemake",
                "--configfile",
                "config/real.yaml",
                "--cores",
                "2",
                "results/tables/source_yield.csv",
                "results/corpus/collection_report.csv",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
    finally:
        phpbb.shutdown()
        phpbb.server_close()
        xrpc.stop()
    assert result.returncode == 0, result.stderr[-4000:]
    return folder, result


@pytest.mark.slow
def test_each_shard_is_its_own_job_and_writes_the_shared_raw_record(study):
    folder, _ = study
    reddit = [json.loads(line) for line in (folder / "raw/reddit_fr/RS_2024-03.jsonl").read_text().splitlines()]
    # the submission on r/enceinte and the one on r/Enceinte (case-insensitive); r/france and [removed] dropped
    assert [r["post_id"] for r in reddit] == ["t3_1b2c3d", "t3_1b2c40"]
    assert reddit[0]["text"].startswith("Ibuprofène à 31 SA ?\n\nBonjour, j'ai pris 2 comprimés")
    assert reddit[0]["created_at"] == "2024-03-14T10:00:00+00:00"  # 1710410400 s after the epoch
    bluesky = [json.loads(line) for line in (folder / "raw/bluesky_fr/2024-03.jsonl").read_text().splitlines()]
    # ids: "bsky_" + 20 hex digits of SHA-256 of the at-uri, which stays in the raw zone's url only
    uris = [
        f"at://{DID}/app.bsky.feed.post/3kabc1",
        f"at://{DID}/app.bsky.feed.post/3kabc2",
        f"at://{AMIE}/app.bsky.feed.post/3kabc3",
    ]
    first, second, reply = ("bsky_" + hashlib.sha256(uri.encode()).hexdigest()[:20] for uri in uris)
    assert {r["url"]: (r["post_id"], r["thread_id"], r["parent_id"]) for r in bluesky} == {
        f"https://bsky.app/profile/{DID}/post/3kabc1": (first, first, ""),
        f"https://bsky.app/profile/{DID}/post/3kabc2": (second, second, ""),
        f"https://bsky.app/profile/{AMIE}/post/3kabc3": (reply, first, first),  # grouped with the post it answers
    }
    for record in [*reddit, *bluesky]:
        assert list(record)[:13] == [
            "source",
            "post_id",
            "thread_id",
            "parent_id",
            "thread_title",
            "board",
            "url",
            "author",
            "created_at",
            "collected_at",
            "language",
            "text",
            "raw_location",
        ]
    assert (folder / "raw/demo_forum/posts.jsonl").exists() and (folder / "raw/ptits_loups/posts.jsonl").exists()


@pytest.mark.slow
def test_no_bluesky_did_reaches_results_or_logs(study):
    folder, result = study
    assert DID in (folder / "raw/bluesky_fr/2024-03.jsonl").read_text(encoding="utf-8")  # the raw zone keeps it
    texts = [result.stdout, result.stderr]
    for path in sorted((folder / "results").rglob("*")) + sorted((folder / "logs").rglob("*")):
        if path.suffix == ".parquet":  # compressed: read the values, not the bytes
            texts.append(pd.read_parquet(path).astype(str).to_csv())
        elif path.is_file():
            texts.append(path.read_bytes().decode("utf-8", errors="replace"))
    blob = "\n".join(texts)
    assert "bluesky_fr-bsky_" in blob  # the Bluesky posts are there, under their digests
    assert [secret for secret in ("did:plc:", "at://", "maman.lyon.test", "amie.test") if secret in blob] == []


@pytest.mark.slow
def test_the_yield_table_has_every_source_and_agrees_with_the_collection(study):
    folder, _ = study
    table = pd.read_csv(folder / "results/tables/source_yield.csv")
    totals = table.groupby("source")["posts"].sum()
    report = pd.read_csv(folder / "results/corpus/collection_report.csv", keep_default_na=False)
    kept = report[(report["level"] == "post") & (report["outcome"] == "kept")].groupby("source")["count"].sum()
    assert sorted(totals.index) == ["bluesky_fr", "demo_forum", "ptits_loups", "reddit_fr"]
    assert totals.to_dict() == kept.to_dict()  # every collected post is in the table, nothing lost
    reddit = table[table["source"] == "reddit_fr"].set_index("period").loc["2024-03"]
    # both kept submissions are French, pregnant (SA, "test positif") and name a drug of interest
    assert (reddit["posts"], reddit["french_posts"], reddit["pregnancy_term_posts"]) == (2, 2, 2)
    assert (reddit["candidates_iso"], reddit["candidates_nsaid"]) == (1, 1)
    bluesky = table[table["source"] == "bluesky_fr"].set_index("period").loc["2024-03"]
    assert bluesky["posts"] == 3
    assert bluesky["french_posts"] == 2  # the English post tagged "fr" is not counted as French
    dropped = report[(report["source"] == "reddit_fr") & (report["outcome"] == "dropped")]
    assert dropped["count"].sum() == 2  # r/france and the removed submission, each with its reason
