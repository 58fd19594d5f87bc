"""What a crawl counts and when it fails: the collection report, the outcome, the partial file.

The crawl itself is a Scrapy spider (:mod:`perivigil.collect.spider`) run in a process of its
own (:mod:`perivigil.collect.run`); this module holds what both sides share, and nothing
that imports Scrapy.

Every page or post that is skipped is counted in the :class:`CollectionReport` and logged; no
author name is ever logged, and URLs (a click away from an author) only go to the details
log kept in the raw zone beside the posts (study protocol §7).

Posts are appended to ``<output>.partial`` and flushed after each page; a restart reads back
the post ids already written (dropping a last line cut by a crash) and skips them. The file
takes its final name only when the crawl ended and succeeded, so a crashed crawl never looks
complete. A crawl that yields no post, or whose share of failed pages (site down, 5xx,
requests out of time, rate limited) passes ``max_failed_share``, fails with the reason and
the counts (:class:`CollectionFailed`): its output never appears, so nothing downstream
mistakes an empty or gutted crawl for a corpus, and the next run collects again.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perivigil.collect.profile import SiteProfile
from perivigil.errors import InputError

LOG = logging.getLogger("perivigil.collect")
# Page and post URLs: written only to the details log in the raw zone (see run.details_log).
DETAILS = logging.getLogger("perivigil.collect.details")

REPORT_COLUMNS = ("source", "level", "outcome", "reason", "count")
# Why a page may fail to come: the site, not its content. These count towards max_failed_share.
FAILURES = ("unreachable", "http_error", "deadline_exceeded", "redirect_loop", "rate_limited")


class CollectionFailed(InputError):
    """A source that yielded no post, or too many failed pages: one line with the reason and the counts."""


class CollectionInterrupted(InputError):
    """A crawl that stopped before its end (a signal, its process died): one line; the next run resumes it."""


@dataclass
class CollectionReport:
    """Counts of pages and posts, kept or dropped, by reason."""

    source: str
    counts: Counter = field(default_factory=Counter)

    def add(self, level: str, outcome: str, reason: str = "", n: int = 1) -> None:
        self.counts[(level, outcome, reason)] += n

    def get(self, level: str, outcome: str, reason: str = "") -> int:
        return self.counts[(level, outcome, reason)]

    def total(self, level: str, outcome: str) -> int:
        return sum(n for (lv, out, _), n in self.counts.items() if (lv, out) == (level, outcome))

    def reasons(self, level: str, outcome: str) -> str:
        """``"unreachable 10, http_error 4"``: the counts of one level and outcome, largest first."""
        found = [(reason, n) for (lv, out, reason), n in self.counts.items() if (lv, out) == (level, outcome) and n]
        return ", ".join(f"{reason or 'ok'} {n}" for reason, n in sorted(found, key=lambda rn: (-rn[1], rn[0])))

    def rows(self) -> list[dict[str, object]]:
        """Rows in a fixed order: pages then posts, kept before dropped, reasons sorted."""
        order = {"page": 0, "post": 1, "request": 2}
        keys = sorted(self.counts, key=lambda k: (order.get(k[0], 9), k[0], k[1] != "kept", k[1], k[2]))
        return [dict(zip(REPORT_COLUMNS, (self.source, *key, self.counts[key]))) for key in keys]


@dataclass
class CrawlOutcome:
    """What a crawl process reports when it ends: its counts, what its selectors found, how it closed.

    ``found`` counts the links and post elements the profile's selectors matched;
    ``robots_unreachable`` maps a host to why its robots.txt could not be read; ``closed``
    is Scrapy's close reason (``finished`` when the whole site was walked).
    """

    report: CollectionReport
    found: Counter = field(default_factory=Counter)
    robots_unreachable: dict[str, str] = field(default_factory=dict)
    closed: str = "finished"
    written: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.report.source,
            "counts": [[*key, n] for key, n in self.report.counts.items()],
            "found": dict(self.found),
            "robots_unreachable": self.robots_unreachable,
            "closed": self.closed,
            "written": self.written,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrawlOutcome:
        report = CollectionReport(
            data["source"], Counter({(lv, out, reason): n for lv, out, reason, n in data["counts"]})
        )
        return cls(report, Counter(data["found"]), dict(data["robots_unreachable"]), data["closed"], data["written"])

    def why_no_post(self, profile: SiteProfile) -> str:
        """The first step of the walk that found nothing, in the words of the site profile."""
        report = self.report
        if report.get("page", "kept", "index") == 0:
            if self.robots_unreachable:
                host, why = next(iter(self.robots_unreachable.items()))
                return f"robots.txt of {host} could not be read ({why}), which forbids the whole site (RFC 9309)"
            return f"the start page could not be fetched ({report.reasons('page', 'dropped')})"
        if self.found["board_links"] == 0:
            return f"selector selectors.board_links {profile.board_links!r} matched no link on the start page"
        if report.get("page", "kept", "board") == 0:
            return f"no board page could be fetched ({report.reasons('page', 'dropped')})"
        if self.found["thread_links"] == 0:
            return (
                f"selector selectors.thread_links {profile.thread_links!r} matched no link on "
                f"{report.get('page', 'kept', 'board')} board pages"
            )
        if report.get("page", "kept", "thread") == 0:
            return f"no thread page could be read ({report.reasons('page', 'dropped')})"
        if self.found["post_elements"] == 0:
            return (
                f"selector selectors.post {profile.post!r} matched nothing on "
                f"{report.get('page', 'kept', 'thread')} thread pages"
            )
        return f"every post was dropped ({report.reasons('post', 'dropped')})"


def check_outcome(outcome: CrawlOutcome, profile: SiteProfile, max_failed_share: float) -> None:
    """Raise :class:`CollectionFailed` when the crawl yielded no post or too many of its pages failed."""
    report = outcome.report
    pages = report.total("page", "kept") + report.total("page", "dropped")
    failed = sum(report.get("page", "dropped", reason) for reason in FAILURES)
    counts = (
        f"pages kept {report.total('page', 'kept')}, dropped {report.total('page', 'dropped')}"
        f"{' (' + report.reasons('page', 'dropped') + ')' if report.total('page', 'dropped') else ''}"
    )
    if report.total("post", "kept") == 0:
        raise CollectionFailed(f"source {report.source}: no post collected: {outcome.why_no_post(profile)}; {counts}")
    if pages and failed / pages > max_failed_share:
        raise CollectionFailed(
            f"source {report.source}: {failed} of {pages} pages failed ({failed / pages:.0%}, more "
            f"than collect.max_failed_share = {max_failed_share:.0%}); {counts}; "
            "rerun later: pages already fetched are kept"
        )


def partial_path(output: Path) -> Path:
    """Where the posts of an unfinished crawl wait: ``<output>.partial``."""
    return output.with_name(output.name + ".partial")


def recover_partial(path: Path) -> set[str]:
    """Post ids already written to a partial JSONL; a last line cut by a crash is removed."""
    path = Path(path)
    if not path.exists():
        return set()
    ids: set[str] = set()
    good_bytes = 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                ids.add(json.loads(line)["post_id"])
            except (json.JSONDecodeError, KeyError, TypeError):
                break
            good_bytes += len(line)
    if good_bytes != path.stat().st_size:
        LOG.warning(
            "%s: dropping %d bytes of a line cut by an interrupted crawl", path, path.stat().st_size - good_bytes
        )
        with path.open("r+b") as handle:
            handle.truncate(good_bytes)
    return ids
