"""Exposure cues of a drug mention: taken or not, by whom, when, by which route.

Hand-written rules over the matching form of the post (lower case, no accents),
scoped to the mention's clause or sentence. They answer the questions of study
protocol §2:

- **exposure**: ``negated`` ("je n'ai pas pris d'advil", "aucun anti-inflammatoire",
  "j'ai failli", "je ne l'ai pas avalé" in the next sentence), ``intended`` ("est-ce
  que je peux prendre", "j'hésite à", "si je prends", a question with no intake
  verb), ``actual`` (an intake verb: "j'ai pris", "sous", "avalé", "mis", "on m'a
  donné"), else ``none`` (warnings, lists, advice);
- **person**: ``self``, ``relative`` (partner, family, friend: "mon mari prend",
  "ma sœur est enceinte et elle a pris") or ``other`` ("des filles qui ont pris"),
  and whether that person is pregnant;
- **timing**: ``postpartum``, ``breastfeeding``, ``before_conception``, or
  ``pregnancy``; and whether the post places the exposure in the first trimester
  (protocol §3: before the pregnancy was known, a positive test while on
  treatment, a miscarriage, the beginning of the pregnancy);
- **route**: a skin form ("gel", "crème", "patch") or a suppository near the name.

Why our own rules rather than edsnlp's qualifiers alone: ``eds.negation`` and
``eds.hypothesis`` are built for clinical notes, and they read "j'ai pris un advil,
est-ce grave ?" as hypothetical and miss forum negations ("g pa pris", "j'ai
failli"); ``eds.family`` marks family history, not who took a drug. The
comparison on our test cases is in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PUNCT_BREAK = re.compile(r"[,;:()]")
_CLAUSE_BREAK = re.compile(r"[,;:()]|\s(?:mais|car|donc|alors|puis|et|sauf que|parce que|par contre)\s")

NEGATION_BEFORE = re.compile(
    r"(?:\bpas\b|\bpa\b|\bjamais\b|\baucune?\b|\brien\b|\bni\b|\bsans (?:prendre|avoir pris)\b|\bfailli\b|"
    r"\brefuse\b|\bevite[rs]?\b|\bn'?etait pas\b|\bnon\b)")
NEGATION_PRONOUN = re.compile(
    r"\b(?:je |j)\s?(?:ne |n')\s?(?:l'|l |en |les )\s?(?:ai|avais)\s(?:\w+\s)?(?:pas|jamais|rien)\b|"
    r"\bn'?en ai (?:\w+ )?jamais\b|\bpas (?:encore )?pris\b|\brien pris\b|\bjamais (?:pris|commence|touche)\b")
INTENT = re.compile(
    r"\b(?:puis[ -]je|peux[ -]je|je peux|j'peux|je pourrais|peut[ -]on|on peut|est ce qu'on peut|est ce que je peux|"
    r"a t on le droit|on a le droit|ai je le droit|j'ai le droit|le droit (?:a|au|de)|autorise|compatible|"
    r"dois[ -]je|je dois prendre|je vais prendre|vais prendre|je compte|compte (?:prendre|demander)|j'hesite|hesite a|"
    r"si je prends?|si jamais je|veut me (?:mettre|prescrire|donner)|va me (?:prescrire|donner|mettre)|me propose|"
    r"propose de|parle de|insiste pour que je|que je prenne|conseille de prendre|jusqu'a quand|combien de temps|"
    r"quels? sont (?:\w+ )?les risques|risques? (?:de|du) |envisage|pense prendre|(?<!viens de )(?<!avant de )prendre (?:un|une|de|du|des|l'))")
ACTUAL = re.compile(
    r"\b(?:pris|l'ai prise|prise (?:hier|ce|cette|la|le|a|au|avant|pendant)|pri|prenais|prenait|prends|prend|prenions|avale|avalee|avaler|mis|mise|mettais|"
    r"applique|appliquee|appliquais|utilise|utilisee|utilisais|continue|continuais|arrete|arretee|stoppe|commence|"
    r"termine|fini|finie|sous|donne|donnee|administre|injecte|gelules?|capsules?|comprimes?|cachets?|"
    r"consomme|enchaine|cure|vit sous|etais sous|etait sous|remis sous|prenant|avalant|ingere|applications?|jusqu'a|jusqu'au|jusqu a)\b|"
    # a duration of use, or the place a skin form was put: "pendant 4 jours", "sur la cheville"
    r"\bpendant (?:\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|dix) (?:jours?|semaines?|mois|nuits?)\b|"
    r"\bsur (?:le|la|les|mon|ma|mes) (?:dos|genou|genoux|cheville|chevilles|epaule|bras|jambes?|hanche|visage|"
    r"boutons?|menton|lombaires|poignet|pieds?|peau|ventre|nuque|cou)\b")
# An intake told in the next sentences with a pronoun: "Je l'ai pris 2 jours", "j'en ai mis 2 jours".
ACTUAL_PRONOUN = re.compile(r"\b(?:je l'ai|je l ai|j'en ai|j en ai|je les ai|l'ai)\s(?:\w+\s)?(?:pris|prise|mis|mise|avale|utilise|applique|continue)\b|"
                            r"\b(?:j'ai|jai|j ai|g) pris (?:\d+|un|une|deux|trois) (?:comprimes?|gelules?|cachets?|sachets?|capsules?)\b")
# A relative named after the drug as the one who took it: "l'aspirine, ma mère en prenait".
RELATIVE_TOOK = re.compile(r"\b(?:mon|ma|mes)\s(?:\w+\s)?(?:\w+)\s(?:en |l'|les )?(?:prenait|prend|a pris|avait pris|met|mettait)\b")
# Warnings and advice: a rule stated, not an intake (unless the author says she took it).
WARNING = re.compile(r"contre ?indique|\binterdite?s?\b|deconseille|a eviter|\battention\b|surtout pas|\brappel\b|\bpour info\b|"
                     r"\bliste des\b|\bje le repete\b")
FIRST_PERSON_INTAKE = re.compile(r"\b(?:j'ai|j ai|g|jai|je l'ai|j'en ai|on m'a|m'a|je suis sous|j'etais sous|j'avais)\b")
QUESTION_MARK = re.compile(r"\?")

RELATIVE = re.compile(
    r"\b(?:mon|ma|mes|m'|notre|sa|son)\s?(?:(?:meilleure |belle |beau |petite |grande )?(?:mari|conjoint|compagnon|copain|cheri|"
    r"homme|chum|femme|epouse|compagne|copine|soeur|soeurs|cousine|amie|amies|mere|maman|belle mere|belle fille|fille|fils|"
    r"pere|papa|frere|collegue|voisine|tante|niece|belle soeur|beau frere|enfant|enfants|bebe))\b")
MALE_OR_CHILD = re.compile(
    r"\b(?:mari|conjoint|compagnon|copain|cheri|homme|chum|pere|papa|frere|beau frere|fils|enfant|enfants|bebe)\b")
NOT_PREGNANT_RELATIVE = re.compile(r"\b(?:mere|maman|belle mere|tante)\b")
OTHER_PEOPLE = re.compile(
    r"\b(?:des|les|certaines|plusieurs|beaucoup de|d'autres)\s(?:\w+\s){0,2}qui\s(?:ont|avaient|a)\s|"
    r"\b(?:quelqu'une|qqn|quelqu'un|vous)\s(?:qui\s)?(?:a|ont|avez)\s")
# A relative who gives the drug to the author: the author took it ("mon mari m'a donné du Profénid").
GIVEN_TO_AUTHOR = re.compile(r"\bm(?:'|e )\s?(?:a |as |avait )?(?:donne|tendu|passe|conseille|fait prendre|mis|propose|ramene|achete)")
PREGNANT_WITH = re.compile(r"(?:enceinte|grossesse) (?:de|d') $")
THIRD_PERSON = re.compile(r"\b(?:elle|il)\s(?:a|avait|prend|prenait|est sous|etait sous|met|mettait|vit sous|s'est)\b")
PREGNANT = re.compile(r"\benceinte\b|\benciente\b|\benceite\b|\bgrossesse\b|\bgrosesse\b|\b\d+\s?(?:sa|sg)\b")

POSTPARTUM = re.compile(
    r"apres (?:l'|l |mon |ma )?(?:accouchement|cesarienne|naissance)|post ?partum|suites? de couches?|"
    r"a la maternite apres|depuis (?:la|sa) naissance|\baccouche|maintenant que bebe est ne|"
    r"\bj\+\d+|bebe (?:a|de) \d+ (?:jours|semaines|mois)|jeune maman|dossier de sortie")
BREASTFEEDING = re.compile(r"\ballait(?:e|es|ent|ais|ant|ante|ement|er)\b|\btetees?\b|tire lait|lactation|bebe tete")
BEFORE_CONCEPTION = re.compile(
    r"(?:arrete|fini|finie|termine|terminee|derniere gelule|ancienne|dernier(?:e)? (?:cure|traitement)).{0,80}"
    r"(?:il y a \d+|depuis \d+|en (?:19|20)\d\d|l'an dernier|avant (?:de tomber enceinte|la grossesse|les essais)|"
    r"(?:test|bfp).{0,15}(?:positif)? en|\d+ mois (?:apres|avant)|bebe concu|concu en|tombee enceinte en|test positif en)|"
    r"(?:il y a \d+ (?:mois|ans)|l'an dernier|en (?:19|20)\d\d).{0,40}(?:arrete|fini|finie|termine)|"
    r"\bancienne (?:sous|roaccutanee)")
FIRST_TRIMESTER = re.compile(
    r"avant de (?:le |l')?savoir|sans (?:le |l')?savoir|ne (?:le )?savais pas|ne sachant pas|je savais pas|"
    r"\btest (?:de grossesse )?(?:urinaire )?positif|\bbfp\b|prise de sang (?:est )?(?:revenue )?positive|"
    r"debut de (?:ma |la )?grossesse|\bfausse couche|(?:decouvert|appris|su|annonce) (?:que j'etais|ma |la |sa )?grossesse|"
    r"decouvert (?:que j'etais|que je suis) enceinte|quand je suis tombee enceinte|tombee enceinte sous|enceinte sous|"
    r"\btout debut\b|\bau debut\b|premier trimestre|1er trimestre|apres la conception|au moment de la conception")
SKIN = re.compile(r"\b(?:gel|gels|creme|cremes|pommade|patch|patchs|emplatre|emulgel|lotion|tube|application locale|"
                  r"en local|sur (?:le|la|les|mon|ma|mes) (?:dos|genou|genoux|cheville|chevilles|epaule|bras|jambes?|hanche|"
                  r"visage|boutons?|menton|lombaires|poignet|pieds?|peau))\b")
RECTAL = re.compile(r"\bsuppo(?:s|sitoires?)?\b")


@dataclass(frozen=True)
class Cues:
    """The cues of one mention."""

    exposure: str
    person: str
    person_pregnant: bool
    timing: str
    first_trimester_cue: bool
    route: str


def _clause_before(text: str, sentence_start: int, start: int) -> str:
    window = text[sentence_start:start]
    breaks = list(_CLAUSE_BREAK.finditer(window))
    return window[breaks[-1].end():] if breaks else window


def exposure_of(text: str, sentence: tuple[int, int], next_sentence: tuple[int, int] | None,
                start: int, end: int) -> str:
    """``negated``, ``intended``, ``actual`` or ``none`` for the mention at ``text[start:end]``."""
    s_start, s_end = sentence
    clause = _clause_before(text, s_start, start)
    if NEGATION_BEFORE.search(clause):
        return "negated"
    after = text[end:s_end]
    following = text[next_sentence[0]:next_sentence[1]] if next_sentence else ""
    if NEGATION_PRONOUN.search(after) or NEGATION_PRONOUN.search(following[:80]):
        return "negated"
    whole = text[s_start:s_end]
    if INTENT.search(whole):
        return "intended"
    if WARNING.search(whole) and not FIRST_PERSON_INTAKE.search(whole):
        return "none"
    if ACTUAL.search(whole) or ACTUAL_PRONOUN.search(following[:120]):
        return "actual"
    if QUESTION_MARK.search(whole):
        return "intended"
    return "none"


def person_of(text: str, sentence: tuple[int, int], previous_sentence: tuple[int, int] | None,
              start: int) -> tuple[str, bool | None]:
    """``(person, pregnant)``: who took it, and whether the text says that person is pregnant
    (``None`` for the author: decided from the whole post)."""
    s_start, s_end = sentence
    before = text[s_start:start]
    relatives = [r for r in RELATIVE.finditer(before) if not PREGNANT_WITH.search(before[max(0, r.start() - 14):r.start()])]
    if not relatives and previous_sentence and THIRD_PERSON.search(before):
        relatives = list(RELATIVE.finditer(text[previous_sentence[0]:previous_sentence[1]]))
    if relatives and GIVEN_TO_AUTHOR.search(before[relatives[-1].end():]):
        relatives = []
    if relatives:
        who = relatives[-1].group()
        if MALE_OR_CHILD.search(who) or NOT_PREGNANT_RELATIVE.search(who):
            return "relative", False
        return "relative", bool(PREGNANT.search(text[s_start:s_end]))
    if OTHER_PEOPLE.search(before):
        return "other", False
    took = RELATIVE_TOOK.search(text[start:s_end])
    if took and not FIRST_PERSON_INTAKE.search(text[s_start:s_end]):
        relative = RELATIVE.search(took.group())
        if relative:
            pregnant = not (MALE_OR_CHILD.search(relative.group()) or NOT_PREGNANT_RELATIVE.search(relative.group()))
            return "relative", pregnant and bool(PREGNANT.search(text[s_start:s_end]))
    return "self", None


def _clause_after(text: str, end: int, sentence_end: int) -> str:
    """From the mention to the next punctuation break (subordinates such as "alors qu'elle" stay in)."""
    window = text[end:sentence_end]
    found = _PUNCT_BREAK.search(window)
    return window[:found.start()] if found else window


def timing_of(text: str, sentence: tuple[int, int], post_has_pregnancy: bool, start: int = 0, end: int = 0) -> str:
    """``postpartum``, ``breastfeeding``, ``before_conception`` or ``pregnancy``/``unknown``.

    A delivery or breastfeeding named in the sentence places the mention after the
    pregnancy, unless the mention's own clause speaks of the pregnancy ("elle a pris de
    l'isotrétinoïne alors qu'elle était enceinte, elle a accouché d'un garçon").
    """
    whole = text[sentence[0]:sentence[1]]
    clause = _clause_before(text, sentence[0], start) + _clause_after(text, end, sentence[1]) if end else whole
    if (POSTPARTUM.search(whole) or BREASTFEEDING.search(whole)) and PREGNANT.search(clause):
        return "pregnancy"
    if POSTPARTUM.search(whole):
        return "postpartum"
    if BREASTFEEDING.search(whole):
        return "breastfeeding"
    if BEFORE_CONCEPTION.search(whole):
        return "before_conception"
    return "pregnancy" if post_has_pregnancy else "unknown"


def route_of(text: str, start: int, end: int, default: str) -> str:
    """A skin form or a suppository named near the drug overrides the lexicon's default route."""
    near = text[max(0, start - 30):min(len(text), end + 30)]
    if SKIN.search(near):
        return "cutaneous"
    if RECTAL.search(near):
        return "rectal"
    return default
