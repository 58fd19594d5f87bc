"""Fetch pages politely with Scrapy: the settings of a crawl and its downloader middlewares.

A crawl reads one site (or its snapshot on disk) one request at a time. Scrapy does the
fetching (https://docs.scrapy.org/en/latest/topics/settings.html); the settings below say
why each value is what it is, and the middlewares here add what Scrapy lacks:

- :class:`RobotsMiddleware` (in place of Scrapy's ``RobotsTxtMiddleware``, ``ROBOTSTXT_OBEY``):
  robots.txt is read once per host, through the same middlewares as any page (retries,
  cache, snapshot). RFC 9309 §2.3.1: a 4xx robots.txt (a missing one) allows everything,
  an unreachable one (5xx, 429, no connection, cut at the deadline) forbids everything
  (§2.3.1.4). Scrapy's own middleware parses a 5xx error page as rules and allows all on a
  connection error, hence this one. Its ``Crawl-delay`` raises the delay between
  requests when longer than ``collect.delay_s``;
- :class:`PoliteRetryMiddleware` (in place of Scrapy's ``RetryMiddleware``): 429, 5xx and
  connection errors are retried ``collect.max_retries`` times (``RETRY_TIMES``), after the
  wait a ``Retry-After`` header asks for (RFC 9110 §10.2.3) or else an exponential
  back-off (``backoff_s`` × 2^n); a site asking to wait longer than ``collect.max_wait_s``
  is not retried (:class:`RateLimited`). Scrapy's middleware reads no ``Retry-After`` and
  retries at once. Each retry is counted for the collection report. A request cut at the
  deadline is not retried: a server trickling bytes would trickle again;
- :class:`LoopAwareRedirectMiddleware`: redirects followed up to ``REDIRECT_MAX_TIMES``,
  beyond which the page is a ``redirect_loop``. A redirect to a URL already seen must not
  vanish in Scrapy's duplicate filter (a loop to itself would), so redirected requests
  skip it;
- :class:`SnapshotMiddleware`: in snapshot mode every request under the start URL's root
  is answered from a folder on disk (404 for a missing file), stamped with the
  snapshot's ``captured_at``: the demo runs through the very spider a real collection runs;
- :class:`FetchedAtMiddleware`: stamps each response with when it was fetched, in a
  header that the HTTP cache stores with it, so that a page read back from the cache
  keeps the date it was fetched (the post's ``collected_at``).

Failures are bounded and named (:func:`describe_failure`): ``DOWNLOAD_TIMEOUT`` =
``collect.deadline_s`` bounds each download as a whole, connection and body included
(Scrapy cancels the download when it passes), so a server trickling a byte a second
cannot hold the crawl.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import protego
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    NotConfigured,
)
from scrapy.extensions.httpcache import DummyPolicy
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.asyncio import sleep
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from perivigil.collect.parse import Page

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

# Statuses worth asking again: the site is busy or briefly broken.
RETRY_STATUSES = (429, 500, 502, 503, 504)
# Header in which a response carries when it was fetched (kept by the HTTP cache).
FETCHED_AT = "X-Perivigil-Fetched-At"
# Cached statuses: a page, or its certain absence. Errors are asked again on the next run.
CACHED_STATUSES = frozenset({200, 404, 410})
_MW = "perivigil.collect.fetch."
LOG = logging.getLogger("perivigil.collect")


# ----------------------------------------------------------------------------- failures
class RobotsDisallowed(IgnoreRequest):
    """robots.txt forbids the page (or could not be read, which forbids everything)."""


class RedirectLoop(IgnoreRequest):
    """More redirects than ``REDIRECT_MAX_TIMES``."""


class RateLimited(IgnoreRequest):
    """The site asks to wait longer than ``collect.max_wait_s``."""


class OutsideSnapshot(IgnoreRequest):
    """A snapshot crawl asked for a URL outside the snapshot's root."""


_OWN_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (RobotsDisallowed, "robots_disallowed"),
    (RedirectLoop, "redirect_loop"),
    (RateLimited, "rate_limited"),
    (OutsideSnapshot, "unreachable"),
)


def describe_failure(exc: BaseException, deadline_s: float) -> tuple[str, str]:
    """``(reason, detail)`` of a download that gave no response; the detail holds no URL (it goes to the main log)."""
    for kind, reason in _OWN_REASONS:
        if isinstance(exc, kind):
            return reason, "" if reason == "robots_disallowed" else str(exc)
    if isinstance(exc, DownloadTimeoutError):
        return "deadline_exceeded", f"no complete answer within collect.deadline_s = {deadline_s:g} s"
    if isinstance(exc, DownloadConnectionRefusedError):
        return "unreachable", "ConnectionError: Connection refused"
    if isinstance(exc, CannotResolveHostError):
        return "unreachable", "ConnectionError: Name or service not known"
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(exc).__name__.removesuffix("Error")).lower()
    return "unreachable", f"ConnectionError: {words}"  # "connection lost", "download failed", "response data loss"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait: delay-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _header(response: Response, name: str) -> str:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else ""


def page_of(response: Response) -> Page:
    """The :class:`Page` of a Scrapy response: its final URL, body, declared type and fetch date."""
    return Page(
        response.url,
        response.status,
        response.body,
        _header(response, "Content-Type"),
        _header(response, FETCHED_AT) or utc_now(),
    )


def _count_retry(crawler: Crawler, reason: str) -> None:
    """Count a retry in the spider's collection report (``request, retried, <reason>``)."""
    report = getattr(crawler.spider, "report", None)
    if report is not None:
        report.add("request", "retried", reason)


# ----------------------------------------------------------------------------- retries
class PoliteRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, after the wait the site asks for (``Retry-After``) or an exponential back-off."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff_s = settings.getfloat("PERIVIGIL_BACKOFF_S")
        self.max_wait_s = settings.getfloat("PERIVIGIL_MAX_WAIT_S")

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response
    ) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        reason = "rate_limited" if response.status == 429 else f"http_{response.status}"
        retry = await self._wait_and_retry(request, reason, retry_after_seconds(_header(response, "Retry-After")))
        return retry or response

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception
    ) -> Request | None:
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions_to_retry):
            return None
        return await self._wait_and_retry(request, "unreachable", None)

    async def _wait_and_retry(self, request: Request, reason: str, asked: float | None) -> Request | None:
        attempt = request.meta.get("retry_times", 0)
        if attempt >= request.meta.get("max_retry_times", self.max_retry_times):
            return None  # given up: the spider names the last answer
        wait = self.backoff_s * 2**attempt if asked is None else asked
        if wait > self.max_wait_s:
            raise RateLimited(
                f"the site asks to wait {wait:.0f} s (Retry-After), more than collect.max_wait_s "
                f"= {self.max_wait_s:g} s"
            )
        retry = self._retry(request, reason)
        if retry is not None:
            _count_retry(self.crawler, reason)
            if wait > 0:  # the request holds the only download slot meanwhile: the whole crawl waits
                await sleep(wait)
        return retry


class LoopAwareRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects; past ``REDIRECT_MAX_TIMES`` the page is a :class:`RedirectLoop`."""

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        try:
            result = super().process_response(request, response)
        except IgnoreRequest:  # "max redirections reached"
            raise RedirectLoop(f"redirect loop: Exceeded {self.max_redirect_times} redirects.") from None
        if isinstance(result, Request):
            result.dont_filter = True  # a loop must count its redirects, not vanish in the duplicate filter
        return result


# ----------------------------------------------------------------------------- robots.txt
@dataclass(frozen=True)
class RobotsRules:
    """What a host's robots.txt allows; ``unreachable`` says why it could not be read (then nothing is allowed)."""

    parser: Any = None  # protego.Protego, or None: everything allowed (or forbidden when unreachable)
    unreachable: str = ""

    def allowed(self, url: str, user_agent: str) -> bool:
        if self.unreachable:
            return False
        return self.parser is None or self.parser.can_fetch(url, user_agent)

    def crawl_delay(self, user_agent: str) -> float:
        delay = self.parser.crawl_delay(user_agent) if self.parser is not None else None
        return float(delay or 0.0)


def robots_rules(response: Response | None, failure: BaseException | None, deadline_s: float) -> RobotsRules:
    """RFC 9309 §2.3.1: parse a 200; a 4xx (but 429) allows all; anything else forbids all."""
    if response is not None and response.status == 200:
        return RobotsRules(protego.Protego.parse(response.body.decode("utf-8", errors="replace")))
    if response is not None and 400 <= response.status < 500 and response.status != 429:
        return RobotsRules()
    if response is not None:
        return RobotsRules(unreachable=f"HTTP {response.status}")
    assert failure is not None
    return RobotsRules(unreachable=describe_failure(failure, deadline_s)[1])


class RobotsMiddleware:
    """Obey robots.txt (RFC 9309), read once per host; apply its ``Crawl-delay``. See the module docstring."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        self.crawler = crawler
        self.user_agent: str = crawler.settings["ROBOTSTXT_USER_AGENT"] or crawler.settings["USER_AGENT"]
        self.deadline_s = crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        self._rules: dict[str, RobotsRules | Deferred[RobotsRules]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        rules = await self._rules_for(request.url)
        if not rules.allowed(request.url, self.user_agent):
            raise RobotsDisallowed("Forbidden by robots.txt")

    async def _rules_for(self, url: str) -> RobotsRules:
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        known = self._rules.get(host)
        if isinstance(known, RobotsRules):
            return known
        if known is not None:  # another request is reading it
            return await maybe_deferred_to_future(known)
        waiting: Deferred[RobotsRules] = Deferred()
        self._rules[host] = waiting
        rules = await self._read(host)
        self._rules[host] = rules
        waiting.callback(rules)
        return rules

    async def _read(self, host: str) -> RobotsRules:
        request = Request(
            f"{host}/robots.txt", callback=NO_CALLBACK, meta={"dont_obey_robotstxt": True, "kind": "robots"}
        )
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as exc:  # noqa: BLE001 (every failure forbids the site, RFC 9309 §2.3.1.4)
            rules = robots_rules(None, exc, self.deadline_s)
        else:
            rules = robots_rules(response, None, self.deadline_s)
        if rules.unreachable:
            spider = self.crawler.spider
            if spider is not None and hasattr(spider, "robots_unreachable"):
                spider.robots_unreachable.setdefault(host, rules.unreachable)
            LOG.warning("robots.txt of %s unreachable (%s): nothing will be fetched", host, rules.unreachable)
        delay = rules.crawl_delay(self.user_agent)
        if delay:
            raise_min_delay(self.crawler, delay)
        return rules


def raise_min_delay(crawler: Crawler, seconds: float) -> None:
    """Never send two requests less than ``seconds`` apart (a robots.txt ``Crawl-delay``), AutoThrottle included.

    The downloader's slots carry the delay (``DOWNLOAD_DELAY`` sets it at start); AutoThrottle
    keeps it between its own minimum (``DOWNLOAD_DELAY``) and maximum, so both are raised.
    """
    downloader = crawler.engine.downloader
    downloader._delay = max(downloader._delay, seconds)  # new slots (AutoThrottle sets this attribute too)
    for slot in downloader.slots.values():
        slot.delay = max(slot.delay, seconds)
    for extension in crawler.extensions.middlewares:
        if isinstance(extension, AutoThrottle) and hasattr(extension, "mindelay"):
            extension.mindelay = max(extension.mindelay, seconds)
            extension.maxdelay = max(extension.maxdelay, seconds)


# ----------------------------------------------------------------------------- snapshot, dates, cache
def snapshot_path(root_url: str, root_dir: Path, url: str) -> Path | None:
    """The file of ``url`` in a snapshot of ``root_url`` (a folder means its index.html); None outside the root."""
    if not url.startswith(root_url):
        return None
    relative = unquote(urlsplit(url).path)[len(urlsplit(root_url).path) :]
    root = root_dir.resolve()
    path = (root / relative).resolve()
    if root != path and root not in path.parents:
        return None
    return path / "index.html" if path.is_dir() else path


class SnapshotMiddleware:
    """Answer requests from a snapshot folder (``PERIVIGIL_SNAPSHOT_*`` settings); no request reaches a network."""

    def __init__(self, root_url: str, root_dir: Path, captured_at: str) -> None:
        self.root_url = root_url if root_url.endswith("/") else root_url + "/"
        self.root_dir = root_dir
        self.captured_at = captured_at

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SnapshotMiddleware:
        settings = crawler.settings
        if not settings.get("PERIVIGIL_SNAPSHOT_DIR"):
            raise NotConfigured
        return cls(
            settings["PERIVIGIL_SNAPSHOT_ROOT_URL"],
            Path(settings["PERIVIGIL_SNAPSHOT_DIR"]),
            settings["PERIVIGIL_SNAPSHOT_CAPTURED_AT"],
        )

    def process_request(self, request: Request) -> Response:
        path = snapshot_path(self.root_url, self.root_dir, request.url)
        if path is None:
            raise OutsideSnapshot("outside the snapshot")
        headers = {FETCHED_AT: self.captured_at}
        if not path.is_file():
            return Response(request.url, status=404, headers=headers, request=request, flags=["snapshot"])
        headers["Content-Type"] = "text/plain" if path.suffix == ".txt" else "text/html"
        return Response(
            request.url, status=200, headers=headers, body=path.read_bytes(), request=request, flags=["snapshot"]
        )


class FetchedAtMiddleware:
    """Stamp each response fetched from the network with the time it came (kept by the cache that stores it)."""

    def process_response(self, request: Request, response: Response) -> Response:
        if FETCHED_AT.encode() not in response.headers:
            response.headers[FETCHED_AT] = utc_now()
        return response


class PageCachePolicy(DummyPolicy):
    """Cache pages forever, but only a page (200) or its certain absence (404, 410): errors are asked again."""

    def should_cache_response(self, response: Response, request: Request) -> bool:
        return response.status in CACHED_STATUSES


# ----------------------------------------------------------------------------- settings
def crawl_settings(
    politeness: dict[str, Any], *, cache_dir: Path, jobdir: Path, snapshot: tuple[str, Path, str] | None = None
) -> dict[str, Any]:
    """The Scrapy settings of one crawl (https://docs.scrapy.org/en/latest/topics/settings.html).

    ``politeness`` is the configuration's ``collect`` section; ``snapshot`` is
    ``(root_url, folder, captured_at)`` when the site is read from disk. Scrapy bounds a
    download as a whole, connection included, with ``DOWNLOAD_TIMEOUT``, which
    ``collect.deadline_s`` sets (the former ``collect.timeout_s``, a bound on each read of the
    hand-written fetcher, has no Scrapy counterpart and left the configuration).
    """
    delay = float(politeness["delay_s"])
    settings: dict[str, Any] = {
        "USER_AGENT": politeness["user_agent"],
        "ROBOTSTXT_OBEY": bool(politeness["respect_robots"]),
        # One request at a time: CONCURRENT_REQUESTS (the whole crawl, which reads one site) and per
        # domain; with SCRAPER_SLOT_MAX_ACTIVE_SIZE = 0 the next request leaves only once the last
        # page is parsed and its links scheduled, so that request priorities fix the crawl order.
        "CONCURRENT_REQUESTS": 1,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": 0,
        # At least delay_s between requests, no random jitter below it (DOWNLOAD_DELAY_JITTER);
        # AutoThrottle lengthens it when the site slows down, never below DOWNLOAD_DELAY
        # (https://docs.scrapy.org/en/latest/topics/autothrottle.html).
        "DOWNLOAD_DELAY": delay,
        "DOWNLOAD_DELAY_JITTER": 0.0,
        "AUTOTHROTTLE_ENABLED": snapshot is None,
        "AUTOTHROTTLE_START_DELAY": delay,
        "AUTOTHROTTLE_MAX_DELAY": max(60.0, delay),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        # The deadline of a whole download (connection, headers and body): a trickle is cut.
        "DOWNLOAD_TIMEOUT": float(politeness["deadline_s"]),
        "RETRY_ENABLED": True,
        "RETRY_TIMES": int(politeness["max_retries"]),
        "RETRY_HTTP_CODES": list(RETRY_STATUSES),
        "RETRY_EXCEPTIONS": [
            "scrapy.exceptions.CannotResolveHostError",
            "scrapy.exceptions.DownloadConnectionRefusedError",
            "scrapy.exceptions.DownloadFailedError",
            "scrapy.exceptions.ResponseDataLossError",
            "twisted.internet.error.ConnectionDone",
            "twisted.internet.error.ConnectError",
            "twisted.internet.error.ConnectionLost",
            OSError,
        ],
        # A retried or redirected request goes next, before anything else pending (the crawl order).
        "RETRY_PRIORITY_ADJUST": 10**7,
        "REDIRECT_PRIORITY_ADJUST": 10**7,
        "REDIRECT_MAX_TIMES": 20,
        "METAREFRESH_ENABLED": False,
        "PERIVIGIL_BACKOFF_S": float(politeness["backoff_s"]),
        "PERIVIGIL_MAX_WAIT_S": float(politeness["max_wait_s"]),
        # Every status reaches the spider, which names why a page is dropped.
        "HTTPERROR_ALLOW_ALL": True,
        "DEFAULT_REQUEST_HEADERS": {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
        # The HTTP cache spares the site a page already fetched, on a rerun or after a crash.
        "HTTPCACHE_ENABLED": snapshot is None,
        "HTTPCACHE_DIR": str(cache_dir),
        "HTTPCACHE_EXPIRATION_SECS": 0,
        "HTTPCACHE_POLICY": _MW + "PageCachePolicy",
        "HTTPCACHE_STORAGE": "scrapy.extensions.httpcache.FilesystemCacheStorage",
        "HTTPCACHE_GZIP": True,
        # Resumable (https://docs.scrapy.org/en/latest/topics/jobs.html): pending requests, seen
        # requests and the spider's state (its counts) are kept in the raw zone.
        "JOBDIR": str(jobdir),
        # FIFO within a priority: a board's or thread's pages in the order their links were found.
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            _MW + "RobotsMiddleware": 100,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            _MW + "PoliteRetryMiddleware": 550,
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            _MW + "LoopAwareRedirectMiddleware": 600,
            _MW + "FetchedAtMiddleware": 950,
            _MW + "SnapshotMiddleware": 960,
        },
        # No console nor remote control: nothing listens on a port, nothing is written outside the raw zone.
        "TELNETCONSOLE_ENABLED": False,
        # Our callbacks return nothing; Scrapy would parse their source at every call to check it.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "REMOTE_CONTROL_ENABLED": False,
        # Logging is the crawl process's own (JSON lines to its parent, see spider.py).
        "LOG_INSTALL_ROOT_HANDLER": False,
        "LOG_LEVEL": "INFO",
    }
    if snapshot is not None:
        root_url, folder, captured_at = snapshot
        settings.update(
            PERIVIGIL_SNAPSHOT_ROOT_URL=root_url,
            PERIVIGIL_SNAPSHOT_DIR=str(folder),
            PERIVIGIL_SNAPSHOT_CAPTURED_AT=captured_at,
        )
    return settings
