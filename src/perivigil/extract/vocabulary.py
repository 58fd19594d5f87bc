"""Ordinary French words, so that no everyday word is read as a drug name.

A drug matcher that forgives misspellings also "finds" Contracné in *contraire* and
Celebrex in *célèbre*; a lexicon built from product names finds an NSAID in *acide*
(Acide tiaprofénique). Both are stopped by one question: is this word an ordinary
French word? The answer comes from `wordfreq` (Speer et al., LuminosoInsight/wordfreq
3.x: word frequencies from Wikipedia, subtitles, news, books, the web, Twitter and
Reddit, CC BY-SA 4.0), a well-kept package whose data ships with it (no download).

A word is ordinary when its Zipf frequency in French (log10 of its occurrences per
billion words) is at least :data:`ORDINARY_ZIPF`, accents set aside: the matching form
of a forum post has no accents, and "celebre" must be "célèbre". At 1.0 (once in a
billion words) every misspelling of a drug name tried here scores 0 ("nurofene",
"ibuprophene", "voltaren", "roacutane", "curacnee") while the words that sit near brand
names score 1.0 to 5.0 (conjugations of *contraindre* near Contracné, 1.1 to 1.9;
"interagis" near Intralgis, 1.6; "antalgique" 2.4; "acide" 4.2; "célèbre" 4.7; "contraire"
5.0). Drug names that pass 1.0 ("advil" 2.0, "aspirine" 3.0, "ibuprofène" 2.6) are matched
exactly, never through this test. ``tests/test_lexicon.py`` checks the matcher on every
word of wordfreq within two edits of a drug name (tests/data/ordinary_words_near_drug_names.txt).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ORDINARY_ZIPF = 1.0
_MIN_FREQUENCY = 10 ** (ORDINARY_ZIPF - 9)  # wordfreq's frequencies are shares of all words


def _plain(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def ordinary_words() -> frozenset[str]:
    """Lower-case French words without accents whose Zipf frequency is at least :data:`ORDINARY_ZIPF`."""
    from wordfreq import get_frequency_dict

    return frozenset(
        _plain(word)
        for word, frequency in get_frequency_dict("fr").items()
        if frequency >= _MIN_FREQUENCY and word.isalpha()
    )


def is_ordinary(word: str) -> bool:
    """Whether ``word`` (any case, with or without accents) is an ordinary French word."""
    return _plain(word.lower()) in ordinary_words()
