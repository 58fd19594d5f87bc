"""The Bluesky search connector against a real XRPC server on 127.0.0.1 (tests/xrpc_server.py).

Every expected value below can be checked by hand from the posts each test gives the server.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from xrpc_server import CREATE, REFRESH, SEARCH, XrpcServer, post_view

from perivigil.collect.bluesky import collect_bluesky, normalise_created_at, periods, post_id_of
from perivigil.errors import InputError
from perivigil.preprocess.pipeline import PreprocessSettings, preprocess
from perivigil.preprocess.pseudonymise import DEMO_KEY

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD = "abcd-efgh-ijkl-mnop"
ENV = {"PERIVIGIL_BLUESKY_HANDLE": "chercheuse.test", "PERIVIGIL_BLUESKY_APP_PASSWORD": PASSWORD}
Q1, Q2 = "enceinte ibuprofène", "grossesse isotrétinoïne"
NOV_SINCE, NOV_UNTIL = "2024-11-01T00:00:00.000Z", "2024-12-01T00:00:00.000Z"
ALICE, BOB, CAROL, DAVE = "did:plc:alice", "did:plc:bob", "did:plc:carol", "did:plc:dave"
URI_A = f"at://{ALICE}/app.bsky.feed.post/3kaaa1"
URI_B = f"at://{BOB}/app.bsky.feed.post/3kbbb1"
# "bsky_" + the first 20 hex digits of SHA-256 of the at-uri (test_post_ids_are_a_digest_of_the_at_uri)
ID_A, ID_B = "bsky_d7f3d1d4b0004906bf9c", "bsky_2181ee7dd9571f67048d"
TEXT_A = "Enceinte de 7 mois, j'ai pris de l'ibuprofène hier"

# November 2024, two queries. Q1 matches A, B, C, D, E, F, G (H is October: never served).
# Newest first (sortAt = the earlier of createdAt and indexedAt): G, F, E, D, C, B, A.
POST_A = post_view(ALICE, "alice.test", "3kaaa1", TEXT_A, "2024-11-03T10:00:00.000Z", langs=["fr"])
POST_B = post_view(
    BOB,
    "bob.test",
    "3kbbb1",
    "Demande à ta sage-femme",
    "2024-11-03T11:30:00.250Z",
    langs=["fr"],
    root=URI_A,
    parent=URI_A,
)
POST_C = post_view(
    ALICE, "alice.test", "3kccc1", "Merci, c'est fait", "2024-11-04T08:00:00+01:00", root=URI_A, parent=URI_B
)
POST_D = post_view(
    CAROL, "carol.test", "3kddd1", "Isotrétinoïne et grossesse ?", "2024-11-05T08:30:00", langs=["fr", "en"]
)
POST_E = post_view(CAROL, "carol.test", "3keee1", "", "2024-11-06T10:00:00.000Z")  # an image alone
POST_F = post_view(DAVE, "dave.test", "3kfff1", "Un post", "hier soir", indexed_at="2024-11-07T09:00:00.000Z")
POST_G = post_view(
    DAVE, "dave.test", "3kggg1", "Du futur", "2024-12-15T10:00:00.000Z", indexed_at="2024-11-20T10:00:00.000Z"
)
POST_H = post_view(DAVE, "dave.test", "3khhh1", "Octobre", "2024-10-31T23:59:59.000Z")
POST_I = post_view(DAVE, "dave.test", "3kiii1", "Roaccutane enceinte", "2024-11-10T12:00:00.000Z", langs=["fr"])
MONTH = {Q1: [POST_A, POST_B, POST_C, POST_D, POST_E, POST_F, POST_G, POST_H], Q2: [POST_D, POST_I]}


@pytest.fixture
def server():
    xrpc = XrpcServer(identifier="chercheuse.test", password=PASSWORD).start()
    yield xrpc
    xrpc.stop()


def source(xrpc: XrpcServer, **extra) -> dict:
    return {
        "name": "bluesky_fr",
        "type": "bluesky",
        "service": xrpc.url,
        "queries": [Q1, Q2],
        "since": "2024-11",
        "until": "2024-12",
        "max_retries": 2,
        "backoff_s": 1.0,
        **extra,
    }


def run(xrpc: XrpcServer, out: Path, period: str = "2024-11", *, environ=ENV, sleep=None, **extra):
    """Collect one month into ``out``; returns (report, the sleeps asked for)."""
    sleeps: list[float] = []
    report = collect_bluesky(
        source(xrpc, **extra),
        period,
        out / f"{period}.jsonl",
        out / f"{period}.report.csv",
        environ=environ,
        sleep=sleep or sleeps.append,
        now=lambda: NOW,
    )
    return report, sleeps


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def report_rows(path: Path) -> list[tuple[str, str, str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [(r["level"], r["outcome"], r["reason"], r["count"]) for r in csv.DictReader(handle)]


def at_uri(record: dict) -> str:
    """The at-uri a raw record keeps in its ``url`` (``https://bsky.app/profile/<did>/post/<rkey>``)."""
    did, rkey = record["url"].removeprefix("https://bsky.app/profile/").split("/post/")
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def every_file_text(root: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in root.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------- pure helpers
def test_periods_are_the_months_inclusive():
    assert periods("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert periods("2024-11", "2024-11") == ["2024-11"]
    with pytest.raises(InputError, match="2025-13"):
        periods("2024-11", "2025-13")
    with pytest.raises(InputError, match="after"):
        periods("2025-02", "2024-11")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-11-06T09:15:30.123Z", "2024-11-06T09:15:30+00:00"),
        ("2024-11-05T08:30:00", "2024-11-05T08:30:00+00:00"),  # no time zone: UTC
        ("2024-11-04T08:00:00+01:00", "2024-11-04T07:00:00+00:00"),
        ("2024-11-04T08:00:00.123456789Z", "2024-11-04T08:00:00+00:00"),  # nanoseconds
        ("hier soir", None),
        ("", None),
        (None, None),
    ],
)
def test_created_at_is_normalised_to_utc_seconds(raw, expected):
    assert normalise_created_at(raw) == expected


def test_post_ids_are_a_digest_of_the_at_uri():
    assert post_id_of("at://did:plc:alice/app.bsky.feed.post/3kaaa1") == ID_A
    assert ID_A == "bsky_" + hashlib.sha256(b"at://did:plc:alice/app.bsky.feed.post/3kaaa1").hexdigest()[:20]
    assert post_id_of("at://did:plc:bob/app.bsky.feed.post/3kbbb1") == ID_B
    assert ID_B == "bsky_" + hashlib.sha256(b"at://did:plc:bob/app.bsky.feed.post/3kbbb1").hexdigest()[:20]


# ----------------------------------------------------------------------------- one month
def test_a_month_with_replies_grouped_into_threads(server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    server.posts = MONTH
    server.page_size = 3
    report, sleeps = run(server, tmp_path)

    got = records(tmp_path / "2024-11.jsonl")
    assert [r["url"].rsplit("/", 1)[1] for r in got] == ["3kddd1", "3kccc1", "3kbbb1", "3kaaa1", "3kiii1"]
    assert got[3] == {
        "source": "bluesky_fr",
        "post_id": ID_A,
        "thread_id": ID_A,
        "parent_id": "",
        "thread_title": "",
        "board": "bluesky",
        "url": "https://bsky.app/profile/did:plc:alice/post/3kaaa1",  # the at-uri's DID and rkey (raw zone)
        "author": "alice.test",
        "created_at": "2024-11-03T10:00:00+00:00",
        "collected_at": "2025-03-01T12:00:00+00:00",
        "language": "fr",
        "text": TEXT_A,
        "raw_location": f"searchPosts q={Q1} since={NOV_SINCE} until={NOV_UNTIL} page=3",
    }
    by_rkey = {r["url"].rsplit("/", 1)[1]: r for r in got}
    assert {k: (r["thread_id"], r["parent_id"]) for k, r in by_rkey.items() if k != "3kddd1" and k != "3kiii1"} == {
        "3kaaa1": (ID_A, ""),
        "3kbbb1": (ID_A, ID_A),
        "3kccc1": (ID_A, ID_B),
    }
    assert by_rkey["3kbbb1"]["post_id"] == ID_B
    assert [r["post_id"] for r in got] == [post_id_of(at_uri(r)) for r in got]
    assert by_rkey["3kccc1"]["created_at"] == "2024-11-04T07:00:00+00:00" and by_rkey["3kccc1"]["language"] == ""
    assert by_rkey["3kddd1"]["created_at"] == "2024-11-05T08:30:00+00:00" and by_rkey["3kddd1"]["language"] == "fr,en"
    assert by_rkey["3kddd1"]["raw_location"].endswith("page=2")

    assert report_rows(tmp_path / "2024-11.report.csv") == [
        ("page", "kept", "search", "4"),
        ("post", "kept", "", "5"),
        ("post", "dropped", "duplicate_uri", "1"),
        ("post", "dropped", "empty_text", "1"),
        ("post", "dropped", "outside_period", "1"),
        ("post", "dropped", "unparsed_date", "1"),
    ]
    assert report.total("post", "kept") == 5 and sleeps == []

    searches = server.searches()
    assert [(p["q"], p.get("cursor")) for p in searches] == [(Q1, None), (Q1, "3"), (Q1, "6"), (Q2, None)]
    assert {(p["sort"], p["since"], p["until"], p["limit"]) for p in searches} == {
        ("latest", NOV_SINCE, NOV_UNTIL, "100")
    }
    assert all("lang" not in p for p in searches)
    (login,) = server.calls(CREATE)
    assert login.body == {"identifier": "chercheuse.test", "password": PASSWORD}
    assert {r.headers["authorization"] for r in server.calls(SEARCH)} == {f"Bearer {next(iter(server.access_tokens))}"}

    assert sorted(p.name for p in tmp_path.iterdir()) == [".bluesky_session", "2024-11.jsonl", "2024-11.report.csv"]
    assert stat.S_IMODE((tmp_path / ".bluesky_session").stat().st_mode) == 0o600
    # Privacy: no password anywhere; no handle, text or post URL in the logs.
    assert PASSWORD not in caplog.text and PASSWORD not in every_file_text(tmp_path)
    for secret in ("alice.test", "bob.test", TEXT_A, "bsky.app/profile", "3kaaa1"):
        assert secret not in caplog.text
    assert Q1 in caplog.text  # queries and windows are logged


def test_lang_is_passed_to_the_search(server, tmp_path):
    server.posts = MONTH
    run(server, tmp_path, lang="fr")
    assert {p["lang"] for p in server.searches()} == {"fr"}


def test_no_did_reaches_what_preprocessing_writes(server, tmp_path):
    # The raw zone keeps the at-uris (in url); posts.parquet, which goes on to results/, holds none.
    server.posts = MONTH
    run(server, tmp_path / "raw")
    raw = tmp_path / "raw" / "2024-11.jsonl"
    assert [at_uri(r) for r in records(raw)][3] == URI_A
    output = tmp_path / "posts.parquet"
    preprocess([raw], output, PreprocessSettings(pseudonym_key=DEMO_KEY, language_candidates=("fr", "en")))

    posts = pd.read_parquet(output)
    assert len(posts) == 5
    values = [str(v) for column in posts.columns for v in posts[column] if v is not None]
    for secret in ("did:plc:", "at://", "app.bsky.feed.post", "alice.test", "bob.test", "3kaaa1", "3kbbb1"):
        assert not [v for v in values if secret in v], secret
    # Threads still group in posts.parquet: A, B (answers A) and C (answers B) share A's id.
    by_text = posts.set_index("text")
    thread_of = {
        text: by_text.loc[text, "thread_id"] for text in (TEXT_A, "Demande à ta sage-femme", "Merci, c'est fait")
    }
    assert set(thread_of.values()) == {f"bluesky_fr-{ID_A}"} == {by_text.loc[TEXT_A, "post_id"]}
    assert by_text.loc["Demande à ta sage-femme", "post_id"] == f"bluesky_fr-{ID_B}"


# ----------------------------------------------------------------------------- date-window paging
def _posts_every(n: int, step: timedelta) -> list[dict]:
    start = datetime(2024, 11, 1, 12, 0, tzinfo=UTC)
    return [
        post_view(
            ALICE,
            "alice.test",
            f"3k{i:04d}",
            f"message {i}",
            (start + i * step).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        )
        for i in range(n)
    ]


def test_windows_are_split_when_hits_total_passes_the_cap(server, tmp_path):
    # 12 posts a day apart; only 5 results of a query can be paged through, 2 a page.
    server.posts = {Q1: _posts_every(12, timedelta(days=1))}
    server.cap, server.page_size = 5, 2
    report, _ = run(server, tmp_path, queries=[Q1])

    got = records(tmp_path / "2024-11.jsonl")
    assert [r["text"] for r in got] == [f"message {i}" for i in range(11, -1, -1)]
    # Window 1 sees posts 11..7 (hitsTotal 12), window 2 posts 7..3 (8), window 3 posts 3..0 (4).
    assert [(p["until"], p.get("cursor")) for p in server.searches()] == [
        (NOV_UNTIL, None),
        (NOV_UNTIL, "2"),
        (NOV_UNTIL, "4"),
        ("2024-11-08T12:00:00.001Z", None),
        ("2024-11-08T12:00:00.001Z", "2"),
        ("2024-11-08T12:00:00.001Z", "4"),
        ("2024-11-04T12:00:00.001Z", None),
        ("2024-11-04T12:00:00.001Z", "2"),
    ]
    assert report.get("request", "retried", "window_split") == 2
    assert report.get("post", "dropped", "duplicate_uri") == 0  # the overlap of two windows is not a duplicate
    assert got[-1]["raw_location"] == f"searchPosts q={Q1} since={NOV_SINCE} until=2024-11-04T12:00:00.001Z page=2"


@pytest.mark.parametrize(("n", "second_window"), [(230, 31), (200, 1)])
def test_windows_are_split_when_the_last_page_was_full(server, tmp_path, n, second_window):
    # No hitsTotal: a window whose cursor ends after a full page (100) may have been cut at the cap (200).
    server.posts = {Q1: _posts_every(n, timedelta(minutes=10))}
    server.cap, server.hits_total = 200, False
    report, _ = run(server, tmp_path, queries=[Q1])

    assert len(records(tmp_path / "2024-11.jsonl")) == n
    searches = server.searches()
    assert len(searches) == 3 and searches[2]["until"] == (
        datetime(2024, 11, 1, 12, tzinfo=UTC) + timedelta(minutes=10 * (n - 200), milliseconds=1)
    ).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert report.get("page", "kept", "search") == 3 and report.total("post", "dropped") == 0
    assert report.get("post", "kept") == n


# ----------------------------------------------------------------------------- resume
class Interrupted(Exception):
    """The job killed while it waits."""


def _interrupt(seconds: float) -> None:
    raise Interrupted


def test_an_interrupted_job_resumes_without_duplicates(server, tmp_path):
    server.posts, server.page_size = MONTH, 2
    run(server, tmp_path / "whole")
    whole = tmp_path / "whole" / "2024-11.jsonl"

    out = tmp_path / "resumed"
    # Q1's pages: [G,F] [E,D] [C,B] [A]; the third request fails and the job dies in its back-off.
    server.queue(SEARCH, 503, {"error": "ServiceUnavailable", "message": "try later"}, skip=2)
    before = len(server.requests)
    with pytest.raises(Interrupted):
        run(server, out, sleep=_interrupt)
    assert not (out / "2024-11.jsonl").exists()
    partial, state = out / "2024-11.jsonl.partial", out / "2024-11.jsonl.state.json"
    assert len(records(partial)) == 1 and state.exists()  # D (E, F and G were dropped)
    # the state names the dropped posts by post id, as the partial file names the kept ones: no at-uri
    dropped = [
        f"at://{DAVE}/app.bsky.feed.post/3kggg1",
        f"at://{DAVE}/app.bsky.feed.post/3kfff1",
        f"at://{CAROL}/app.bsky.feed.post/3keee1",
    ]
    assert json.loads(state.read_text(encoding="utf-8"))["dropped"] == [post_id_of(uri) for uri in dropped]
    with partial.open("a", encoding="utf-8") as handle:  # a line cut by a crash
        handle.write('{"source": "bluesky_fr", "post_id": "bsky_3f2a')

    between = len(server.requests)
    run(server, out)
    assert (out / "2024-11.jsonl").read_bytes() == whole.read_bytes()
    assert not partial.exists() and not state.exists()
    ids = [r["post_id"] for r in records(out / "2024-11.jsonl")]
    assert len(ids) == len(set(ids)) == 5
    resumed = [r.params for r in server.requests[between:] if r.nsid == SEARCH]
    assert [(p["q"], p.get("cursor")) for p in resumed] == [(Q1, "4"), (Q1, "6"), (Q2, None)]
    assert [r.nsid for r in server.requests[before:between]] == [CREATE] + [SEARCH] * 3
    assert CREATE not in {r.nsid for r in server.requests[between:]}  # the session was reused

    def posts_rows(path: Path) -> list:
        return [row for row in report_rows(path) if row[0] == "post"]

    assert posts_rows(out / "2024-11.report.csv") == posts_rows(tmp_path / "whole" / "2024-11.report.csv")


# ----------------------------------------------------------------------------- rate limits and failures
@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        (
            {"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(int(NOW.timestamp()) + 30)},
            30.0,
        ),
        ({"retry-after": "7"}, 7.0),
    ],
)
def test_a_429_is_waited_out_then_retried(server, tmp_path, headers, wait):
    server.posts = MONTH
    server.queue(SEARCH, 429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, headers)
    report, sleeps = run(server, tmp_path)
    assert sleeps == [wait]
    assert report.get("request", "retried", "rate_limited") == 1
    first, again = server.searches()[:2]
    assert first == again
    assert len(records(tmp_path / "2024-11.jsonl")) == 5


def test_a_search_that_answers_500_three_times_fails_in_one_line(server, tmp_path, caplog):
    server.posts = MONTH
    server.fail_queries = {Q2}
    with pytest.raises(InputError) as error:
        run(server, tmp_path)
    message = str(error.value)
    assert "\n" not in message and PASSWORD not in message
    assert f"q={Q2!r}" in message and f"since={NOV_SINCE} until={NOV_UNTIL}" in message and "500" in message
    assert [p["q"] for p in server.searches()] == [Q1, Q2, Q2, Q2]  # max_retries = 2
    assert not (tmp_path / "2024-11.jsonl").exists() and not (tmp_path / "2024-11.report.csv").exists()
    assert (tmp_path / "2024-11.jsonl.partial").exists() and (tmp_path / "2024-11.jsonl.state.json").exists()
    assert PASSWORD not in caplog.text


def test_back_off_doubles_between_retries_of_a_5xx(server, tmp_path):
    server.posts = MONTH
    server.fail_queries = {Q1}
    sleeps: list[float] = []
    with pytest.raises(InputError):
        run(server, tmp_path, sleep=sleeps.append, max_retries=3, backoff_s=0.5)
    assert sleeps == [0.5, 1.0, 2.0]


def test_a_refused_login_fails_in_one_line(server, tmp_path):
    wrong = "zzzz-zzzz-zzzz-zzzz"
    with pytest.raises(InputError, match="bluesky login refused for handle chercheuse.test") as error:
        run(server, tmp_path, environ={**ENV, "PERIVIGIL_BLUESKY_APP_PASSWORD": wrong})
    assert wrong not in str(error.value) and "\n" not in str(error.value)
    assert server.searches() == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("environ", "extra", "missing"),
    [
        ({}, {}, "PERIVIGIL_BLUESKY_HANDLE"),
        ({"PERIVIGIL_BLUESKY_HANDLE": "chercheuse.test"}, {}, "PERIVIGIL_BLUESKY_APP_PASSWORD"),
        (ENV, {"password_env": "MY_BSKY_PASSWORD"}, "MY_BSKY_PASSWORD"),
    ],
)
def test_a_missing_variable_is_named(tmp_path, environ, extra, missing):
    src = {
        "name": "bluesky_fr",
        "type": "bluesky",
        "service": "http://127.0.0.1:9",
        "queries": [Q1],
        "since": "2024-11",
        "until": "2024-11",
        **extra,
    }
    with pytest.raises(InputError, match=missing) as error:
        collect_bluesky(
            src,
            "2024-11",
            tmp_path / "2024-11.jsonl",
            tmp_path / "r.csv",
            environ=environ,
            sleep=lambda s: None,
            now=lambda: NOW,
        )
    assert "\n" not in str(error.value)


def test_a_period_outside_the_configured_months_is_refused(tmp_path):
    src = {
        "name": "bluesky_fr",
        "type": "bluesky",
        "service": "http://127.0.0.1:9",
        "queries": [Q1],
        "since": "2024-11",
        "until": "2024-12",
    }
    with pytest.raises(InputError, match="2025-01"):
        collect_bluesky(src, "2025-01", tmp_path / "x.jsonl", tmp_path / "r.csv", environ=ENV)


# ----------------------------------------------------------------------------- the session
def test_the_session_is_reused_by_the_next_job(server, tmp_path, caplog):
    server.posts = MONTH
    run(server, tmp_path, "2024-11")
    (first_token,) = server.access_tokens
    caplog.set_level(logging.WARNING)
    report, _ = run(server, tmp_path, "2024-12")  # nothing in December: not an error

    assert len(server.calls(CREATE)) == 1
    december = [r for r in server.calls(SEARCH) if r.params["since"].startswith("2024-12")]
    assert {r.headers["authorization"] for r in december} == {f"Bearer {first_token}"}
    assert (tmp_path / "2024-12.jsonl").read_bytes() == b"" and report.total("post", "kept") == 0
    assert "no post" in caplog.text


def test_an_expired_token_is_refreshed(server, tmp_path):
    server.posts, server.page_size = MONTH, 3
    server.queue(SEARCH, 400, {"error": "ExpiredToken", "message": "Token has expired"}, skip=1)
    report, sleeps = run(server, tmp_path)

    assert len(server.calls(CREATE)) == 1 and len(server.calls(REFRESH)) == 1
    login_refresh = server.calls(CREATE)[0]
    searches = server.calls(SEARCH)
    assert searches[1].params == searches[2].params  # the expired request, again
    assert searches[1].headers["authorization"] != searches[2].headers["authorization"]
    assert searches[2].headers["authorization"].removeprefix("Bearer ") in server.access_tokens
    assert server.calls(REFRESH)[0].headers["authorization"] != searches[0].headers["authorization"]
    session = (tmp_path / ".bluesky_session").read_text(encoding="utf-8")
    assert searches[2].headers["authorization"].removeprefix("Bearer ") in session
    assert PASSWORD not in session and login_refresh.body["password"] == PASSWORD
    assert report.get("request", "retried", "expired_token") == 1 and sleeps == []
    assert len(records(tmp_path / "2024-11.jsonl")) == 5


def test_a_session_the_server_no_longer_knows_leads_to_a_new_login(server, tmp_path):
    server.posts = MONTH
    run(server, tmp_path, "2024-11")
    server.access_tokens.clear()
    server.refresh_tokens.clear()  # e.g. the app password was revoked and created again
    run(server, tmp_path, "2024-12")
    assert len(server.calls(CREATE)) == 2 and len(server.calls(REFRESH)) == 1
