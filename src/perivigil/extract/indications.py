"""Why a drug was taken: the indications a post states (the "why" of the characterisation tables).

Hand-written patterns over the matching form of the post (lower case, no accents),
grouped into the indications the two situations' SmPCs name (isotretinoin: severe
acne; NSAIDs and analgesic aspirin: pain, fever, inflammation) and the reasons
forum posts give for them. A post may state several indications; one that states
none is ``not stated``. The scope is the sentence of each drug mention and the sentence
before it: writers often give the reason first ("ma sciatique me tue. J'ai pris du
Voltarène"), and a post about two drugs should not lend one drug's reason to the
other. Without a drug mention the scope is the whole post. No library fits:
edsnlp's matchers would need the same hand-written terms, and its disorder
pipelines are trained on clinical notes, not on forum French.

Low-dose aspirin prescribed against pre-eclampsia is listed as its own indication
(``preeclampsia_prevention``) so that a reader can tell it from analgesic use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from perivigil.extract.text import matching_form, sentence_index, sentence_spans

NOT_STATED = "not stated"

INDICATIONS: dict[str, re.Pattern[str]] = {
    "acne": re.compile(r"\b(?:acne|acnee|boutons?|peau grasse|kystes?|comedons?|points noirs|nodules)\b"),
    "headache": re.compile(r"\b(?:migraines?|mal de tete|maux de tete|mal a la tete|cephalees?)\b"),
    "back_or_joint_pain": re.compile(
        r"\b(?:mal (?:de|au|aux) (?:dos|reins|genoux?|hanches?|epaules?|nuque|cou)|lombalgies?|lumbago|"
        r"sciatiques?|cruralgies?|nerf sciatique|entorses?|tendinites?|torticolis|douleurs? (?:articulaires|"
        r"musculaires|ligamentaires)|symphyse|pubalgie|contractures?)\b"
    ),
    "dental_pain": re.compile(
        r"\b(?:rage de dents?|mal aux dents|mal de dents?|dents? de sagesse|"
        r"abces dentaire|dentiste|gencives?)\b"
    ),
    "fever_or_infection": re.compile(
        r"\b(?:fievre|grippe|etat grippal|rhume|angine|sinusite|otite|covid|"
        r"courbatures|bronchite|rhino|temperature a \d+)\b"
    ),
    "pelvic_or_uterine": re.compile(
        r"\b(?:contractions?|menace d'accouchement premature|map|col modifie|"
        r"regles douloureuses|endometriose|cystite|coliques? nephretiques?)\b"
    ),
    "preeclampsia_prevention": re.compile(
        r"\b(?:pre ?eclampsie|preeclampsie|toxemie|retard de croissance|"
        r"rciu|fausses? couches? a repetition|doppler)\b"
    ),
    "pain_unspecified": re.compile(
        r"\b(?:douleurs?|j'ai mal|jai mal|j'avais mal|tellement mal|trop mal|"
        r"tres mal|souffre|souffrais|douloureux|douloureuse)\b"
    ),
}


def indications(text: str) -> list[str]:
    """The indications ``text`` states, in the order of :data:`INDICATIONS`; ``[not stated]`` if none.

    ``pain_unspecified`` is given only when no more specific pain is stated.
    """
    form = matching_form(text)
    found = [name for name, pattern in INDICATIONS.items() if pattern.search(form)]
    specific_pain = {"headache", "back_or_joint_pain", "dental_pain", "pelvic_or_uterine"}
    if specific_pain.intersection(found) and "pain_unspecified" in found:
        found.remove("pain_unspecified")
    return found or [NOT_STATED]


def indications_near(text: str, positions: Iterable[int]) -> list[str]:
    """:func:`indications` of the sentences holding ``positions`` and of the sentence before each."""
    positions = list(positions)
    if not positions:
        return indications(text)
    spans = sentence_spans(text)
    chosen = sorted({i for p in positions for i in (sentence_index(spans, p) - 1, sentence_index(spans, p)) if i >= 0})
    return indications(" \n".join(text[spans[i][0] : spans[i][1]] for i in chosen))
