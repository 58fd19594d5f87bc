"""Daily dose in mg of a drug mention: strength × units taken × intakes a day.

Read around the mention (its sentence and the next one):

- strength: "500 mg", "1g", "1 000 mg" after or before the name, a bare number right
  after the name ("Aspégic 1000", "Kardégic 75"), or digits glued to it ("advil400");
  else the lexicon's unit strength when the name implies one (Alka-Seltzer: 324 mg);
- units: "2 Advil", "deux comprimés d'Aspro", "x2", "une aspirine";
- intakes a day: "3 fois par jour", "trois fois dans la journée", "matin, midi et soir",
  "matin et soir", "toutes les 6 heures", "x3/j".

A total stated without a strength ("1g d'aspirine") is taken as it is. Without any
strength the dose is unknown (``None``), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from perivigil.extract.gestational_age import NUMBER_WORDS

_COUNT_WORDS = {**NUMBER_WORDS, "un seul": 1, "une seule": 1}
_AMOUNT = r"(\d{1,2}\s\d{3}|\d+(?:[.,]\d+)?)\s?(mg|milligrammes?|g|gr|grammes?)\b"
AMOUNT_AFTER = re.compile(r"^[\s:(]*(?:(?:a|de|en|du)\s)?" + _AMOUNT)
BARE_AFTER = re.compile(
    r"^(?:\s?(\d{2,4})|\s(?:a\s)?(\d{2,4}))(?!\s?(?:%|sa\b|sg\b|semaines?|sem\b|mois|jours?|ans?\b|h\b|heures?|fois|ml\b|ui\b|pour cent|/))"
)
AMOUNT_BEFORE = re.compile(_AMOUNT + r"\s?(?:d\s?'\s?|de\s|du\s)?$")
UNIT_NOUN = r"(?:comprimes?|cachets?|gelules?|sachets?|capsules?|cps?|pilules?|suppos?(?:itoires?)?|doses?)"
COUNT_BEFORE = re.compile(
    r"(\d+|un seul|une seule|un|une|deux|trois|quatre|cinq|six)\s(?:"
    + UNIT_NOUN
    + r"\s(?:effervescents?\s)?(?:d\s?'\s?|de\s|du\s))?(?:l\s?')?$"
)
COUNT_AFTER = re.compile(r"\b(\d+|un seul|une seule|deux|trois|quatre|cinq|six)\s" + UNIT_NOUN)
TIMES_AFTER = re.compile(r"^[\s,]*(?:x|\*)\s?(\d)\b(?!\s?/?\s?j)")
PER_DAY = [
    (
        re.compile(
            r"(\d|un|une|deux|trois|quatre|cinq|six)\s(?:fois|prises?)\s(?:par\sjour|par\s24\s?h|dans\sla\sjournee|/\s?j\b|\ba\sjour)"
        ),
        None,
    ),
    (re.compile(r"x\s?(\d)\s?/\s?j(?:our)?\b"), None),
    (re.compile(r"matin[\s,]+midi[\s,]+et\s+soir|matin[\s,]+midi[\s,]+soir"), 3),
    (re.compile(r"matin\s+et\s+soir"), 2),
    (re.compile(r"toutes\s+les\s+(\d{1,2})\s?(?:h\b|heures)"), "hours"),
]


@dataclass(frozen=True)
class Dose:
    """What was read: strength of one unit (mg), units per intake, intakes a day, and the daily dose."""

    strength_mg: float | None
    units: float
    per_day: float
    dose_mg_day: float | None
    start: int
    end: int


def _mg(value: str, unit: str) -> float:
    number = float(value.replace(" ", "").replace(",", "."))
    return number * 1000 if unit.startswith("g") else number


def _count(word: str) -> float:
    return float(_COUNT_WORDS[word]) if word in _COUNT_WORDS else float(word)


def find_dose(text: str, start: int, end: int, window_end: int, unit_mg: float | None = None) -> Dose | None:
    """Dose of the mention at ``text[start:end]`` (matching form), reading up to ``window_end``."""
    after = text[end:window_end]
    before = text[max(0, start - 40) : start]
    strength: float | None = None
    total: float | None = None
    span_start, span_end = start, end
    if match := AMOUNT_AFTER.match(after):
        strength, span_end = _mg(match.group(1), match.group(2)), end + match.end()
    elif match := BARE_AFTER.match(after):
        value = float(match.group(1) or match.group(2))
        if 50 <= value <= 2000:
            strength, span_end = value, end + match.end()
    if strength is None and (match := AMOUNT_BEFORE.search(before)):
        total, span_start = _mg(match.group(1), match.group(2)), start - (len(before) - match.start())
    if strength is None and total is None:
        strength = unit_mg
    if strength is None and total is None:
        return None  # no strength: no dose, whatever the count
    units = 1.0
    if match := COUNT_BEFORE.search(before):
        units = _count(match.group(1))
        span_start = min(span_start, start - (len(before) - match.start()))
    elif match := TIMES_AFTER.match(text[span_end:window_end]):
        units = float(match.group(1))
    elif match := COUNT_AFTER.search(text[span_end:window_end]):
        units = _count(match.group(1))
    per_day = 1.0
    for pattern, frequency in PER_DAY:
        if match := pattern.search(text[span_end:window_end]):
            if frequency == "hours":
                per_day = 24.0 // float(match.group(1)) if 0 < float(match.group(1)) <= 24 else 1.0
            elif frequency is None:
                per_day = _count(match.group(1))
            else:
                per_day = float(frequency)
            break
    if strength is not None:
        daily = strength * units * per_day
    elif total is not None:
        daily = total * per_day
    else:  # returned above: neither a strength nor a total was read
        raise AssertionError("find_dose: a dose without strength or total")
    return Dose(strength, units, per_day, daily, span_start, span_end)
