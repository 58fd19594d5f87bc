"""Collection: reading pages with a site profile, crawling a snapshot or a live server, resuming."""

from __future__ import annotations

import csv
import functools
import http.server
import json
import threading
from collections import Counter
from pathlib import Path

import pytest

from perivigil.collect.crawler import CollectionReport, Crawler, collect, recover_partial
from perivigil.collect.fetch import HttpFetcher, Page, SnapshotFetcher
from perivigil.collect.parse import PageError, decode_page, element_text, field_value, parse_date, parse_thread_page, soup_of
from perivigil.collect.profile import FieldSpec, load_profile, profile_from_mapping
from perivigil.collect.records import RAW_FIELDS, check_raw_record, read_raw_jsonl
from perivigil.collect.run import collect_source
from perivigil.errors import InputError

from conftest import DEMO_ROOT_URL

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


@pytest.mark.parametrize(("text", "expected"), [
    ("2019-12-16T00:12:47+01:00", "2019-12-15T23:12:47+00:00"),
    ("le 12/03/2017 à 14h32", "2017-03-12T13:32:00+00:00"),        # winter: UTC+1
    ("16 décembre 2019 à 00:12", "2019-12-15T23:12:00+00:00"),
    ("mardi 5 juillet 2016, 08:05", "2016-07-05T06:05:00+00:00"),  # summer: UTC+2
    ("date inconnue", None),
    ("2019-12-16T00:12:47", None),                                  # ISO without a zone is ambiguous
])
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
        "source": "demo", "post_id": "1", "thread_id": "77", "thread_title": "Advil à 30 SA ?", "board": "Santé",
        "url": "https://f.example/sujet/77.html#msg1", "author": "caro33", "created_at": "2020-02-01T09:00:00+00:00",
        "text": "J'ai pris un advil à 30 SA.", "collected_at": CAPTURED,
    }
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
        profile_from_mapping({"name": "x", "selectors": {
            "board_links": "a", "board_pages": "a", "thread_links": "a", "thread_pages": "a", "post": "a",
            "thread_id": "a", "thread_title": "a", "board": "a", "post_id": "a", "author": {"atr": "x"},
            "created_at": "a", "text": "a"}}, "p")


def test_raw_record_check_names_the_field():
    record = {name: "x" for name in RAW_FIELDS} | {"created_at": "2020-01-01T00:00:00+00:00",
                                                    "collected_at": "2020-01-01T00:00:00+00:00"}
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
def _crawl_snapshot(forum, profile, output: Path, fetcher=None) -> CollectionReport:
    fetcher = fetcher or SnapshotFetcher(DEMO_ROOT_URL, forum["site"], CAPTURED)
    report = CollectionReport("demo_forum")
    crawler = Crawler(profile, fetcher, "demo_forum", report, user_agent="perivigil-test")
    collect(crawler, DEMO_ROOT_URL + "index.html", output)
    return report


def _truth_status(forum) -> Counter:
    return Counter(row["status"] for row in csv.DictReader(Path(forum["truth"]).open(encoding="utf-8")))


def test_snapshot_crawl_keeps_every_readable_post_and_counts_the_rest(small_forum, profile, tmp_path):
    output = tmp_path / "posts.jsonl"
    report = _crawl_snapshot(small_forum, profile, output)
    status = _truth_status(small_forum)
    records = list(read_raw_jsonl(output))
    assert len(records) == len({r["post_id"] for r in records}) == status["ok"]
    assert report.get("post", "kept") == status["ok"]
    assert report.get("post", "dropped", "missing_text") == status["deleted"]
    assert report.get("post", "dropped", "unparsed_date") == status["no_date"]
    assert report.get("page", "dropped", "encoding_error") == 1
    assert report.get("page", "dropped", "not_found") == 1
    assert sum(n for (level, _, _), n in report.counts.items() if level == "post") + \
        status["page_missing"] + status["page_encoding_error"] == 150


def test_a_crashed_crawl_resumes_without_duplicates(small_forum, profile, tmp_path):
    class Crashing(SnapshotFetcher):
        def get(self, url):
            if self.requests >= 40:
                raise RuntimeError("power cut")
            return super().get(url)

    clean = tmp_path / "clean.jsonl"
    _crawl_snapshot(small_forum, profile, clean)
    resumed = tmp_path / "resumed.jsonl"
    with pytest.raises(RuntimeError, match="power cut"):
        _crawl_snapshot(small_forum, profile, resumed, Crashing(DEMO_ROOT_URL, small_forum["site"], CAPTURED))
    partial = tmp_path / "resumed.jsonl.partial"
    assert not resumed.exists() and partial.exists()
    with partial.open("a", encoding="utf-8") as handle:  # the crash also cut a line in half
        handle.write('{"source": "demo_forum", "post_id": "9')
    _crawl_snapshot(small_forum, profile, resumed)
    assert resumed.read_bytes() == clean.read_bytes()
    assert not partial.exists()


def test_recover_partial_truncates_a_cut_line(tmp_path):
    path = tmp_path / "p.jsonl.partial"
    path.write_bytes(b'{"post_id": "1"}\n{"post_id": "2"}\n{"post_id": "3", "te')
    assert recover_partial(path) == {"1", "2"}
    assert path.read_bytes() == b'{"post_id": "1"}\n{"post_id": "2"}\n'


class DictFetcher:
    """Serves a few literal pages; everything else is a 404."""

    def __init__(self, pages: dict[str, str]):
        self.pages, self.asked = pages, []

    def set_min_delay(self, seconds):
        self.delay = seconds

    def get(self, url):
        self.asked.append(url)
        if url in self.pages:
            return Page(url, 200, self.pages[url].encode(), "text/html", CAPTURED)
        return Page(url, 404, b"", "", CAPTURED, "not found")


def test_robots_txt_is_obeyed_and_its_crawl_delay_applied(profile):
    site = "https://f.example/"
    fetcher = DictFetcher({
        site + "robots.txt": "User-agent: *\nDisallow: /prive/\nCrawl-delay: 5\n",
        site + "index.html": '<ul class="board-list"><a class="board-link" href="prive/b.html">x</a>'
                             '<a class="board-link" href="https://ailleurs.example/b.html">y</a></ul>',
    })
    report = CollectionReport("t")
    list(Crawler(profile, fetcher, "t", report, user_agent="perivigil-test").crawl(site + "index.html"))
    assert report.get("page", "dropped", "robots_disallowed") == 1
    assert site + "prive/b.html" not in fetcher.asked
    assert "https://ailleurs.example/b.html" not in fetcher.asked  # other hosts are never followed
    assert fetcher.delay == 5.0


def test_unreachable_robots_txt_forbids_everything(profile):
    class Down(DictFetcher):
        def get(self, url):
            self.asked.append(url)
            return Page(url, 503, b"", "", CAPTURED, "HTTP 503")

    fetcher = Down({})
    report = CollectionReport("t")
    list(Crawler(profile, fetcher, "t", report, user_agent="perivigil-test").crawl("https://f.example/index.html"))
    assert fetcher.asked == ["https://f.example/robots.txt"]
    assert report.get("page", "dropped", "robots_disallowed") == 1


# ----------------------------------------------------------------------------- crawling over HTTP
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        """Keep the test output quiet: no line per request."""


@pytest.fixture()
def served(small_forum):
    """The small demo forum served by a real HTTP server on 127.0.0.1 (stopped after the test)."""
    handler = functools.partial(_QuietHandler, directory=str(small_forum["site"]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_http_crawl_of_a_local_server_matches_the_snapshot_crawl(small_forum, profile, served, tmp_path):
    source = {"name": "demo_forum", "profile": "config/sites/demo_forum.yaml", "start_url": served + "index.html"}
    politeness = {"user_agent": "perivigil-test", "delay_s": 0.0, "max_retries": 1, "backoff_s": 0.0,
                  "timeout_s": 10.0, "deadline_s": 30.0, "max_wait_s": 5.0, "max_failed_share": 0.1,
                  "respect_robots": True}
    slept: list[float] = []  # the site's robots.txt asks for 1 s between requests: record, don't wait
    fetcher = HttpFetcher(tmp_path / "cache.sqlite", user_agent="perivigil-test", delay_s=0.0, max_retries=1,
                          backoff_s=0.0, timeout_s=10.0, sleep=slept.append, clock=lambda: 0.0)
    output = tmp_path / "http.jsonl"
    profile_path = Path(__file__).resolve().parents[1] / source["profile"]
    report = collect_source(dict(source, profile=str(profile_path)), politeness, output, tmp_path / "r.csv", fetcher)
    snapshot = tmp_path / "snapshot.jsonl"
    _crawl_snapshot(small_forum, profile, snapshot)

    def comparable(path, root):
        return [{**r, "url": r["url"].replace(root, "ROOT/"), "collected_at": ""} for r in read_raw_jsonl(path)]

    assert comparable(output, served) == comparable(snapshot, DEMO_ROOT_URL)
    assert report.get("page", "dropped", "encoding_error") == 1
    assert fetcher.requests > 0
    assert slept == [1.0] * (fetcher.requests - 1)  # every request but the first (robots.txt) waited

    # A second crawl is served by the cache: the site sees no request at all.
    again = HttpFetcher(tmp_path / "cache.sqlite", user_agent="perivigil-test", delay_s=0.0, max_retries=1,
                        backoff_s=0.0, timeout_s=10.0)
    collect_source(dict(source, profile=str(profile_path)), politeness, tmp_path / "again.jsonl", tmp_path / "r2.csv",
                   again)
    assert again.requests == 0
    assert comparable(tmp_path / "again.jsonl", served) == comparable(output, served)


@pytest.fixture()
def flaky_server():
    """A server whose /page answers 503 twice, then 200; it counts the hits."""
    hits = Counter()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits[self.path] += 1
            if self.path == "/page" and hits[self.path] <= 2:
                self.send_response(503)
                self.send_header("Retry-After", "0")
                self.end_headers()
                return
            body = b"<p>ok</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            """Keep the test output quiet: no line per request."""

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_http_fetcher_retries_server_errors(flaky_server, tmp_path):
    base, hits = flaky_server
    fetcher = HttpFetcher(tmp_path / "c.sqlite", user_agent="t", delay_s=0.0, max_retries=3, backoff_s=0.0,
                          timeout_s=5.0)
    page = fetcher.get(base + "/page")
    assert (page.status, page.body, hits["/page"]) == (200, b"<p>ok</p>", 3)


def test_http_fetcher_waits_between_requests(flaky_server, tmp_path):
    base, _ = flaky_server
    slept: list[float] = []
    fetcher = HttpFetcher(tmp_path / "c.sqlite", user_agent="t", delay_s=2.0, max_retries=0, backoff_s=0.0,
                          timeout_s=5.0, sleep=slept.append, clock=lambda: 100.0)
    fetcher.get(base + "/a")
    fetcher.get(base + "/b")
    fetcher.get(base + "/a")  # cached: no request, no wait
    assert slept == [2.0]
    assert fetcher.requests == 2


def test_the_phpbb_profile_reads_a_phpbb_forum(tmp_path):
    """config/sites/phpbb.yaml on phpBB 3 prosilver markup (tests/data/forums/phpbb/): ids read by pattern."""
    root = Path(__file__).resolve().parents[1]
    profile = load_profile(root / "config/sites/phpbb.yaml")
    fetcher = SnapshotFetcher("https://ptits-loups.example/", root / "tests/data/forums/phpbb", CAPTURED)
    report = CollectionReport("ptits_loups")
    collect(Crawler(profile, fetcher, "ptits_loups", report, user_agent="t"),
            "https://ptits-loups.example/index.html", tmp_path / "posts.jsonl")
    records = {r["post_id"]: r for r in read_raw_jsonl(tmp_path / "posts.jsonl")}
    assert sorted(records) == ["7101", "7102", "7103", "7104", "7105", "7106", "7201", "7202", "7203", "7301", "7302",
                               "7303"]
    assert report.get("page", "kept", "thread") == 4  # topic 71 has two pages
    quoting = records["7103"]
    assert (quoting["thread_id"], quoting["board"], quoting["author"]) == ("71", "Santé, médicaments et grossesse",
                                                                          "Nadège_75")
    assert (quoting["quote_author"], quoting["quote_text"]) == ("Lou.Bidou",
                                                                "appelle le CRAT ou ta pharmacie pour être rassurée.")
    assert quoting["text"] == "Merci, j'ai appelé, ils vont me faire faire une écho de contrôle pour le canal artériel."
    assert records["7101"]["text"].splitlines()[1] == "ma sage femme a fait une tête bizarre qd je lui ai dit. C grave ??"
    assert records["7301"]["created_at"] == "2023-01-09T10:20:00+00:00"


def test_a_field_pattern_keeps_its_group():
    spec = FieldSpec(selector="a", attr="href", pattern=r"(?:[?&]t=|topic)(\d+)")
    assert field_value(soup_of('<a href="./viewtopic.php?f=2&t=71&start=5">x</a>'), spec) == "71"
    assert field_value(soup_of('<a href="./topic71-5.html">x</a>'), spec) == "71"
    assert field_value(soup_of('<a href="./index.html">x</a>'), spec) is None
