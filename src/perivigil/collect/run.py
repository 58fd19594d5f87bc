"""Run the collection of one configured source: a crawl process, its outcome checked, the report written.

:func:`collect_source` starts the forum spider (:mod:`perivigil.collect.spider`) in a fresh
Python process per crawl: Scrapy runs on Twisted's reactor, which cannot be started twice in
one process, and a study (its tests too) collects many times in one. The process gets its
job as a JSON line on stdin, and stops cleanly (resumable) when stdin closes, so a crawl
never outlives the process that started it. It sends back JSON lines on stderr: log records,
relayed here to the same loggers (Scrapy's, which name URLs, only to the details log in the
raw zone), then its outcome. This side checks the outcome, gives the partial file its final
name, and writes the collection report.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pandas as pd

from perivigil.collect.crawler import (
    DETAILS,
    LOG,
    REPORT_COLUMNS,
    CollectionInterrupted,
    CollectionReport,
    CrawlOutcome,
    check_outcome,
    partial_path,
)
from perivigil.collect.profile import load_profile
from perivigil.files import atomic_path
from perivigil.report.figures import write_csv
from perivigil.schemas import COLLECTION_REPORT, check

_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)):")


@contextmanager
def details_log(path: Path) -> Iterator[Path]:
    """Send the crawl's URL-level details (dropped pages and posts, Scrapy's log) to ``path``, in the raw zone only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    level, propagate = DETAILS.level, DETAILS.propagate
    DETAILS.addHandler(handler)
    DETAILS.setLevel(logging.INFO)
    DETAILS.propagate = False
    try:
        yield path
    finally:
        DETAILS.removeHandler(handler)
        DETAILS.setLevel(level)
        DETAILS.propagate = propagate
        handler.close()


def write_report(report: CollectionReport, path: Path) -> None:
    """Write the report's rows as CSV (atomically)."""
    with atomic_path(path) as tmp:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=REPORT_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(report.rows())


def crawl_job(
    source: Mapping[str, Any],
    politeness: Mapping[str, Any],
    output: Path,
    scrapy_settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The job of a crawl process (see :class:`perivigil.collect.spider.CrawlJob`), paths made absolute."""
    snapshot = source.get("snapshot")
    return {
        "source": source["name"],
        "start_url": source["start_url"],
        "profile": str(Path(source["profile"]).resolve()),
        "output": str(Path(output).resolve()),
        "politeness": dict(politeness),
        "snapshot": str(Path(snapshot).resolve()) if snapshot else None,
        "captured_at": source.get("captured_at"),
        "settings": dict(scrapy_settings or {}),
    }


def _relay(stream: IO[str]) -> tuple[CrawlOutcome | None, str]:
    """Relay the crawl process's log records; return its outcome (None if it died first) and its last error."""
    outcome, error = None, ""
    for line in stream:
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict):  # a traceback, a stray print: may name URLs
            if line.strip():
                DETAILS.warning("crawl process: %s", line.rstrip())
                found = _EXCEPTION_LINE.match(line.strip())
                error = found.group(1) if found else error
        elif "outcome" in event:
            outcome = CrawlOutcome.from_json(event["outcome"])
        elif str(event.get("log", "")).startswith("perivigil"):
            logging.getLogger(event["log"]).log(int(event["level"]), "%s", event["message"])
        else:
            DETAILS.log(int(event.get("level", logging.INFO)), "[%s] %s", event.get("log"), event.get("message"))
    return outcome, error


def run_crawl_process(job: dict[str, Any]) -> CrawlOutcome:
    """Crawl in a fresh process (see the module docstring); raise :class:`CollectionInterrupted` if it died."""
    command = [sys.executable, "-m", "perivigil.collect.spider"]
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as process:
        assert process.stdin is not None and process.stderr is not None
        process.stdin.write(json.dumps(job) + "\n")
        process.stdin.flush()
        try:
            outcome, error = _relay(process.stderr)
        except KeyboardInterrupt:
            LOG.warning("interrupted: the crawl stops cleanly and will resume on the next run")
            process.stdin.close()  # the crawl process stops when its stdin closes
            outcome, error = _relay(process.stderr)
        finally:
            if not process.stdin.closed:
                process.stdin.close()
        status = process.wait()
    if outcome is None:
        raise CollectionInterrupted(
            f"source {job['source']}: the crawl process stopped before its end (exit status "
            f"{status}{', ' + error if error else ''}); rerun to resume: posts already "
            "collected are kept; details in collect_details.log (raw zone)"
        )
    return outcome


def collect_source(
    source: Mapping[str, Any],
    politeness: Mapping[str, Any],
    output: Path,
    report_path: Path,
    *,
    scrapy_settings: Mapping[str, Any] | None = None,
) -> CollectionReport:
    """Crawl ``source`` into ``output`` (raw JSONL, resumable) and write its report.

    ``politeness`` is the configuration's ``collect`` section; ``scrapy_settings`` overrides
    the Scrapy settings it gives (tests, tuning a site). A crawl that fails
    (:class:`~perivigil.collect.crawler.CollectionFailed`) or stops before its end
    (:class:`~perivigil.collect.crawler.CollectionInterrupted`) writes neither file; the posts
    collected wait in ``<output>.partial`` for the next run, and the URLs of what was dropped
    are in ``<output folder>/collect_details.log``.
    """
    output = Path(output)
    profile = load_profile(Path(source["profile"]))
    output.parent.mkdir(parents=True, exist_ok=True)
    job = crawl_job(source, politeness, output, scrapy_settings)
    with details_log(output.parent / "collect_details.log") as details:
        LOG.info("URLs of dropped pages and posts: %s (raw zone)", details)
        outcome = run_crawl_process(job)
    if outcome.closed != "finished":
        raise CollectionInterrupted(
            f"source {source['name']}: the crawl stopped before its end ({outcome.closed}) "
            f"after {outcome.report.total('post', 'kept')} posts; rerun to resume"
        )
    check_outcome(outcome, profile, float(politeness["max_failed_share"]))
    os.replace(partial_path(output), output)
    write_report(outcome.report, Path(report_path))
    return outcome.report


def combine_reports(paths: list[Path | str], output: Path | str) -> pd.DataFrame:
    """One checked table of every shard's collection report: counts summed per source, level, outcome, reason.

    Rows keep the order in which they first appear (sources in config order, then each shard's own order),
    so a source of one shard (a forum) reads exactly as its own report.
    """
    frames = [pd.read_csv(path, dtype={"reason": str}, keep_default_na=False) for path in paths]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REPORT_COLUMNS)
    if len(table):
        table = table.groupby(list(REPORT_COLUMNS[:-1]), sort=False, as_index=False)["count"].sum()
    table["count"] = table["count"].astype("int64")
    table = check(COLLECTION_REPORT, table[list(REPORT_COLUMNS)], str(output))
    write_csv(table, output)
    return table
