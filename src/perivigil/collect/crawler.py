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
and logged with its URL; no author name is ever logged.
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

LOG = logging.getLogger("perivigil.collect")

REPORT_COLUMNS = ("source", "level", "outcome", "reason", "count")


@dataclass
class CollectionReport:
    """Counts of pages and posts, kept or dropped, by reason."""

    source: str
    counts: Counter = field(default_factory=Counter)

    def add(self, level: str, outcome: str, reason: str = "", n: int = 1) -> None:
        self.counts[(level, outcome, reason)] += n

    def get(self, level: str, outcome: str, reason: str = "") -> int:
        return self.counts[(level, outcome, reason)]

    def rows(self) -> list[dict[str, object]]:
        """Rows in a fixed order: pages then posts, kept before dropped, reasons sorted."""
        order = {"page": 0, "post": 1}
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
        self._visited: set[str] = set()
        self._seen: set[str] = set()

    # -- politeness -------------------------------------------------------------
    def _robots_for(self, url: str) -> RobotFileParser:
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        if host not in self._robots:
            parser = RobotFileParser(f"{host}/robots.txt")
            page = self.fetcher.get(f"{host}/robots.txt")
            if page.status == 200:
                parser.parse(page.body.decode("utf-8", errors="replace").splitlines())
            elif 400 <= page.status < 500:
                parser.allow_all = True
            else:
                LOG.warning("robots.txt of %s unreachable (%s): nothing will be fetched", host, page.error)
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
        if page.status != 200:
            reason = "not_found" if page.status in (404, 410) else "unreachable" if page.status == 0 else "http_error"
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
        LOG.warning("%s page dropped (%s): %s%s", kind, reason, url, f" — {detail}" if detail else "")

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
        for board_url in boards:
            for board_soup, board_page in self._pages(board_url, self.profile.board_pages, "board", start_url):
                self.report.add("page", "kept", "board")
                for thread_url in links(board_soup, self.profile.thread_links, board_page.url):
                    if _same_site(thread_url, start_url):
                        yield from self._crawl_thread(thread_url, already, start_url)

    def _crawl_thread(self, thread_url: str, already: frozenset[str], scope: str) -> Iterator[list[dict[str, str]]]:
        for soup, page in self._pages(thread_url, self.profile.thread_pages, "thread", scope):
            try:
                parsed = parse_thread_page(soup, page, self.profile, self.source)
            except PageError as exc:
                self._drop_page(page.url, "thread", exc.reason, exc.detail)
                continue
            self.report.add("page", "kept", "thread")
            for post_id, reason in parsed.dropped:
                self.report.add("post", "dropped", reason)
                LOG.warning("post %s dropped (%s): %s", post_id, reason, page.url)
            fresh = []
            for record in parsed.posts:
                post_id = record["post_id"]
                if post_id in self._seen:
                    self.report.add("post", "dropped", "duplicate_post_id")
                    LOG.warning("post %s dropped (duplicate_post_id): %s", post_id, page.url)
                    continue
                self._seen.add(post_id)
                self.report.add("post", "kept", "")
                if post_id not in already:  # else written before a crash, not again
                    fresh.append(record)
            yield fresh


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


def collect(crawler: Crawler, start_url: str, output: Path) -> int:
    """Crawl from ``start_url`` into ``output`` (JSONL), resuming a partial run; return posts written now."""
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
    os.replace(partial, output)
    return written
