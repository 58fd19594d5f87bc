"""Site profiles: the CSS selectors that tell the crawler where boards, threads and post fields are.

A profile is a small YAML file in ``config/sites/``; adding a forum means writing
one, not code. Unknown keys are refused, so a typo in a selector name fails at
load time with the file and the key, instead of yielding empty fields.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from perivigil.errors import InputError


@dataclass(frozen=True)
class FieldSpec:
    """Where one value sits: an element (``selector``, relative to its context; none = the
    context itself), then its ``attr`` or its text. ``exclude`` lists selectors removed
    before the text is read (quotes inside a post body); ``strip_suffix`` is cut from the
    end of the text (" a écrit :")."""

    selector: str | None = None
    attr: str | None = None
    exclude: tuple[str, ...] = ()
    strip_suffix: str | None = None
    text_fallback: bool = False


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


def _field_spec(raw: Any, where: str) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec(selector=raw)
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected a selector string or a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _FIELD_SPEC_KEYS)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_FIELD_SPEC_KEYS)}")
    values = dict(raw)
    values["exclude"] = tuple(values.get("exclude") or ())
    return FieldSpec(**values)


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
        values[key] = selectors[key]
    for key in _FIELD_KEYS:
        if key not in selectors:
            raise InputError(f"{origin}: key 'selectors.{key}' is missing")
        values[key] = _field_spec(selectors[key], f"{origin}: key 'selectors.{key}'")
    for key in _OPTIONAL_FIELD_KEYS:
        if key in selectors:
            values[key] = _field_spec(selectors[key], f"{origin}: key 'selectors.{key}'")
    dates = raw.get("dates") or {}
    unknown = sorted(set(dates) - {"languages", "order", "timezone"})
    if unknown:
        raise InputError(f"{origin}: unknown key(s) dates.{unknown}; allowed: ['languages', 'order', 'timezone']")
    values["date_languages"] = tuple(dates.get("languages", ("fr",)))
    values["date_order"] = dates.get("order", "DMY")
    values["timezone"] = dates.get("timezone", "Europe/Paris")
    return SiteProfile(**values)


def load_profile(path: Path) -> SiteProfile:
    """Read and check a site profile YAML file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: cannot read site profile: {exc}".replace("\n", " ")) from exc
    return profile_from_mapping(raw, str(path))
