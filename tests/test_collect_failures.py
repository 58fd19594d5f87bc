"""Issue 11: a collection that fails says so, in one line, and leaves nothing complete-looking behind.

Every case runs the real crawler against a real HTTP server on 127.0.0.1 that misbehaves
in one way: down, 5xx everywhere, a trickle of bytes, a redirect loop, an unreachable
robots.txt, selectors that match nothing, a share of failed pages, rate limits.
"""

from __future__ import annotations

import functools
import http.server
import socket
import threading
import time
import zlib
from collections import Counter
from datetime import UTC
from pathlib import Path

import pytest
from conftest import ROOT

from perivigil.collect.crawler import CollectionFailed
from perivigil.collect.fetch import retry_after_seconds
from perivigil.collect.records import read_raw_jsonl
from perivigil.collect.run import collect_source

POLITENESS = {
    "user_agent": "perivigil-test",
    "delay_s": 0.0,
    "max_retries": 2,
    "backoff_s": 0.0,
    "deadline_s": 1.5,
    "max_wait_s": 30.0,
    "max_failed_share": 0.1,
    "respect_robots": True,
}
ALLOW_ALL = b"User-agent: *\nAllow: /\n"


class ForumHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a forum folder; ``behave`` (a class attribute) may answer a request itself instead."""

    behave = None  # (handler) -> bool: True when it answered
    hits: Counter

    def do_GET(self):  # noqa: N802 (the standard library's name)
        self.hits[self.path] += 1
        if self.behave is not None and self.behave(self):
            return
        if self.path == "/robots.txt":  # no Crawl-delay: the tests do not wait a second a page
            self.answer(200, ALLOW_ALL, "text/plain")
            return
        super().do_GET()

    def answer(self, status: int, body: bytes = b"", content_type: str = "text/html", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Keep the test output quiet."""


@pytest.fixture()
def serve(small_forum):
    """``serve(behave)`` starts the small demo forum on 127.0.0.1 with a misbehaviour; stopped after the test."""
    servers = []

    def start(behave=None):
        handler_class = type(
            "Handler", (ForumHandler,), {"behave": staticmethod(behave) if behave else None, "hits": Counter()}
        )
        handler = functools.partial(handler_class, directory=str(small_forum["site"]))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/", handler_class.hits

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _collect(tmp_path: Path, start_url: str, profile: Path | None = None, **politeness):
    source = {"name": "forum", "profile": str(profile or ROOT / "config/sites/demo_forum.yaml"), "start_url": start_url}
    output = tmp_path / "raw/forum/posts.jsonl"
    return collect_source(source, {**POLITENESS, **politeness}, output, tmp_path / "report.csv"), output


def _failure(tmp_path, start_url, **kwargs) -> str:
    with pytest.raises(CollectionFailed) as caught:
        _collect(tmp_path, start_url, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    assert not (tmp_path / "raw/forum/posts.jsonl").exists(), "a failed crawl must not look complete"
    assert not (tmp_path / "report.csv").exists()
    return message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_site_that_is_down_fails_the_collection(tmp_path):
    message = _failure(tmp_path, f"http://127.0.0.1:{_free_port()}/index.html")
    assert message.startswith("source forum: no post collected: robots.txt of http://127.0.0.1:")
    assert "could not be read (ConnectionError" in message
    assert "forbids the whole site (RFC 9309)" in message


def test_server_errors_everywhere_fail_the_collection(serve, tmp_path):
    url, hits = serve(lambda h: h.path != "/robots.txt" and (h.answer(503) or True))
    message = _failure(tmp_path, url + "index.html")
    assert message == (
        "source forum: no post collected: the start page could not be fetched (http_error 1); "
        "pages kept 0, dropped 1 (http_error 1)"
    )
    assert hits["/index.html"] == 3  # asked once, then retried max_retries = 2 times


def test_a_trickling_server_is_cut_at_the_request_deadline(serve, tmp_path):
    def trickle(handler):
        if handler.path != "/index.html":
            return False
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.end_headers()
        try:
            for _ in range(200):  # a byte every 0.1 s: every read succeeds, the page never ends
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the crawler hung up
        return True

    url, _ = serve(trickle)
    started = time.monotonic()
    message = _failure(tmp_path, url + "index.html", deadline_s=1.0, max_retries=0)
    assert time.monotonic() - started < 10
    assert message == (
        "source forum: no post collected: the start page could not be fetched "
        "(deadline_exceeded 1); pages kept 0, dropped 1 (deadline_exceeded 1)"
    )


def test_a_redirect_loop_fails_the_collection(serve, tmp_path):
    url, _ = serve(lambda h: h.path == "/index.html" and (h.answer(302, headers=[("Location", "/index.html")]) or True))
    assert "could not be fetched (redirect_loop 1)" in _failure(tmp_path, url + "index.html")


def test_an_unreachable_robots_txt_fails_the_collection(serve, tmp_path):
    url, _ = serve(lambda h: h.path == "/robots.txt" and (h.answer(500) or True))
    message = _failure(tmp_path, url + "index.html")
    assert "robots.txt of http://127.0.0.1:" in message and "could not be read (HTTP 500)" in message


@pytest.mark.parametrize(
    ("selector", "value", "expected"),
    [
        (
            "board_links",
            "ul.boards a",
            "selector selectors.board_links 'ul.boards a' matched no link on the start page",
        ),
        ("thread_links", "a.topic", "selector selectors.thread_links 'a.topic' matched no link on "),
        ("post", "div.message", "selector selectors.post 'div.message' matched nothing on "),
    ],
)
def test_selectors_that_match_nothing_fail_the_collection(serve, tmp_path, selector, value, expected):
    import yaml

    profile = yaml.safe_load((ROOT / "config/sites/demo_forum.yaml").read_text(encoding="utf-8"))
    profile["selectors"][selector] = value
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True), encoding="utf-8")
    url, _ = serve()
    message = _failure(tmp_path, url + "index.html", profile=path)
    assert f"no post collected: {expected}" in message


def test_too_many_failed_pages_fail_the_collection_and_a_later_run_resumes(serve, tmp_path):
    state = {"down": True}

    def flaky(handler):  # a third of the thread pages fail while the site is struggling
        if state["down"] and handler.path.startswith("/sujet/") and zlib.crc32(handler.path.encode()) % 3 == 0:
            handler.answer(503)
            return True
        return False

    url, _ = serve(flaky)
    message = _failure(tmp_path, url + "index.html", max_retries=0)
    assert message.startswith("source forum: ") and "pages failed (" in message
    assert "more than collect.max_failed_share = 10%" in message and "http_error" in message
    partial = tmp_path / "raw/forum/posts.jsonl.partial"
    assert partial.stat().st_size > 0  # what was collected waits for the next run
    state["down"] = False
    report, output = _collect(tmp_path, url + "index.html", max_retries=0)
    posts = [record["post_id"] for record in read_raw_jsonl(output)]
    assert len(posts) == len(set(posts)) == report.get("post", "kept")
    assert not partial.exists()


def test_rate_limits_are_obeyed_and_counted(serve, tmp_path):
    state = Counter()
    asked: dict[str, list[float]] = {}

    def busy(handler):  # the first two requests for a thread page get 429 with Retry-After: 1
        asked.setdefault(handler.path, []).append(time.monotonic())
        if handler.path.startswith("/sujet/") and state["429"] < 2:
            state["429"] += 1
            state[handler.path] += 1
            handler.answer(429, headers=[("Retry-After", "1")])
            return True
        return False

    url, _ = serve(busy)
    report, _ = _collect(tmp_path, url + "index.html")
    limited = next(path for path in asked if state[path])
    waits = [later - earlier for earlier, later in zip(asked[limited], asked[limited][1:])]
    assert len(waits) == 2 and min(waits) >= 0.95  # asked again only after the second the site asked for, twice
    assert report.get("request", "retried", "rate_limited") == 2
    assert report.get("page", "dropped", "rate_limited") == 0
    assert "request,retried,rate_limited,2" in (tmp_path / "report.csv").read_text()


def test_a_site_asking_to_wait_too_long_drops_the_page_as_rate_limited(serve, tmp_path):
    url, _ = serve(lambda h: h.path == "/index.html" and (h.answer(429, headers=[("Retry-After", "86400")]) or True))
    message = _failure(tmp_path, url + "index.html")
    assert "could not be fetched (rate_limited 1)" in message


def test_retry_after_reads_seconds_and_http_dates():
    from datetime import datetime

    now = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("Mon, 23 Nov 2026 10:01:30 GMT", now) == 90.0  # RFC 9110 §10.2.3 example form
    assert retry_after_seconds("Mon, 23 Nov 2026 09:00:00 GMT", now) == 0.0  # a date passed: no wait
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None


def test_the_logs_of_a_crawl_hold_no_url_only_the_raw_zone_does(serve, tmp_path):
    import logging

    url, _ = serve(lambda h: h.path.startswith("/sujet/") and h.path.endswith("-p2.html") and (h.answer(503) or True))
    log = tmp_path / "logs/collect.log"  # what the rule's log receives (perivigil.logs.log_to: the root logger)
    log.parent.mkdir()
    handler = logging.FileHandler(log, encoding="utf-8")
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        _collect(tmp_path, url + "index.html", max_failed_share=1.0, max_retries=0)
    finally:
        root.removeHandler(handler)
        handler.close()
    text = log.read_text(encoding="utf-8")
    assert "thread page dropped (http_error): HTTP 503" in text
    assert "127.0.0.1" not in text
    details = (tmp_path / "raw/forum/collect_details.log").read_text(encoding="utf-8")
    assert "page dropped (http_error): http://127.0.0.1:" in details
