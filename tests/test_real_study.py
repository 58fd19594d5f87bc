"""Issue 11: the real study, as a person runs it: `demo: false`, two forums over HTTP, three stops.

The study runs from a copy of the repository in a temporary folder with `perivigil study`
(what `make study` runs): a demo-like forum and a phpBB forum served on 127.0.0.1, a key in
the environment, the annotators' returns dropped into the inbox between runs (written in
their tools' formats by `perivigil rehearse`), then the adjudicator's sheet, up to the report.
Fault cases run the same command on a site that is down, answers 503, trickles bytes, and on
an annotator who returned nothing; each stops with its message and leaves nothing half-written.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT

from perivigil.demo.serve import forum_server

PHPBB = ROOT / "tests/data/forums/phpbb"
KEY = "integration-test-key-0123456789abcdef"
# What the study reads from the repository (the rest it makes).
COPIED = (
    "Snakefile",
    "workflow",
    "config",
    "profiles",
    "resources/bdpm",
    "resources/challenge",
    "docs/annotation-guidelines.md",
)


def _copy_repository(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source, target = ROOT / name, folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    return folder


def _real_config(forum_url: str, phpbb_url: str, **collect) -> dict:
    """A small real study over the two forums (layered on config/config.yaml, as a user does)."""
    return {
        "demo": False,
        "sources": [
            {"name": "demo_forum", "profile": "config/sites/demo_forum.yaml", "start_url": forum_url},
            {"name": "ptits_loups", "profile": "config/sites/phpbb.yaml", "start_url": phpbb_url},
        ],
        "collect": {"delay_s": 0.0, "max_retries": 1, "backoff_s": 0.0, "deadline_s": 20.0, **collect},
        "annotation": {
            "annotators": ["ann_a", "ann_b"],
            "n_candidates": 110,
            "n_noncandidates": 30,
            "overlap": 50,
            "inbox": "annotation/inbox",
            "adjudicated": "annotation/adjudicated.csv",
            "simulation": {
                "adjudicator": "crat_expert",
                "annotators": {
                    "ann_a": {"format": "labelstudio", "flip_rate": 0.03},
                    "ann_b": {"format": "doccano", "flip_rate": 0.03},
                },
            },
        },
        "agreement": {"n_boot": 200},
        "models": {"linear": ["logreg"], "c_grid": [1.0], "cv_folds": 3},
        "evaluation": {"n_boot": 200, "n_boot_auprc": 100},
        "apply": {"n_boot": 200},
    }


def _study(folder: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PERIVIGIL_PSEUDONYM_KEY": KEY, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "perivigil", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _run(folder: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return _study(folder, "study", "--cores", "2", "--configfile", "config/real.yaml", *extra, env=env)


def _rehearse(folder: Path, role: str, *extra: str) -> subprocess.CompletedProcess:
    result = _study(
        folder,
        "rehearse",
        role,
        "--configfile",
        "config/real.yaml",
        "--truth",
        f"demo_forum={folder / 'forum/truth.csv'}",
        "--truth",
        f"ptits_loups={PHPBB / 'truth.csv'}",
        *extra,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def forum(tmp_path_factory, study_config):
    """A 600-post demo-like forum (its truth beside it, outside the site), built once."""
    from perivigil.demo.build import build_demo_forum

    out = tmp_path_factory.mktemp("forum")
    settings = copy.deepcopy(study_config["demo_forum"])
    for key in ("seeds", "fragments"):
        settings[key] = str(ROOT / settings[key])
    settings.update(
        site=str(out / "site"), manifest=str(out / "site.sha256"), truth=str(out / "truth.csv"), n_posts=600
    )
    build_demo_forum(settings)
    return out


@pytest.fixture(scope="module")
def servers(forum):
    """The two forums on 127.0.0.1 (robots.txt without a Crawl-delay), stopped after the tests."""
    started = [forum_server(forum / "site", crawl_delay=0), forum_server(PHPBB, crawl_delay=0)]
    yield [f"http://127.0.0.1:{s.server_address[1]}/index.html" for s in started]
    for server in started:
        server.shutdown()
        server.server_close()


def _prepare(folder: Path, forum: Path, config: dict) -> Path:
    _copy_repository(folder)
    (folder / "forum").mkdir()
    shutil.copy(forum / "truth.csv", folder / "forum/truth.csv")
    (folder / "config/real.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return folder


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def staged(tmp_path_factory, forum, servers):
    """The real study run through its three stops; each run's result kept for the tests below."""
    folder = _prepare(tmp_path_factory.mktemp("real") / "study", forum, _real_config(*servers))
    runs = {"without_key": _run(folder, env={"PERIVIGIL_PSEUDONYM_KEY": ""})}
    runs["corpus"] = _run(folder)
    _rehearse(folder, "annotators", "--annotator", "ann_a")
    _rehearse(folder, "annotators", "--annotator", "ann_b", "--first", "10")
    runs["partial"] = _run(folder)
    runs["direct_import"] = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--configfile",
            "config/real.yaml",
            "--cores",
            "1",
            "results/annotation/annotations.parquet",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PERIVIGIL_PSEUDONYM_KEY": KEY},
    )
    _rehearse(folder, "annotators", "--annotator", "ann_b")
    runs["returns"] = _run(folder)
    _rehearse(folder, "adjudicator")
    runs["adjudicated"] = _run(folder)
    runs["status"] = _study(folder, "status", "--configfile", "config/real.yaml")
    return folder, runs


@pytest.mark.slow
def test_a_real_study_without_its_key_stops_before_any_job(staged):
    _, runs = staged
    run = runs["without_key"]
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "perivigil study: error: config/config.yaml + config/real.yaml: key 'preprocess.pseudonym_key_env': no "
        "pseudonymisation key: set $PERIVIGIL_PSEUDONYM_KEY (or $PERIVIGIL_PSEUDONYM_KEY_FILE to a file outside the "
        "repository); the demo key is refused outside the demo configuration (config key 'demo')"
    )


@pytest.mark.slow
def test_the_first_stop_waits_for_the_annotators(staged):
    folder, runs = staged
    run = runs["corpus"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert "perivigil study status (real study: stage 'annotators')" in run.stdout
    assert "waiting for returns (annotation/inbox/): ann_a (none yet), ann_b (none yet)" in run.stdout
    assert "Next: send each annotator their folder of results/annotation/batches/" in run.stdout
    report = pd.read_csv(folder / "results/corpus/collection_report.csv", keep_default_na=False)
    kept = report.query("level == 'post' and outcome == 'kept'").groupby("source")["count"].sum().to_dict()
    assert kept["ptits_loups"] == 12  # every post of the phpBB fixture
    assert kept["demo_forum"] > 500
    assert (folder / "results/annotation/batches/ann_a").is_dir()


@pytest.mark.slow
def test_partial_returns_are_listed_and_the_study_waits(staged):
    folder, runs = staged
    run = runs["partial"]
    assert run.returncode == 0, run.stderr[-3000:]
    batch = pd.read_csv(folder / "results/annotation/assignments.csv").query("annotator == 'ann_b'")
    assert re.search(rf"ann_a \((\d+) of \1\), ann_b \(10 of {len(batch)}\)", run.stdout), run.stdout
    assert "Nothing to be done" in run.stdout


@pytest.mark.slow
def test_an_import_forced_before_the_returns_are_complete_fails_with_one_line(staged):
    _, runs = staged
    run = runs["direct_import"]
    assert run.returncode != 0
    lines = [line for line in run.stdout.splitlines() + run.stderr.splitlines() if line.startswith("perivigil error:")]
    assert len(lines) == 1
    assert lines[0].startswith("perivigil error: annotation/inbox: waiting for returns from ann_b (10 of ")
    assert "list an annotator who will return nothing more in annotation.withdrawn" in lines[0]


@pytest.mark.slow
def test_the_second_stop_waits_for_the_adjudicator(staged):
    folder, runs = staged
    run = runs["returns"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert "stage 'adjudicator'" in run.stdout
    sheet = pd.read_csv(folder / "results/annotation/adjudication/to_adjudicate.csv")
    assert f"0 of {len(sheet)} disagreements back in annotation/adjudicated.csv" in run.stdout
    assert json.loads((folder / "results/agreement/agreement.json").read_text())["iso_t1"]["n_annotators"] == 2


@pytest.mark.slow
def test_the_adjudicated_study_runs_to_the_report_and_its_numbers(staged):
    folder, runs = staged
    run = runs["adjudicated"]
    assert run.returncode == 0, run.stderr[-3000:]
    assert "stage 'complete'" in run.stdout
    assert (folder / "results/report.html").stat().st_size > 100_000
    assert "F1 on the test split, design-weighted, rules (95 % CI): iso_t1 " in run.stdout
    assert "corrected prevalence (rules, design-weighted Se/Sp, 95 % CI): iso_t1 " in run.stdout
    assert "  report: results/report.html" in run.stdout
    assert runs["status"].stdout.startswith("perivigil study status (real study: stage 'complete')")
    posts = pd.read_parquet(folder / "results/corpus/posts.parquet")
    assert set(posts["source"]) == {"demo_forum", "ptits_loups"}


@pytest.mark.slow
def test_a_clean_run_prints_no_spurious_warning(staged):
    _, runs = staged
    noise = ("papermill", "command not found", "IPKernelApp", "Warning", "Traceback")
    for name in ("corpus", "returns", "adjudicated"):
        output = runs[name].stdout + runs[name].stderr
        assert [word for word in noise if word in output] == [], name


@pytest.mark.slow
def test_nothing_that_leads_back_to_an_author_reaches_results_or_logs(staged):
    """Protocol §7: no raw author name, post URL, e-mail or phone number outside the raw zone."""
    folder, _ = staged
    raw = [
        json.loads(line)
        for path in sorted((folder / "raw").glob("*/posts.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    authors = {r["author"] for r in raw} | {r["quote_author"] for r in raw if r.get("quote_author")}
    urls = {r["url"].split("#")[0] for r in raw}
    texts = " ".join(r["text"] for r in raw)
    emails = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", texts))
    phones = set(re.findall(r"(?<!\d)0[1-9](?:[ .-]?\d\d){4}(?!\d)", texts))
    assert len(authors) > 50 and len(urls) > 50 and emails and phones  # the demo forum has them all
    blobs = []
    for path in sorted((folder / "results").rglob("*")) + sorted((folder / "logs").rglob("*")):
        if path.suffix == ".parquet":
            blobs.append(pd.read_parquet(path).astype(str).to_csv())
        elif path.is_file() and path.suffix not in (".joblib",):
            blobs.append(path.read_bytes().decode("utf-8", errors="replace"))
    blob = "\n".join(blobs)
    leaks = {
        kind: sorted(v for v in values if v in blob)[:3]
        for kind, values in (
            ("authors", {a for a in authors if len(a) > 3}),
            ("urls", urls),
            ("emails", emails),
            ("phones", phones),
        )
    }
    assert leaks == {"authors": [], "urls": [], "emails": [], "phones": []}


@pytest.mark.slow
def test_a_failed_recollection_leaves_the_earlier_outputs_in_place(staged, tmp_path):
    folder, _ = staged
    work = tmp_path / "study"
    shutil.copytree(folder, work, symlinks=True)  # mtimes kept: only what the test forces reruns
    config = yaml.safe_load((work / "config/real.yaml").read_text(encoding="utf-8"))
    config["sources"][0]["start_url"] = "http://127.0.0.1:9/index.html"  # the discard port: nothing listens
    (work / "config/real.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    kept = {
        name: _digest(work / name)
        for name in (
            "raw/demo_forum/posts.jsonl",
            "results/corpus/posts.parquet",
            "results/corpus/collection/demo_forum.csv",
        )
    }
    run = _run(work, "--", "--forcerun", "collect")
    assert run.returncode != 0
    assert (
        "perivigil error: source demo_forum: no post collected: robots.txt of http://127.0.0.1:9 could not be "
        "read (ConnectionError: Connection refused)" in run.stdout
    )
    assert "perivigil study: stopped: source demo_forum: no post collected" in run.stderr
    assert run.stderr.strip().endswith("(log: logs/collect/demo_forum.log)")
    assert {name: _digest(work / name) for name in kept} == kept


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["site_down", "server_errors", "trickle"])
def test_a_collection_that_fails_stops_the_study_with_its_reason(tmp_path, forum, servers, fault):
    import http.server
    import threading
    import time

    class Faulty(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/robots.txt":
                body = b"User-agent: *\nAllow: /\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif fault == "server_errors":
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:  # trickle: a byte every 0.2 s, forever
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                try:
                    for _ in range(1000):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.2)
                except OSError:
                    pass

        def log_message(self, *args):
            """Quiet."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Faulty)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = (
            "http://127.0.0.1:9/index.html"
            if fault == "site_down"
            else f"http://127.0.0.1:{server.server_address[1]}/index.html"
        )
        config = _real_config(url, servers[1], deadline_s=2.0)
        folder = _prepare(tmp_path / "study", forum, config)
        started = time.monotonic()
        run = _run(folder)
    finally:
        server.shutdown()
        server.server_close()
    assert run.returncode != 0
    assert time.monotonic() - started < 120
    expected = {
        "site_down": "could not be read (ConnectionError: Connection refused)",
        "server_errors": "the start page could not be fetched (http_error 1)",
        "trickle": "the start page could not be fetched (deadline_exceeded 1)",
    }[fault]
    errors = [line for line in run.stdout.splitlines() if line.startswith("perivigil error: source demo_forum")]
    assert len(errors) == 1 and expected in errors[0], run.stdout[-3000:]
    assert run.stderr.strip().startswith("perivigil study: stopped: source demo_forum: ")
    assert not (folder / "raw/demo_forum/posts.jsonl").exists()
    assert not (folder / "results/corpus/posts.parquet").exists()
    half_written = [p for p in folder.rglob("*") if ".tmp-" in p.name and "results" in p.parts]
    assert half_written == []
