"""The forum spider: one Scrapy spider for every forum, driven by a site profile; run as its own process.

Walk: start page → boards → board pages (every pagination link) → threads → thread pages
(every pagination link) → posts. Only URLs on the start URL's host are followed, each page
once (Scrapy's duplicate filter), and only where robots.txt allows it
(:class:`~perivigil.collect.fetch.RobotsMiddleware`).

Order. Posts are written in the order of a depth-first walk: the index, then each board in
turn: its first page, each of that page's threads in full (the thread's pages breadth-first,
in the order their links were found), then the board's next page, and so on. Scrapy sends
the highest-priority pending request first, first in first out among equals
(``SCHEDULER_*_QUEUE``), and here one request at a time, the next one only once the last
page's links are scheduled (``CONCURRENT_REQUESTS`` = 1, ``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` = 0,
see :func:`~perivigil.collect.fetch.crawl_settings`), so four priorities give that order:
a thread's other pages (3) come before the next thread's first page (2), which comes before
the board's next page (1), before the next board's first page (0). At any time the pending
requests of priority 3 are those of the thread in hand, those of priority 1 those of the
board in hand. A retried or redirected request goes next, before anything else.

Collecting a site twice gives the same posts in the same order, and the snapshot of the demo
the same records, in the same order, as the hand-written walk this spider replaced.

Resumption, two ways. A crawl stopped cleanly (Ctrl-C or SIGTERM, once, or the process that
started it closing our stdin: Scrapy finishes the page in hand,
https://docs.scrapy.org/en/latest/topics/jobs.html) keeps its ``JOBDIR`` in the raw zone: pending requests, requests seen, and the spider's counts (``spider.state``); the
next run goes on from there and appends to the same partial file. A crawl that died (power
cut, killed) or stopped on an error leaves a ``JOBDIR`` that cannot be trusted (Scrapy writes
its queue state on close only; the page in hand is lost): the next run deletes it and walks the site again, the HTTP cache answering for
every page already fetched and the post ids in the partial file keeping each post once.

Process. :mod:`perivigil.collect.run` starts ``python -m perivigil.collect.spider`` once per
crawl, the job as JSON on stdin: Twisted's reactor cannot be started twice in one process,
and a study (its tests too) collects many times in one. The process sends its log records
and, last, its outcome (:class:`~perivigil.collect.crawler.CrawlOutcome`) as JSON lines on
stderr; :mod:`~perivigil.collect.run` relays the records to its own logs, Scrapy's (they
name URLs) only to the details log in the raw zone.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import threading
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.crawler import AsyncCrawlerProcess, Crawler
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from perivigil.collect.crawler import DETAILS, LOG, CollectionReport, CrawlOutcome, partial_path, recover_partial
from perivigil.collect.fetch import crawl_settings, describe_failure, page_of
from perivigil.collect.parse import Page, PageError, decode_page, links, parse_thread_page, soup_of
from perivigil.collect.profile import load_profile
from perivigil.logs import Progress

# Priorities (higher first; first in, first out within one): see "Order" in the module docstring.
INDEX_PRIORITY = BOARD_PRIORITY = 0  # the index, then each board's first page in the order of the index
BOARD_PAGE_PRIORITY = 1  # a board's other pages: before the next board
THREAD_PRIORITY = 2  # each thread's first page, in the order of the board page: before the board's next page
THREAD_PAGE_PRIORITY = 3  # a thread's other pages: before the next thread
RESUMABLE = "resumable"  # in JOBDIR: written once the crawl process stopped cleanly before the end


@dataclass
class CrawlJob:
    """What one crawl process does: a source, its politeness settings, where its files go."""

    source: str
    start_url: str
    profile: str
    output: str
    politeness: dict[str, Any]
    snapshot: str | None = None
    captured_at: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # extra Scrapy settings (tests, tuning)

    @property
    def partial(self) -> Path:
        return partial_path(Path(self.output))

    @property
    def jobdir(self) -> Path:
        """Scrapy's ``JOBDIR``, beside the output in the raw zone (it holds URLs)."""
        return Path(self.output).with_name(Path(self.output).name + ".job")

    @property
    def cache_dir(self) -> Path:
        """The HTTP cache of every crawl written into this folder of the raw zone."""
        return Path(self.output).parent / "http_cache"

    def scrapy_settings(self) -> dict[str, Any]:
        snapshot = None
        if self.snapshot:
            root = self.start_url.rsplit("/", 1)[0] + "/"
            snapshot = (root, Path(self.snapshot), str(self.captured_at))
        settings = crawl_settings(self.politeness, cache_dir=self.cache_dir, jobdir=self.jobdir, snapshot=snapshot)
        return {**settings, **self.settings}


def _same_site(url: str, start_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(start_url)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


class ForumSpider(scrapy.Spider):
    """Walks one forum with a site profile (see the module docstring); appends its posts to the partial file."""

    name = "perivigil_forum"

    def __init__(self, job: CrawlJob, resuming: bool = False, stop_with_stdin: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.resuming = resuming
        self.stop_with_stdin = stop_with_stdin
        self.profile = load_profile(Path(job.profile))
        self.report = CollectionReport(job.source)
        self.found: Counter = Counter()  # links and post elements the selectors matched
        self.robots_unreachable: dict[str, str] = {}  # host -> why its robots.txt could not be read (fetch.py)
        self.seen: set[str] = set()  # post ids kept by this walk
        self.already: frozenset[str] = frozenset()  # post ids in the partial file before this run
        self.progress = Progress(f"collect {job.source}", "pages")
        self.written = 0
        self.close_reason = ""
        self.state: dict[str, Any] = {}  # replaced by Scrapy's SpiderState (JOBDIR) when the spider opens
        self._out: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> ForumSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._failed, signal=signals.spider_error)
        return spider

    # -- start, state and end -----------------------------------------------------
    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._restore_state()
        self.already = frozenset(recover_partial(self.job.partial))
        if self.already:
            LOG.info("resuming: %d posts already collected in %s", len(self.already), self.job.partial)
        if self.resuming:  # the walk goes on from the pending requests kept in JOBDIR
            self.seen = set(self.already)
        self.job.partial.parent.mkdir(parents=True, exist_ok=True)
        self._out = self.job.partial.open("a", encoding="utf-8")
        if self.stop_with_stdin:
            threading.Thread(target=self._stop_at_end_of_stdin, name="stdin-watch", daemon=True).start()
        if not self.resuming:
            yield self._request(self.job.start_url, "index", INDEX_PRIORITY)

    def _restore_state(self) -> None:
        """Share the counts with ``spider.state``, which Scrapy keeps in JOBDIR when the crawl stops cleanly."""
        state = self.state
        if self.resuming and "counts" in state:
            self.report.counts, self.found = state["counts"], state["found"]
            self.robots_unreachable = state["robots_unreachable"]
            self.progress.done = state.get("pages", 0)
        state.update(counts=self.report.counts, found=self.found, robots_unreachable=self.robots_unreachable)

    def _stop_at_end_of_stdin(self) -> None:
        """(A thread.) The process that started the crawl closed our stdin, or died: stop cleanly, resumably."""
        while os.read(sys.stdin.fileno(), 4096):  # the raw file: no lock of sys.stdin held at exit
            pass
        from twisted.internet import reactor

        reactor.callFromThread(self._stop)

    def _stop(self) -> None:
        if not self.close_reason and self.crawler.engine.spider is not None:
            LOG.warning("the collection was interrupted: stopping cleanly, the next run resumes")
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="shutdown"))

    def closed(self, reason: str) -> None:
        """Scrapy's ``spider_closed``: note why, close the partial file, keep the page count in the state."""
        self.close_reason = reason
        self.state["pages"] = self.progress.done
        if reason == "finished":
            self.progress.finish(detail=self._progress_detail())
        if self._out is not None:
            self._out.close()

    def outcome(self) -> CrawlOutcome:
        return CrawlOutcome(
            self.report, self.found, self.robots_unreachable, self.close_reason or "error", self.written
        )

    def _failed(self, failure: Failure, response: Response, spider: scrapy.Spider) -> None:
        """A bug met on a page stops the crawl (the next run walks the site again): no page is dropped silently."""
        kind = response.meta.get("kind", "?") if response is not None else "?"
        LOG.error("the crawl stopped on a %s page: %s", kind, failure.type.__name__)
        DETAILS.error(
            "the crawl stopped on a %s page: %s\n%s",
            kind,
            getattr(response, "url", "?"),
            "".join(traceback.format_exception(failure.value)),
        )
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="spider_error"))

    # -- requests and pages ----------------------------------------------------------
    def _request(self, url: str, kind: str, priority: int) -> scrapy.Request:
        callback = {"index": self.parse_index, "board": self.parse_board, "thread": self.parse_thread}[kind]
        return scrapy.Request(
            url, callback=callback, errback=self.dropped, priority=priority, meta={"kind": kind, "url": url}
        )

    def _progress_detail(self) -> str:
        return f"{self.report.total('post', 'kept'):,} posts, {self.report.total('page', 'dropped'):,} pages dropped"

    def _read(self, response: Response) -> tuple[str, Page] | None:
        """Decode a page, or count and log why not."""
        self.progress.advance(detail=self._progress_detail())
        kind, url = response.meta["kind"], response.meta["url"]
        if response.status != 200:
            reason = (
                "not_found"
                if response.status in (404, 410)
                else "rate_limited"
                if response.status == 429
                else "http_error"
            )
            snapshot_gap = "snapshot" in response.flags and response.status == 404
            self._drop_page(url, kind, reason, "not found" if snapshot_gap else f"HTTP {response.status}")
            return None
        page = page_of(response)
        try:
            return decode_page(page), page
        except PageError as exc:
            self._drop_page(url, kind, exc.reason, exc.detail)
            return None

    def dropped(self, failure: Failure) -> None:
        """Errback: a page that gave no answer (or robots.txt forbids), counted and logged by reason."""
        request = failure.request  # type: ignore[attr-defined]
        reason, detail = describe_failure(failure.value, self.settings.getfloat("DOWNLOAD_TIMEOUT"))
        if reason != "robots_disallowed":
            self.progress.advance(detail=self._progress_detail())
        self._drop_page(request.meta["url"], request.meta["kind"], reason, detail)

    def _drop_page(self, url: str, kind: str, reason: str, detail: str) -> None:
        self.report.add("page", "dropped", reason)
        LOG.warning("%s page dropped (%s)%s", kind, reason, f": {detail}" if detail else "")
        DETAILS.warning("%s page dropped (%s): %s%s", kind, reason, url, f" — {detail}" if detail else "")

    def _pagination(self, soup: Any, selector: str, response: Response, priority: int) -> Iterator[scrapy.Request]:
        """Every pagination link of a board or thread page (not only "next": one dead page hides no other)."""
        for link in links(soup, selector, response.meta["url"]):
            if _same_site(link, self.job.start_url):
                yield self._request(link, response.meta["kind"], priority)

    # -- callbacks ---------------------------------------------------------------------
    def parse_index(self, response: Response) -> Iterator[scrapy.Request]:
        fetched = self._read(response)
        if fetched is None:
            return
        self.report.add("page", "kept", "index")
        start_url = self.job.start_url
        boards = [
            url for url in links(soup_of(fetched[0]), self.profile.board_links, start_url) if _same_site(url, start_url)
        ]
        self.found["board_links"] += len(boards)
        for url in boards:
            yield self._request(url, "board", BOARD_PRIORITY)

    def parse_board(self, response: Response) -> Iterator[scrapy.Request]:
        fetched = self._read(response)
        if fetched is None:
            return
        text, page = fetched
        soup = soup_of(text)
        yield from self._pagination(soup, self.profile.board_pages, response, BOARD_PAGE_PRIORITY)
        self.report.add("page", "kept", "board")
        threads = links(soup, self.profile.thread_links, page.url)
        self.found["thread_links"] += len(threads)
        for url in threads:
            if _same_site(url, self.job.start_url):
                yield self._request(url, "thread", THREAD_PRIORITY)

    def parse_thread(self, response: Response) -> Iterator[scrapy.Request]:
        fetched = self._read(response)
        if fetched is None:
            return
        text, page = fetched
        soup = soup_of(text)
        yield from self._pagination(soup, self.profile.thread_pages, response, THREAD_PAGE_PRIORITY)
        try:
            parsed = parse_thread_page(soup, page, self.profile, self.job.source)
        except PageError as exc:
            self._drop_page(page.url, "thread", exc.reason, exc.detail)
            return
        self.report.add("page", "kept", "thread")
        self.found["post_elements"] += len(parsed.posts) + len(parsed.dropped)
        for post_id, reason in parsed.dropped:
            self._drop_post(post_id, reason, page.url)
        fresh = []
        for record in parsed.posts:
            post_id = record["post_id"]
            if post_id in self.seen:
                self._drop_post(post_id, "duplicate_post_id", page.url)
                continue
            self.seen.add(post_id)
            self.report.add("post", "kept", "")
            if post_id not in self.already:  # else written before an interruption, not again
                fresh.append(record)
        self._write(fresh)

    def _drop_post(self, post_id: str, reason: str, url: str) -> None:
        self.report.add("post", "dropped", reason)
        LOG.warning("post %s dropped (%s)", post_id, reason)
        DETAILS.warning("post %s dropped (%s): %s", post_id, reason, url)

    def _write(self, records: list[dict[str, str]]) -> None:
        """Append a page's new posts to the partial file, flushed: a crash loses at most the page in hand."""
        assert self._out is not None
        for record in records:
            self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._out.flush()
        self.written += len(records)


# ----------------------------------------------------------------------------- the crawl process
class JsonLinesHandler(logging.Handler):
    """Send each log record as one JSON line (``{"log", "level", "message"}``) to the parent process."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(logging.INFO)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info))
            send(self.stream, {"log": record.name, "level": record.levelno, "message": message})
        except Exception:  # noqa: BLE001 (logging must never stop the crawl)
            self.handleError(record)


def send(stream: IO[str], event: dict[str, Any]) -> None:
    """One JSON line, ASCII only (whatever the locale's encoding of stderr), flushed at once."""
    stream.write(json.dumps(event) + "\n")
    stream.flush()


def prepare_jobdir(jobdir: Path) -> bool:
    """True when JOBDIR holds a crawl stopped cleanly (resume it); else start afresh without it."""
    marker = jobdir / RESUMABLE
    if marker.exists():
        marker.unlink()  # written again only if this run too stops cleanly before its end
        return True
    if jobdir.exists():
        LOG.warning(
            "%s: the last crawl did not stop cleanly; walking the site again (cached pages are not "
            "asked again, posts already collected are kept)",
            jobdir.name,
        )
        shutil.rmtree(jobdir)
    return False


def run_crawl(job: CrawlJob, stop_with_stdin: bool = False) -> CrawlOutcome:
    """Run one crawl in this process (once: the reactor cannot restart); leave JOBDIR for a resumable stop.

    ``stop_with_stdin``: stop cleanly when stdin reaches its end (the parent closed it, or died).
    """
    resuming = prepare_jobdir(job.jobdir)
    process = AsyncCrawlerProcess(job.scrapy_settings())
    crawler = process.create_crawler(ForumSpider)
    process.crawl(crawler, job=job, resuming=resuming, stop_with_stdin=stop_with_stdin)
    process.start()
    spider = crawler.spider
    if not isinstance(spider, ForumSpider):
        raise RuntimeError("the crawler could not start (see the details log)")
    outcome = spider.outcome()
    if resumable(outcome.closed) and job.jobdir.is_dir():
        (job.jobdir / RESUMABLE).touch()
    else:  # done, or stopped on an error with a page in hand: a rerun walks the site again, from the cache
        shutil.rmtree(job.jobdir, ignore_errors=True)
    return outcome


def resumable(reason: str) -> bool:
    """Whether a crawl closed for ``reason`` left a JOBDIR to go on from: stopped cleanly, nothing in hand lost."""
    return reason == "shutdown" or reason.startswith("closespider_")


def main() -> int:
    """``python -m perivigil.collect.spider``, the job as a JSON line on stdin (see the module docstring)."""
    channel = sys.stderr
    job = CrawlJob(**json.loads(sys.stdin.readline()))
    root = logging.getLogger()
    root.handlers[:] = [JsonLinesHandler(channel)]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    outcome = run_crawl(job, stop_with_stdin=True)
    send(channel, {"outcome": outcome.to_json()})
    return 0


if __name__ == "__main__":  # run the module's canonical copy, not this __main__ one
    from perivigil.collect.spider import main as _main

    sys.exit(_main())
