"""Collect one month of Bluesky posts matching the study's queries, resumably, into the raw zone.

One Snakemake job per source and calendar month (``period`` "YYYY-MM"): for each configured
query, ``app.bsky.feed.searchPosts`` with ``sort=latest``, ``since``/``until`` bounding the
month, ``limit=100``, paging with ``cursor``. Each post becomes a raw record
(:func:`perivigil.collect.records.raw_record`); the month's file takes its final name only
when every query is done.

Login. An app password (Bluesky: Settings → Privacy and security → App passwords) and the
account's handle come from the environment, in the variables the source names
(``handle_env``, ``password_env``). The password is sent to ``com.atproto.server.createSession``
and nowhere else: never written, logged or put in an error message. The session the server
returns (access and refresh tokens, no password) is exported with the SDK
(``Client.export_session_string``) into ``<output folder>/.bluesky_session`` (mode 0600, raw
zone), on every change (``Client.on_session_change``), and the next job imports it instead of
logging in again: ``createSession`` is limited to 30 calls per 5 minutes and 300 a day per
account. The SDK refreshes an access token that is about to expire (it reads the JWT's
``exp``); a token the server still calls expired or invalid (400 ``ExpiredToken``,
401) is refreshed once with ``com.atproto.server.refreshSession``, and when that is refused
too, the job logs in again with the password.

Date-window paging. A search can be paged through for about its first 10,000 results only;
past them the cursor disappears. So when a window's results may have hit that cap (the cursor
disappears after a full page, or ``hitsTotal`` says there were more than were received),
the window is split: ``until`` becomes the ``sortAt`` of the oldest post received plus one
millisecond (``until`` is exclusive and the search filters and sorts on ``sortAt``, the earlier
of ``createdAt`` and ``indexedAt``), and paging starts again, until a window ends below the
cap. Posts received again at the boundary of two windows are skipped silently; a window that
cannot be narrowed (more results than the cap in one millisecond) is counted as
``result_cap`` and logged. Posts are deduplicated by post id (one per at-uri) across queries
and windows.

Resumption. Records are appended to ``<output>.partial`` and flushed to disk after each page;
then ``<output>.state.json`` records the partial file's committed length, per query its
window, cursor and progress, the ids of the posts dropped (those kept are read back from the
partial file) and the report's counts. A restarted job truncates the partial file to its
committed length (dropping a line cut by a crash, or the records of a page the state never
recorded), and goes on from the recorded cursors: the same bytes as a run never interrupted.
A state that does not match the source (other queries, month or language), or that another
version of this module wrote (``STATE_VERSION``), starts the month again.

Errors. A 429 waits until ``ratelimit-reset`` (epoch seconds) or ``Retry-After``, then retries
(at most ``max_retries`` times, and never for longer than ``max_wait_s``); a 5xx or a network
failure is retried ``max_retries`` times with exponential back-off from ``backoff_s``. When the
retries run out, the job fails with one line naming the request (query and window): the partial
file and the state stay for the next run, the output never appears. A refused login fails with
"bluesky login refused for handle …".

Records: ``post_id`` the post id of the at-uri (:func:`post_id_of`, below); ``thread_id`` the
post id of the reply's root (its own when it is not a reply), so replies are grouped into
threads; ``parent_id`` the post id of the post it answers (``""`` when none); ``board``
"bluesky"; ``url`` ``https://bsky.app/profile/<did>/post/<rkey>``, the permalink that holds the
at-uri's two parts (``at://<did>/app.bsky.feed.post/<rkey>``) and, unlike one with the handle,
still leads to the post after the author changes handle; ``created_at``
``record.createdAt`` in UTC to the second (no time zone: UTC). Dropped and counted: an
unreadable date (``unparsed_date``), a date outside the month (``outside_period``), an empty
text (an image alone, ``empty_text``), a uri already kept (``duplicate_uri``), a uri that is
not a post's (``bad_uri``). The language is not filtered here: Bluesky's tag is wrong for
about a quarter of French posts and the study detects it again; ``lang`` in the source is
passed to the search when given. Logs carry counts, queries and windows, never handles,
texts or URLs (study protocol §7).

Post ids. An at-uri holds the author's DID, a stable account identifier, and ``post_id`` and
``thread_id`` go unchanged through preprocessing into ``results/`` (``posts.parquet``, the
annotation batches, the predictions...). So the ids are ``bsky_`` + the first 20 hex digits
of SHA-256 of the at-uri (80 bits: the odds of any collision among 10^9 posts are below
10^-6, and preprocessing refuses a post id seen twice). The same post always has the same
id, across months, queries and runs, and a reply's ``thread_id`` and ``parent_id`` are
computed from its root's and parent's at-uris, so they equal those posts' ``post_id``
whether or not those posts are collected. The at-uri stays in the raw zone only (in ``url``,
which preprocessing drops). The digest is unkeyed, on purpose:

- It cannot be inverted in practice: the rkey is a timestamp in microseconds with a 10-bit
  clock id, so guessing one post's at-uri from its date to the second means hashing about
  10^9 candidates for each of the network's tens of millions of DIDs; searching the post's
  text (which ``posts.parquet`` holds) finds it far more cheaply.
- What it allows, linking a post already found to its row (hash the uri of a known account's
  posts and look for them), is what the other sources' ids allow too: a forum post number or
  a Reddit fullname is the public id of a public post, and leads to it directly. Anyone who
  can find a post's uri has already found the post, its text and its author.
- A keyed digest would need the pseudonymisation key (``preprocess.pseudonym_key_env``) in
  every collection job, which today holds only the Bluesky credentials, and would tie the raw
  zone's ids to that key: a changed or lost key would split threads across months and break
  the resumption of a month. The raw files would no longer be the same bytes for everyone
  who collects the same posts.

If the study ever shares per-post tables without their texts beyond the study team, keying
every source's ids (not Bluesky's alone) in preprocessing is the place to do it.

Sources:

- SDK: MarshalX/atproto 0.0.73 (``atproto_client``): ``Client(base_url=…)``, ``login(login,
  password | session_string=…, fetch_bsky_profile=False)``, ``export_session_string``,
  ``on_session_change``, ``app.bsky.feed.search_posts``, ``com.atproto.server.refresh_session``;
  errors ``RateLimitExceededError`` (``reset_at``, ``retry_after``), ``NetworkError``,
  ``RequestException``, ``BadRequestError``, ``UnauthorizedError`` (``atproto_client/exceptions.py``,
  ``request.py``: 400, 401/403, 429, 409/413/502 and other statuses).
- Lexicons (bluesky-social/atproto ``lexicons/``): ``app/bsky/feed/searchPosts.json`` (q, sort
  latest|top, since inclusive and until exclusive on ``sortAt``, lang, limit 1–100, cursor;
  output cursor?, hitsTotal?, posts), ``app/bsky/feed/defs.json#postView``,
  ``app/bsky/feed/post.json`` (text, createdAt, langs, reply.root/parent strong refs),
  ``com/atproto/server/createSession.json`` and ``refreshSession.json`` (accessJwt, refreshJwt,
  handle, did).
- Rate limits: https://docs.bsky.app/docs/advanced-guides/rate-limits (PDS: 3,000 requests per
  5 minutes per IP; createSession 30 per 5 minutes and 300 a day per account; 429 with
  ``ratelimit-*`` headers).
- The 10,000-result cap and paging by date windows: medialab/minet pull request 1018 ("Paging
  bsky search post with cursor AND time"); cursor pagination needs an authenticated request:
  bluesky-social/atproto issues 2838 and 3583.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from atproto import Client, Request, Session
from atproto.exceptions import (
    AtProtocolError,
    BadRequestError,
    LoginRequiredError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    RequestException,
    TokenDecodeError,
    UnauthorizedError,
)

from perivigil.collect.crawler import CollectionReport
from perivigil.collect.records import raw_record
from perivigil.collect.run import write_report
from perivigil.collect.shards import months
from perivigil.errors import InputError
from perivigil.files import atomic_path
from perivigil.logs import Progress

LOG = logging.getLogger("perivigil.collect.bluesky")
T = TypeVar("T")

DEFAULT_SERVICE = "https://bsky.social"
HANDLE_ENV = "PERIVIGIL_BLUESKY_HANDLE"
PASSWORD_ENV = "PERIVIGIL_BLUESKY_APP_PASSWORD"
SESSION_FILE = ".bluesky_session"
PAGE_LIMIT = 100  # searchPosts' maximum
TIMEOUT_S = 30.0
STATE_VERSION = 2  # 2: post ids instead of at-uris (in the partial file and ``dropped``)
ONE_MS = timedelta(milliseconds=1)
POST_ID_PREFIX = "bsky_"
POST_ID_HEX_CHARS = 20  # 80 bits


def post_id_of(uri: str) -> str:
    """The post id of an at-uri: ``bsky_`` + 20 hex digits of its SHA-256 (the DID is not in it)."""
    return POST_ID_PREFIX + hashlib.sha256(uri.encode("utf-8")).hexdigest()[:POST_ID_HEX_CHARS]


# ----------------------------------------------------------------------------- months and dates
def _month(value: str, what: str) -> datetime:
    try:
        return datetime.strptime(str(value), "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise InputError(f"{what} {value!r} is not a month (YYYY-MM)") from None


def _next_month(moment: datetime) -> datetime:
    return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)


def periods(since: str, until: str) -> list[str]:
    """The months from ``since`` to ``until`` (both "YYYY-MM"), inclusive."""
    first, last = _month(since, "bluesky since"), _month(until, "bluesky until")
    if first > last:
        raise InputError(
            f"bluesky until {until!r} is before since {since!r}: expected since before or equal, until after"
        )
    return months(since, until)


def _moment(value: Any) -> datetime | None:
    """A datetime in UTC from an ISO 8601 string (no time zone: UTC), or None when it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def normalise_created_at(value: Any) -> str | None:
    """``createdAt`` as UTC ISO 8601 to the second ("2024-11-03T10:00:00+00:00"), or None if unreadable."""
    moment = _moment(value)
    return None if moment is None else moment.isoformat(timespec="seconds")


def _iso_ms(moment: datetime) -> str:
    """The form of ``since``/``until`` sent to the search: UTC, milliseconds (truncated), ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ----------------------------------------------------------------------------- configuration
@dataclass(frozen=True)
class Settings:
    """A bluesky source entry of the configuration, checked."""

    name: str
    service: str
    queries: tuple[str, ...]
    lang: str | None
    handle_env: str
    password_env: str
    max_retries: int
    backoff_s: float
    max_wait_s: float


def settings_of(source: Mapping[str, Any]) -> Settings:
    """Check a source entry; one-line errors name the source and the key."""
    name = str(source.get("name", "bluesky"))
    queries = source.get("queries")
    if not isinstance(queries, list) or not queries or not all(isinstance(q, str) and q.strip() for q in queries):
        raise InputError(f"source {name}: 'queries' must be a non-empty list of search strings")
    if len(set(queries)) != len(queries):
        raise InputError(f"source {name}: 'queries' lists a query twice")
    lang = source.get("lang")
    if lang is not None and (not isinstance(lang, str) or not lang.strip()):
        raise InputError(f"source {name}: 'lang' must be a language code such as 'fr', got {lang!r}")
    return Settings(
        name=name,
        service=str(source.get("service") or DEFAULT_SERVICE),
        queries=tuple(queries),
        lang=lang,
        handle_env=str(source.get("handle_env") or HANDLE_ENV),
        password_env=str(source.get("password_env") or PASSWORD_ENV),
        max_retries=int(source.get("max_retries", 4)),
        backoff_s=float(source.get("backoff_s", 1.0)),
        max_wait_s=float(source.get("max_wait_s", 900.0)),
    )


@dataclass(frozen=True)
class Credentials:
    handle: str
    password: str = field(repr=False)


def credentials_of(settings: Settings, environ: Mapping[str, str]) -> Credentials:
    """The handle and app password from the environment; a missing variable is named (its value never is)."""
    values = []
    for variable, what in ((settings.handle_env, "handle"), (settings.password_env, "app password")):
        value = environ.get(variable, "").strip()
        if not value:
            raise InputError(
                f"source {settings.name}: environment variable {variable} is not set: export the "
                f"Bluesky {what} of the collecting account there"
            )
        values.append(value)
    return Credentials(values[0].removeprefix("@"), values[1])


# ----------------------------------------------------------------------------- the session file
def read_session(path: Path, service: str, handle: str) -> str | None:
    """The exported session stored for this service and handle, if any."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or (stored.get("service"), stored.get("handle")) != (service, handle.lower()):
        return None
    session = stored.get("session")
    return session if isinstance(session, str) and session else None


def write_session(path: Path, service: str, handle: str, session: str) -> None:
    """Store an exported session (tokens, never the password), readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle_:
        json.dump({"service": service, "handle": handle.lower(), "session": session}, handle_)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- the client
def _detail(exc: BaseException, password: str) -> str:
    """An SDK error on one line, without the password (servers do not echo it; this makes sure)."""
    text = " ".join((str(exc) or type(exc).__name__).split())
    return text.replace(password, "***") if password else text


def _token_problem(exc: BaseException) -> bool:
    """Whether the server (or the SDK) says the session's tokens no longer work."""
    if isinstance(exc, (LoginRequiredError, TokenDecodeError)):
        return True
    if isinstance(exc, UnauthorizedError):
        return exc.response is not None and exc.response.status_code == 401
    if isinstance(exc, BadRequestError) and exc.response is not None:
        return getattr(exc.response.content, "error", None) in ("ExpiredToken", "InvalidToken")
    return False


def _transient(exc: BaseException) -> str | None:
    """The retry reason of a failure worth retrying (5xx, network), else None."""
    if isinstance(exc, RateLimitExceededError):
        return None
    if isinstance(exc, NetworkError):
        return "unreachable" if exc.response is None else "http_5xx"
    if isinstance(exc, RequestException) and exc.response is not None and exc.response.status_code >= 500:
        return "http_5xx"
    return None


class Bluesky:
    """The atproto SDK client, logged in from the environment, with the module's retry policy."""

    def __init__(
        self,
        settings: Settings,
        credentials: Credentials,
        session_path: Path,
        report: CollectionReport,
        *,
        sleep: Callable[[float], None],
        now: Callable[[], datetime],
    ) -> None:
        self.settings, self.credentials, self.session_path = settings, credentials, session_path
        self.report, self.sleep, self.now = report, sleep, now
        self.client = Client(base_url=settings.service, request=Request(timeout=TIMEOUT_S))
        self.client.on_session_change(self._save)

    def _save(self, event: Any, session: Session) -> None:
        write_session(self.session_path, self.settings.service, self.credentials.handle, session.export())

    def close(self) -> None:
        self.client.request.close()

    # -- login -----------------------------------------------------------------------------------
    def open(self) -> None:
        """Import the stored session, else log in with the app password."""
        stored = read_session(self.session_path, self.settings.service, self.credentials.handle)
        if stored:
            try:
                self.client.login(session_string=stored, fetch_bsky_profile=False)
                LOG.info(
                    "source %s: reusing the Bluesky session stored in %s", self.settings.name, self.session_path.name
                )
                return
            except (ValueError, AtProtocolError):
                LOG.warning("source %s: the stored Bluesky session is unreadable: logging in again", self.settings.name)
        self.login()

    def login(self) -> None:
        """``createSession`` with the app password; a refusal is one line naming the handle."""
        handle, password = self.credentials.handle, self.credentials.password
        try:
            self.call(
                lambda: self.client.login(handle, password, fetch_bsky_profile=False), "bluesky login", renew=False
            )
        except (BadRequestError, UnauthorizedError) as exc:
            raise InputError(
                f"bluesky login refused for handle {handle} ({_detail(exc, password)}): check "
                f"{self.settings.handle_env} and the app password in {self.settings.password_env}"
            ) from None
        except RequestErrorBase as exc:
            raise InputError(f"bluesky login for handle {handle} failed: {_detail(exc, password)}") from None
        LOG.info("source %s: logged in to %s", self.settings.name, self.settings.service)

    def renew(self) -> None:
        """Refresh the session with its refresh token; log in again when the server refuses that too."""
        try:
            old = Session.decode(self.client.export_session_string())
            fresh = self.call(
                lambda: self.client.com.atproto.server.refresh_session(
                    headers={"Authorization": f"Bearer {old.refresh_jwt}"}, ignore_session_check=True
                ),
                "bluesky session refresh",
                renew=False,
            )
            renewed = Session(fresh.handle, fresh.did, fresh.access_jwt, fresh.refresh_jwt, old.pds_endpoint)
            self.client.login(session_string=renewed.export(), fetch_bsky_profile=False)
            LOG.info("source %s: Bluesky session refreshed", self.settings.name)
        except (BadRequestError, UnauthorizedError, LoginRequiredError, TokenDecodeError, ValueError):
            LOG.info("source %s: the session cannot be refreshed: logging in again", self.settings.name)
            self.login()

    # -- requests --------------------------------------------------------------------------------
    def call(self, request: Callable[[], T], what: str, *, renew: bool = True) -> T:
        """``request()``, waiting out 429s, retrying 5xx and network failures, renewing an expired session.

        When the retries run out: one-line :class:`InputError` naming ``what``. Other SDK errors
        propagate for the caller to word.
        """
        settings, password = self.settings, self.credentials.password
        failures = waits = 0
        renewed = False
        while True:
            try:
                return request()
            except RateLimitExceededError as exc:
                waits += 1
                delay = self._rate_limit_wait(exc, waits)
                if waits > settings.max_retries or delay > settings.max_wait_s:
                    raise InputError(
                        f"{what}: rate limited ({_detail(exc, password)}), the limit resets in "
                        f"{delay:.0f} s; rerun later to resume"
                    ) from None
                self.report.add("request", "retried", "rate_limited")
                LOG.warning("%s: rate limited, waiting %.0f s", what, delay)
                self.sleep(delay)
            except AtProtocolError as exc:
                reason = _transient(exc)
                if reason is not None:
                    failures += 1
                    if failures > settings.max_retries:
                        raise InputError(
                            f"{what}: failed {failures} times ({_detail(exc, password)}); what was "
                            "collected so far is kept: rerun to resume"
                        ) from None
                    delay = settings.backoff_s * 2 ** (failures - 1)
                    self.report.add("request", "retried", reason)
                    LOG.warning(
                        "%s: %s (%s), retry %d of %d in %.1f s",
                        what,
                        reason,
                        _detail(exc, password),
                        failures,
                        settings.max_retries,
                        delay,
                    )
                    self.sleep(delay)
                elif renew and not renewed and _token_problem(exc):
                    renewed = True
                    reason = "expired_token" if "ExpiredToken" in str(exc) else "invalid_token"
                    self.report.add("request", "retried", reason)
                    LOG.info("%s: %s, renewing the session", what, reason)
                    self.renew()
                else:
                    raise

    def _rate_limit_wait(self, exc: RateLimitExceededError, waits: int) -> float:
        """Seconds until the limit resets: ``ratelimit-reset``, else ``Retry-After``, else the back-off."""
        if exc.reset_at is not None:
            delay = (exc.reset_at - self.now()).total_seconds()
        elif exc.retry_after is not None:
            delay = exc.retry_after
        else:
            delay = self.settings.backoff_s * 2 ** (waits - 1)
        return max(delay, 1.0)

    def search(self, params: dict[str, Any], what: str) -> Any:
        """One searchPosts page (the SDK's response model); failures as one line naming ``what``."""
        password = self.credentials.password
        try:
            return self.call(lambda: self.client.app.bsky.feed.search_posts(params=params), what)
        except RequestErrorBase as exc:
            raise InputError(f"{what}: refused ({_detail(exc, password)})") from None
        except AtProtocolError as exc:
            raise InputError(f"{what}: unreadable answer ({_detail(exc, password)})") from None


# ----------------------------------------------------------------------------- resumable state
@dataclass
class QueryState:
    """Where one query stands: its current window (``until``), cursor and what the window has given."""

    until: str
    cursor: str | None = None
    page: int = 0  # pages received in this window
    fetched: int = 0  # posts received in this window
    new: int = 0  # of them, not at the boundary with the previous window
    oldest: str | None = None  # the earliest sortAt received in this window (ISO, microseconds)
    oldest_uris: list[str] = field(default_factory=list)  # the posts at that sortAt
    boundary: list[str] = field(default_factory=list)  # the previous window's oldest posts, received again
    done: bool = False


@dataclass
class State:
    """What ``<output>.state.json`` keeps between runs."""

    key: dict[str, Any]
    committed: int = 0  # bytes of the partial file this state accounts for
    queries: dict[str, QueryState] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)  # post ids dropped (kept ones are in the partial file)
    counts: list[list[Any]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": STATE_VERSION,
                "key": self.key,
                "committed": self.committed,
                "queries": {q: asdict(s) for q, s in self.queries.items()},
                "dropped": self.dropped,
                "counts": self.counts,
            },
            ensure_ascii=False,
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> State:
        data = json.loads(text)
        if data.get("version") != STATE_VERSION:
            raise ValueError("another version")
        return cls(
            key=data["key"],
            committed=int(data["committed"]),
            queries={q: QueryState(**s) for q, s in data["queries"].items()},
            dropped=list(data["dropped"]),
            counts=list(data["counts"]),
        )


def _state_key(settings: Settings, period: str) -> dict[str, Any]:
    return {"source": settings.name, "period": period, "queries": list(settings.queries), "lang": settings.lang}


def _read_post_ids(path: Path, size: int) -> list[str] | None:
    """The post ids of the first ``size`` bytes of the partial file, or None when they are not whole records."""
    post_ids = []
    with path.open("rb") as handle:
        data = handle.read(size)
    if len(data) != size or (data and not data.endswith(b"\n")):
        return None
    for line in data.splitlines():
        try:
            post_ids.append(json.loads(line)["post_id"])
        except (ValueError, KeyError, TypeError):
            return None
    return post_ids


def resume(
    partial: Path, state_path: Path, key: dict[str, Any], first: QueryState, queries: tuple[str, ...]
) -> tuple[State, set[str]]:
    """The state to go on from and the post ids already seen; a fresh start when there is nothing usable."""
    fresh = State(key=key, queries={q: QueryState(**asdict(first)) for q in queries})
    state = None
    if state_path.exists():
        try:
            state = State.from_json(state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            LOG.warning("%s: unreadable: collecting the month again", state_path.name)
    if state is not None and state.key != key:
        LOG.warning("%s: written for other queries or another month: collecting the month again", state_path.name)
        state = None
    post_ids = _read_post_ids(partial, state.committed) if state is not None and partial.exists() else None
    if state is not None and post_ids is None:
        LOG.warning(
            "%s: does not hold the %d bytes its state recorded: collecting the month again",
            partial.name,
            state.committed,
        )
        state = None
    if state is None:
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(b"")
        return fresh, set()
    extra = partial.stat().st_size - state.committed
    if extra:
        LOG.warning("%s: dropping %d bytes written after the last recorded page", partial.name, extra)
        with partial.open("r+b") as handle:
            handle.truncate(state.committed)
    LOG.info("%s: resuming with %d posts kept", partial.name, len(post_ids or []))
    return state, set(post_ids or []) | set(state.dropped)


def _save_state(state: State, report: CollectionReport, path: Path) -> None:
    state.counts = [[*key, n] for key, n in sorted(report.counts.items()) if n]
    with atomic_path(path) as tmp:
        tmp.write_text(state.to_json(), encoding="utf-8")


# ----------------------------------------------------------------------------- posts to records
def _sort_at(view: Any) -> datetime | None:
    """The post's ``sortAt``: the earlier of ``createdAt`` and ``indexedAt`` that can be read."""
    moments = [m for m in (_moment(getattr(view.record, "created_at", None)), _moment(view.indexed_at)) if m]
    return min(moments) if moments else None


def to_record(
    view: Any, source: str, location: str, collected_at: str, month: tuple[datetime, datetime]
) -> tuple[dict[str, str] | None, str]:
    """A raw record from a ``postView``, or None and the reason it is dropped."""
    uri = str(view.uri)
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or parts[1] != "app.bsky.feed.post" or not parts[2]:
        return None, "bad_uri"
    record = view.record
    created_at = _moment(getattr(record, "created_at", None))
    if created_at is None:
        return None, "unparsed_date"
    if not month[0] <= created_at < month[1]:
        return None, "outside_period"
    text = getattr(record, "text", None)
    if not isinstance(text, str) or not text.strip():
        return None, "empty_text"
    reply = getattr(record, "reply", None)
    root = getattr(getattr(reply, "root", None), "uri", None) or uri
    parent = getattr(getattr(reply, "parent", None), "uri", None) or ""
    handle = str(getattr(view.author, "handle", "") or "")
    langs = getattr(record, "langs", None) or []
    return raw_record(
        source=source,
        post_id=post_id_of(uri),
        thread_id=post_id_of(str(root)),
        parent_id=post_id_of(str(parent)) if parent else "",
        thread_title="",
        board="bluesky",
        url=f"https://bsky.app/profile/{parts[0]}/post/{parts[2]}",
        author=handle or str(view.author.did),
        created_at=created_at.isoformat(timespec="seconds"),
        collected_at=collected_at,
        language=",".join(str(lang) for lang in langs),
        text=text,
        raw_location=location,
    ), ""


# ----------------------------------------------------------------------------- the month
@contextmanager
def _quiet_http() -> Iterator[None]:
    """httpx logs every request URL at INFO: keep the logs to counts, queries and windows."""
    loggers = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


@dataclass
class _Month:
    """One job: the searches of every query over one month, written to the partial file."""

    settings: Settings
    bluesky: Bluesky
    report: CollectionReport
    state: State
    seen: set[str]
    period: str
    bounds: tuple[datetime, datetime]
    now: Callable[[], datetime]

    @property
    def since(self) -> str:
        return _iso_ms(self.bounds[0])

    def run(self, partial: Path, state_path: Path) -> None:
        progress = Progress(f"collect {self.settings.name} {self.period}", "pages")
        with partial.open("ab") as out:
            for query in self.settings.queries:
                qs = self.state.queries[query]
                kept = self.report.total("post", "kept")
                if not qs.done:
                    LOG.info(
                        "source %s: searching q=%r since=%s until=%s%s",
                        self.settings.name,
                        query,
                        self.since,
                        qs.until,
                        f" from page {qs.page + 1}" if qs.page else "",
                    )
                while not qs.done:
                    lines = self._page(query, qs)
                    out.write(lines)
                    out.flush()
                    os.fsync(out.fileno())
                    self.state.committed = out.tell()
                    _save_state(self.state, self.report, state_path)
                    progress.advance(detail=f"{self.report.total('post', 'kept'):,} posts kept")
                LOG.info(
                    "source %s: q=%r done (%d posts kept by it in this run)",
                    self.settings.name,
                    query,
                    self.report.total("post", "kept") - kept,
                )
        progress.finish(detail=f"{self.report.total('post', 'kept'):,} posts kept")

    def _page(self, query: str, qs: QueryState) -> bytes:
        """Fetch the query's next page, take its posts, move the cursor or the window; the records' bytes."""
        params: dict[str, Any] = {
            "q": query,
            "sort": "latest",
            "since": self.since,
            "until": qs.until,
            "limit": PAGE_LIMIT,
        }
        if self.settings.lang:
            params["lang"] = self.settings.lang
        if qs.cursor:
            params["cursor"] = qs.cursor
        what = f"source {self.settings.name}: bluesky search q={query!r} since={self.since} until={qs.until}"
        response = self.bluesky.search(params, f"{what} page {qs.page + 1}")
        qs.page += 1
        self.report.add("page", "kept", "search")
        location = f"searchPosts q={query} since={self.since} until={qs.until} page={qs.page}"
        collected_at = self.now().astimezone(UTC).isoformat(timespec="seconds")
        lines = []
        for view in response.posts:
            record = self._take(view, qs, location, collected_at)
            if record is not None:
                lines.append(json.dumps(record, ensure_ascii=False) + "\n")
        self._advance(query, qs, len(response.posts), response.cursor, response.hits_total)
        return "".join(lines).encode("utf-8")

    def _take(self, view: Any, qs: QueryState, location: str, collected_at: str) -> dict[str, str] | None:
        uri = str(view.uri)
        qs.fetched += 1
        moment = _sort_at(view)
        if moment is not None:
            oldest = _moment(qs.oldest)
            if oldest is None or moment < oldest:
                qs.oldest, qs.oldest_uris = moment.isoformat(), [uri]
            elif moment == oldest:
                qs.oldest_uris.append(uri)
        if uri in qs.boundary:  # the previous window's oldest post, received again
            return None
        qs.new += 1
        post_id = post_id_of(uri)
        if post_id in self.seen:
            self.report.add("post", "dropped", "duplicate_uri")
            return None
        self.seen.add(post_id)
        record, reason = to_record(view, self.settings.name, location, collected_at, self.bounds)
        if record is None:
            self.report.add("post", "dropped", reason)
            self.state.dropped.append(post_id)
            return None
        self.report.add("post", "kept", "")
        return record

    def _advance(self, query: str, qs: QueryState, received: int, cursor: str | None, hits: int | None) -> None:
        """Next page, a narrower window (the results may have hit the cap) or the query's end."""
        if cursor:
            qs.cursor = cursor
            return
        capped = received >= PAGE_LIMIT or (hits is not None and hits > qs.fetched)
        oldest = _moment(qs.oldest)
        if not capped or qs.new == 0 or oldest is None:
            qs.done = True
            return
        until = datetime.fromisoformat(_iso_ms(oldest + ONE_MS).replace("Z", "+00:00"))
        if until >= _moment(qs.until) or until <= self.bounds[0]:  # type: ignore[operator]
            LOG.warning(
                "source %s: q=%r since=%s until=%s: more results than the search pages through, in one "
                "millisecond: the rest cannot be reached",
                self.settings.name,
                query,
                self.since,
                qs.until,
            )
            self.report.add("page", "dropped", "result_cap")
            qs.done = True
            return
        LOG.info(
            "source %s: q=%r since=%s until=%s: %d results received of %s: narrowing the window to until=%s",
            self.settings.name,
            query,
            self.since,
            qs.until,
            qs.fetched,
            hits if hits is not None else "more",
            _iso_ms(until),
        )
        self.report.add("request", "retried", "window_split")
        qs.until, qs.cursor, qs.page, qs.fetched, qs.new = _iso_ms(until), None, 0, 0, 0
        qs.boundary, qs.oldest, qs.oldest_uris = qs.oldest_uris, None, []


def _utc_now() -> datetime:
    return datetime.now(UTC)


def collect_bluesky(
    source: Mapping[str, Any],
    period: str,
    output: Path,
    report_path: Path,
    *,
    environ: Mapping[str, str] = os.environ,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = _utc_now,
) -> CollectionReport:
    """Collect the posts of ``period`` ("YYYY-MM") matching the source's queries into ``output`` (raw JSONL).

    Resumes ``<output>.partial`` and ``<output>.state.json`` when a previous run stopped; writes
    ``report_path`` (the collection report) and then ``output``, only when every query is done.
    """
    settings = settings_of(source)
    span = periods(str(source.get("since", period)), str(source.get("until", period)))
    if period not in span:
        raise InputError(
            f"source {settings.name}: period {period!r} is not one of the months from "
            f"{span[0]} to {span[-1]} (bluesky since/until)"
        )
    credentials = credentials_of(settings, environ)
    output, report_path = Path(output), Path(report_path)
    partial = output.with_name(output.name + ".partial")
    state_path = output.with_name(output.name + ".state.json")
    start = _month(period, "period")
    bounds = (start, _next_month(start))
    report = CollectionReport(settings.name)
    with _quiet_http():
        bluesky = Bluesky(settings, credentials, output.parent / SESSION_FILE, report, sleep=sleep, now=now)
        try:
            bluesky.open()
            first = QueryState(until=_iso_ms(bounds[1]))
            state, seen = resume(partial, state_path, _state_key(settings, period), first, settings.queries)
            for level, outcome, reason, n in state.counts:
                report.add(level, outcome, reason, n)
            LOG.info(
                "source %s: searching %d queries over %s (since=%s until=%s)",
                settings.name,
                len(settings.queries),
                period,
                _iso_ms(bounds[0]),
                _iso_ms(bounds[1]),
            )
            _Month(settings, bluesky, report, state, seen, period, bounds, now).run(partial, state_path)
        finally:
            bluesky.close()
    kept = report.total("post", "kept")
    if kept == 0:
        LOG.warning(
            "source %s: no post kept for %s (%s)",
            settings.name,
            period,
            report.reasons("post", "dropped") or "the searches found nothing",
        )
    else:
        LOG.info(
            "source %s: %d posts kept for %s; dropped: %s",
            settings.name,
            kept,
            period,
            report.reasons("post", "dropped") or "none",
        )
    write_report(report, report_path)
    os.replace(partial, output)
    state_path.unlink(missing_ok=True)
    return report
