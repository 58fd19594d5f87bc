"""A small XRPC server on 127.0.0.1 that plays Bluesky for the connector's tests.

It serves the three methods the connector calls, with the JSON shapes of their
published lexicons (bluesky-social/atproto, ``lexicons/com/atproto/server/createSession.json``,
``refreshSession.json`` and ``lexicons/app/bsky/feed/searchPosts.json``):

- ``POST /xrpc/com.atproto.server.createSession`` ``{identifier, password}`` →
  ``{accessJwt, refreshJwt, handle, did}``; a wrong password → 401 ``AuthenticationRequired``;
- ``POST /xrpc/com.atproto.server.refreshSession`` (``Authorization: Bearer <refreshJwt>``) →
  new tokens (the old refresh token stops working, as on Bluesky);
- ``GET /xrpc/app.bsky.feed.searchPosts?q&sort&since&until&lang&limit&cursor`` (``Authorization:
  Bearer <accessJwt>``) → ``{posts: [postView], cursor?, hitsTotal?}``, newest first.

Search behaves like Bluesky's: ``since`` (inclusive) and ``until`` (exclusive) filter on the
post's ``sortAt`` (the earlier of ``record.createdAt`` and ``indexedAt``), and only the first
``cap`` results of a query can be paged through (10,000 on Bluesky, a handful here), so a
client must narrow its date window to see the rest. ``hitsTotal`` counts every match.

Tests script it: ``posts[q]`` the post views a query matches, ``page_size`` and ``cap``,
``queue(nsid, status, body, headers)`` one-off answers (a 429, a 400 ``ExpiredToken``,
a 503), ``fail_queries`` queries that answer 500 forever. Every request is recorded in
``requests`` (method, query parameters, headers, JSON body).

Tokens are JWTs (unsigned: the client only reads ``exp`` to refresh ahead of expiry).
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlsplit

SEARCH = "app.bsky.feed.searchPosts"
CREATE = "com.atproto.server.createSession"
REFRESH = "com.atproto.server.refreshSession"
DID = "did:plc:researcher0000000000000"


def post_view(
    did: str,
    handle: str,
    rkey: str,
    text: str,
    created_at: str | None,
    *,
    indexed_at: str | None = None,
    langs: list[str] | None = None,
    root: str | None = None,
    parent: str | None = None,
) -> dict[str, Any]:
    """A ``app.bsky.feed.defs#postView`` as searchPosts returns it (``root``/``parent``: at-uris)."""
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text}
    if created_at is not None:
        record["createdAt"] = created_at
    if langs is not None:
        record["langs"] = langs
    if root is not None:
        record["reply"] = {"root": {"uri": root, "cid": "bafyroot"}, "parent": {"uri": parent or root, "cid": "bafyp"}}
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": f"bafy{rkey}",
        "author": {"did": did, "handle": handle, "displayName": handle.split(".")[0].title()},
        "record": record,
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 0,
        "quoteCount": 0,
        "indexedAt": indexed_at or created_at or "2000-01-01T00:00:00.000Z",
        "labels": [],
    }


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sort_at(view: dict[str, Any]) -> datetime:
    """The post's ``sortAt``: the earlier of its ``createdAt`` and ``indexedAt``."""
    moments = [m for m in (_moment(view["record"].get("createdAt")), _moment(view["indexedAt"])) if m]
    return min(moments)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@dataclass
class Recorded:
    """One request the server received."""

    nsid: str
    method: str
    params: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class XrpcServer:
    """The scripted server; :meth:`start` it, then point the client at :attr:`url`."""

    identifier: str = "chercheuse.test"
    password: str = "abcd-efgh-ijkl-mnop"
    posts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page_size: int | None = None  # at most this many posts a page (None: the client's limit)
    cap: int | None = None  # results a query can page through (None: all)
    hits_total: bool = True  # send hitsTotal
    fail_queries: set[str] = field(default_factory=set)  # these queries answer 500, always
    requests: list[Recorded] = field(default_factory=list)
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    _queued: dict[str, deque] = field(default_factory=dict)
    _serials: Any = field(default_factory=count)

    # -- scripting -------------------------------------------------------------------------------
    def queue(
        self, nsid: str, status: int, body: dict[str, Any], headers: dict[str, str] | None = None, skip: int = 0
    ) -> None:
        """Answer the call to ``nsid`` that comes after ``skip`` more calls with this, once."""
        self._queued.setdefault(nsid, deque()).append([skip, status, body, headers or {}])

    def calls(self, nsid: str) -> list[Recorded]:
        return [r for r in self.requests if r.nsid == nsid]

    def searches(self) -> list[dict[str, str]]:
        """The parameters of every searchPosts request, in order."""
        return [r.params for r in self.calls(SEARCH)]

    # -- tokens ----------------------------------------------------------------------------------
    def _token(self, scope: str) -> str:
        now = int(datetime.now(UTC).timestamp())
        payload = {"scope": scope, "sub": DID, "iat": now, "exp": now + 7200, "jti": str(next(self._serials))}
        return f"{_b64({'typ': 'JWT', 'alg': 'none'})}.{_b64(payload)}.c2ln"

    def _session(self) -> dict[str, Any]:
        access, refresh = self._token("com.atproto.appPass"), self._token("com.atproto.refresh")
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.identifier, "did": DID, "active": True}

    # -- answers ---------------------------------------------------------------------------------
    def answer(
        self, nsid: str, method: str, params: dict[str, str], headers: dict[str, str], body: dict[str, Any] | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        self.requests.append(Recorded(nsid, method, params, headers, body))
        queued = self._queued.get(nsid)
        if queued:
            if queued[0][0] > 0:
                queued[0][0] -= 1
            else:
                _, status, reply, extra = queued.popleft()
                return status, reply, extra
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        if nsid == CREATE and method == "POST":
            if body is None or body.get("identifier") != self.identifier or body.get("password") != self.password:
                return 401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, {}
            return 200, self._session(), {}
        if nsid == REFRESH and method == "POST":
            if bearer not in self.refresh_tokens:
                return 400, {"error": "ExpiredToken", "message": "Token has been revoked"}, {}
            self.refresh_tokens.discard(bearer)
            return 200, self._session(), {}
        if nsid == SEARCH and method == "GET":
            if bearer not in self.access_tokens:
                return 401, {"error": "AuthenticationRequired", "message": "Authentication Required"}, {}
            if params.get("q") in self.fail_queries:
                return 500, {"error": "InternalServerError", "message": "Internal Server Error"}, {}
            return 200, self._search(params), {}
        return 404, {"error": "MethodNotImplemented", "message": "Method Not Implemented"}, {}

    def _search(self, params: dict[str, str]) -> dict[str, Any]:
        since, until = _moment(params.get("since", "0001-01-01")), _moment(params.get("until", "9999-01-01"))
        matches = [v for v in self.posts.get(params["q"], []) if since <= sort_at(v) < until]
        matches.sort(key=lambda v: (sort_at(v), v["uri"]), reverse=True)
        visible = matches[: self.cap] if self.cap is not None else matches
        offset = int(params.get("cursor") or 0)
        size = min(int(params.get("limit", 25)), self.page_size or 100)
        page = visible[offset : offset + size]
        reply: dict[str, Any] = {"posts": page}
        if offset + len(page) < len(visible):
            reply["cursor"] = str(offset + len(page))
        if self.hits_total:
            reply["hitsTotal"] = len(matches)
        return reply

    # -- serving ---------------------------------------------------------------------------------
    def start(self) -> XrpcServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                nsid = parts.path.removeprefix("/xrpc/")
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, reply, extra = server.answer(nsid, method, params, headers, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
