"""Find drug mentions: exact surfaces (Aho–Corasick), then misspellings (fuzzy, guarded).

Exact matching runs an Aho–Corasick automaton (pyahocorasick) over the matching
form of the text (lower case, no accents), keeping the longest non-overlapping
matches that start on a word boundary. A surface may be followed by digits
("advil400": brand and strength glued together) or by a plural "s" ("2 advils"), but
not by other letters.

Fuzzy matching finds misspellings of the drugs of interest ("curacnee",
"ibuprofne", "roacuttanne") without flooding false positives: only surfaces marked
``fuzzy`` in the lexicon take part, only words of 6 letters or more are tried,
the first letter must agree, the optimal-string-alignment distance (rapidfuzz; a
transposition counts as one edit) must be at most 1 for words of up to 8 letters
and 2 beyond, and the word must not be an ordinary French word
(:mod:`perivigil.extract.vocabulary`: "contraire" is not Contracné, "célèbre" not
Celebrex). A word with the sound of a surface (:func:`sound_of`: "nurophen" for Nurofen)
is that surface, under the same guard. Candidates come from a SymSpell-style index of deletions, so a word
costs a few dictionary look-ups; the answer for each word is cached, and forum
vocabularies are small.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import ahocorasick
import pandas as pd
from rapidfuzz.distance import OSA

from perivigil.extract.vocabulary import ordinary_words

INTEREST = frozenset({"isotretinoin", "nsaid", "aspirin_analgesic", "aspirin_antiplatelet", "aspirin"})
_WORD = re.compile(r"[a-z]{6,}")


@dataclass(frozen=True)
class LexiconEntry:
    surface: str
    inn: str
    atc: str
    drug_class: str
    route: str
    unit_mg: float | None


@dataclass(frozen=True)
class DrugMention:
    """A drug named in a post: where, which entry, and how it was found (``exact`` or ``fuzzy``)."""

    start: int
    end: int
    entry: LexiconEntry
    matched_by: str


def max_edits(length: int) -> int:
    return 1 if length <= 8 else 2


_SPELT_AS_HEARD = (
    (re.compile(r"ph"), "f"),
    (re.compile(r"th"), "t"),
    (re.compile(r"y"), "i"),
    (re.compile(r"([a-z])\1+"), r"\1"),
)


def sound_of(word: str) -> str:
    """A word spelt as heard: ph → f, th → t, y → i, doubled letters single ("nurophen" → "nurofen",
    "roacutane" and "roaccutane" → "roacutane"); two spellings with one sound are one name."""
    for pattern, replacement in _SPELT_AS_HEARD:
        word = pattern.sub(replacement, word)
    return word


def _deletions(word: str, edits: int) -> set[str]:
    found = {word}
    frontier = {word}
    for _ in range(edits):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


class DrugMatcher:
    """Finds lexicon surfaces in matching-form text."""

    def __init__(self, lexicon: pd.DataFrame) -> None:
        self.entries: dict[str, LexiconEntry] = {}
        self._automaton = ahocorasick.Automaton()
        self._fuzzy_index: dict[str, set[str]] = {}
        self._sounds: dict[str, str] = {}
        for row in lexicon.itertuples(index=False):
            unit = None if pd.isna(row.unit_mg) else float(row.unit_mg)
            entry = LexiconEntry(row.surface, row.inn, row.atc, row.drug_class, row.route, unit)
            self.entries[row.surface] = entry
            self._automaton.add_word(row.surface, row.surface)
            if row.fuzzy and " " not in row.surface and len(row.surface) >= 6:
                for key in _deletions(row.surface, max_edits(len(row.surface))):
                    self._fuzzy_index.setdefault(key, set()).add(row.surface)
                self._sounds.setdefault(sound_of(row.surface), row.surface)
        self._automaton.make_automaton()
        # surfaces of several words by their first word, longest first: "aspirine" → "aspirine du rhone", …
        self._longer: dict[str, list[str]] = {}
        for surface in sorted(self.entries, key=len, reverse=True):
            if " " in surface:
                self._longer.setdefault(surface.split(" ")[0], []).append(surface)
        self._fuzzy_cache: dict[str, str | None] = {}
        self._ordinary = ordinary_words()

    def exact(self, text: str) -> list[DrugMention]:
        """Longest non-overlapping lexicon surfaces on word boundaries (digits may follow)."""
        found: list[DrugMention] = []
        for end, surface in self._automaton.iter_long(text):
            start = end - len(surface) + 1
            if start > 0 and text[start - 1].isalnum():
                continue
            stop = end + 1
            if stop < len(text) and text[stop] == "s" and (stop + 1 == len(text) or not text[stop + 1].isalpha()):
                stop += 1  # a plural: "2 advils", "des nurofens"
            elif stop < len(text) and text[stop].isalpha():
                continue
            found.append(DrugMention(start, stop, self.entries[surface], "exact"))
        return found

    def fuzzy_surface(self, word: str) -> str | None:
        """The surface a misspelt word stands for, or ``None``; a plural is read as its singular ("aspriines")."""
        if word in self._fuzzy_cache:
            return self._fuzzy_cache[word]
        if word.endswith("s") and len(word) > 6 and word not in self._ordinary:
            found = self._fuzzy_singular(word[:-1])
            if found is not None:
                self._fuzzy_cache[word] = found
                return found
        self._fuzzy_cache[word] = self._fuzzy_singular(word)
        return self._fuzzy_cache[word]

    def _fuzzy_singular(self, word: str) -> str | None:
        best: tuple[int, str] | None = None
        if word not in self.entries and word not in self._ordinary and sound_of(word) in self._sounds:
            best = (0, self._sounds[sound_of(word)])  # "nurophen", "roacutane", "ybuprofene": spelt as heard
        elif word not in self.entries and word not in self._ordinary:
            candidates: set[str] = set()
            for key in _deletions(word, max_edits(len(word))):
                candidates |= self._fuzzy_index.get(key, set())
            for surface in sorted(candidates):
                if surface[0] != word[0]:
                    continue
                distance = OSA.distance(word, surface)
                if distance <= max_edits(len(surface)) and (best is None or distance < best[0]):
                    best = (distance, surface)
        return best[1] if best else None

    def find(self, text: str) -> list[DrugMention]:
        """Exact mentions, then fuzzy ones in the words no exact mention covers; sorted by position."""
        mentions = self.exact(text)
        covered = [(m.start, m.end) for m in mentions]
        for match in _WORD.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in covered):
                continue
            surface = self.fuzzy_surface(match.group())
            if surface is not None:
                end = match.end()
                for longer in self._longer.get(surface, ()):  # "aspriines du rhone": a misspelt first word
                    rest = longer[len(surface) :]
                    if text.startswith(rest, end) and not text[end + len(rest) : end + len(rest) + 1].isalpha():
                        surface, end = longer, end + len(rest)
                        break
                mentions.append(DrugMention(match.start(), end, self.entries[surface], "fuzzy"))
        return sorted(mentions, key=lambda m: m.start)


def names_a_drug_of_interest(matcher: DrugMatcher) -> Callable[[str], bool]:
    """A test of raw text: does the lexicon find isotretinoin, an NSAID or aspirin in it (exact or fuzzy)?

    The optional pre-filter of a Reddit dump (``lexicon_filter: true``): it keeps a superset of
    what extraction later reads as a drug of interest (no context check of ambiguous names).
    """
    from perivigil.extract.text import matching_form

    def test(text: str) -> bool:
        return any(mention.entry.drug_class in INTEREST for mention in matcher.find(matching_form(text)))

    return test
