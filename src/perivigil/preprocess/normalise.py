"""Unicode and whitespace normalisation of post text.

NFC (not NFKC): compatibility folding would rewrite superscripts and units
("m²", "1ᵉʳ") that later extractors read. On top of NFC, typographic
apostrophes become ASCII ones (so "l’ibuprofène" and "l'ibuprofène" match),
invisible characters go, spaces collapse, and line breaks are kept as
paragraph marks. Emoji are kept: they carry tone.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "\u2032": "'"})
_INVISIBLE = re.compile("[\u200b\u200c\u2060\ufeff\u00ad]")  # zero-width (not ZWJ: emoji), BOM, soft hyphen
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u202f\u2007\u2009\u200a\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """NFC, ASCII apostrophes, no invisible or control characters, single spaces, trimmed lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text.translate(_APOSTROPHES))
    text = _CONTROL.sub(" ", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
