"""The route of a drug mention: a skin form or a suppository named near the name overrides the lexicon.

Study protocol §2: a skin gel of an NSAID counts ("any route, skin gels included"); a gel of
isotretinoin does not (``iso_t1`` is about the oral drug). The lexicon gives each name its
usual route (Ketum, Flector: skin; Advil: oral); "du Voltarène en gel", "un suppo de
kétoprofène" or "sur le genou" near the name tells the route of this mention.
"""

from __future__ import annotations

import re

SKIN = re.compile(
    r"\b(?:gel|gels|creme|cremes|pommade|patch|patchs|emplatre|emulgel|lotion|tube|application locale|"
    r"en local|sur (?:le|la|les|mon|ma|mes) (?:dos|genou|genoux|cheville|chevilles|epaule|bras|jambes?|hanche|"
    r"visage|boutons?|menton|lombaires|poignet|pieds?|peau))\b"
)
RECTAL = re.compile(r"\bsuppo(?:s|sitoires?)?\b")


def route_of(text: str, start: int, end: int, default: str) -> str:
    """A skin form or a suppository named near the drug overrides the lexicon's default route."""
    near = text[max(0, start - 30) : min(len(text), end + 30)]
    if SKIN.search(near):
        return "cutaneous"
    if RECTAL.search(near):
        return "rectal"
    return default
