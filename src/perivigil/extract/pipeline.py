"""Extract the facts of a post: its drug mentions, each with its cues, gestational age and dose.

One pure function per post (:meth:`Extractor.extract`) and a streaming writer of
``mentions.parquet`` (:func:`extract_posts_file`). Work per post: one matching-form
pass, one Aho–Corasick pass, a handful of regular expressions per sentence that
holds a drug; posts without any drug stop after the lexicon pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from perivigil.extract.cues import (FIRST_TRIMESTER, PREGNANT, exposure_of, person_of, route_of, timing_of)
from perivigil.extract.dose import Dose, find_dose
from perivigil.extract.drugs import DrugMatcher, DrugMention
from perivigil.extract.gestational_age import (DEFAULT_MONTHS_TO_SA, DEFAULT_TRIMESTERS, GestationalAge,
                                               find_gestational_ages)
from perivigil.extract.text import matching_form, sentence_index, sentence_spans

MAX_TEXT_CHARS = 20_000  # longer posts are read up to here (a 1 MB paste is not a post)
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")


@dataclass(frozen=True)
class MentionFacts:
    """A drug mention with everything the rule system needs, and its evidence."""

    mention: DrugMention
    evidence: str
    sentence: str
    route: str
    exposure: str
    person: str
    person_pregnant: bool | None
    timing: str
    first_trimester_cue: bool
    age: GestationalAge | None
    age_text: str | None
    dose: Dose | None
    dose_text: str | None


@dataclass(frozen=True)
class PostFacts:
    """All mentions of a post, and the post-level facts."""

    mentions: list[MentionFacts] = field(default_factory=list)
    ages: list[GestationalAge] = field(default_factory=list)
    pregnant: bool = False
    first_trimester_cue: bool = False
    truncated: bool = False


def _nearest_age(ages: list[GestationalAge], sentence: tuple[int, int], start: int) -> GestationalAge | None:
    """The age in the mention's sentence closest to it; else the closest age of the post."""
    in_sentence = [a for a in ages if sentence[0] <= a.start < sentence[1]]
    pool = in_sentence or ages
    if not pool:
        return None
    return min(pool, key=lambda a: (abs(a.start - start), a.start))


class Extractor:
    """Holds the lexicon matcher and the age conversion table; extracts the facts of posts."""

    def __init__(self, matcher: DrugMatcher, months_to_sa: Mapping[int, float] = DEFAULT_MONTHS_TO_SA,
                 trimesters: Mapping[int, tuple[float, float]] = DEFAULT_TRIMESTERS) -> None:
        self.matcher = matcher
        self.months_to_sa = months_to_sa
        self.trimesters = trimesters

    def extract(self, text: str) -> PostFacts:
        truncated = len(text) > MAX_TEXT_CHARS
        text = text[:MAX_TEXT_CHARS]
        if "<" in text:  # HTML fragments: tags become spaces, offsets stay valid
            text = _TAG.sub(lambda m: " " * len(m.group()), text)
        norm = matching_form(text)
        mentions = self.matcher.find(norm)
        if not mentions:
            return PostFacts(truncated=truncated)
        sentences = sentence_spans(norm)
        ages = find_gestational_ages(norm, self.months_to_sa, self.trimesters)
        pregnant = bool(ages) or bool(PREGNANT.search(norm))
        t1_post = bool(FIRST_TRIMESTER.search(norm))
        facts = []
        for mention in mentions:
            index = sentence_index(sentences, mention.start)
            sentence = sentences[index]
            previous = sentences[index - 1] if index > 0 else None
            following = ((sentences[index + 1][0], sentences[min(index + 2, len(sentences) - 1)][1])
                         if index + 1 < len(sentences) else None)
            window_end = sentences[index + 1][1] if following else sentence[1]
            person, person_pregnant = person_of(norm, sentence, previous, mention.start)
            age = _nearest_age(ages, sentence, mention.start)
            dose = find_dose(norm, mention.start, mention.end, window_end, mention.entry.unit_mg)
            exposure = exposure_of(norm, sentence, following, mention.start, mention.end)
            if exposure == "none" and dose is not None and (dose.units > 1 or dose.per_day > 1):
                exposure = "actual"  # "nurofen 200 x2", "400 matin, midi et soir": a counted intake
            facts.append(MentionFacts(
                mention=mention,
                evidence=text[mention.start:mention.end],
                sentence=text[sentence[0]:sentence[1]].strip(),
                route=route_of(norm, mention.start, mention.end, mention.entry.route),
                exposure=exposure,
                person=person,
                person_pregnant=person_pregnant,
                timing=timing_of(norm, sentence, pregnant, mention.start, mention.end),
                first_trimester_cue=t1_post,
                age=age,
                age_text=text[age.start:age.end] if age else None,
                dose=dose,
                dose_text=text[dose.start:dose.end] if dose else None,
            ))
        return PostFacts(facts, ages, pregnant, t1_post, truncated)
