"""Text forms for matching: lower case without accents, one character for one.

Every extractor matches on :func:`matching_form`, which keeps the length and
the offsets of the original text, so that an evidence span found on the
matching form points at the same characters of the post. Hyphens become
spaces ("anti-inflammatoire", "Alka-Seltzer", "bi-profénid" match their
spaced forms) and typographic apostrophes become ASCII ones.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import lru_cache

from perivigil.preprocess.mask import lower_same_length


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x00C0, 0x0250):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0].lower()
        if base != char and len(base) == 1 and base.isascii():
            table[code] = base
    table.update(
        {
            ord("-"): " ",
            ord("\u2010"): " ",
            ord("\u2011"): " ",
            ord("\u2013"): " ",
            ord("_"): " ",
            ord("\u2019"): "'",
            ord("\u2018"): "'",
            ord("\u00a0"): " ",
            ord("\u202f"): " ",
        }
    )
    return table


def matching_form(text: str) -> str:
    """Lower case, accents removed, hyphens as spaces; same length as ``text``."""
    return lower_same_length(text).translate(_table())


# A sentence ends at . ! ? … or a line break (forum posts often have no punctuation); an ellipsis followed by
# "et", "ou", "puis" or a partitive goes on with the same sentence ("du Spasfon, du paracétamol... et du Profénid").
_SENTENCE_END = re.compile(
    r"(?:\.{2,}|…)(?=\s|$)(?!\s+(?:et|ou|puis|du|de|des|d'|un|une)(?![a-z]))|"
    r"(?<!\.)(?!\.\.)[.!?][.!?…]*(?=\s|$)|\n+|"
    r"[\U0001F300-\U0001FAFF\u2600-\u27BF]+(?=\s)"
)  # an emoji ends an SMS-style sentence


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence, covering the whole text, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans or [(0, len(text))]


def sentence_index(spans: list[tuple[int, int]], position: int) -> int:
    """Index of the span containing ``position`` (spans are sorted; the last one if past the end)."""
    return max(0, bisect_right([start for start, _ in spans], position) - 1)
