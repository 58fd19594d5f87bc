"""Run the collection of one configured source: choose the fetcher, crawl, write the report."""

from __future__ import annotations

import csv
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from perivigil.collect.crawler import DETAILS, REPORT_COLUMNS, CollectionReport, Crawler, collect
from perivigil.collect.fetch import Fetcher, HttpFetcher, SnapshotFetcher
from perivigil.collect.profile import load_profile
from perivigil.files import atomic_path
from perivigil.report.figures import write_csv
from perivigil.schemas import COLLECTION_REPORT, check


def make_fetcher(source: dict[str, Any], politeness: dict[str, Any], raw_dir: Path) -> Fetcher:
    """A snapshot reader when the source names a snapshot folder, else a polite HTTP client."""
    if source.get("snapshot"):
        root = source["start_url"].rsplit("/", 1)[0] + "/"
        return SnapshotFetcher(root, Path(source["snapshot"]), source["captured_at"])
    return HttpFetcher(raw_dir / "http_cache.sqlite", user_agent=politeness["user_agent"],
                       delay_s=politeness["delay_s"], max_retries=politeness["max_retries"],
                       backoff_s=politeness["backoff_s"], timeout_s=politeness["timeout_s"],
                       deadline_s=politeness["deadline_s"], max_wait_s=politeness["max_wait_s"])


@contextmanager
def details_log(path: Path):
    """Send the crawl's URL-level details (dropped pages and posts) to ``path``, in the raw zone only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    DETAILS.addHandler(handler)
    DETAILS.propagate = False
    try:
        yield path
    finally:
        DETAILS.removeHandler(handler)
        handler.close()


def write_report(report: CollectionReport, path: Path) -> None:
    """Write the report's rows as CSV (atomically)."""
    with atomic_path(path) as tmp:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=REPORT_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(report.rows())


def collect_source(source: dict[str, Any], politeness: dict[str, Any], output: Path, report_path: Path,
                   fetcher: Fetcher | None = None) -> CollectionReport:
    """Crawl ``source`` into ``output`` (raw JSONL, resumable) and write its report.

    A failed collection (:class:`~perivigil.collect.crawler.CollectionFailed`) writes
    neither; the URLs of what was dropped are in ``<output folder>/collect_details.log``.
    """
    output = Path(output)
    profile = load_profile(Path(source["profile"]))
    fetcher = fetcher or make_fetcher(source, politeness, output.parent)
    report = CollectionReport(source["name"])
    crawler = Crawler(profile, fetcher, source["name"], report, user_agent=politeness["user_agent"],
                      respect_robots=politeness["respect_robots"])
    with details_log(output.parent / "collect_details.log") as details:
        logging.getLogger("perivigil.collect").info("URLs of dropped pages and posts: %s (raw zone)", details)
        collect(crawler, source["start_url"], output, politeness["max_failed_share"])
    write_report(report, Path(report_path))
    return report


def combine_reports(paths: list[Path | str], output: Path | str) -> pd.DataFrame:
    """Concatenate per-source collection reports into one checked table."""
    frames = [pd.read_csv(path, dtype={"reason": str}, keep_default_na=False) for path in paths]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REPORT_COLUMNS)
    table["count"] = table["count"].astype("int64")
    table = check(COLLECTION_REPORT, table, str(output))
    write_csv(table, output)
    return table
