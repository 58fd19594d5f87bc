"""Extract the exposure events of a post: one per drug mention, with its status, person, age and dose.

One pure function per post (:meth:`Extractor.extract`) and one flat row per event
(:func:`event_rows`: the columns of ``mentions.parquet``), which is all the rule system
reads (:mod:`perivigil.models.rules`). Work per post: one matching-form pass, one
Aho–Corasick pass; posts without any drug stop there, and only posts with a drug
candidate get the clause, time and cue analysis (:mod:`perivigil.extract.events`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from perivigil.extract.cue_words import cue_words
from perivigil.extract.cues import route_of
from perivigil.extract.drugs import DrugMatcher, DrugMention
from perivigil.extract.events import EventReader, ExposureEvent
from perivigil.extract.gestational_age import DEFAULT_MONTHS_TO_SA, DEFAULT_TRIMESTERS, find_gestational_ages
from perivigil.extract.text import matching_form, sentence_index, sentence_spans

MAX_TEXT_CHARS = 20_000  # longer posts are read up to here (a 1 MB paste is not a post)
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_CONTEXT = "names_needing_context_"
_CONTEXT_REACH = 40


@dataclass(frozen=True)
class PostEvents:
    """The exposure events of a post (one per drug mention), and the text they point into."""

    events: list[ExposureEvent] = field(default_factory=list)
    text: str = ""
    truncated: bool = False


@dataclass(frozen=True)
class EventRow:
    """One exposure event as a flat row: a row of ``mentions.parquet``, the rule system's input."""

    post_id: str
    mention_index: int
    start: int
    end: int
    evidence: str
    sentence: str
    surface: str
    inn: str
    atc: str
    drug_class: str
    route: str
    matched_by: str
    status: str
    person: str
    person_pregnant: bool | None
    timing: str
    first_trimester: bool
    gestational_age_sa: float | None
    gestational_age_min_sa: float | None
    gestational_age_max_sa: float | None
    gestational_age_source: str | None
    gestational_age_text: str | None
    dose_mg_day: float | None
    dose_text: str | None
    why: str


EVENT_COLUMNS: tuple[str, ...] = tuple(EventRow.__dataclass_fields__)


def posted_date(created_at: object) -> date | None:
    """The day a post was written, from an ISO 8601 string, a datetime or a date (``None`` when unknown)."""
    if created_at is None or created_at != created_at:  # None or NaN/NaT
        return None
    if isinstance(created_at, datetime):
        return created_at.date()
    if isinstance(created_at, date):
        return created_at
    try:
        return datetime.fromisoformat(str(created_at).replace("Z", "+00:00")).date()
    except ValueError:
        return None


class Extractor:
    """Holds the lexicon matcher, the age conversion table and the cue vocabulary; extracts events."""

    def __init__(
        self,
        matcher: DrugMatcher,
        months_to_sa: Mapping[int, float] = DEFAULT_MONTHS_TO_SA,
        trimesters: Mapping[int, tuple[float, float]] = DEFAULT_TRIMESTERS,
    ) -> None:
        self.matcher = matcher
        self.months_to_sa = months_to_sa
        self.trimesters = trimesters
        self.reader = EventReader(t1_max_sa=trimesters[1][1])
        words = cue_words()
        self._needs_context = {
            name[len(_CONTEXT) :]: pattern for name, pattern in words.patterns.items() if name.startswith(_CONTEXT)
        }

    def _in_context(self, norm: str, mentions: list[DrugMention]) -> list[DrugMention]:
        """Drops a name that is also an ordinary word ("iso") when no word of its use is near it in its sentence."""
        sentences = sentence_spans(norm)
        kept = []
        for mention in mentions:
            context = self._needs_context.get(mention.entry.surface)
            if context is not None:
                start, end = sentences[sentence_index(sentences, mention.start)]
                start, end = max(start, mention.start - _CONTEXT_REACH), min(end, mention.end + _CONTEXT_REACH)
                if not (context.search(norm, start, mention.start) or context.search(norm, mention.end, end)):
                    continue
            kept.append(mention)
        return kept

    def extract(self, text: str, posted: date | None = None) -> PostEvents:
        """The events of a post; ``posted`` (the post's date) turns calendar dates into ages."""
        truncated = len(text) > MAX_TEXT_CHARS
        text = text[:MAX_TEXT_CHARS]
        if "<" in text:  # HTML fragments: tags become spaces, offsets stay valid
            text = _TAG.sub(lambda m: " " * len(m.group()), text)
        norm = matching_form(text)
        mentions = self.matcher.find(norm)
        if mentions and any(m.entry.surface in self._needs_context for m in mentions):
            mentions = self._in_context(norm, mentions)
        if not mentions:
            return PostEvents(text=text, truncated=truncated)
        sentences = sentence_spans(norm)
        ages = find_gestational_ages(norm, self.months_to_sa, self.trimesters)
        events = self.reader.read(norm, mentions, sentences, ages, posted, route_of=route_of)
        return PostEvents(events, text, truncated)


def event_rows(post_id: str, post: PostEvents) -> list[EventRow]:
    """The flat rows of a post's events (offsets and texts into the post as written)."""
    rows = []
    text = post.text
    for index, event in enumerate(post.events):
        entry, age, dose, mention = event.mention.entry, event.age, event.dose, event.mention
        rows.append(
            EventRow(
                post_id=post_id,
                mention_index=index,
                start=mention.start,
                end=mention.end,
                evidence=text[mention.start : mention.end],
                sentence=text[event.sentence[0] : event.sentence[1]].strip(),
                surface=entry.surface,
                inn=entry.inn,
                atc=entry.atc,
                drug_class=entry.drug_class,
                route=event.route,
                matched_by=mention.matched_by,
                status=event.status,
                person=event.person,
                person_pregnant=event.pregnant,
                timing=event.timing,
                first_trimester=event.first_trimester,
                gestational_age_sa=age.sa if age else None,
                gestational_age_min_sa=age.sa_min if age else None,
                gestational_age_max_sa=age.sa_max if age else None,
                gestational_age_source=age.source if age else None,
                gestational_age_text=text[age.start : age.end] if age and age.end > age.start else None,
                dose_mg_day=dose.dose_mg_day if dose else None,
                dose_text=text[dose.start : dose.end] if dose else None,
                why="; ".join(event.why),
            )
        )
    return rows
