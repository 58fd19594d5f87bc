"""Read forum pages with a site profile: links to follow, and the posts of a thread page.

HTML is parsed by BeautifulSoup on lxml and queried with the profile's CSS
selectors (soupsieve). Nothing here fetches or writes: each function takes a
page's text and returns values, so every rule of extraction is unit-tested on
literal HTML.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urldefrag, urljoin

import dateparser
from bs4 import BeautifulSoup, NavigableString, Tag

from perivigil.collect.profile import FieldSpec, SiteProfile
from perivigil.collect.records import raw_record

BLOCK_TAGS = frozenset({"p", "div", "li", "blockquote", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "ul", "ol"})
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """One fetched page, as the parser sees it (made from a Scrapy response by the spider)."""

    url: str  # the final URL, after redirects
    status: int
    body: bytes
    content_type: str  # the Content-Type header ("" when none)
    fetched_at: str  # ISO 8601 with a time zone: becomes each post's collected_at


class PageError(Exception):
    """A page that cannot be read; ``reason`` is a short code for the report."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def declared_charset(page: Page) -> str:
    """The charset of the HTTP header, else of the ``<meta>`` tag, else UTF-8."""
    match = re.search(r"charset=([A-Za-z0-9_\-]+)", page.content_type or "")
    if match:
        return match.group(1)
    meta = _CHARSET.search(page.body[:4096])
    return meta.group(1).decode("ascii") if meta else "utf-8"


def decode_page(page: Page) -> str:
    """Decode a page strictly with its declared charset; a mismatch is a :class:`PageError`."""
    charset = declared_charset(page)
    try:
        return page.body.decode(charset)
    except LookupError:
        raise PageError("encoding_error", f"unknown charset {charset!r}") from None
    except UnicodeDecodeError as exc:
        raise PageError("encoding_error", f"not valid {charset} at byte {exc.start}") from None


def soup_of(text: str) -> BeautifulSoup:
    return BeautifulSoup(text, "lxml")


def element_text(element: Tag, exclude: tuple[str, ...] = ()) -> str:
    """Visible text of an element: one line per paragraph or ``<br>``, spaces collapsed."""
    if exclude:
        element = copy.copy(element)
        for selector in exclude:
            for node in element.select(selector):
                node.decompose()
    pieces: list[str] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # skips comments, CDATA, doctypes
                    pieces.append(str(child))
            elif isinstance(child, Tag):
                if child.name in ("script", "style"):
                    continue
                if child.name == "br":
                    pieces.append("\n")
                    continue
                block = child.name in BLOCK_TAGS
                if block:
                    pieces.append("\n")
                walk(child)
                if block:
                    pieces.append("\n")

    walk(element)
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in "".join(pieces).split("\n"))
    return "\n".join(line for line in lines if line)


def field_value(context: Tag, spec: FieldSpec) -> str | None:
    """Read one field from ``context`` per its spec; ``None`` when absent or empty."""
    element = context.select_one(spec.selector) if spec.selector else context
    if element is None:
        return None
    value: str | None = None
    if spec.attr:
        found = element.get(spec.attr)
        if isinstance(found, list):
            found = " ".join(found)
        if found is not None and str(found).strip():
            value = str(found).strip()
        elif not spec.text_fallback:
            return None
    if value is None:
        value = element_text(element, spec.exclude)
        if spec.strip_suffix and value.endswith(spec.strip_suffix):
            value = value[: -len(spec.strip_suffix)].rstrip()
    if value and spec.pattern:
        match = re.search(spec.pattern, value)
        value = match.group(1) if match else None
    return value or None


def links(soup: BeautifulSoup, selector: str, base_url: str) -> list[str]:
    """Absolute URLs (fragment removed) of the ``href`` of the elements matching ``selector``."""
    found: list[str] = []
    for element in soup.select(selector):
        href = element.get("href")
        if href:
            url = urldefrag(urljoin(base_url, str(href))).url
            if url not in found:
                found.append(url)
    return found


@lru_cache(maxsize=4096)
def parse_date(text: str, languages: tuple[str, ...], order: str, tz: str) -> str | None:
    """A date as ISO 8601 in UTC: ISO strings directly, else French text through ``dateparser``."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        settings = {
            "DATE_ORDER": order,
            "TIMEZONE": tz,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DAY_OF_MONTH": "first",
        }
        moment = dateparser.parse(text, languages=list(languages), settings=settings)
        if moment is None:
            return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class ThreadPage:
    """What a thread page gives: its posts and the posts it had to drop."""

    thread_id: str | None
    thread_title: str | None
    board: str | None
    posts: list[dict[str, str]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (post_id or "?", reason)


def parse_thread_page(soup: BeautifulSoup, page: Page, profile: SiteProfile, source: str) -> ThreadPage:
    """Extract the posts of one thread page as raw records (see :mod:`perivigil.collect.records`),
    fields in :data:`~perivigil.collect.records.FIELD_ORDER` (then the quote's, when the post quotes one).

    A post missing its id, author, date or text is not returned; it is listed in
    ``dropped`` with the reason, for the collection report.
    """
    result = ThreadPage(
        thread_id=field_value(soup, profile.thread_id),
        thread_title=field_value(soup, profile.thread_title),
        board=field_value(soup, profile.board),
    )
    if not result.thread_id:
        raise PageError("missing_thread_id", f"selector {profile.thread_id.selector!r} found nothing")
    page_url = urldefrag(page.url).url
    for element in soup.select(profile.post):
        post_id = field_value(element, profile.post_id)
        if not post_id:
            result.dropped.append(("?", "missing_post_id"))
            continue
        author = field_value(element, profile.author)
        raw_date = field_value(element, profile.created_at)
        body = field_value(element, profile.text)
        created_at = (
            parse_date(raw_date, profile.date_languages, profile.date_order, profile.timezone) if raw_date else None
        )
        reason = (
            "missing_author"
            if not author
            else "missing_text"
            if not body
            else "missing_date"
            if not raw_date
            else "unparsed_date"
            if not created_at
            else ""
        )
        if reason or not (author and body and created_at):  # (never the second alone: it narrows the types)
            result.dropped.append((post_id, reason))
            continue
        anchor = element.get("id")
        quote: dict[str, str] = {}
        if profile.quote_text is not None:
            quote_text = field_value(element, profile.quote_text)
            if quote_text:
                quote["quote_text"] = quote_text
                if profile.quote_author is not None:
                    quote["quote_author"] = field_value(element, profile.quote_author) or ""
        # A forum thread is flat (parent_id ""), declares no language; raw_location: the page read.
        result.posts.append(
            raw_record(
                source=source,
                post_id=post_id,
                thread_id=result.thread_id,
                parent_id="",
                thread_title=result.thread_title or "",
                board=result.board or "",
                url=f"{page_url}#{anchor}" if anchor else page_url,
                author=author,
                created_at=created_at,
                collected_at=page.fetched_at,
                language="",
                text=body,
                raw_location=page_url,
                **quote,
            )
        )
    return result
