"""The cue vocabularies of exposure events, read from ``perivigil/extract/resources/cues.yaml``.

Each list of phrases becomes one regular expression over the matching form of a post
(lower case, no accents): words are split at spaces and apostrophes, so the phrase
"j ai pris" finds "j'ai pris" and "j ai  pris", "oe" also finds "œ" ("sœur"), and each
phrase must stand on word boundaries ("pas" is not found in "passé"). Longer phrases are
tried first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from perivigil.errors import InputError
from perivigil.files import load_yaml

VOCABULARY = Path(__file__).resolve().parent / "resources/cues.yaml"  # package data, as edsnlp keeps its patterns


def phrase_pattern(phrases: list[str]) -> re.Pattern:
    """One expression for a list of phrases, on word boundaries, longest first."""
    parts = []
    for phrase in sorted({str(p) for p in phrases}, key=lambda p: (-len(p), p)):
        # the matching form keeps "œ" (one character: "sœur"), which forums also write "oe"
        words = [re.escape(w).replace("oe", "(?:oe|œ)") for w in re.split(r"[\s']+", phrase.strip()) if w]
        if words:
            parts.append(r"[\s']+".join(words))
    if not parts:
        return re.compile(r"(?!x)x")
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + r")(?![a-z0-9])")


@dataclass(frozen=True)
class CueWords:
    """Every list of the vocabulary file, compiled; attribute names follow the file's sections."""

    patterns: dict[str, re.Pattern]
    words: dict[str, frozenset[str]]

    def __getattr__(self, name: str) -> re.Pattern:
        try:
            return self.patterns[name]
        except KeyError:
            raise AttributeError(name) from None


@lru_cache(maxsize=4)
def cue_words(path: Path = VOCABULARY) -> CueWords:
    """The compiled vocabulary: ``cue_words().negation_words`` is the pattern of ``negation: words``."""
    raw = load_yaml(path, "cue vocabulary")
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a mapping of sections")
    patterns: dict[str, re.Pattern] = {}
    words: dict[str, frozenset[str]] = {}

    def add(name: str, value: object, where: str) -> None:
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            raise InputError(f"{path}: key '{where}' must be a list of phrases")
        patterns[name] = phrase_pattern([str(v) for v in value])
        words[name] = frozenset(str(v) for v in value)

    for section, content in raw.items():
        if isinstance(content, dict):
            for key, value in content.items():
                add(f"{section}_{key}", value, f"{section}.{key}")
        else:
            add(section, content, section)
    return CueWords(patterns, words)
