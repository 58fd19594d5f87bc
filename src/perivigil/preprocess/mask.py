"""Mask personal data in post text: e-mails, phone numbers, URLs, @mentions and known handles.

Study protocol §7: these never leave the raw zone. Each kind becomes a
placeholder (``[EMAIL]``, ``[PHONE]``, ``[URL]``, ``[MENTION]``, ``[USER]``)
and is counted, so that the corpus report can say how much was masked.

Handles of the forum's own members are also masked where they appear in
running text ("merci lili_du_69"), with an Aho–Corasick automaton
(pyahocorasick) built once over every author of the corpus, matched
case-insensitively on word boundaries. Handles shorter than
:data:`MIN_HANDLE_LENGTH` are left alone: they are ordinary words too often.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import ahocorasick

URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"')\]]+")
EMAIL = re.compile(r"(?i)\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# French numbers: 0X XX XX XX XX or +33 / 0033 X XX XX XX XX, separated by spaces, dots or dashes.
PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)33[ .-]?(?:\(0\)[ .-]?)?|0)[1-9](?:[ .-]?\d{2}){4}(?!\d)")
MENTION = re.compile(r"(?<![\w@.])@[\w.-]*\w")
MIN_HANDLE_LENGTH = 4

PATTERNS = (
    ("urls", URL, "[URL]"),
    ("emails", EMAIL, "[EMAIL]"),
    ("phones", PHONE, "[PHONE]"),
    ("mentions", MENTION, "[MENTION]"),
)


def mask_pii(text: str) -> tuple[str, Counter]:
    """Mask URLs, e-mails, phone numbers and @mentions; return the text and counts per kind."""
    counts: Counter = Counter()
    for kind, pattern, placeholder in PATTERNS:
        text, n = pattern.subn(placeholder, text)
        counts[kind] += n
    return text, counts


def lower_same_length(text: str) -> str:
    """Lower-case each character, keeping one character for one (offsets stay valid)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class HandleMasker:
    """Masks known member handles in running text, on word boundaries, ignoring case."""

    def __init__(self, handles: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        count = 0
        for handle in sorted({lower_same_length(h.strip()) for h in handles}):
            if len(handle) >= MIN_HANDLE_LENGTH:
                self._automaton.add_word(handle, len(handle))
                count += 1
        self.size = count
        if count:
            self._automaton.make_automaton()

    def mask(self, text: str) -> tuple[str, int]:
        """Replace each known handle by ``[USER]``; return the text and how many were replaced."""
        if not self.size:
            return text, 0
        lowered = lower_same_length(text)
        spans: list[tuple[int, int]] = []
        for end, length in self._automaton.iter_long(lowered):
            start = end - length + 1
            before = lowered[start - 1] if start > 0 else " "
            after = lowered[end + 1] if end + 1 < len(lowered) else " "
            if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
                spans.append((start, end + 1))
        if not spans:
            return text, 0
        pieces, last = [], 0
        for start, stop in spans:
            pieces.append(text[last:start])
            pieces.append("[USER]")
            last = stop
        pieces.append(text[last:])
        return "".join(pieces), len(spans)
