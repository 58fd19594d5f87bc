"""Fetch pages: from a local snapshot on disk, or politely over HTTP(S).

Both fetchers return the same :class:`Page`, so the crawler cannot tell a
snapshot from a live site; the demo therefore runs the very code a real
collection runs.

The HTTP fetcher uses ``requests`` and ``requests-cache`` (an SQLite cache of every
fetched page in the raw zone, so that a crawl restarted after a crash re-reads what it
had fetched instead of asking the site again). Politeness: robots.txt is read once per
host (by the crawler, through the same fetcher), and at least ``delay_s`` seconds (or
the site's ``Crawl-delay`` if longer) separate two requests that reach the network.

Failures are bounded and named, never waited on forever:

- ``timeout_s`` bounds the connection and each read; ``deadline_s`` bounds one request
  as a whole, so that a server trickling a byte a second cannot hold the crawl: when
  time is up, a watchdog shuts the request's socket down (see :class:`Deadline`), and a
  page cut short is removed from the cache;
- connection errors, 429 and 5xx are retried ``max_retries`` times with exponential
  back-off (``backoff_s`` × 2^n), or after the wait the site asks for in
  ``Retry-After`` (RFC 9110 §10.2.3) when it gives one; a site asking to wait longer
  than ``max_wait_s`` is not retried (the page is ``rate_limited``);
- every retry, and every 429 met, is counted for the collection report.

The retry loop is written here rather than left to ``urllib3``'s ``Retry`` so that the
waits go through an injectable clock (tests run without sleeping), each failure keeps its
reason, and the counts reach the report.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import requests
import requests_cache
import urllib3
from requests.adapters import HTTPAdapter

# Statuses worth asking again: the site is busy or briefly broken.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Page:
    """One fetched page. ``status`` 0 means no answer; ``reason`` names why a page is unusable."""

    url: str
    status: int
    body: bytes
    content_type: str
    fetched_at: str  # ISO 8601, UTC
    error: str = ""
    reason: str = ""  # unreachable, deadline_exceeded, redirect_loop, rate_limited ('' for an HTTP answer)


class Fetcher(Protocol):
    """Anything that turns a URL into a :class:`Page`."""

    def get(self, url: str) -> Page: ...

    def set_min_delay(self, seconds: float) -> None: ...


class SnapshotFetcher:
    """Serve ``root_url`` and everything under it from the folder ``root_dir``.

    ``captured_at`` is when the snapshot was taken: it becomes every page's
    ``fetched_at``, so that collecting a snapshot twice gives the same bytes.
    """

    def __init__(self, root_url: str, root_dir: Path, captured_at: str) -> None:
        self.root_url = root_url if root_url.endswith("/") else root_url + "/"
        self.root_dir = Path(root_dir)
        self.captured_at = captured_at
        self.requests = 0

    def set_min_delay(self, seconds: float) -> None:
        """Reading a snapshot loads no server: there is nothing to wait for."""

    def _path_of(self, url: str) -> Path | None:
        if not url.startswith(self.root_url):
            return None
        relative = unquote(urlsplit(url).path)[len(urlsplit(self.root_url).path):]
        path = (self.root_dir / relative).resolve()
        root = self.root_dir.resolve()
        if root != path and root not in path.parents:
            return None
        return path / "index.html" if path.is_dir() else path

    def get(self, url: str) -> Page:
        self.requests += 1
        path = self._path_of(url)
        if path is None:
            return Page(url, 0, b"", "", self.captured_at, error="outside the snapshot")
        if not path.is_file():
            return Page(url, 404, b"", "", self.captured_at, error="not found")
        kind = "text/plain" if path.suffix == ".txt" else "text/html"
        return Page(url, 200, path.read_bytes(), kind, self.captured_at)


def _utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _now() -> str:
    return _utc_iso(datetime.now(timezone.utc))


# ----------------------------------------------------------------------------- a deadline per request
_current = threading.local()


class Deadline:
    """A time limit for one request as a whole: when it passes, the request's sockets are shut down.

    A socket timeout bounds each read, so a server that sends a byte every few seconds
    never trips it. Here a timer thread shuts down (``SHUT_RDWR``) every socket the
    request waits on; the blocked read returns at once and the request fails (or ends
    early, which :attr:`expired` then tells). Sockets register themselves when they wait
    for an answer (:class:`_WatchedHTTPConnection`), kept-alive ones included.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _current.deadline = None

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed
        pass


class _Watched:
    """Mixin of urllib3 connections: put the socket under the current request's deadline."""

    def getresponse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        deadline = getattr(_current, "deadline", None)
        if deadline is not None:
            deadline.watch(getattr(self, "sock", None))
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _WatchedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections obey :class:`Deadline`; no retries of its own."""

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


def _short(exc: Exception) -> str:
    """``ConnectionError: Connection refused``, not urllib3's nested repr of every layer."""
    errno = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", str(exc))
    detail = errno.group(1) if errno else str(exc).replace("\n", " ")[:200]
    return f"{type(exc).__name__}: {detail}"


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
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - (now or datetime.now(timezone.utc))).total_seconds())


class HttpFetcher:
    """Polite HTTP(S) fetcher: a delay between requests, bounded requests, counted retries, a cache."""

    def __init__(self, cache_path: Path, *, user_agent: str, delay_s: float, max_retries: int,
                 backoff_s: float, timeout_s: float, deadline_s: float = 120.0, max_wait_s: float = 600.0,
                 sleep=time.sleep, clock=time.monotonic) -> None:
        Path(cache_path).parent.mkdir(parents=True, exist_ok=True)
        self.session = requests_cache.CachedSession(
            str(cache_path), backend="sqlite", expire_after=requests_cache.NEVER_EXPIRE,
            allowable_codes=(200, 404, 410))
        adapter = _DeadlineAdapter(max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent
        self.delay_s = delay_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.deadline_s = deadline_s
        self.max_wait_s = max_wait_s
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None
        self.requests = 0  # requests that reached the network
        self.retries: Counter = Counter()  # retried requests, by reason (rate_limited, http_5xx, unreachable)
        self.waited_s = 0.0  # seconds spent waiting before retries

    def set_min_delay(self, seconds: float) -> None:
        """Raise the delay between requests (a site's ``Crawl-delay``); never lower it."""
        self.delay_s = max(self.delay_s, seconds)

    def _wait_turn(self) -> None:
        if self._last_request is not None:
            remaining = self.delay_s - (self._clock() - self._last_request)
            if remaining > 0:
                self._sleep(remaining)

    def get(self, url: str) -> Page:
        """The page at ``url``: from the cache, else from the site, retried as the module docstring says."""
        if self.session.cache.contains(request=requests.Request("GET", url).prepare()):
            return self._attempt(url)[0]
        page, wait = Page(url, 0, b"", "", _now()), None
        for attempt in range(self.max_retries + 1):
            self._wait_turn()
            self._last_request = self._clock()
            self.requests += 1
            page, wait = self._attempt(url)
            retriable = page.status in RETRY_STATUSES or page.reason == "unreachable"
            if not retriable or attempt == self.max_retries:
                break
            if wait is None:
                wait = self.backoff_s * 2 ** attempt
            if wait > self.max_wait_s:
                return Page(url, page.status, b"", page.content_type, page.fetched_at, reason="rate_limited",
                            error=f"the site asks to wait {wait:.0f} s (Retry-After), more than collect.max_wait_s "
                                  f"= {self.max_wait_s:g} s")
            self.retries["rate_limited" if page.status == 429 else
                         "unreachable" if page.status == 0 else f"http_{page.status}"] += 1
            self.waited_s += wait
            self._sleep(wait)
        if page.status == 429:
            return Page(url, 429, b"", page.content_type, page.fetched_at, error=page.error, reason="rate_limited")
        return page

    def _attempt(self, url: str) -> tuple[Page, float | None]:
        """One request under a :class:`Deadline`, and the wait its ``Retry-After`` asks for; never raises."""
        with Deadline(self.deadline_s) as deadline:
            try:
                response = self.session.get(url, timeout=self.timeout_s)
            except requests.TooManyRedirects as exc:
                return Page(url, 0, b"", "", _now(), error=f"redirect loop: {exc}", reason="redirect_loop"), None
            except requests.RequestException as exc:
                if deadline.expired:
                    return self._expired(url), None
                return Page(url, 0, b"", "", _now(), error=_short(exc), reason="unreachable"), None
            body = response.content
        if deadline.expired:
            return self._expired(url, response.url), None
        created = getattr(response, "created_at", None) if getattr(response, "from_cache", False) else None
        fetched_at = _utc_iso(created) if created else _now()
        error = "" if response.status_code == 200 else f"HTTP {response.status_code}"
        return (Page(response.url, response.status_code, body, response.headers.get("Content-Type", ""), fetched_at,
                     error=error), retry_after_seconds(response.headers.get("Retry-After")))

    def _expired(self, *urls: str) -> Page:
        """The page of a request that ran out of time; whatever part of it was cached is forgotten."""
        self.session.cache.delete(urls=list(urls))
        return Page(urls[0], 0, b"", "", _now(), reason="deadline_exceeded",
                    error=f"no complete answer within collect.deadline_s = {self.deadline_s:g} s")
