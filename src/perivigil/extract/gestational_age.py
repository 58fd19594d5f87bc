"""Gestational age in French posts, normalised to weeks of amenorrhoea (SA).

Study protocol §3: SA count from the last period, SG (semaines de grossesse) from
conception, so SA = SG + 2; "semaines" alone is ambiguous (±2 weeks): it is kept as
SA and flagged. Months convert at the *end* of the month with the French obstetric
table (1 → 6, 2 → 10, 3 → 15, 4 → 19, 5 → 24, 6 → 28, 7 → 32, 8 → 36, 9 → 41 SA),
which lives in config (``extract.months_to_sa``):

- "enceinte de 6 mois", "6 mois de grossesse", "à 6 mois" → end of month 6 (28 SA);
- "6 mois et demi" → half-way between the ends of months 6 and 7 (30 SA);
- "au 6e mois", "début du 6e mois" → start of month 6 = end of month 5 (24 SA);
  "fin du 6e mois" → 28 SA; "milieu du 6e mois" → 26 SA;
- trimesters: T1 ≤ 14 SA, T2 15–28, T3 ≥ 29 (bounds in config) give a range, no point.

All patterns run on :func:`perivigil.extract.text.matching_form` text (lower case,
no accents), so "aménorrhée", "AMENORRHEE" and "amenorhee" are read alike.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

NUMBER_WORDS = {
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
}
ORDINAL_WORDS = {
    "premier": 1,
    "1er": 1,
    "deuxieme": 2,
    "second": 2,
    "troisieme": 3,
    "quatrieme": 4,
    "cinquieme": 5,
    "sixieme": 6,
    "septieme": 7,
    "huitieme": 8,
    "neuvieme": 9,
}
DEFAULT_MONTHS_TO_SA = {1: 6, 2: 10, 3: 15, 4: 19, 5: 24, 6: 28, 7: 32, 8: 36, 9: 41}


def trimester_bands(t1_max_sa: float, t2_max_sa: float) -> dict[int, tuple[float, float]]:
    """Trimester -> (first, last) SA, from the ends of T1 and T2 (study protocol §3: T1 <= 14 SA,
    T2 up to 28 SA, T3 to term, 42 SA at most)."""
    return {1: (0.0, t1_max_sa), 2: (t1_max_sa + 1, t2_max_sa), 3: (t2_max_sa + 1, 42.0)}


DEFAULT_TRIMESTERS = trimester_bands(14.0, 28.0)


@dataclass(frozen=True)
class GestationalAge:
    """An age found in a post: a point in SA when one is stated, and the range it stands for.

    ``unit`` says how it was written: ``SA``, ``SG``, ``weeks`` (ambiguous), ``months``,
    ``month_ordinal`` ("au 6e mois") or ``trimester``.
    """

    start: int
    end: int
    sa: float | None
    sa_min: float
    sa_max: float
    unit: str
    ambiguous: bool = False


_NUM = r"(\d{1,2}(?:[.,]5)?)"
_MONTH_NUM = r"(\d|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf)"
_ORDINAL = r"(\d\s?(?:e|eme|ieme|em|er|ere)|premier|deuxieme|second|troisieme|quatrieme|cinquieme|sixieme|septieme|huitieme|neuvieme)"

SA = re.compile(
    _NUM + r"\s?(?:\+\s?\d\s?)?(?:sa\b|s\.a\.?(?!\w)|semaines?\s(?:d\s?'?\s?)?amen+or+h?ee?|sem\.?\s(?:d\s?'?\s?)?a\b)"
)
SG = re.compile(_NUM + r"\s?(?:sg\b|s\.g\.?(?!\w)|semaines?\s(?:de\s)?grossesse)")
WEEKS = re.compile(_NUM + r"\s?(?:semaines?|sem)\b(?!\s?(?:d\s?'?\s?amen|de\sgrossesse))")
MONTHS = re.compile(_MONTH_NUM + r"\s?mois(\set\sdemi)?")
# The part every ordinal month holds ("6e mois", "sixieme mois"): a fast test before ORDINAL_MONTH, whose
# optional leading words make the regex engine try it at every position
_ORDINAL_CORE = re.compile(_ORDINAL + r"\s?mois")
ORDINAL_MONTH = re.compile(r"(debut|fin|milieu)?\s?(?:du|de|au|le|ce|mon|en)?\s?" + _ORDINAL + r"\s?mois")
# "à 3 semaines du terme", "5 semaines avant le terme": the term is 41 SA in France (CNGOF)
_WEEKS_NUM = r"(\d{1,2}(?:[.,]5)?|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix)"  # "à six semaines du terme"
WEEKS_TO_TERM = re.compile(
    _WEEKS_NUM + r"\s?(?:semaines?|sem)\s(?:du|avant\sle|avant\sla\sdate\sdu)\s(?:terme|dpa)|"
    r"(?:terme|accouchement|dpa)\s(?:est\s)?(?:prevue?\s)?(?:pour\s)?dans\s"
    + _WEEKS_NUM
    + r"\s?(?:semaines?|sem)\b|(?:il\sme\sreste|plus\sque|encore)\s"
    + _WEEKS_NUM
    + r"\s?(?:semaines?|sem)\s(?:avant\s(?:le\sterme|l'accouchement|la\sdpa)|a\stenir)"
)
TERM_SA = 41.0
# Periods named without a number: the start (first trimester) and the end (third) of the pregnancy
EARLY_PREGNANCY = re.compile(
    r"\b(?:(?:au\s)?(?:tout\s)?debut\sde\s(?:ma\s|la\s|sa\s)?grossesse|au\stout\sdebut|"
    r"enceinte\sde\squelques\s(?:semaines|jours)|"
    r"(?:les\s)?(?:premieres|1eres|1res)\ssemaines(?:\sde\s(?:ma\s|la\s)?grossesse)?|"
    r"(?:les\s)?premiers\sjours\sde\s(?:ma\s|la\s)?grossesse)\b"
)
TRIMESTER = re.compile(
    r"(premier|1er|1e|1|deuxieme|second|2e|2eme|2nd|troisieme|3e|3eme|dernier)\s?trimestre|\b(t[123])\b"
)
LATE_PREGNANCY = re.compile(
    r"\b(?:fin\sde\s(?:ma\s|la\s|sa\s)?grossesse|(?:derniers?|dernieres?)\smois\sde\s"
    r"(?:ma\s|la\s)?grossesse|(?:le\s|au\s)?dernier\smois|derniere\sligne\sdroite)\b"
)

# Words before "N semaines" / "N mois" that make them a duration or a baby's age, not a pregnancy age.
_NOT_PREGNANCY_BEFORE = re.compile(
    r"\b(?:depuis|pendant|durant|il y a|y a|dans|encore|plus que|tous les|toutes les|bebe de|bb de|bebe a|bb a|"
    r"fils de|fille de|fils a|fille a|enfant de|enfant a|ans et|apres|plus de|moins de|au bout de|"
    r"il a|elle a|qui a|cure de|traitement de|pilule|chaque)\s*$"
)
_NOT_PREGNANCY_AFTER = re.compile(
    r"^\s?(?:de (?:traitement|cure|pilule|allaitement|essais?|post ?partum|retard)|d'(?:essais?|allaitement|attente)|apres|plus tard|"
    r"post ?partum|avant|que|qu')"
)
_NEGATED_AGE = re.compile(r"(?:\bpas|\bnon|\bni)\s(?:a\s|de\s)?$")
_PREGNANCY_CONTEXT = re.compile(r"enceinte|enciente|grossesse|\bsa\b|\bsg\b|\bbebe bouge|terme")


def _scan(pattern: re.Pattern, text: str, present: frozenset[str], *needles: str):
    """``pattern.finditer(text)``, skipped when the text holds none of the words every match holds (a post
    without "mois" has no month): the patterns start with optional groups, which the regex engine tries at
    every position, so one pass for all the words (``present``) saves most of their cost."""
    return pattern.finditer(text) if not present.isdisjoint(needles) else ()


# Every word a pattern's matches hold (the needles of the _scan calls below), longest first; a word
# found stands for every needle inside it ("semaine" for "sem" too)
_NEEDLES = [
    "grossesse",
    "premieres",
    "trimestre",
    "derniere",
    "quelques",
    "dernier",
    "semaine",
    "1eres",
    "debut",
    "1res",
    "mois",
    "s.a",
    "s.g",
    "sem",
    "sa",
    "sg",
    "t1",
    "t2",
    "t3",
]
_KEYWORDS = re.compile("|".join(re.escape(word) for word in _NEEDLES))
_HOLDS = {word: frozenset(n for n in _NEEDLES if n in word) for word in _NEEDLES}


def _number(text: str) -> float:
    text = text.strip().replace(",", ".")
    if text in NUMBER_WORDS:
        return float(NUMBER_WORDS[text])
    return float(text)


def _ordinal(text: str) -> int:
    text = text.replace(" ", "")
    if text in ORDINAL_WORDS:
        return ORDINAL_WORDS[text]
    digit = re.match(r"\d", text)
    if digit is None:  # the patterns only call this on an ordinal word or a digit
        raise ValueError(f"not an ordinal: {text!r}")
    return int(digit.group())


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in taken)


def _duration_before(text: str, start: int) -> bool:
    return bool(_NOT_PREGNANCY_BEFORE.search(text[max(0, start - 16) : start]))


def find_gestational_ages(
    text: str,
    months_to_sa: Mapping[int, float] = DEFAULT_MONTHS_TO_SA,
    trimesters: Mapping[int, tuple[float, float]] = DEFAULT_TRIMESTERS,
) -> list[GestationalAge]:
    """Every gestational age stated in ``text`` (matching form), in order of position."""
    present = frozenset(n for word in _KEYWORDS.findall(text) for n in _HOLDS[word])  # one pass for all patterns
    found: list[GestationalAge] = []
    taken: list[tuple[int, int]] = []

    def add(age: GestationalAge) -> None:
        taken.append((age.start, age.end))
        # "22 SA (et pas 22 SG)": a negated age is set aside (but still blocks overlapping readings)
        if not _NEGATED_AGE.search(text[max(0, age.start - 8) : age.start]):
            found.append(age)

    for match in _scan(WEEKS_TO_TERM, text, present, "sem"):
        left = _number(next(g for g in match.groups() if g))
        if 0 <= left <= 30:
            add(
                GestationalAge(
                    match.start(), match.end(), TERM_SA - left, TERM_SA - left - 1, TERM_SA - left, "weeks_to_term"
                )
            )
    for match in _scan(SA, text, present, "sa", "s.a", "sem"):
        value = _number(match.group(1))
        if 2 <= value <= 44:
            add(GestationalAge(match.start(), match.end(), value, value, value, "SA"))
    for match in _scan(SG, text, present, "sg", "s.g", "semaine"):
        if _overlaps(match.span(), taken):
            continue
        value = _number(match.group(1)) + 2
        if 2 <= value <= 44:
            add(GestationalAge(match.start(), match.end(), value, value, value, "SG"))
    for match in _scan(WEEKS, text, present, "sem"):
        if _overlaps(match.span(), taken) or _duration_before(text, match.start()):
            continue
        value = _number(match.group(1))
        if 2 <= value <= 44:
            add(GestationalAge(match.start(), match.end(), value, value - 2, value + 2, "weeks", ambiguous=True))
    for match in ORDINAL_MONTH.finditer(text) if "mois" in present and _ORDINAL_CORE.search(text) else ():
        if _overlaps(match.span(), taken):
            continue
        n = _ordinal(match.group(2))
        if not 1 <= n <= 9:
            continue
        low, high = float(months_to_sa[n - 1] if n > 1 else 0.0), float(months_to_sa[n])
        where = match.group(1)
        point = {"fin": high, "milieu": (low + high) / 2}.get(where or "", low if n > 1 else None)  # month 1: a range
        add(GestationalAge(match.start(), match.end(), point, low, high, "month_ordinal"))
    for match in _scan(MONTHS, text, present, "mois"):
        if _overlaps(match.span(), taken) or _duration_before(text, match.start()):
            continue
        if _NOT_PREGNANCY_AFTER.search(text[match.end() : match.end() + 24]):
            continue
        n = int(_number(match.group(1)))
        if not 1 <= n <= 9:
            continue
        if not _is_pregnancy_month(text, match.start(), match.end()):
            continue
        end = float(months_to_sa[n])
        if match.group(2):  # "et demi"
            nxt = float(months_to_sa.get(n + 1, end + 4))
            add(GestationalAge(match.start(), match.end(), (end + nxt) / 2, end, nxt, "months"))
        else:
            add(GestationalAge(match.start(), match.end(), end, float(months_to_sa.get(n - 1, 0.0)), end, "months"))
    for match in _scan(TRIMESTER, text, present, "trimestre", "t1", "t2", "t3"):
        if _overlaps(match.span(), taken):
            continue
        word = (match.group(1) or match.group(2) or "").replace(" ", "")
        n = (
            1
            if word in ("premier", "1er", "1e", "1", "t1")
            else 2
            if word in ("deuxieme", "second", "2e", "2eme", "2nd", "t2")
            else 3
        )
        low, high = trimesters[n]
        add(GestationalAge(match.start(), match.end(), None, low, high, "trimester"))
    for match in _scan(LATE_PREGNANCY, text, present, "grossesse", "dernier", "derniere"):
        if not _overlaps(match.span(), taken):
            low, high = trimesters[3]
            add(GestationalAge(match.start(), match.end(), None, low, high, "late_pregnancy"))
    for match in _scan(EARLY_PREGNANCY, text, present, "grossesse", "debut", "premieres", "1eres", "1res", "quelques"):
        if not _overlaps(match.span(), taken):
            low, high = trimesters[1]
            add(GestationalAge(match.start(), match.end(), None, low, high, "early_pregnancy"))
    return sorted(found, key=lambda a: a.start)


def _is_pregnancy_month(text: str, start: int, end: int) -> bool:
    """'N mois' is a pregnancy age after "enceinte de", before "de grossesse", at a sentence's
    start, or inside a sentence that speaks of the pregnancy."""
    before = text[max(0, start - 14) : start]
    after = text[end : end + 14]
    if before.endswith(" a ") or before.endswith("\na "):  # "à 8 mois" (baby ages are excluded earlier)
        return True
    if re.search(r"enceinte (?:de )?$|grossesse de $", before) or after.startswith(" de grossesse"):
        return True
    sentence_start = (
        max(text.rfind(".", 0, start), text.rfind("\n", 0, start), text.rfind("!", 0, start), text.rfind("?", 0, start))
        + 1
    )
    prefix = text[sentence_start:start].strip()
    if prefix in ("", "a", "a la fin de", "vers", "des", "a peine"):
        return True
    if prefix.endswith((" a", ",a")) and len(prefix) <= 16:  # "Slt, A 7 mois j'ai pris..."
        return True
    sentence_end = min([i for i in (text.find(".", end), text.find("\n", end)) if i != -1] or [len(text)])
    return bool(_PREGNANCY_CONTEXT.search(text[sentence_start:sentence_end]))
