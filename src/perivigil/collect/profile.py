"""Site profiles: the CSS selectors that tell the crawler where boards, threads and post fields are.

A profile is a small YAML file in ``config/sites/``; adding a forum means writing
one, not code. Unknown keys are refused, so a typo in a selector name fails at
load time with the file and the key, instead of yielding empty fields.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import soupsieve

from perivigil.errors import InputError
from perivigil.files import load_yaml


@dataclass(frozen=True)
class FieldSpec:
    """Where one value sits: an element (``selector``, relative to its context; none = the
    context itself), then its ``attr`` or its text. ``exclude`` lists selectors removed
    before the text is read (quotes inside a post body); ``strip_suffix`` is cut from the
    end of the text (" a écrit :"); ``pattern``, a regular expression with one group, keeps
    that group of the value (``t=(\\d+)`` reads a thread id out of a link)."""

    selector: str | None = None
    attr: str | None = None
    exclude: tuple[str, ...] = ()
    strip_suffix: str | None = None
    text_fallback: bool = False
    pattern: str | None = None


@dataclass(frozen=True)
class SiteProfile:
    """Selectors for one forum's pages."""

    name: str
    board_links: str
    board_pages: str
    thread_links: str
    thread_pages: str
    post: str
    thread_id: FieldSpec
    thread_title: FieldSpec
    board: FieldSpec
    post_id: FieldSpec
    author: FieldSpec
    created_at: FieldSpec
    text: FieldSpec
    quote_text: FieldSpec | None = None
    quote_author: FieldSpec | None = None
    date_languages: tuple[str, ...] = ("fr",)
    date_order: str = "DMY"
    timezone: str = "Europe/Paris"
    description: str = ""


_SELECTOR_KEYS = ("board_links", "board_pages", "thread_links", "thread_pages", "post")
_FIELD_KEYS = ("thread_id", "thread_title", "board", "post_id", "author", "created_at", "text")
_OPTIONAL_FIELD_KEYS = ("quote_text", "quote_author")
_FIELD_SPEC_KEYS = {f.name for f in fields(FieldSpec)}


DATE_ORDERS = ("DMY", "MDY", "YMD")


def check_selector(selector: Any, where: str) -> str:
    """``selector`` if it is a CSS selector soupsieve can compile, else a one-line error."""
    if not isinstance(selector, str) or not selector.strip():
        raise InputError(f"{where}: expected a CSS selector string, got {selector!r}")
    try:
        soupsieve.compile(selector)
    except soupsieve.SelectorSyntaxError as exc:
        reason = str(exc).splitlines()[0]
        raise InputError(f"{where}: {selector!r} is not a valid CSS selector ({reason})") from None
    return selector


def _field_spec(raw: Any, where: str) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec(selector=check_selector(raw, where))
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a selector string or a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _FIELD_SPEC_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_FIELD_SPEC_KEYS)}")
    values = dict(raw)
    if values.get("selector") is not None:
        check_selector(values["selector"], f"{where}.selector")
    values["exclude"] = tuple(check_selector(s, f"{where}.exclude") for s in values.get("exclude") or ())
    if values.get("pattern") is not None:
        try:
            groups = re.compile(values["pattern"]).groups
        except (re.error, TypeError) as exc:
            raise InputError(f"{where}.pattern: {values['pattern']!r} is not a regular expression ({exc})") from None
        if groups != 1:
            raise InputError(
                f"{where}.pattern: {values['pattern']!r} needs exactly one group (the value kept), it has {groups}"
            )
    return FieldSpec(**values)


def _check_dates(dates: dict[str, Any], origin: str) -> None:
    """The date settings a profile gives dateparser: known languages, a date order, a real time zone."""
    import dateparser

    if dates.get("order", "DMY") not in DATE_ORDERS:
        raise InputError(f"{origin}: key 'dates.order' is {dates['order']!r}; expected one of {list(DATE_ORDERS)}")
    zone = dates.get("timezone", "Europe/Paris")
    try:
        zoneinfo.ZoneInfo(str(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"{origin}: key 'dates.timezone': unknown time zone {zone!r} (an IANA name such as 'Europe/Paris')"
        ) from None
    languages = dates.get("languages", ["fr"])
    if not isinstance(languages, list) or not languages:
        raise InputError(f"{origin}: key 'dates.languages' must be a list of language codes such as [fr]")
    try:
        dateparser.parse("1 janvier 2020", languages=[str(code) for code in languages])
    except ValueError as exc:
        raise InputError(f"{origin}: key 'dates.languages': {exc}") from None


def profile_from_mapping(raw: dict[str, Any], origin: str) -> SiteProfile:
    """Build a profile from its YAML mapping; ``origin`` names the file in errors."""
    if not isinstance(raw, dict):
        raise InputError(f"{origin}: expected a mapping at the top level")
    selectors = raw.get("selectors")
    if not isinstance(selectors, dict):
        raise InputError(f"{origin}: key 'selectors' is missing or not a mapping")
    allowed = set(_SELECTOR_KEYS) | set(_FIELD_KEYS) | set(_OPTIONAL_FIELD_KEYS)
    unknown = sorted(set(selectors) - allowed)
    if unknown:
        raise InputError(f"{origin}: unknown key(s) selectors.{unknown}; allowed: {sorted(allowed)}")
    top_allowed = {"name", "description", "selectors", "dates"}
    unknown = sorted(set(raw) - top_allowed)
    if unknown:
        raise InputError(f"{origin}: unknown top-level key(s) {unknown}; allowed: {sorted(top_allowed)}")
    values: dict[str, Any] = {"name": raw.get("name"), "description": raw.get("description", "")}
    if not isinstance(values["name"], str) or not values["name"]:
        raise InputError(f"{origin}: key 'name' is missing or empty")
    for key in _SELECTOR_KEYS:
        if not isinstance(selectors.get(key), str) or not selectors[key].strip():
            raise InputError(f"{origin}: key 'selectors.{key}' is missing or not a CSS selector string")
        values[key] = check_selector(selectors[key], f"{origin}: key 'selectors.{key}'")
    for key in _FIELD_KEYS:
        if key not in selectors:
            raise InputError(f"{origin}: key 'selectors.{key}' is missing")
        values[key] = _field_spec(selectors[key], f"{origin}: key 'selectors.{key}'")
    for key in _OPTIONAL_FIELD_KEYS:
        if key in selectors:
            values[key] = _field_spec(selectors[key], f"{origin}: key 'selectors.{key}'")
    dates = raw.get("dates") or {}
    if not isinstance(dates, dict):
        raise InputError(f"{origin}: key 'dates' must be a mapping (languages, order, timezone)")
    unknown = sorted(set(dates) - {"languages", "order", "timezone"})
    if unknown:
        raise InputError(f"{origin}: unknown key(s) dates.{unknown}; allowed: ['languages', 'order', 'timezone']")
    _check_dates(dates, origin)
    values["date_languages"] = tuple(dates.get("languages", ("fr",)))
    values["date_order"] = dates.get("order", "DMY")
    values["timezone"] = dates.get("timezone", "Europe/Paris")
    return SiteProfile(**values)


def load_profile(path: Path) -> SiteProfile:
    """Read and check a site profile YAML file."""
    path = Path(path)
    return profile_from_mapping(load_yaml(path, "site profile"), str(path))
