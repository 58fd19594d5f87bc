"""Write tests/data/ordinary_words_near_drug_names.txt: French words that a drug matcher could mistake.

Usage: python tools/ordinary_words_near_drug_names.py > tests/data/ordinary_words_near_drug_names.txt

Every word of wordfreq's French list (Zipf frequency >= 1.0, 4 letters or more) within two
edits (optimal string alignment) of a one-word lexicon surface of a drug of interest, with the
same first letter, except the words the lexicon itself names (the drug names: "aspirine",
"ibuprofène"). tests/test_lexicon.py checks that none of them is read as a drug of interest.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

from rapidfuzz.distance import OSA
from wordfreq import get_frequency_dict

from perivigil.config import load_config
from perivigil.extract.drugs import INTEREST, DrugMatcher
from perivigil.extract.run import lexicon_from_config


def _plain(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)).lower()


def main() -> None:
    config = load_config(Path("config/config.yaml"), Path("workflow/schemas/config.schema.yaml"))
    lexicon = lexicon_from_config(config)
    exact = DrugMatcher(lexicon)
    surfaces = [
        s for s, c in zip(lexicon["surface"], lexicon["drug_class"]) if c in INTEREST and " " not in s and len(s) >= 4
    ]
    print("# French words near the name of a drug of interest (wordfreq 3.1, Zipf >= 1.0); see the tool's docstring")
    for word, frequency in sorted(get_frequency_dict("fr").items()):
        plain = _plain(word)
        if not word.isalpha() or len(word) < 4 or math.log10(frequency * 1e9) < 1.0:
            continue
        if not any(
            abs(len(s) - len(plain)) <= 2 and s[0] == plain[0] and OSA.distance(plain, s) <= 2 for s in surfaces
        ):
            continue
        if any(
            m.entry.drug_class in INTEREST and (m.start, m.end) == (0, len(plain)) and m.matched_by == "exact"
            for m in exact.find(plain)
        ):
            continue  # the word is a drug name the lexicon holds
        print(word)


if __name__ == "__main__":
    main()
