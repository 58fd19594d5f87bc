"""Dates and times in French posts: calendar dates, and times counted back from the post.

Two kinds, both on the matching form of a post (lower case, no accents):

- **calendar dates**: "le 12 mars", "12/03", "12/03/2021", "1er avril 2020", "le 3 mai au
  soir", "mi-avril", "fin juin", "en août" (a month alone: its 15th), "en 2019" (a year alone:
  flagged, it dates an intake without giving it an age); a date without a year takes the year that puts it closest to the post, on the
  side the sentence asks for (a due date is ahead, an intake behind) — :func:`resolve_year`;
- **times before the post**: "hier" (1 day), "avant-hier" (2), "ce matin", "aujourd'hui",
  "cette nuit" (0), "il y a 3 jours / 2 semaines / 3 mois", "la semaine dernière" (7), "le
  mois dernier" (30), a day of the week ("samedi": the last one before the post).

Also the anchors that turn a date into a gestational age (study protocol §3): the last
period ("DDR le 5 janvier", "dernières règles le ...") and the due date ("terme prévu le",
"DPA le", "accouchement prévu pour le"): SA = days since the last period / 7, and the last
period = the due date − 280 days (Naegele's rule; CNGOF).

Why not ``dateparser`` or ``eds.dates``: both read a date, but neither says which event
it dates, and both need the post's own conventions (no year, SMS spellings, "ddr").
Their output on the date cases of the challenge suite is compared in docs/extraction.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

MONTHS = {
    "janvier": 1,
    "janv": 1,
    "jan": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "sep": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}
WEEKDAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6}
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
    "quinze": 15,
}
DAYS_IN_PREGNANCY = 280  # Naegele: due date = last period + 280 days
STAND_IN_YEAR = 2023  # a year without 29 February, for dates of a post whose own date is unknown

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY = r"(1er|premier|[0-3]?\d)"
TEXT_DATE = re.compile(r"(?<![a-z0-9])" + _DAY + r"\s(" + _MONTH + r")\.?(?:\s((?:19|20)\d\d))?(?![a-z])")
# "mi-avril" (the 15th), "début mai" (the 5th), "fin juin" (the 25th): the matching form has "mi avril"
PART_OF_MONTH = re.compile(r"(?<![a-z])(mi|debut|fin)\s(" + _MONTH + r")(?:\s((?:19|20)\d\d))?(?![a-z])")
PART_DAY = {"mi": 15, "debut": 5, "fin": 25}
# "en août", "depuis février 2021": a month alone stands for its 15th (full names only: "en sept jours" is no date)
_FULL_MONTH = "janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
MONTH_ONLY = re.compile(
    r"(?<![a-z])(?:en|depuis|d'|des|courant|fin\sde|debut\sde)\s(" + _FULL_MONTH + r")(?:\s((?:19|20)\d\d))?(?![a-z])"
)
# "fini en 2019", "depuis 2021": a year alone (kept as 1 July, flagged: it gives no age)
YEAR_ONLY = re.compile(r"(?<![a-z])(?:en|depuis|fin|debut|courant|mi)\s((?:19|20)\d\d)(?![0-9])")
# "12/03", "12/03/2021": with a year, or after "le", "du", "au" (not "1/2 comprimé", not "24/7")
NUMERIC_DATE = re.compile(
    r"(?:(?<=le\s)|(?<=du\s)|(?<=au\s)|(?<=ddr\s)|(?<=ddr\sle\s)|(?<=depuis\sle\s))([0-3]?\d)/([01]?\d)(?:/((?:19|20)?\d\d))?"
    r"(?![\d/])|(?<![\d/])([0-3]?\d)/([01]?\d)/((?:19|20)?\d\d)(?![\d/])"
)
_COUNT = r"(\d{1,3}|un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|quinze)"
AGO = re.compile(
    r"(?<![a-z])(?:il\s)?y\sa\s(?:environ\s|a\speu\spres\s|genre\s|presque\s|plus\sde\s)?"
    + _COUNT
    + r"\s(jours?|j|semaines?|sem|mois|ans?)(?![a-z])"
)
FIXED_AGO = [
    (re.compile(r"(?<![a-z])avant[\s']?hier(?![a-z])"), 2),
    (re.compile(r"(?<![a-z])hier(?![a-z])"), 1),
    (
        re.compile(
            r"(?<![a-z])(?:ce\smatin|cet\sapres\smidi|ce\ssoir|cette\snuit|aujourd'?\s?hui|auj|"
            r"tout\sa\sl'heure|tt\sa\sl'heure|a\sl'instant)(?![a-z])"
        ),
        0,
    ),
    (re.compile(r"(?<![a-z])(?:la\s)?semaine\s(?:derniere|passee)(?![a-z])"), 7),
    (re.compile(r"(?<![a-z])(?:le\s)?mois\s(?:dernier|passe)(?![a-z])"), 30),
    (re.compile(r"(?<![a-z])(?:le\s)?week\s?end\s(?:dernier|passe)(?![a-z])"), 6),
]
# The fixed phrases as one alternation, tried in the order above (group i + 1 is FIXED_AGO[i])
_FIXED_ANY = re.compile("|".join(f"({pattern.pattern})" for pattern, _ in FIXED_AGO))
# Words every match of a pattern holds (see _scan)
_FIXED_AGO_NEEDLES = (
    "hier",
    "matin",
    "apres midi",
    "soir",
    "nuit",
    "auj",
    "heure",
    "instant",
    "semaine",
    "mois",
    "week",
)
_MONTH_NEEDLES = ("jan", "fev", "mars", "avr", "mai", "juin", "juil", "aout", "sep", "oct", "nov", "dec")
WEEKDAY = re.compile(
    r"(?<![a-z])(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)(?:\s(?:dernier|soir|matin))?"
    r"(?![a-z])"
)
LAST_PERIOD = re.compile(r"(?<![a-z])(?:ddr|dernieres?\sregles|derniere\sregle|mes\sregles|regles)(?![a-z])")
DUE_DATE = re.compile(
    r"(?<![a-z])(?:dpa|terme\sprevue?|terme|accouchement\sprevue?|naissance\sprevue?|date\sprevue?|"
    r"prevue?\spour|prevue?\sau|prevue?\sle)(?![a-z])"
)


@dataclass(frozen=True)
class DateMention:
    """A calendar date in the post: where, the day (its year resolved against the post, or a stand-in year
    when the post's date is unknown) and whether the post gave the year."""

    start: int
    end: int
    day: date
    year_known: bool = True
    year_only: bool = False  # "en 2019": too coarse to give an age; it only says when, roughly


@dataclass(frozen=True)
class TimeAgo:
    """A time counted back from the post: how many days before it."""

    start: int
    end: int
    days: float


def _scan(pattern: re.Pattern, text: str, *needles: str):
    """``pattern.finditer(text)``, skipped when the text holds none of the words every match holds."""
    return pattern.finditer(text) if _needles(needles).search(text) else ()


@lru_cache(maxsize=64)
def _needles(needles: tuple[str, ...]) -> re.Pattern:
    """One expression for a set of literal words (faster than testing them one by one)."""
    return re.compile("|".join(re.escape(needle) for needle in needles))


def resolve_year(day: int, month: int, year: int | None, posted: date, ahead: bool = False) -> date | None:
    """The date, its year taken from the post when missing: the last such day before the post (or
    the next after it when ``ahead``: a due date); ``None`` for an impossible date."""
    candidates = [year] if year else [posted.year - 1, posted.year, posted.year + 1]
    found = []
    for y in candidates:
        try:
            found.append(date(y, month, day))
        except ValueError:
            continue
    if not found:
        return None
    if year:
        return found[0]
    if ahead:
        future = [d for d in found if d >= posted]
        return min(future) if future else max(found)
    past = [d for d in found if d <= posted + timedelta(days=1)]
    return max(past) if past else min(found)


def _count(word: str) -> int:
    return NUMBER_WORDS[word] if word in NUMBER_WORDS else int(word)


def find_dates(text: str, posted: date | None) -> list[DateMention]:
    """Calendar dates of ``text`` (matching form); none when the post's date is unknown and a year is missing."""
    found: list[tuple[int, int, int, int, int | None]] = []  # start, end, day, month, year (None: not written)
    months = _needles(_MONTH_NEEDLES).search(text) is not None
    for match in TEXT_DATE.finditer(text) if months else ():
        day = 1 if match.group(1) in ("1er", "premier") else int(match.group(1))
        year = int(match.group(3)) if match.group(3) else None
        found.append((match.start(), match.end(), day, MONTHS[match.group(2)], year))
    for match in PART_OF_MONTH.finditer(text) if months else ():
        year = int(match.group(3)) if match.group(3) else None
        found.append((match.start(), match.end(), PART_DAY[match.group(1)], MONTHS[match.group(2)], year))
    for match in MONTH_ONLY.finditer(text) if months else ():
        year = int(match.group(2)) if match.group(2) else None
        found.append((match.start(1), match.end(), 15, MONTHS[match.group(1)], year))
    years: list[DateMention] = []
    for match in _scan(YEAR_ONLY, text, "19", "20"):
        if not any(start < match.end() and match.start() < end for start, end, *_ in found):
            years.append(DateMention(match.start(1), match.end(), date(int(match.group(1)), 7, 1), True, True))
    for match in _scan(NUMERIC_DATE, text, "/"):
        day, month, year = (match.group(1), match.group(2), match.group(3)) if match.group(1) else match.groups()[3:]
        full = int(year) + (2000 if len(year) == 2 else 0) if year else None
        found.append((match.start(), match.end(), int(day), int(month), full))
    out: list[DateMention] = []
    guessed: list[bool] = []  # a year taken from the post's date (not written, not a due date ahead)
    for start, end, day, month, year in sorted(found):
        if not 1 <= month <= 12 or not 1 <= day <= 31:
            continue
        if year is None and posted is not None and _LAST_YEAR.search(text, _sentence_start(text, start), start):
            year = posted.year - 1  # "l'an dernier, arrêté en mars": last year's March
        # a due date lies ahead of the post, unless the birth is told ("né le 1er mars, deux jours avant son terme")
        ahead = bool(DUE_DATE_BEFORE.search(text[max(0, start - 40) : start])) and not _BORN.search(
            text, _sentence_start(text, start), start
        )
        if year is None and posted is None:  # only differences between dates of the post can be read
            resolved = resolve_year(day, month, STAND_IN_YEAR, date(STAND_IN_YEAR, 1, 1))
        else:
            resolved = resolve_year(day, month, year, posted or date(year or 2000, 1, 1), ahead)
        if resolved is not None:
            out.append(DateMention(start, end, resolved, year is not None or posted is not None))
            guessed.append(year is None and not ahead)
    return sorted(_in_story_order(text, out, guessed) + years, key=lambda d: d.start)


def _in_story_order(text: str, dates: list[DateMention], guessed: list[bool]) -> list[DateMention]:
    """Dates of one sentence told one after the other happen in that order: "dernière gélule en août, test
    positif en février" is the August before that February, whichever year the post's date gave each."""
    out = list(dates)
    for i in range(len(out) - 2, -1, -1):
        j = i + 1
        if (
            guessed[i]
            and out[i].day > out[j].day
            and _sentence_start(text, out[i].start) == _sentence_start(text, out[j].start)
        ):
            first = out[i]
            try:
                earlier = first.day.replace(year=first.day.year - 1)
            except ValueError:  # 29 February
                earlier = first.day.replace(year=first.day.year - 1, day=28)
            out[i] = DateMention(first.start, first.end, earlier, first.year_known)
    return out


_BORN = re.compile(r"(?<![a-z])(?:est\sne|est\snee|sont\snes|ne\sle|nee\sle|accouche|accouchee|naissance\sle)(?![a-z])")
_LAST_YEAR = re.compile(r"(?<![a-z])(?:l'an\s(?:dernier|passe)|l'annee\s(?:derniere|passee))(?![a-z])")


def _sentence_start(text: str, position: int) -> int:
    return max(text.rfind(c, 0, position) for c in ".!?\n") + 1


def find_times_ago(text: str, posted: date | None = None) -> list[TimeAgo]:
    """Times counted back from the post ("hier", "il y a 3 semaines", "samedi")."""
    found: list[TimeAgo] = []
    for match in _scan(AGO, text, "y a"):
        n, unit = _count(match.group(1)), match.group(2)
        days = n * (1 if unit.startswith("j") else 7 if unit.startswith("s") else 30.4 if unit == "mois" else 365)
        found.append(TimeAgo(match.start(), match.end(), float(days)))
    taken = [(t.start, t.end) for t in found]
    for match in _scan(_FIXED_ANY, text, *_FIXED_AGO_NEEDLES):  # the fixed phrases, in one pass
        if not any(s < match.end() and match.start() < e for s, e in taken):
            found.append(TimeAgo(match.start(), match.end(), float(FIXED_AGO[match.lastindex - 1][1])))
            taken.append(match.span())
    if posted is not None:
        for match in _scan(WEEKDAY, text, "di"):
            if not any(s < match.end() and match.start() < e for s, e in taken):
                days = (posted.weekday() - WEEKDAYS[match.group(1)]) % 7 or 7
                found.append(TimeAgo(match.start(), match.end(), float(days)))
    return sorted(found, key=lambda t: t.start)


# What stands right before the date of the last period or of the term: "DDR le", "dernières règles datent du",
# "mes dernières règles ont commencé le",
# "terme prévu pour le", "DPA au"
_ANCHOR_BEFORE = (
    r"(?:\s(?:datent|date|dataient|datait|etaient|etait|est|sont|prevue?|fixee?|calculee?|ont|a|commence|"
    r"debute|remontent|remonte|c'etait|c\setait))*\s?(?:(?:le|du|au|pour|pour\sle|:|=|\()\s?)*$"
)
LAST_PERIOD_BEFORE = re.compile(r"(?<![a-z])(?:ddr|dernieres?\sregles|derniere\sregle|mes\sregles)" + _ANCHOR_BEFORE)
DUE_DATE_BEFORE = re.compile(
    r"(?<![a-z])(?:dpa|terme(?:\sprevue?)?|(?:date\sd')?accouchement(?:\sprevue?)?|"
    r"naissance\sprevue?|date\sprevue?|prevue?)" + _ANCHOR_BEFORE
)


CONCEPTION_BEFORE = re.compile(r"(?<![a-z])(?:concue?s?|conception|fecondation|ovulation)" + _ANCHOR_BEFORE)
DAYS_FROM_PERIOD_TO_CONCEPTION = 14  # SA = SG + 2 (study protocol §3)


def is_anchor(text: str, position: int) -> bool:
    """Whether the date at ``position`` is the last period's, the due date or the conception's ("DDR le 1er
    mars", "bébé conçu en novembre")."""
    before = text[max(0, position - 40) : position]
    return bool(LAST_PERIOD_BEFORE.search(before) or DUE_DATE_BEFORE.search(before) or CONCEPTION_BEFORE.search(before))


def last_period(text: str, dates: list[DateMention]) -> date | None:
    """The last period's date, from "DDR le …", from a due date ("terme prévu le …" − 280 days) or from the
    conception ("conçu en novembre" − 14 days); a year alone is too coarse for it."""
    dates = [mention for mention in dates if not mention.year_only]
    for mention in dates:
        if LAST_PERIOD_BEFORE.search(text[max(0, mention.start - 40) : mention.start]):
            return mention.day
    for mention in dates:
        if DUE_DATE_BEFORE.search(text[max(0, mention.start - 40) : mention.start]):
            return mention.day - timedelta(days=DAYS_IN_PREGNANCY)
    for mention in dates:
        if CONCEPTION_BEFORE.search(text[max(0, mention.start - 40) : mention.start]):
            return mention.day - timedelta(days=DAYS_FROM_PERIOD_TO_CONCEPTION)
    return None
