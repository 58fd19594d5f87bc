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


_SEPARATOR = "\x00"  # between two words of a phrase: spaces or apostrophes in the text
_OE = "\x01"  # "oe", which the matching form may also hold as "œ"


def phrase_pattern(phrases: list[str]) -> re.Pattern:
    """One expression for a list of phrases, on word boundaries, the longest phrase first where several
    start at the same place. Built as a trie ("pris|prise|prises" → "pris(?:es?)?"): the regex engine then
    reads each character once instead of trying every phrase in turn, which is most of the extraction's
    time on a large corpus."""
    trie: dict = {}
    for phrase in {str(p) for p in phrases}:
        words = [w for w in re.split(r"[\s']+", phrase.strip()) if w]
        if not words:
            continue
        node = trie
        for token in _SEPARATOR.join(w.replace("oe", _OE) for w in words):
            node = node.setdefault(token, {})
        node[""] = {}  # a phrase ends here
    if not trie:
        return re.compile(r"(?!x)x")
    return re.compile(r"(?<![a-z0-9])(?:" + _trie_pattern(trie) + r")(?![a-z0-9])")


def _trie_pattern(node: dict) -> str:
    """The expression of a trie node: its branches, longer ones before the end of a phrase."""
    branches = []
    for token in sorted(t for t in node if t):
        head = {_SEPARATOR: r"[\s']+", _OE: "(?:oe|œ)"}.get(token, re.escape(token))
        branches.append(head + _trie_pattern(node[token]))
    if "" in node:  # a shorter phrase ends here: tried after the longer ones (greedy)
        if not branches:
            return ""
        return "(?:" + "|".join(branches) + ")?"
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


@dataclass(frozen=True)
class CueWords:
    """Every list of the vocabulary file, compiled; attribute names follow the file's sections."""

    patterns: dict[str, re.Pattern]
    words: dict[str, frozenset[str]]

    def __post_init__(self) -> None:
        for name, pattern in self.patterns.items():  # plain attributes: read millions of times a corpus
            object.__setattr__(self, name, pattern)

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
