"""Crawl a forum with a site profile and append its posts to the raw zone, resumably.

Walk: start page → boards → board pages (every pagination link) → threads →
thread pages (every pagination link) → posts. Only URLs on the start URL's host are
followed, each page once, and only where robots.txt allows it (RFC 9309:
a missing robots.txt allows all, an unreachable one forbids all).

Resumption: posts are appended to ``<output>.partial`` and flushed after each
page; a restart reads back the post ids already written (dropping a last line
cut by the crash) and skips them, while the fetcher's cache spares the site
the pages already fetched. The file takes its final name only when the crawl
ends, so a crashed crawl never looks complete.

Every page or post that is skipped is counted in the :class:`CollectionReport`
and logged; no author name is ever logged, and URLs (a click away from an author)
only go to the details log kept in the raw zone beside the posts (study protocol §7).

A crawl that yields no post, or whose share of failed pages (site down, 5xx, requests
out of time, rate limited) passes ``max_failed_share``, fails with the reason and the
counts (:class:`CollectionFailed`): its output never appears, so nothing downstream
mistakes an empty or gutted crawl for a corpus, and the next run collects again.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from bs4 import BeautifulSoup

from perivigil.collect.fetch import Fetcher, Page
from perivigil.collect.parse import PageError, decode_page, links, parse_thread_page, soup_of
from perivigil.collect.profile import SiteProfile
from perivigil.errors import InputError
from perivigil.logs import Progress

LOG = logging.getLogger("perivigil.collect")
# Page and post URLs: written only to the details log in the raw zone (see collect_source).
DETAILS = logging.getLogger("perivigil.collect.details")

REPORT_COLUMNS = ("source", "level", "outcome", "reason", "count")
# Why a page may fail to come: the site, not its content. These count towards max_failed_share.
FAILURES = ("unreachable", "http_error", "deadline_exceeded", "redirect_loop", "rate_limited")


class CollectionFailed(InputError):
    """A source that yielded no post, or too many failed pages: one line with the reason and the counts."""


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


def _same_site(url: str, start_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(start_url)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


class Crawler:
    """Walks one forum; yields raw post records and fills a report."""

    def __init__(self, profile: SiteProfile, fetcher: Fetcher, source: str, report: CollectionReport,
                 *, user_agent: str, respect_robots: bool = True) -> None:
        self.profile = profile
        self.fetcher = fetcher
        self.source = source
        self.report = report
        self.user_agent = user_agent
        self.respect_robots = respect_robots
        self._robots: dict[str, RobotFileParser] = {}
        self.robots_unreachable: dict[str, str] = {}  # host -> why its robots.txt could not be read
        self._visited: set[str] = set()
        self._seen: set[str] = set()
        self.found: Counter = Counter()  # links and post elements the selectors matched
        self.progress = Progress(f"collect {source}", "pages")

    # -- politeness -------------------------------------------------------------
    def _robots_for(self, url: str) -> RobotFileParser:
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        if host not in self._robots:
            parser = RobotFileParser(f"{host}/robots.txt")
            page = self.fetcher.get(f"{host}/robots.txt")
            if page.status == 200:
                parser.parse(page.body.decode("utf-8", errors="replace").splitlines())
            elif 400 <= page.status < 500 and page.status != 429:
                parser.allow_all = True
            else:  # RFC 9309 §2.3.1.4: an unreachable robots.txt forbids everything
                why = page.error or page.reason or f"HTTP {page.status}"
                LOG.warning("robots.txt of %s unreachable (%s): nothing will be fetched", host, why)
                self.robots_unreachable[host] = why
                parser.disallow_all = True
            delay = parser.crawl_delay(self.user_agent)
            if delay:
                self.fetcher.set_min_delay(float(delay))
            self._robots[host] = parser
        return self._robots[host]

    def _fetch(self, url: str, kind: str) -> tuple[str, Page] | None:
        """Fetch and decode one page, or count and log why not."""
        if url in self._visited:
            return None
        self._visited.add(url)
        if self.respect_robots and not self._robots_for(url).can_fetch(self.user_agent, url):
            self._drop_page(url, kind, "robots_disallowed", "")
            return None
        page: Page = self.fetcher.get(url)
        self.progress.advance(detail=f"{self.report.total('post', 'kept'):,} posts, "
                                     f"{self.report.total('page', 'dropped'):,} pages dropped")
        if page.status != 200:
            reason = page.reason or ("not_found" if page.status in (404, 410) else "unreachable" if page.status == 0
                                     else "http_error")
            self._drop_page(url, kind, reason, page.error)
            return None
        try:
            text = decode_page(page)
        except PageError as exc:
            self._drop_page(url, kind, exc.reason, exc.detail)
            return None
        return text, page

    def _drop_page(self, url: str, kind: str, reason: str, detail: str) -> None:
        self.report.add("page", "dropped", reason)
        LOG.warning("%s page dropped (%s)%s", kind, reason, f": {detail}" if detail else "")
        DETAILS.warning("%s page dropped (%s): %s%s", kind, reason, url, f" — {detail}" if detail else "")

    # -- walk -------------------------------------------------------------------
    def _pages(self, first_url: str, pagination: str, kind: str, scope: str) -> Iterator[tuple[BeautifulSoup, Page]]:
        """Fetch ``first_url`` and every page its pagination links lead to, each once.

        All pagination links are queued, not only "next": one dead page does not
        hide the pages after it.
        """
        queue = [first_url]
        while queue:
            url = queue.pop(0)
            fetched = self._fetch(url, kind)
            if fetched is None:
                continue
            text, page = fetched
            soup = soup_of(text)
            for link in links(soup, pagination, url):
                if link not in self._visited and link not in queue and _same_site(link, scope):
                    queue.append(link)
            yield soup, page

    def crawl(self, start_url: str, already: set[str] | frozenset[str] | None = None) -> Iterator[list[dict[str, str]]]:
        """Yield, page by page, the new posts (those whose id is not in ``already``)."""
        already = frozenset() if already is None else frozenset(already)
        fetched = self._fetch(start_url, "index")
        if fetched is None:
            return
        self.report.add("page", "kept", "index")
        boards = [u for u in links(soup_of(fetched[0]), self.profile.board_links, start_url) if _same_site(u, start_url)]
        self.found["board_links"] += len(boards)
        for board_url in boards:
            for board_soup, board_page in self._pages(board_url, self.profile.board_pages, "board", start_url):
                self.report.add("page", "kept", "board")
                threads = links(board_soup, self.profile.thread_links, board_page.url)
                self.found["thread_links"] += len(threads)
                for thread_url in threads:
                    if _same_site(thread_url, start_url):
                        yield from self._crawl_thread(thread_url, already, start_url)
        retries = getattr(self.fetcher, "retries", {})
        for reason, n in sorted(retries.items()):
            self.report.add("request", "retried", reason, n)
        self.progress.finish(detail=f"{self.report.total('post', 'kept'):,} posts, "
                                    f"{self.report.total('page', 'dropped'):,} pages dropped")

    def _crawl_thread(self, thread_url: str, already: frozenset[str], scope: str) -> Iterator[list[dict[str, str]]]:
        for soup, page in self._pages(thread_url, self.profile.thread_pages, "thread", scope):
            try:
                parsed = parse_thread_page(soup, page, self.profile, self.source)
            except PageError as exc:
                self._drop_page(page.url, "thread", exc.reason, exc.detail)
                continue
            self.report.add("page", "kept", "thread")
            self.found["post_elements"] += len(parsed.posts) + len(parsed.dropped)
            for post_id, reason in parsed.dropped:
                self.report.add("post", "dropped", reason)
                LOG.warning("post %s dropped (%s)", post_id, reason)
                DETAILS.warning("post %s dropped (%s): %s", post_id, reason, page.url)
            fresh = []
            for record in parsed.posts:
                post_id = record["post_id"]
                if post_id in self._seen:
                    self.report.add("post", "dropped", "duplicate_post_id")
                    LOG.warning("post %s dropped (duplicate_post_id)", post_id)
                    DETAILS.warning("post %s dropped (duplicate_post_id): %s", post_id, page.url)
                    continue
                self._seen.add(post_id)
                self.report.add("post", "kept", "")
                if post_id not in already:  # else written before a crash, not again
                    fresh.append(record)
            yield fresh

    def why_no_post(self) -> str:
        """The first step of the walk that found nothing, in the words of the site profile."""
        report, profile = self.report, self.profile
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
            return (f"selector selectors.thread_links {profile.thread_links!r} matched no link on "
                    f"{report.get('page', 'kept', 'board')} board pages")
        if report.get("page", "kept", "thread") == 0:
            return f"no thread page could be read ({report.reasons('page', 'dropped')})"
        if self.found["post_elements"] == 0:
            return (f"selector selectors.post {profile.post!r} matched nothing on "
                    f"{report.get('page', 'kept', 'thread')} thread pages")
        return f"every post was dropped ({report.reasons('post', 'dropped')})"


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
        LOG.warning("%s: dropping %d bytes of a line cut by an interrupted crawl",
                    path, path.stat().st_size - good_bytes)
        with path.open("r+b") as handle:
            handle.truncate(good_bytes)
    return ids


def check_outcome(crawler: Crawler, max_failed_share: float) -> None:
    """Raise :class:`CollectionFailed` when the crawl yielded no post or too many of its pages failed."""
    report = crawler.report
    pages = report.total("page", "kept") + report.total("page", "dropped")
    failed = sum(report.get("page", "dropped", reason) for reason in FAILURES)
    counts = (f"pages kept {report.total('page', 'kept')}, dropped {report.total('page', 'dropped')}"
              f"{' (' + report.reasons('page', 'dropped') + ')' if report.total('page', 'dropped') else ''}")
    if report.total("post", "kept") == 0:
        raise CollectionFailed(f"source {report.source}: no post collected: {crawler.why_no_post()}; {counts}")
    if pages and failed / pages > max_failed_share:
        raise CollectionFailed(f"source {report.source}: {failed} of {pages} pages failed ({failed / pages:.0%}, more "
                               f"than collect.max_failed_share = {max_failed_share:.0%}); {counts}; "
                               "rerun later: pages already fetched are kept")


def collect(crawler: Crawler, start_url: str, output: Path, max_failed_share: float = 1.0) -> int:
    """Crawl from ``start_url`` into ``output`` (JSONL), resuming a partial run; return posts written now.

    ``output`` appears only when the crawl succeeded (see :func:`check_outcome`); until
    then the posts wait in ``<output>.partial``, which the next run resumes from.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    already = recover_partial(partial)
    if already:
        LOG.info("resuming: %d posts already collected in %s", len(already), partial)
    written = 0
    with partial.open("a", encoding="utf-8") as handle:
        for batch in crawler.crawl(start_url, already):
            for record in batch:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += len(batch)
            handle.flush()
    check_outcome(crawler, max_failed_share)
    os.replace(partial, output)
    return written
