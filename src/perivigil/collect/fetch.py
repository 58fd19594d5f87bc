"""Fetch pages: from a local snapshot on disk, or politely over HTTP(S).

Both fetchers return the same :class:`Page`, so the crawler cannot tell a
snapshot from a live site; the demo therefore runs the very code a real
collection runs.

The HTTP fetcher uses ``requests`` with ``urllib3``'s ``Retry`` (retries with
exponential back-off on connection errors, 429 and 5xx, honouring
``Retry-After``) and ``requests-cache`` (an SQLite cache of every fetched page
in the raw zone, so that a crawl restarted after a crash re-reads what it had
fetched instead of asking the site again). Politeness: robots.txt is read once
per host (by the crawler, through the same fetcher), and at least
``delay_s`` seconds (or the site's ``Crawl-delay`` if longer) separate two
requests that actually reach the network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import requests
import requests_cache
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


@dataclass(frozen=True)
class Page:
    """One fetched page. ``status`` 0 means the page could not be reached at all."""

    url: str
    status: int
    body: bytes
    content_type: str
    fetched_at: str  # ISO 8601, UTC
    error: str = ""


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


class HttpFetcher:
    """Polite HTTP(S) fetcher with retries, back-off and an on-disk cache."""

    def __init__(self, cache_path: Path, *, user_agent: str, delay_s: float, max_retries: int,
                 backoff_s: float, timeout_s: float, sleep=time.sleep, clock=time.monotonic) -> None:
        Path(cache_path).parent.mkdir(parents=True, exist_ok=True)
        self.session = requests_cache.CachedSession(
            str(cache_path), backend="sqlite", expire_after=requests_cache.NEVER_EXPIRE,
            allowable_codes=(200, 404, 410))
        retry = Retry(total=max_retries, connect=max_retries, read=max_retries, status=max_retries,
                      backoff_factor=backoff_s, status_forcelist=(429, 500, 502, 503, 504),
                      allowed_methods=("GET",), respect_retry_after_header=True, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = user_agent
        self.delay_s = delay_s
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._clock = clock
        self._last_request: float | None = None
        self.requests = 0  # requests that reached the network

    def set_min_delay(self, seconds: float) -> None:
        """Raise the delay between requests (a site's ``Crawl-delay``); never lower it."""
        self.delay_s = max(self.delay_s, seconds)

    def _wait_turn(self) -> None:
        if self._last_request is not None:
            remaining = self.delay_s - (self._clock() - self._last_request)
            if remaining > 0:
                self._sleep(remaining)

    def get(self, url: str) -> Page:
        if not self.session.cache.contains(request=requests.Request("GET", url).prepare()):
            self._wait_turn()
            self._last_request = self._clock()
            self.requests += 1
        try:
            response = self.session.get(url, timeout=self.timeout_s)
        except requests.RequestException as exc:
            now = _utc_iso(datetime.now(timezone.utc))
            return Page(url, 0, b"", "", now, error=f"{type(exc).__name__}: {exc}".replace("\n", " "))
        created = getattr(response, "created_at", None) if getattr(response, "from_cache", False) else None
        fetched_at = _utc_iso(created) if created else _utc_iso(datetime.now(timezone.utc))
        error = "" if response.status_code == 200 else f"HTTP {response.status_code}"
        return Page(response.url, response.status_code, response.content,
                    response.headers.get("Content-Type", ""), fetched_at, error=error)
