"""Collection: reading pages with a site profile, crawling a snapshot or a live server, resuming.

Every crawl runs the Scrapy spider in its own process (perivigil.collect.run), on a snapshot
on disk or on a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import csv
import functools
import http.server
import os
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from conftest import DEMO_ROOT_URL, ROOT
from scrapy import signals
from scrapy.exceptions import DownloadConnectionRefusedError, DownloadTimeoutError
from scrapy.http import Response

from perivigil.collect.crawler import CollectionFailed, CollectionInterrupted, CollectionReport, recover_partial
from perivigil.collect.fetch import robots_rules, snapshot_path
from perivigil.collect.parse import (
    Page,
    PageError,
    decode_page,
    element_text,
    field_value,
    links,
    parse_date,
    parse_thread_page,
    soup_of,
)
from perivigil.collect.profile import FieldSpec, load_profile, profile_from_mapping
from perivigil.collect.records import FIELD_ORDER, RAW_FIELDS, check_raw_record, read_raw_jsonl
from perivigil.collect.run import collect_source
from perivigil.errors import InputError

CAPTURED = "2025-01-15T09:00:00+00:00"


def _page(body: str | bytes, url: str = "https://f.example/t.html", content_type: str = "text/html") -> Page:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Page(url, 200, data, content_type, CAPTURED)


# ----------------------------------------------------------------------------- parsing
def test_element_text_keeps_paragraphs_and_line_breaks():
    soup = soup_of("<div><p>Bonjour <b>à</b>  toutes</p><p>ligne 1<br>ligne 2</p><script>x=1</script></div>")
    assert element_text(soup.div) == "Bonjour à toutes\nligne 1\nligne 2"


def test_element_text_excludes_quotes():
    soup = soup_of('<div class="b"><blockquote class="quote"><p>cité</p></blockquote><p>réponse</p></div>')
    assert element_text(soup.div, ("blockquote.quote",)) == "réponse"
    assert element_text(soup.div) == "cité\nréponse"  # the document itself is untouched


def test_field_value_attribute_text_fallback_and_suffix():
    soup = soup_of('<span class="d">le 12/03/2017 à 14h32</span><div class="q">lili33 a écrit :</div>')
    assert field_value(soup, FieldSpec(selector=".d", attr="datetime")) is None
    assert field_value(soup, FieldSpec(selector=".d", attr="datetime", text_fallback=True)) == "le 12/03/2017 à 14h32"
    assert field_value(soup, FieldSpec(selector=".q", strip_suffix="a écrit :")) == "lili33"
    assert field_value(soup, FieldSpec(selector=".absent")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-12-16T00:12:47+01:00", "2019-12-15T23:12:47+00:00"),
        ("le 12/03/2017 à 14h32", "2017-03-12T13:32:00+00:00"),  # winter: UTC+1
        ("16 décembre 2019 à 00:12", "2019-12-15T23:12:00+00:00"),
        ("mardi 5 juillet 2016, 08:05", "2016-07-05T06:05:00+00:00"),  # summer: UTC+2
        ("date inconnue", None),
        ("2019-12-16T00:12:47", None),  # ISO without a zone is ambiguous
    ],
)
def test_parse_date_returns_utc_iso(text, expected):
    assert parse_date(text, ("fr",), "DMY", "Europe/Paris") == expected


def test_decode_page_refuses_a_wrongly_declared_charset():
    page = _page('<meta charset="utf-8"><p>enceinte à 30 SA</p>'.encode("cp1252"))
    with pytest.raises(PageError) as caught:
        decode_page(page)
    assert caught.value.reason == "encoding_error"


def test_decode_page_trusts_the_http_header_first():
    page = _page("<p>été</p>".encode("latin-1"), content_type="text/html; charset=ISO-8859-1")
    assert decode_page(page) == "<p>été</p>"


THREAD = """<main class="thread" data-thread-id="77"><nav class="breadcrumb"><a class="breadcrumb-board">Santé</a></nav>
<h1 class="thread-title">Advil à 30 SA ?</h1>
<article class="post" id="msg1" data-post-id="1"><header class="post-header">
<a class="post-author author-link">caro33</a><time class="post-date" datetime="2020-02-01T10:00:00+01:00">x</time></header>
<div class="post-body"><p>J'ai pris un advil à 30 SA.</p></div></article>
<article class="post" id="msg2" data-post-id="2"><header class="post-header">
<a class="post-author author-link">lili_du_69</a><span class="post-date">le 01/02/2020 à 12h00</span></header>
<div class="post-body"><blockquote class="quote"><div class="quote-author">caro33 a écrit :</div>
<div class="quote-text"><p>J'ai pris un advil à 30 SA.</p></div></blockquote><p>Appelle le CRAT !</p></div></article>
<article class="post" id="msg3" data-post-id="3"><header class="post-header">
<a class="post-author author-link">mimi75</a><span class="post-date">date inconnue</span></header>
<div class="post-body"><p>up</p></div></article>
<article class="post" id="msg4" data-post-id="4"><header class="post-header">
<a class="post-author author-link">juju92</a><time class="post-date" datetime="2020-02-02T10:00:00+01:00">x</time></header>
<div class="post-body post-deleted"></div></article>
<article class="post" id="msg5"><div class="post-body"><p>sans identifiant</p></div></article></main>"""


def test_parse_thread_page_extracts_posts_and_counts_the_rest(profile):
    parsed = parse_thread_page(soup_of(THREAD), _page(THREAD, "https://f.example/sujet/77.html"), profile, "demo")
    assert [p["post_id"] for p in parsed.posts] == ["1", "2"]
    first, second = parsed.posts
    assert first == {
        "source": "demo",
        "post_id": "1",
        "thread_id": "77",
        "parent_id": "",
        "thread_title": "Advil à 30 SA ?",
        "board": "Santé",
        "url": "https://f.example/sujet/77.html#msg1",
        "author": "caro33",
        "created_at": "2020-02-01T09:00:00+00:00",
        "collected_at": CAPTURED,
        "language": "",
        "text": "J'ai pris un advil à 30 SA.",
        "raw_location": "https://f.example/sujet/77.html",
    }
    assert tuple(first) == FIELD_ORDER
    assert second["text"] == "Appelle le CRAT !"
    assert second["quote_text"] == "J'ai pris un advil à 30 SA."
    assert second["quote_author"] == "caro33"
    assert second["created_at"] == "2020-02-01T11:00:00+00:00"
    assert parsed.dropped == [("3", "unparsed_date"), ("4", "missing_text"), ("?", "missing_post_id")]


def test_a_thread_page_without_thread_id_is_a_page_error(profile):
    with pytest.raises(PageError, match="missing_thread_id"):
        parse_thread_page(soup_of("<p>vide</p>"), _page("<p>vide</p>"), profile, "demo")


def test_profile_refuses_unknown_keys(root, tmp_path):
    text = (root / "config/sites/demo_forum.yaml").read_text(encoding="utf-8").replace("  post: ", "  posts: ")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.yaml: unknown key\(s\) selectors\.\['posts'\]"):
        load_profile(path)


def test_profile_refuses_unknown_field_options():
    with pytest.raises(InputError, match=r"p: key 'selectors.author': unknown key\(s\) \['atr'\]"):
        profile_from_mapping(
            {
                "name": "x",
                "selectors": {
                    "board_links": "a",
                    "board_pages": "a",
                    "thread_links": "a",
                    "thread_pages": "a",
                    "post": "a",
                    "thread_id": "a",
                    "thread_title": "a",
                    "board": "a",
                    "post_id": "a",
                    "author": {"atr": "x"},
                    "created_at": "a",
                    "text": "a",
                },
            },
            "p",
        )


def test_raw_record_check_names_the_field():
    record = {name: "x" for name in RAW_FIELDS} | {
        "created_at": "2020-01-01T00:00:00+00:00",
        "collected_at": "2020-01-01T00:00:00+00:00",
    }
    assert check_raw_record(dict(record), "f, line 1") == record
    with pytest.raises(InputError, match="^f, line 3: field 'author' is missing$"):
        check_raw_record({k: v for k, v in record.items() if k != "author"}, "f, line 3")
    with pytest.raises(InputError, match="^f, line 4: field 'created_at' has no time zone"):
        check_raw_record(record | {"created_at": "2020-01-01T00:00:00"}, "f, line 4")


def test_read_raw_jsonl_names_file_and_line_of_a_broken_line(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"source": "x"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"posts\.jsonl, line 1: not valid JSON"):
        list(read_raw_jsonl(path))


# ----------------------------------------------------------------------------- crawling a snapshot
POLITENESS = {
    "user_agent": "perivigil-test",
    "delay_s": 0.0,
    "max_retries": 1,
    "backoff_s": 0.0,
    "deadline_s": 30.0,
    "max_wait_s": 5.0,
    "max_failed_share": 0.1,
    "respect_robots": True,
}
DEMO_PROFILE = ROOT / "config/sites/demo_forum.yaml"
PHPBB_PROFILE = ROOT / "config/sites/phpbb.yaml"
PHPBB = ROOT / "tests/data/forums/phpbb"
PHPBB_ROOT_URL = "https://ptits-loups.example/"


def _crawl(
    start_url: str,
    output: Path,
    profile: Path = DEMO_PROFILE,
    snapshot: Path | None = None,
    name: str = "demo_forum",
    scrapy_settings: dict | None = None,
    **politeness,
) -> CollectionReport:
    """collect_source on a live site, or on a snapshot of the site of ``start_url``."""
    source = {"name": name, "profile": str(profile), "start_url": start_url}
    if snapshot is not None:
        source.update(snapshot=str(snapshot), captured_at=CAPTURED)
    return collect_source(
        source, {**POLITENESS, **politeness}, output, output.with_suffix(".csv"), scrapy_settings=scrapy_settings
    )


def _crawl_snapshot(forum, output: Path, **kwargs) -> CollectionReport:
    return _crawl(DEMO_ROOT_URL + "index.html", output, snapshot=forum["site"], **kwargs)


def _truth_status(forum) -> Counter:
    return Counter(row["status"] for row in csv.DictReader(Path(forum["truth"]).open(encoding="utf-8")))


def test_snapshot_crawl_keeps_every_readable_post_and_counts_the_rest(small_forum, tmp_path):
    output = tmp_path / "posts.jsonl"
    report = _crawl_snapshot(small_forum, output)
    status = _truth_status(small_forum)
    records = list(read_raw_jsonl(output))
    assert len(records) == len({r["post_id"] for r in records}) == status["ok"]
    assert report.get("post", "kept") == status["ok"]
    assert report.get("post", "dropped", "missing_text") == status["deleted"]
    assert report.get("post", "dropped", "unparsed_date") == status["no_date"]
    assert report.get("page", "dropped", "encoding_error") == 1
    assert report.get("page", "dropped", "not_found") == 1
    assert (
        sum(n for (level, _, _), n in report.counts.items() if level == "post")
        + status["page_missing"]
        + status["page_encoding_error"]
        == 150
    )
    assert {r["collected_at"] for r in records} == {CAPTURED}  # the snapshot's date, whenever it is read
    assert all(r["raw_location"] == r["url"].split("#")[0] and r["parent_id"] == r["language"] == "" for r in records)
    assert not (tmp_path / "posts.jsonl.partial").exists() and not (tmp_path / "posts.jsonl.job").exists()


def _walk(root_url: str, site: Path, profile) -> list[str]:
    """The thread pages of a snapshot in the order of a depth-first walk, written here without Scrapy:
    index → each board: page 1, its threads (each thread: its pages breadth-first), page 2, …"""
    visited: set[str] = set()

    def soup(url: str):
        path = snapshot_path(root_url, site, url)
        return soup_of(path.read_text(encoding="utf-8", errors="replace")) if path and path.is_file() else None

    def pages(first: str, selector: str):
        queue = [first]
        while queue:
            url = queue.pop(0)
            if url in visited:
                continue
            visited.add(url)
            found = soup(url)
            if found is None:
                continue
            queue += [link for link in links(found, selector, url) if link not in visited and link not in queue]
            yield url, found

    order = []
    for board in links(soup(root_url + "index.html"), profile.board_links, root_url + "index.html"):
        for board_url, board_soup in pages(board, profile.board_pages):
            for thread in links(board_soup, profile.thread_links, board_url):
                order += [url for url, _ in pages(thread, profile.thread_pages)]
    return order


def test_posts_come_in_the_order_of_a_depth_first_walk(small_forum, profile, tmp_path):
    """Scrapy's priorities reproduce the hand-written walk: each thread in full, a board's pages in turn."""
    output = tmp_path / "posts.jsonl"
    _crawl_snapshot(small_forum, output)
    pages_read = []
    for record in read_raw_jsonl(output):
        if not pages_read or pages_read[-1] != record["raw_location"]:
            pages_read.append(record["raw_location"])
    expected = [url for url in _walk(DEMO_ROOT_URL, small_forum["site"], profile) if url in set(pages_read)]
    assert len(pages_read) == len(set(pages_read)) > 20
    assert pages_read == expected


class PowerCut:
    """A Scrapy extension for the crawl process (found on PYTHONPATH): the process dies after N responses."""

    def __init__(self, crawler) -> None:
        self.left = crawler.settings.getint("POWER_CUT_AFTER")
        crawler.signals.connect(self.response_received, signal=signals.response_received)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def response_received(self, **_) -> None:
        self.left -= 1
        if self.left <= 0:
            os._exit(1)  # no clean-up at all: a power cut


def test_a_crashed_crawl_resumes_without_duplicates(small_forum, tmp_path, monkeypatch):
    clean = tmp_path / "clean/posts.jsonl"
    clean_report = _crawl_snapshot(small_forum, clean)
    resumed = tmp_path / "resumed/posts.jsonl"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]))
    with pytest.raises(CollectionInterrupted, match=r"stopped before its end \(exit status 1\); rerun to resume"):
        _crawl_snapshot(
            small_forum, resumed, scrapy_settings={"EXTENSIONS": {"test_collect.PowerCut": 0}, "POWER_CUT_AFTER": 40}
        )
    partial = tmp_path / "resumed/posts.jsonl.partial"
    assert not resumed.exists() and partial.stat().st_size > 0
    with partial.open("a", encoding="utf-8") as handle:  # the crash also cut a line in half
        handle.write('{"source": "demo_forum", "post_id": "9')
    report = _crawl_snapshot(small_forum, resumed)  # its JOBDIR cannot be trusted: a new walk
    assert resumed.read_bytes() == clean.read_bytes()
    assert report.rows() == clean_report.rows()
    assert not partial.exists() and not (tmp_path / "resumed/posts.jsonl.job").exists()


def test_a_crawl_stopped_cleanly_resumes_from_its_jobdir(small_forum, tmp_path):
    """A clean stop (Ctrl-C, here Scrapy's CLOSESPIDER_PAGECOUNT) keeps the pending requests and the counts."""
    clean = tmp_path / "clean/posts.jsonl"
    clean_report = _crawl_snapshot(small_forum, clean)
    resumed = tmp_path / "resumed/posts.jsonl"
    with pytest.raises(CollectionInterrupted, match=r"stopped before its end \(closespider_pagecount\)"):
        _crawl_snapshot(small_forum, resumed, scrapy_settings={"CLOSESPIDER_PAGECOUNT": 30})
    assert (tmp_path / "resumed/posts.jsonl.job/resumable").exists()
    assert not resumed.exists()
    report = _crawl_snapshot(small_forum, resumed)
    assert resumed.read_bytes() == clean.read_bytes()
    assert report.rows() == clean_report.rows()  # counted once each, across both runs
    assert (tmp_path / "resumed/collect_details.log").read_text(encoding="utf-8").count("Resuming crawl") == 1


def test_recover_partial_truncates_a_cut_line(tmp_path):
    path = tmp_path / "p.jsonl.partial"
    path.write_bytes(b'{"post_id": "1"}\n{"post_id": "2"}\n{"post_id": "3", "te')
    assert recover_partial(path) == {"1", "2"}
    assert path.read_bytes() == b'{"post_id": "1"}\n{"post_id": "2"}\n'


def test_the_phpbb_profile_reads_a_phpbb_forum(tmp_path):
    """config/sites/phpbb.yaml on phpBB 3 prosilver markup (tests/data/forums/phpbb/): ids read by pattern."""
    report = _crawl(
        PHPBB_ROOT_URL + "index.html", tmp_path / "posts.jsonl", PHPBB_PROFILE, snapshot=PHPBB, name="ptits_loups"
    )
    records = {r["post_id"]: r for r in read_raw_jsonl(tmp_path / "posts.jsonl")}
    assert sorted(records) == [
        "7101",
        "7102",
        "7103",
        "7104",
        "7105",
        "7106",
        "7201",
        "7202",
        "7203",
        "7301",
        "7302",
        "7303",
    ]
    assert report.get("page", "kept", "thread") == 4  # topic 71 has two pages
    quoting = records["7103"]
    assert (quoting["thread_id"], quoting["board"], quoting["author"]) == (
        "71",
        "Santé, médicaments et grossesse",
        "Nadège_75",
    )
    assert (quoting["quote_author"], quoting["quote_text"]) == (
        "Lou.Bidou",
        "appelle le CRAT ou ta pharmacie pour être rassurée.",
    )
    assert quoting["text"] == "Merci, j'ai appelé, ils vont me faire faire une écho de contrôle pour le canal artériel."
    assert (
        records["7101"]["text"].splitlines()[1] == "ma sage femme a fait une tête bizarre qd je lui ai dit. C grave ??"
    )
    assert records["7301"]["created_at"] == "2023-01-09T10:20:00+00:00"
    assert records["7106"]["raw_location"] == PHPBB_ROOT_URL + "sante-f2/topic71-5.html"


# ----------------------------------------------------------------------------- crawling over HTTP
class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; ``pages`` (path -> (status, body, headers)) answer first; every hit is timed."""

    pages: dict = {}
    hits: dict

    def do_GET(self):  # noqa: N802 (the standard library's name)
        self.hits[self.path].append(time.monotonic())
        answer = self.pages.get(self.path)
        if callable(answer):
            answer = answer(len(self.hits[self.path]))
        if answer is None:
            super().do_GET()
            return
        status, body, headers = answer
        self.send_response(status)
        for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Keep the test output quiet: no line per request."""


NO_DELAY_ROBOTS = (200, b"User-agent: *\nDisallow: /membres/\n", {"Content-Type": "text/plain"})


@pytest.fixture()
def serve():
    """``serve(folder, pages)`` starts a real HTTP server on 127.0.0.1 (stopped after the test): its URL, its hits."""
    servers = []

    def start(folder: Path, pages: dict | None = None):
        hits: dict = defaultdict(list)
        handler = type("Handler", (_Handler,), {"pages": pages or {}, "hits": hits})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/", hits

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _comparable(path: Path, root: str) -> list[dict]:
    """Records with the site's root URL replaced and no collection date: a snapshot and a server compare."""
    return [
        {
            **r,
            "url": r["url"].replace(root, "ROOT/"),
            "raw_location": r["raw_location"].replace(root, "ROOT/"),
            "collected_at": "",
        }
        for r in read_raw_jsonl(path)
    ]


def test_http_crawl_of_a_local_server_matches_the_snapshot_crawl(small_forum, serve, tmp_path):
    served, hits = serve(small_forum["site"], {"/robots.txt": NO_DELAY_ROBOTS})
    output = tmp_path / "raw/http.jsonl"
    report = _crawl(served + "index.html", output)
    snapshot = tmp_path / "snapshot.jsonl"
    _crawl_snapshot(small_forum, snapshot)
    assert _comparable(output, served) == _comparable(snapshot, DEMO_ROOT_URL)
    assert report.get("page", "dropped", "encoding_error") == 1
    assert report.get("page", "dropped", "not_found") == 1
    assert sum(len(times) for times in hits.values()) == report.total("page", "kept") + 3  # robots, 404, bad page

    # A second crawl is served by the HTTP cache (in the raw zone): the site sees no request at all, and
    # each post keeps the date its page was first fetched.
    hits.clear()
    again = tmp_path / "raw/again.jsonl"
    _crawl(served + "index.html", again)
    assert not hits, f"asked again: {sorted(hits)}"
    assert list(read_raw_jsonl(again)) == list(read_raw_jsonl(output))
    assert (tmp_path / "raw/http_cache").is_dir()


def test_the_phpbb_forum_over_http_matches_its_snapshot(serve, tmp_path):
    """A second forum, of another software (phpBB), crawled over HTTP as a real study does."""
    served, _ = serve(PHPBB)
    report = _crawl(served + "index.html", tmp_path / "http.jsonl", PHPBB_PROFILE, name="ptits_loups")
    _crawl(
        PHPBB_ROOT_URL + "index.html", tmp_path / "snapshot.jsonl", PHPBB_PROFILE, snapshot=PHPBB, name="ptits_loups"
    )
    assert _comparable(tmp_path / "http.jsonl", served) == _comparable(tmp_path / "snapshot.jsonl", PHPBB_ROOT_URL)
    assert report.get("post", "kept") == 12 and report.get("page", "kept", "thread") == 4
    assert report.total("page", "dropped") == 0


BOARD_INDEX = (
    '<ul class="board-list"><a class="board-link" href="prive/b.html">x</a>'
    '<a class="board-link" href="https://ailleurs.example/b.html">y</a>'
    '<a class="board-link" href="b.html">z</a></ul>'
)
BOARD = '<ul class="thread-list"><a class="thread-link" href="t.html">t</a></ul>'
ONE_POST = (
    '<main class="thread" data-thread-id="9"><h1 class="thread-title">T</h1>'
    '<article class="post" id="msg1" data-post-id="1"><header class="post-header">'
    '<a class="post-author author-link">caro33</a><time class="post-date" datetime="2020-02-01T10:00:00+01:00">'
    'x</time></header><div class="post-body"><p>Bonjour</p></div></article></main>'
)


def _tiny_site(robots: str) -> dict:
    def page(body):
        return (200, body.encode(), {})

    return {
        "/robots.txt": (200, robots.encode(), {"Content-Type": "text/plain"}),
        "/index.html": page(BOARD_INDEX),
        "/b.html": page(BOARD),
        "/t.html": page(ONE_POST),
    }


@pytest.mark.parametrize(
    ("delay_s", "robots"),
    [
        (0.0, "User-agent: *\nDisallow: /prive/\nCrawl-delay: 1\n"),  # the site's Crawl-delay, longer than delay_s
        (1.0, "User-agent: *\nDisallow: /prive/\n"),  # collect.delay_s
    ],
)
def test_robots_txt_is_obeyed_and_the_longer_delay_applied(serve, tmp_path, delay_s, robots):
    url, hits = serve(tmp_path, _tiny_site(robots))
    report = _crawl(url + "index.html", tmp_path / "raw/posts.jsonl", delay_s=delay_s)
    assert report.get("page", "dropped", "robots_disallowed") == 1
    assert report.get("post", "kept") == 1
    assert report.total("page", "dropped") == 1  # other hosts are never followed (not even asked)
    assert "/prive/b.html" not in hits
    times = sorted(t for path_times in hits.values() for t in path_times)
    assert len(times) == 4  # robots.txt, index, board, thread
    assert min(b - a for a, b in zip(times, times[1:])) >= 0.95  # every request waited its turn


@pytest.mark.parametrize(
    ("status", "failure", "allowed", "why"),
    [
        (200, None, False, ""),  # parsed: /prive/ is disallowed
        (404, None, True, ""),  # RFC 9309 §2.3.1.3: unavailable, everything allowed
        (410, None, True, ""),
        (429, None, False, "HTTP 429"),  # §2.3.1.4: unreachable, everything disallowed
        (503, None, False, "HTTP 503"),
        (None, DownloadConnectionRefusedError(), False, "ConnectionError: Connection refused"),
        (
            None,
            DownloadTimeoutError("Getting http://x took longer"),
            False,
            "no complete answer within collect.deadline_s = 9 s",
        ),
    ],
)
def test_robots_rules_follow_rfc_9309(status, failure, allowed, why):
    response = (
        None
        if status is None
        else Response("https://f.example/robots.txt", status=status, body=b"User-agent: *\nDisallow: /prive/\n")
    )
    rules = robots_rules(response, failure, deadline_s=9.0)
    assert rules.allowed("https://f.example/prive/b.html", "perivigil") is allowed
    assert rules.unreachable == why
    assert rules.allowed("https://f.example/b.html", "perivigil") is not bool(why)


def test_unreachable_robots_txt_forbids_everything(serve, tmp_path):
    url, hits = serve(tmp_path, {"/robots.txt": (503, b"", {})})
    with pytest.raises(CollectionFailed) as caught:
        _crawl(url + "index.html", tmp_path / "raw/posts.jsonl")
    assert "could not be read (HTTP 503), which forbids the whole site (RFC 9309)" in str(caught.value)
    assert str(caught.value).endswith("pages kept 0, dropped 1 (robots_disallowed 1)")
    assert set(hits) == {"/robots.txt"} and len(hits["/robots.txt"]) == 2  # asked, then retried max_retries = 1


def test_a_missing_robots_txt_allows_everything(serve, tmp_path):
    url, hits = serve(tmp_path, {**_tiny_site(""), "/robots.txt": (404, b"", {})})
    report = _crawl(url + "index.html", tmp_path / "raw/posts.jsonl")
    assert report.get("page", "dropped", "robots_disallowed") == 0
    assert "/prive/b.html" in hits


def test_server_errors_are_retried(small_forum, serve, tmp_path):
    url, hits = serve(
        small_forum["site"],
        {
            "/robots.txt": NO_DELAY_ROBOTS,
            "/index.html": lambda n: (503, b"", {"Retry-After": "0"}) if n <= 2 else None,  # 503 twice, then the page
        },
    )
    report = _crawl(url + "index.html", tmp_path / "raw/posts.jsonl", max_retries=3)
    assert len(hits["/index.html"]) == 3
    assert report.get("request", "retried", "http_503") == 2
    assert report.get("page", "kept", "index") == 1


def test_a_field_pattern_keeps_its_group():
    spec = FieldSpec(selector="a", attr="href", pattern=r"(?:[?&]t=|topic)(\d+)")
    assert field_value(soup_of('<a href="./viewtopic.php?f=2&t=71&start=5">x</a>'), spec) == "71"
    assert field_value(soup_of('<a href="./topic71-5.html">x</a>'), spec) == "71"
    assert field_value(soup_of('<a href="./index.html">x</a>'), spec) is None
