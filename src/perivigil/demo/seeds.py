"""Load the hand-written demo posts and the label-neutral fragments of the demo forum.

The seed posts (``resources/demo_forum/seeds/*.yaml``) are the only place where
the demo's truth is written by hand; everything else in the demo forum is derived
from them by the seeded generator of :mod:`perivigil.demo.forum`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from perivigil.errors import InputError

EXPOSURES = ("actual", "intended", "negated", "none")
PERSONS = ("self", "relative", "other")

TRUTH_DEFAULTS: dict[str, Any] = {
    "iso_t1": 0,
    "nsaid_late": 0,
    "exposure": "none",
    "person": None,
    "drug": None,
    "gestational_age_sa": None,
    "dose_mg_day": None,
}


@dataclass(frozen=True)
class Truth:
    """A post's reference labels and attributes (study protocol §2)."""

    iso_t1: int = 0
    nsaid_late: int = 0
    exposure: str = "none"
    person: str | None = None
    drug: str | None = None
    gestational_age_sa: float | None = None
    dose_mg_day: float | None = None


@dataclass(frozen=True)
class SeedPost:
    """One hand-written post with its truth."""

    id: str
    board: str
    case: str
    text: str
    truth: Truth


@dataclass(frozen=True)
class Fragments:
    """Label-neutral material the generator combines with the seed posts."""

    forum: dict[str, str]
    boards: list[dict[str, str]]
    titles: dict[str, list[str]]
    openers: list[str]
    closers: list[str]
    replies: list[str]
    author_stems: list[str]
    author_suffixes: list[str]
    signatures: list[str]
    contact_lines: list[str]
    emails: list[str]
    phones: list[str]
    urls: list[str]
    emoji: list[str] = field(default_factory=list)


def _truth_from_mapping(raw: dict[str, Any], where: str) -> Truth:
    unknown = sorted(set(raw) - set(TRUTH_DEFAULTS))
    if unknown:
        raise InputError(f"{where}: field 'truth' has unknown key(s) {unknown}")
    values = {**TRUTH_DEFAULTS, **raw}
    for label in ("iso_t1", "nsaid_late"):
        if values[label] not in (0, 1):
            raise InputError(f"{where}: field 'truth.{label}' must be 0 or 1, got {values[label]!r}")
    if values["exposure"] not in EXPOSURES:
        raise InputError(f"{where}: field 'truth.exposure' must be one of {EXPOSURES}, got {values['exposure']!r}")
    if values["person"] is not None and values["person"] not in PERSONS:
        raise InputError(f"{where}: field 'truth.person' must be one of {PERSONS}, got {values['person']!r}")
    if (values["iso_t1"] or values["nsaid_late"]) and values["exposure"] != "actual":
        raise InputError(f"{where}: a positive post needs truth.exposure 'actual' (study protocol §2)")
    return Truth(**values)


def load_seed_posts(directory: Path) -> list[SeedPost]:
    """Read every ``*.yaml`` of ``directory`` (sorted by name) into seed posts.

    Raises :class:`InputError` naming the file, the post and the field on any
    malformed entry, and on a duplicated post id.
    """
    posts: list[SeedPost] = []
    seen: dict[str, str] = {}
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise InputError(f"{directory}: no seed post file (*.yaml)")
    for path in files:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(entries, list):
            raise InputError(f"{path}: expected a list of posts, got {type(entries).__name__}")
        for index, entry in enumerate(entries, start=1):
            where = f"{path}, post #{index}"
            if not isinstance(entry, dict):
                raise InputError(f"{where}: expected a mapping")
            for key in ("id", "board", "case", "text"):
                if not isinstance(entry.get(key), str) or not entry[key].strip():
                    raise InputError(f"{where}: field '{key}' is missing or empty")
            where = f"{path}, post {entry['id']!r}"
            if entry["id"] in seen:
                raise InputError(f"{where}: field 'id' duplicates a post of {seen[entry['id']]}")
            seen[entry["id"]] = str(path)
            truth = _truth_from_mapping(entry.get("truth") or {}, where)
            posts.append(SeedPost(entry["id"], entry["board"], entry["case"], entry["text"].strip(), truth))
    return posts


def load_fragments(path: Path) -> Fragments:
    """Read the label-neutral fragments file."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    try:
        return Fragments(**raw)
    except TypeError as exc:
        raise InputError(f"{path}: {exc}") from exc
