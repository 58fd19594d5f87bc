"""Exposure events: for each drug mention, was it taken, by whom, pregnant or not, and at what age.

Study protocol §2 asks of every drug a post names: was it actually taken (not asked
about, planned, refused, imagined or stated as a rule)? by whom (the author, a relative,
people in general)? was that person pregnant at the time? at which gestational age was it
taken (not the age of the delivery, of a scan, or of today when the intake was months
ago)? This module answers per mention, from the mention's own clause outward:

**Status** (``taken``, ``not_taken``, ``intended``, ``hypothetical``, ``general``,
``mentioned``): the verb that governs the drug in its clause — a negation next to it
(before or after: "je ne l'ai pas pris", "g pa pri", "j'en ai finalement pas pris"), a
negative or substituting determiner before the drug ("pas d'Advil", "au lieu du
Nurofen"), a modal or a future/conditional form ("je peux prendre", "je prendrai",
"j'aurais pris"), a condition ("si je tombe enceinte sous …"); a clause without a verb
borrows the status of the clause it continues ("g pris du doliprane, de l'advil et …"),
or tells an intake by a count, a duration or an intake noun ("1 injection de Profénid",
"3 jours de Voltarène gel"). Warnings and generic subjects make a ``general`` statement.

**Person** and **pregnancy**: the subject of the clause (the author, "ma sœur", "elle"
resolved to the last person named, "on m'a donné" = the author), whether that person is
said pregnant (a male relative or a mother never is; the author is when the post speaks
of her own pregnancy, now or in retrospect, and not only of someone else's or of a
pregnancy to come).

**Age at the intake**: the time expression of the intake's own clause, else of its
sentence, unless it dates another event ("accouché à 38 SA", "l'écho des 22 SA", "née le
3 mai"): a stated age (SA, SG, weeks, months, trimesters), "à N semaines du terme"
(41 − N SA), "en fin de grossesse", "au début de ma grossesse", "avant de savoir", a
calendar date with the last period or the due date (:mod:`perivigil.extract.dates`),
or a time back from the post ("il y a 3 semaines", "hier") counted from the person's
current age. An intake with no time of its own takes the person's current age when the
post speaks of now, never when it tells an earlier pregnancy. Each event keeps the span
its age came from, so that a supervisor sees why.

The vocabularies are data (``perivigil/extract/resources/cues.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from perivigil.extract.cue_words import CueWords, cue_words
from perivigil.extract.dates import DateMention, TimeAgo, find_dates, find_times_ago, is_anchor, last_period
from perivigil.extract.dose import Dose, find_dose
from perivigil.extract.drugs import DrugMention
from perivigil.extract.gestational_age import DEFAULT_TRIMESTERS, GestationalAge

STATUSES = ("taken", "not_taken", "intended", "hypothetical", "general", "mentioned")
PERSONS = ("self", "relative", "other", "general")

_CLAUSE_PUNCT = re.compile(r"[,;:()\[\]]|\s[-–—→>]+\s|\s\+\s|\.\.+")
_CLAUSE_WORDS = re.compile(
    r"\s(?:mais|puis|ensuite|donc|car|pcq|pck|parce\sque|parce\squ'|puisque|puisqu'|vu\sque|bien\sque|meme\ssi|"
    r"sauf\sque|alors\sque|alors|tandis\sque|lorsque|"
    r"quand|qd|sinon|du\scoup|et\spuis|et\sla|et\sapres|et\sdepuis|bref|enfin|or)(?=\s)|"
    r"\set(?=\s(?:je|j'|g\s|jsui|elle|il|on|ma|mon|moi|la|le|les|mes|sa|son|depuis|a\s|au\s|en\s|hier|ce\s|cette|"
    r"aujourd))"
)
_WORD = re.compile(r"[a-z0-9+]+")
_QUESTION = re.compile(r"\?")
_PREGNANT_WORD = re.compile(r"(?<![a-z])(?:enceinte|enceintes|enciente|enceite|grossesse|grosesse)(?![a-z])")
_PREGNANCY_EXPRESSION = re.compile(
    r"(?<![a-z])(?:enceintes?|enciente|enceite|\d{1,2}\s?(?:sa|sg)|\d\smois\sde\sgrossesse|"
    r"a\s\d{1,2}\s?(?:sa|sg|semaines|mois)|t[123]|trimestre|tp\+|bfp|test\spositif|"
    r"dpa|terme\sprevu|accouche\sdans)(?![a-z])"
)
# The author as a subject: "je", "j'ai", "g pris" (SMS), "jsui", "moi", "on m'a donné", "m'a prescrit"
_SELF = re.compile(
    r"(?<![a-z])(?:j'(?=[a-z])|(?:je|j\s(?=ai|avais|etais|en\s|l')|g(?=\s(?:pris|pri|mis|eu|fait|pa|pas|"
    r"jamais|rien|avale|craque|arrete|fini|continue|commence|dit|su|appris|decouvert|l'|en\s))|jsui|jsuis|"
    r"jai|jetais|moi|on\sm'|m'a|m'ont)(?![a-z]))"
)
# A third-person subject pronoun ("elle a pris"), not the impersonal "il y a", "il faut", "il est conseillé"
_THIRD = re.compile(
    r"(?<![a-z])(?:elle|elles|ils|il(?!\s(?:y\s|faut|fallait|est\s(?:important|conseille|recommande|"
    r"interdit|deconseille|possible|preferable|dangereux|deja)|parait|semble|me\s|m'|reste|restait)))(?![a-z])"
)
# The pregnancy found out: "test positif", "TP+", "j'ai découvert que j'étais enceinte", "appris ma grossesse"
_DISCOVERY = re.compile(
    r"(?<![a-z])(?:tp\+|tp\s?positif|test\s[^.!?\n]{0,80}?positif|bfp|"
    r"(?:prise\sde\ssang|beta|hcg|resultat|dosage)[^.!?\n]{0,60}?positi|"
    r"beta\s(?:hcg\s)?positi|prise\sde\ssang\s(?:\w+\s){0,2}positive|(?:decouvert|decouvrant|decouvre|appris|apprenant|"
    r"apprends|su|annonce|realise|compris|decouvrir|savoir)\s(?:que\sj'etais\senceinte|ke\sj'etais\senceinte|"
    r"ke\sjetais\senceinte|que\sje\ssuis\senceinte|ke\sjsuis\senceinte|ke\sje\ssuis\senceinte|"
    r"que\sjsuis\senceinte|qu'elle\sest\senceinte|"
    r"ma\sgrossesse|sa\sgrossesse|la\sgrossesse|qu'elle\setait\senceinte|ke\selle\setait\senceinte)|"
    r"enceinte\ssous|tombee?s?\senceinte|l'a\ssu|l'ai\ssu|decouverte\sde\s(?:ma|la)\s"
    r"grossesse|echo\sde\sdatation|on\sm'a\sannonce|deni|"
    r"(?:montre|revele|detecte|confirme|decouvert|vu)\s(?:une\s|ma\s|la\s)?grossesse)(?![a-z])"
)
# An intake going on: "sous Curacné", "je prenais", "depuis 3 mois", "jusqu'à", "tous les jours"
_ONGOING = re.compile(
    r"(?<![a-z])(?:sous|prenais|prenait|continue|continuais|depuis|arrete|arretee|stoppe|stoppee|en\splein\straitement|"
    r"jusqu(?:'|\s)(?:a|au|aux)|tous\sles\s"
    r"jours|tt\sles\sjours|chaque\sjour|quotidien|en\scours)(?![a-z])"
)
# An intake told with a pronoun for the drug named before: "je l'ai pris", "j'en ai pris", "on me l'a donné"
_PRONOUN_INTAKE = re.compile(
    r"(?<![a-z])(?:je\sl'ai|je\sl\sai|j'l'ai|je\sles\sai|j'en\sai|j\sen\sai|g\s(?:l'|en\s)|"
    r"on\sme\sl'a|on\sm'en\sa|elle\sl'a|elle\sen\sa)\s?(?:\w+\s){0,2}(?:pris|prise|avale|"
    r"avalee|mis|mise|applique|appliquee|utilise|donne|donnee|injecte)(?![a-z])"
)
# The author's own intake told in the clause: "j'ai pris", "je me suis mis", "g pris"
_SELF_INTAKE = re.compile(
    r"(?<![a-z])(?:j'ai|j\sai|jai|g|je\sme\ssuis|j'en\sai|je\sl'ai)\s(?:\w+\s){0,2}(?:pris|avale|avalee|mis|"
    r"mise|applique|appliquee|utilise|repris)(?![a-z])"
)
# A relative clause about the drug named just before: ", que j'ai pris", ", qu'elle a avalé"
_RELATIVE_INTAKE = re.compile(
    r"(?:que|qu'|ke|k)\s?(?:j'|je|g|jai|elle|il|on|ma|mon|mes)\s?(?:\w+\s){0,3}(?:pris|prise|avale|"
    r"avalee|mis|mise|applique|appliquee|utilise|donne|donnee|injecte|repris)(?![a-z])"
)
# The drug as a pronoun object of an intake verb, negated or not: "j'en ai pris", "je l'ai pas pris"
_PRONOUN_OBJECT_INTAKE = re.compile(
    r"(?<![a-z])(?:je|j'|g|jai|elle|il|on)\s?(?:ne\s|n')?(?:l'|l\s|en\s|les\s|me\sl'|m'en\s)"
    r"\s?(?:ai|a|avais|avait|suis)\s(?:\w+\s){0,2}(?:pris|prise|avale|avalee|mis|mise|"
    r"applique|appliquee|utilise|donne|donnee|injecte|repris)(?![a-z])"
)
# The drug as a pronoun object of a planned intake: "je peux en reprendre ?", "je vais le prendre"
_PRONOUN_OBJECT_PLAN = re.compile(
    r"(?<![a-z])(?:en|le|la|les|l')\s?(?:prendre|reprendre|avaler|mettre|remettre|utiliser|"
    r"continuer|appliquer)(?![a-z])"
)
# An intake of the drug named before, told with its dosage form: "qui ai avalé le comprimé du soir", "j'en ai pris deux"
_UNNAMED_INTAKE_AFTER = re.compile(
    r"(?<![a-z])(?:ai|a|avons|avais|g|jai)\s(?:\w+\s){0,2}(?:pris|avale|avalee|mis|applique|"
    r"appliquee)\s(?:\w+\s){0,2}(?:le|les|la|un|une|deux|trois|\d)\s(?:comprimes?|gelules?|"
    r"cachets?|sachets?|capsules?|suppos?|patchs?)(?![a-z])"
)
# How long an intake lasted: "pendant 4 jours", "pdt 2 semaines"
_DURATION = re.compile(
    r"(?<![a-z])(?:pendant|pdt|durant)\s(?:\d+|un|une|deux|trois|quatre|cinq|six|sept|huit|dix|quinze|"
    r"quelques|plusieurs)\s(?:jours?|nuits?|semaines?)(?![a-z])"
)
_PER_DAY = re.compile(r"(?<![a-z])(?:\d|un|une|deux|trois|quatre)\s(?:fois\s)?par\sjour(?![a-z])")
# A count of units in the clause right after a drug: ", 1 seul cachet", ", deux comprimés"
_COUNT_NEXT = re.compile(
    r"[\s,;:]*(?:\d+|un|une|deux|trois|quatre)\s(?:seule?\s|petite?\s)?(?:comprimes?|cachets?|gelules?|"
    r"sachets?|capsules?|suppos?|suppositoires?|patchs?|applications?|prises?)(?![a-z])"
)
# "si" that sets no condition: "si j'ai bien compris", "si je compte bien", "si je ne me trompe pas"
_NOT_A_CONDITION = re.compile(
    r"si\s?(?:je|j'|j\s)\s?(?:ai\sbien\s(?:compris|calcule|compte|lu)|compte\sbien|calcule\sbien|"
    r"me\ssouviens\sbien|ne\sme\strompe\spas|me\strompe\spas|comprends\sbien|ai\sbon)"
)
# A question about the consequences of an intake told before it ("…, c'est grave ?"), not about taking it
_CONSEQUENCE = re.compile(
    r"(?<![a-z])(?:grave|dangereux|dangereuse|risque|risques|inquietant|normal|un\sprobleme)"
    r"\s?\?"
)
# An ironic claim ("Bien sûr que j'ai pris 3 advils à 8 mois 🙄") denied in the next sentence ("Non mais sérieux")
_IRONY_OPEN = re.compile(r"\s*(?:bien\ssur\sque|evidemment\sque|mais\soui|oui\soui|c'est\sça)(?![a-z])")
_DENIAL = re.compile(
    r"(?<![a-z])(?:non\smais\s(?:serieux|serieusement|sans\srire|plus\ssérieusement)|"
    r"je\splaisante|je\srigole|blague\sa\spart|plus\sserieusement)(?![a-z])"
)
# An intake in the present after "si": a condition ("si je prends du Nurofen juste un jour")
_IF_PRESENT = re.compile(
    r"(?<![a-z])(?:si|s')\s?(?:je|j'|j\s|tu|elle|on|il)\s?(?:en\s|le\s|la\s|les\s|l')?(?:\w+\s)?"
    r"(?:prends|prend|prenons|prennent|mets|met|avale|utilise|applique|continue|reprends)(?![a-z])"
)
# The author's own pregnancy in her words: "je suis enceinte", "ma grossesse", "je suis à 30 SA"
_OWN_PREGNANCY = re.compile(
    r"(?<![a-z])(?:je\ssuis\senceinte|jsuis\senceinte|jsui\senceinte|j'etais\senceinte|"
    r"je\ssuis\sa\s\d|j'en\ssuis\sa|ma\sgrossesse|mon\sventre|je\ssuis\sau\s\d|enceinte\sde\smon|"
    r"enceinte\sde\sma)(?![a-z])"
)
# The author as the subject of an intake told with a pronoun: "je l'ai pris", "j'en ai mis", "g en"
_FIRST_PERSON_INTAKE = re.compile(r"(?:je\s|j'|j\s|g\s|on\sme\s|on\sm')")
_PARTICIPLE_OPENING = re.compile(
    r"\s*(?:avale|avalee|avales|avalees|gobe|gobee|pris|prise|applique|appliquee)(?![a-z])"
)
# The last unit of a treatment told as taken: "dernière gélule avalée ce matin", "ma dernière prise hier"
_LAST_UNIT_TAKEN = re.compile(
    r"(?<![a-z])(?:derniere|ma)\s(?:gelule|capsule|prise|dose)\s(?:\w+\s)?(?:avalee|prise)|"
    r"dernier\s(?:comprime|cachet|sachet)\s(?:\w+\s)?(?:avale|pris)(?![a-z])"
)
# A later clause about the intake of the drug named before: "ma dernière gélule", "je l'ai prise", "jusqu'à"
_TOLD_AGAIN = re.compile(
    r"(?<![a-z])(?:derniere\s(?:gelule|prise|dose|capsule)|dernier\s(?:comprime|cachet|sachet)|"
    r"l'ai\s(?:\w+\s)?(?:pris|prise|arrete|stoppe)|en\sai\s(?:\w+\s)?pris|arrete\s(?:le|la|mon|ma|"
    r"le\straitement)|jusqu(?:'|\s)(?:a|au))(?![a-z])"
)
# An intake without the drug's name, named in a sentence after: "j'ai pris deux comprimés", "j'ai avalé"
_UNNAMED_INTAKE = re.compile(
    r"(?<![a-z])(?:j'ai|j\sai|g|jai|je\sme\ssuis)\s(?:\w+\s)?(?:pris|avale|mis)\s(?:\d+|un|une|"
    r"deux|trois|quatre|le|la|les|mes|ma|mon)\s(?:comprimes?|cachets?|gelules?|sachets?|capsules?|"
    r"boite)(?![a-z])"
)
# An intake told of an earlier time than the post's present
_EARLIER = re.compile(
    r"(?<![a-z])(?:avant\sma\sgrossesse|l'an\sdernier|l'annee\sderniere|en\s(?:19|20)\d\d|"
    r"il\sy\sa\s(?:\d+|un|deux|trois|quatre|cinq|six|sept|huit|neuf|dix)\sans?|quand\sj'etais\sado|"
    r"a\sl'epoque|a\s\d+\sans|l'annee\sd'avant|"
    r"avant\sde\stomber)(?![a-z])"
)
_MISCARRIAGE = re.compile(r"(?<![a-z])(?:fausse\scouche|fc\sprecoce)(?![a-z])")
# The pregnancy's start told right after a time: ", en 2016, je suis tombée enceinte", "j'ai découvert ma grossesse"
_PREGNANCY_START = re.compile(
    r"[\s,]*(?:en\s(?:19|20)\d\d[\s,]*)?(?:je\ssuis\stombee|j'ai\sdecouvert|je\sme\ssuis\sretrouvee|"
    r"on\sa\sappris|j'ai\sappris|elle\sest\stombee)"
)
# The drug as the subject of a statement: "l'isotrétinoïne s'élimine", "l'ibuprofène passe dans le sang"
_ABOUT_THE_DRUG = re.compile(
    r"\s(?:s'elimine|s'accumule|est\s(?:contre|interdit|dangereux|toxique|teratogene|deconseille|"
    r"tres|un|une|le|la)|sont\s|passe\sdans|reste\sdans|provoque|cause|entraine|peut\s|peuvent\s|"
    r"augmente|expose)"
)
# A drug given to a woman named before: "mon fils lui a donné", "son mari lui a filé"
_GIVEN_TO_HER = re.compile(
    r"(?<![a-z])lui\s(?:a|ont|avait)\s(?:\w+\s)?(?:donne|file|passe|refile|fait\sprendre|mis|injecte|"
    r"tendu|ramene|achete)(?![a-z])"
)
# A treatment ended at a stated time: "fini en 2019", "arrêté il y a 4 mois", "terminé l'an dernier"
_ENDED = re.compile(
    r"(?<![a-z])(?:fini|finie|termine|terminee|arrete|arretee|stoppe|stoppee|arret)\s(?:\w+\s)?(?:en|il\sy\sa|"
    r"depuis|le|au|l'an|l'annee|des|avant)(?![a-z])"
)
# An intake that went on from before the pregnancy: "déjà", "toujours", "encore"
_STILL = re.compile(r"(?<![a-z])(?:deja|toujours|encore|continue|continuait|continuais)(?![a-z])")
# "depuis janvier", "depuis le 3 mars": when an ongoing intake started, not when it happened
_SINCE = re.compile(r"(?<![a-z])depuis\s(?:le\s|la\s|debut\s|mi\s|fin\s)?$")
# "jusqu'à mon test positif à 5 SA": an intake that lasted until another event
_UNTIL = re.compile(r"(?<![a-z])(?:jusqu|jusqu'a|jusqu\sa|jusqu'au|jusqu\sau)(?![a-z])")
# Words that look like a negation and are not: "en plus", "de plus", "plus de", "pas de panique"
_NOT_A_NEGATION = re.compile(
    r"(?<![a-z])(?:en\splus|de\splus|plus\sde|plus\sd|encore\splus|non\sstop|pas\sde\spanique|"
    r"pas\sbien|pas\sgrave|ne\ssavais\spas|savais\spas|pas\scertaine|plus\stard)(?![a-z])"
)
# A clause that only continues a list: "…, de l'Advil", "et du Spasfon", "ou un Nurofen"
_LIST_ITEM = re.compile(
    r"^(?:[\s,;:()\-+.…]*(?:et\s|ou\s|puis\s)?(?:du|de\sl'|de\sla|des|d')\s?[a-z0-9]+)*"
    r"[\s,;:()\-+.…]*(?:et\s|ou\s|puis\s|aussi\s|c'etait\s|c\setait\s|cetait\s)?"
    r"(?:du|de\sl'|de\sla|de|des|d'|la|le|les|l'|un|une|"
    r"\d+|quelques|plusieurs)?\s*$"
)
# A verbless line of a story: "Grossesse de 2021 : du Contracné jusqu'à 5 SA, puis du Cebutid à 30 SA"
_NARRATED = re.compile(r"^[\s,;:()\-+]*(?:et\s|puis\s|ensuite\s)?(?:du|de\sl'|de\sla|des|d'|un|une)?\s*$")
_TIME_AFTER = re.compile(
    r"(?<![a-z])(?:jusqu(?:'|\s)(?:a|au)|a\s\d{1,2}\s?(?:sa|sg)|a\s\d\smois|(?:pendant|pdt)\s\d+|des\s\d{1,2}\s?sa|"
    r"au\s\d(?:e|eme)\smois)(?![a-z])"
)
# "je (ne) sais pas si", "je me demande si": an indirect question, not a condition
_INDIRECT_QUESTION = re.compile(r"(?:sais\spas|sait\spas|sais|demand\w*|savoir|voir|idee|ignore|verifi\w*)\s$")
# A pregnancy test turns positive at about 4 SA (around the missed period, CNGOF)
POSITIVE_TEST_SA = 4.0
# A limit quoted in a rule, not a time of the post: "à partir de 24 SA", "après 5 mois", "dès 24 SA"
_THRESHOLD = re.compile(
    r"(?<![a-z])(?:a\spartir\s(?:de|du|d)|apres|des|au\sdela\s(?:de|du)|passe|passees|plus\sde|"
    r"moins\sde|avant|jusqu'a|jusqu\sa|jusqu'au|jusqu\sau|entre)\s(?:la\s|le\s|l')?$"
)
# Today's age: "je suis à 30 SA", "enceinte de 7 mois", "j'en suis à", "aujourd'hui 28 SA"
_CURRENT = re.compile(
    r"(?:(?:je\s)?suis\s(?:a|enceinte\sde|enceinte\sd')|jsui\s(?:a|enceinte)|jsuis\s(?:a|enceinte)|"
    r"j'en\ssuis\sa|j\sen\ssuis\sa|enceinte\sde|enceinte\sd'|enceinte|actuellement|aujourd'?\s?hui|"
    r"maintenant|a\sl'heure\sou\sj'ecris|la\sje\ssuis\sa|est\sa|elle\sest\sa)\s?(?:a\s|de\s)?$"
)
_RELATIVE_NP = re.compile(
    r"(?<![a-z])(?:ma|mon|mes|sa|son|notre|ta|ton|votre|(?:la|le|l'|une|un)(?=\s?\w+\sde\s(?:mon|ma|mes)\s))"
    r"\s?(?:(?:meilleure|belle|beau|petite|grande|ex|future|jeune)\s)?(\w+(?:\s\w+)?)"
)


class Clause(NamedTuple):
    start: int
    end: int


class AgeAtIntake(NamedTuple):
    """The gestational age at an intake: a point (SA) or a range, how it was read, and the span of text."""

    sa: float | None
    sa_min: float
    sa_max: float
    source: str  # stated, weeks_to_term, period, date, time_ago, current, first_trimester
    start: int
    end: int

    @property
    def known(self) -> bool:
        return self.sa is not None or self.sa_max - self.sa_min <= 30


class TimeMark(NamedTuple):
    """A time expression of the post and its role.

    ``kind``: ``age`` (a gestational age, point or range), ``date`` (a calendar day), ``year`` (a
    year alone: it dates an intake but gives no age) or ``ago`` (days before the post). ``role``: ``intake`` (may date an intake), ``other_event`` (dates a
    delivery, a scan, a test), ``threshold`` (a limit quoted in a rule: "après 24 SA"), ``since``
    (the start of an intake that goes on: "depuis janvier"),
    ``hypothetical`` (in a condition), ``anchor`` (the last period or the due date). ``owner``:
    whose time it is (the subject named before it). ``current``: stated as today's ("je suis à").
    """

    start: int
    end: int
    kind: str
    sa: float | None = None
    sa_min: float = 0.0
    sa_max: float = 44.0
    source: str = ""
    day: date | None = None
    days: float | None = None
    role: str = "intake"
    owner: str | None = None
    current: bool = False
    year_known: bool = True
    before: str = ""  # the words just before it, in the matching form
    after: str = ""  # the words just after it


@dataclass(frozen=True)
class ExposureEvent:
    """One drug mention read as an exposure event (see the module docstring)."""

    mention: DrugMention
    status: str
    person: str
    pregnant: bool | None
    timing: str  # pregnancy, postpartum, breastfeeding, before_conception, unknown
    age: AgeAtIntake | None
    first_trimester: bool
    route: str
    dose: Dose | None
    clause: tuple[int, int]
    sentence: tuple[int, int]
    why: tuple[str, ...] = field(default_factory=tuple)  # short notes on the decisive cues, for audit


# ----------------------------------------------------------------------------- text structure
def clauses_of(text: str, sentence: tuple[int, int]) -> tuple[Clause, ...]:
    """Clauses of a sentence: split at punctuation and at the conjunctions that start a new clause
    (memoised: the events of a post ask for the same sentences again and again)."""
    return _clauses(text, sentence[0], sentence[1])


@lru_cache(maxsize=1024)
def _clauses(text: str, start: int, end: int) -> tuple[Clause, ...]:
    cuts = [start]
    for pattern in (_CLAUSE_PUNCT, _CLAUSE_WORDS):
        for match in pattern.finditer(text, start, end):
            cuts.append(match.start())
    cuts = sorted(set(cuts)) + [end]
    out = tuple(Clause(a, b) for a, b in zip(cuts, cuts[1:]) if text[a:b].strip(" ,;:()[]-–—→>"))
    return out or (Clause(start, end),)


def _clause_index(clauses: Sequence[Clause], position: int) -> int:
    for index, clause in enumerate(clauses):
        if clause.start <= position < clause.end:
            return index
    return len(clauses) - 1


def _words_before(text: str, start: int, limit: int, floor: int = 0) -> str:
    """The last ``limit`` words before ``start`` (not before ``floor``), as one string."""
    words = _WORD.findall(text[floor:start])
    return " ".join(words[-limit:])


class _Lazy:
    """A yes/no computed the first time it is asked (``bool(lazy)``), then kept."""

    def __init__(self, compute: Callable[[], object]) -> None:
        self._compute = compute
        self._value: bool | None = None

    def __bool__(self) -> bool:
        if self._value is None:
            self._value = bool(self._compute())
        return self._value


def _quoted(text: str, position: int) -> bool:
    """Whether ``position`` is inside a quotation: « … », “ … ”, "…" in its line, or a line that starts with ">"."""
    line_start = text.rfind("\n", 0, position) + 1
    line = text[line_start:position]
    if line.lstrip().startswith(">"):
        return True
    if line.count("«") > line.count("»") or line.count("“") > line.count("”"):
        return True
    return line.count('"') % 2 == 1


def _gap(mark: TimeMark, mention: DrugMention) -> int:
    """Characters between a time expression and a drug name (0 when they touch)."""
    if mark.start >= mention.end:
        return mark.start - mention.end
    return max(0, mention.start - mark.end)


def _own_segment(mention: DrugMention, mentions: list[DrugMention], position: int) -> bool:
    """Whether ``position`` lies between the drug named before this one and the drug named after it."""
    before = max((m.end for m in mentions if m.end <= mention.start), default=-1)
    after = min((m.start for m in mentions if m.start >= mention.end), default=1 << 30)
    return before <= position < after


def _near(pattern: re.Pattern, text: str, start: int, end: int) -> re.Match | None:
    return pattern.search(text, max(0, start), max(0, end))


# ----------------------------------------------------------------------------- the extractor of events
class EventReader:
    """Reads the exposure events of a post; holds the vocabulary and the age conversion settings."""

    def __init__(self, words: CueWords | None = None, t1_max_sa: float = DEFAULT_TRIMESTERS[1][1]) -> None:
        self.w = words or cue_words()
        self.t1_max_sa = t1_max_sa
        self._owners: dict[tuple[str, int, int], str | None] = {}  # _owner's answers for the post being read
        self._subjects: dict[str, tuple[str, str | None] | None] = {}  # _subject_in's answers, by span

    # -- status ------------------------------------------------------------------------------
    def status(
        self,
        text: str,
        mention: DrugMention,
        clauses: Sequence[Clause],
        index: int,
        sentence: tuple[int, int],
        following: str,
    ) -> tuple[str, str]:
        """``(status, why)`` of a mention (see the module docstring)."""
        w = self.w
        clause = clauses[index]
        whole = text[sentence[0] : sentence[1]]
        before_drug = _words_before(text, mention.start, 4, clause.start)
        before_drug_wide = _words_before(text, mention.start, 6, sentence[0])
        after_drug = text[mention.end : min(sentence[1], mention.end + 60)]
        if _pregnancy_hypothesis(w, whole) and not w.intake_taken.search(text, clause.start, clause.end):
            return "hypothetical", "a pregnancy to come"
        if _ends_with(w.negation_before_drug, before_drug) or _ends_with(w.negation_before_drug, before_drug_wide):
            return "not_taken", "a negation or a substitution before the drug"
        if w.negation_after_drug.search(after_drug) or w.negation_after_drug.search(following[:200]):
            return "not_taken", "a negation after the drug"
        if _IRONY_OPEN.match(text, sentence[0]) and _DENIAL.search(text, sentence[1] - 2, sentence[1] + 60):
            return "not_taken", "irony, then denied ('Bien sûr que j'ai pris … Non mais sérieux, zéro …')"
        if _ABOUT_THE_DRUG.match(text, mention.end) and not w.intake_taken.search(text, clause.start, mention.start):
            return "general", "a statement about the drug ('l'isotrétinoïne s'élimine en quelques semaines')"
        found = self._clause_status(text, clause, mention)
        if found is None and _LIST_ITEM.match(text[clause.start : mention.start]):
            for previous in reversed(clauses[:index]):  # a list or a continued clause: "g pris du X, de l'Y"
                found = self._clause_status(text, previous, None)
                if found is not None:
                    break
        if found is None and index + 1 < len(clauses):  # "l'Advil, je l'ai pris hier"
            after = clauses[index + 1]
            if re.match(
                r"\s*(?:je|j|g|elle|il|on)\s?(?:l'|l\s|en\s|les\s)", text[after.start : after.end].strip(" ,;:")
            ):
                found = self._clause_status(text, after, None)
        if found is not None:
            status, why = found
            if status == "taken" and self._general(text, clause, sentence):
                return "general", "a rule stated for everyone"
            if (
                status == "taken"
                and w.general_warnings.search(text, sentence[0], mention.start)
                and not _SELF.search(text, sentence[0], mention.end)
            ):
                return "general", "a warning or a list of forbidden drugs ('interdits … : ibuprofène, …')"
            return status, why
        quoted = _quoted(text, mention.start)  # « un petit Advil en fin de grossesse… »: someone's words
        # "c pa pareil ke le roacutan en cachet": a drug compared with, not taken
        quoted = quoted or _ends_with(w.general_comparison, _words_before(text, mention.start, 4, clause.start))
        if (
            not quoted
            and self._verbless_intake(text, clause, mention)
            or (
                not quoted
                and _NARRATED.match(text[clause.start : mention.start])
                and _TIME_AFTER.search(text[mention.end : clause.end])
                and not (_QUESTION.search(whole) and not _CONSEQUENCE.search(whole))
                and not w.general_warnings.search(whole)
            )
        ):
            return "taken", "an intake told without a verb (a count, a duration, an intake noun)"
        if (
            mention.entry.drug_class == "isotretinoin"
            and _DISCOVERY.search(whole)
            and not _QUESTION.search(whole)
            and not _ENDED.search(whole)
        ):
            return "taken", "a pregnancy found while on the treatment ('Roaccutane + pilule oubliée = test positif')"
        if self._general(text, clause, sentence) or w.general_warnings.search(whole):
            return "general", "a warning or a rule"
        if w.intention_proposed.search(text, clause.start, clause.end):
            return "intended", "proposed or prescribed, no intake told"
        if _QUESTION.search(whole):
            return "intended", "asked about"
        return "mentioned", "no intake told"

    def _clause_status(self, text: str, clause: Clause, mention: DrugMention | None) -> tuple[str, str] | None:
        """The status a clause's verb gives, or ``None`` when the clause has no intake verb."""
        w = self.w
        start, end = clause.start, clause.end
        if mention is not None:
            span = text[start : mention.start] + " " * (mention.end - mention.start) + text[mention.end : end]
        else:
            span = text[start:end]
        conditional = w.intention_future_conditional.search(span)
        if conditional:
            return "intended", f"'{conditional.group()}': a plan or a condition"
        proposed = w.intention_proposed.search(span, 0, (mention.start - start) if mention is not None else len(span))
        if proposed and not _SELF_INTAKE.search(span):
            return "intended", f"'{proposed.group()}': proposed or prescribed, no intake told"
        if _hypothesis(w, span) and (not w.intake_taken.search(span) or _IF_PRESENT.search(span)):
            return "hypothetical", "a condition"
        verbs = [m for m in w.intake_taken.finditer(span)]
        infinitives = [m for m in w.intake_infinitive.finditer(span)]
        if not verbs and not infinitives:
            return None
        if w.negation_verbs.search(span):
            return "not_taken", "a verb of avoidance"
        for verb in verbs:
            window = _words_before(span, verb.start(), 3) + " " + " ".join(_WORD.findall(span[verb.end() :])[:2])
            if self._negated(window):
                return "not_taken", f"'{window.strip()}': a negated intake"
        if verbs:
            return "taken", f"'{verbs[0].group()}': an intake verb"
        infinitive = infinitives[0]
        before = _words_before(span, infinitive.start(), 4)
        if w.intake_done_before_infinitive.search(before):
            return "taken", f"'{before} {infinitive.group()}': an intake that happened"
        if w.negation_words.search(before):
            return "not_taken", "a negated plan"
        return "intended", f"'{before} {infinitive.group()}': a plan or a question"

    def _negated(self, window: str) -> bool:
        """Whether the words around an intake verb negate it ("n'ai pas pris", "jamais pris", "pris aucun"), not
        "en plus", "plus de", "pas de panique"."""
        cleaned = _NOT_A_NEGATION.sub(" ", " " + window + " ")
        return bool(self.w.negation_words.search(cleaned))

    def _verbless_intake(self, text: str, clause: Clause, mention: DrugMention) -> bool:
        w = self.w
        near = text[max(clause.start, mention.start - 40) : min(clause.end, mention.end + 40)]
        # "mon ancien traitement de curacné ?": a treatment asked about is not an intake
        if (w.intake_nouns.search(near) and not _QUESTION.search(text, clause.start, clause.end + 2)) or re.search(
            r"(?<![a-z0-9])(?:\d+|un|une|deux|trois|quatre)\s(?:jours?|nuits?|"
            r"semaines?)\s(?:de|d')\s?",
            near,
        ):
            return True
        if re.match(
            r"\s?(?:\d{2,4}\s?(?:mg)?\s)?(?:(?:pendant|pdt|durant)\s(?:\d|un|une|deux|trois|quatre|cinq|six|"
            r"huit|dix|quinze|quelques|plusieurs|toute|tout|des)|tous\sles|tt\sles|matin\set\ssoir|[x*]\s?\d)",
            text[mention.end : mention.end + 24],
        ):
            return True  # "advil pdt 2 jours", "voltarène tous les soirs"
        if re.search(
            r"(?<![a-z0-9])(?:\d|deux|trois|quatre|un\sseul|une\sseule|un\spetit|une\spetite)\s?$",
            text[max(clause.start, mention.start - 14) : mention.start],
        ):
            return True  # "2 advils", "3 nurofen", "un seul Advil"
        if re.search(
            r"(?:\d\s?(?:sa|sg)|mois|semaines?|hier|matin|soir|nuit)\s(?:un|une|1)\s?$",
            text[max(clause.start, mention.start - 30) : mention.start],
        ):
            return True  # "à 7 mois un ibuprofène", "hier soir un Advil"
        if _DURATION.search(text, mention.end, min(len(text), clause.end + 40)) or _PER_DAY.search(
            text, mention.end, min(len(text), mention.end + 30)
        ):
            return True  # "Ketum gel sur la cheville pendant 4 jours", "Naprosyne 550, deux par jour"
        if re.match(r"\s?(?:x\s?\d|\d{2,4}\s?(?:mg)?\s?x)", text[mention.end : mention.end + 10]):
            return True  # "nurofen 200 x2"
        if _COUNT_NEXT.match(text, clause.end):
            return True  # "ibuprofene 200 ce matin, 1 seul cachet"
        return bool(w.intake_list_headers.search(text, max(0, mention.start - 400), mention.start))

    def _general(self, text: str, clause: Clause, sentence: tuple[int, int]) -> bool:
        w = self.w
        span = text[clause.start : clause.end]
        if w.general_subjects.search(span) and not re.search(r"(?<![a-z])(?:j|je|g|jsui|moi|m'a)(?![a-z])", span):
            return True
        return False

    # -- person and pregnancy -------------------------------------------------------------------
    def person(
        self,
        text: str,
        mention: DrugMention,
        clauses: Sequence[Clause],
        index: int,
        sentence: tuple[int, int],
        previous: tuple[int, int] | None,
        position: int | None = None,
    ) -> tuple[str, str | None]:
        """``(person, who)``: ``self``, ``relative`` (with the noun that names them), ``other`` or ``general``;
        the subject is read before ``position`` (the mention, or the verb of the clause that tells its intake)."""
        w = self.w
        clause = clauses[index]
        if w.person_given_to_author.search(text, clause.start, clause.end):
            return "self", None
        if _GIVEN_TO_HER.search(text, clause.start, mention.start):  # "Mon fils lui a donné du Voltarène"
            her = self._last_relative(text[: clause.start], female=True)
            return ("relative", her.group()) if her else ("other", None)
        position = mention.start if position is None else position
        person, who = self.subject(text, clauses, index, position, previous or sentence)
        if person is not None:
            return person, who
        # a relative who took it, told after the drug: "l'aspirine, ma mère en prenait"
        after = text[mention.end : clause.end]
        relative = self._last_relative(after)
        if relative and w.intake_taken.search(after[relative.end() :]):
            return "relative", relative.group()
        return "self", None

    def subject(
        self, text: str, clauses: Sequence[Clause], index: int, position: int, context: tuple[int, int]
    ) -> tuple[str | None, str | None]:
        """The subject that governs ``position``: the last one named in its clause, else in the clauses
        before it in the sentence; a third-person pronoun is the last relative named since ``context``."""
        for candidate in reversed(clauses[: index + 1]):
            span_end = position if candidate is clauses[index] else candidate.end
            span = text[candidate.start : span_end]
            found = self._subject_in(span)
            if found is None:
                continue
            kind, who = found
            if kind == "third":
                earlier = self._last_relative(text[context[0] : candidate.start + (len(span) - len(span.lstrip()))])
                if earlier:
                    return "relative", earlier.group()
                if self.w.person_author_is_partner.search(text):  # "Partenaire ici. Elle était sous Procuta"
                    return "relative", "elle (the author's partner)"
                return "other", None
            return kind, who
        return None, None

    def _subject_in(self, span: str) -> tuple[str, str | None] | None:
        """The last subject named in ``span``: (``self`` | ``relative`` | ``other`` | ``general`` | ``third``, noun).
        Remembered by span: forum sentences repeat their openings ("je suis a ", "ma soeur ")."""
        if span in self._subjects:
            return self._subjects[span]
        if len(self._subjects) > 100_000:
            self._subjects.clear()
        found = self._subjects[span] = self._find_subject(span)
        return found

    def _find_subject(self, span: str) -> tuple[str, str | None] | None:
        w = self.w
        candidates: list[tuple[int, str, str | None]] = []
        for match in _SELF.finditer(span):
            candidates.append((match.start(), "self", None))
        relative = self._last_relative(span)
        if relative:
            candidates.append((relative.start(), "relative", relative.group()))
        for match in w.general_subjects.finditer(span):
            candidates.append((match.start(), "general", None))
        for match in w.person_others.finditer(span):
            candidates.append((match.start(), "other", None))
        for match in _THIRD.finditer(span):
            candidates.append((match.start(), "third", None))
        if not candidates:
            return None
        _, kind, who = max(candidates, key=lambda c: c[0])
        return kind, who

    def _last_relative(self, span: str, female: bool = False) -> re.Match | None:
        """The last relative named in ``span`` ("ma sœur", "la copine de mon frère"), or the last woman."""
        w = self.w
        found = None
        for match in _RELATIVE_NP.finditer(span):
            noun = match.group(1)
            first = noun.split()[0]
            owner_of = re.search(r"(\w+)\sde\s$", span[: match.start()])
            if owner_of and (
                w.person_relatives_female.fullmatch(owner_of.group(1))
                or w.person_relatives_male.fullmatch(owner_of.group(1))
            ):
                continue  # "la copine de mon frère": the girlfriend, not the brother
            is_female = bool(w.person_relatives_female.fullmatch(noun) or w.person_relatives_female.fullmatch(first))
            is_male = bool(w.person_relatives_male.fullmatch(noun) or w.person_relatives_male.fullmatch(first))
            if is_female or (is_male and not female):
                found = match
        return found

    def relative_pregnant(
        self,
        text: str,
        who: str,
        sentence: tuple[int, int],
        previous: tuple[int, int] | None,
        author_pregnant: bool = False,
    ) -> bool:
        """Whether the relative named ``who`` is said pregnant: a pregnancy word or an age whose subject is them
        (in the sentence, the one before or the one after: "ma sœur, enceinte de 7 mois", "enceinte de 7 mois,
        elle a pris"), and never said not pregnant. When the author tells no pregnancy of her own, a pregnancy
        of the post told of "elle" is the relative's ("Je poste pour ma meilleure amie. […] enceinte de 2
        mois"); a partner ("ma femme", "ma meuf") is the pregnant one of a post whose author does not say
        "je suis enceinte" ("28 SG et ma meuf a pris un ibu")."""
        w = self.w
        noun = re.sub(r"^(?:ma|mon|mes|sa|son|notre|ta|ton|la|le|une|un)\s", "", who)
        words = noun.split() or [noun]
        names = {noun, words[0], words[-1]}  # "mari prend": the relative's noun may carry the next word
        if any(w.person_relatives_male.fullmatch(n) or w.person_not_pregnant.fullmatch(n) for n in names):
            return False
        start = previous[0] if previous else sentence[0]
        for match in _PREGNANCY_EXPRESSION.finditer(text, start, min(len(text), sentence[1] + 300)):
            owner = self._owner(text, match.start(), start)
            if owner == "third":
                owner = "relative"  # "ma sœur a appris qu'elle était enceinte", "Elle était à 33 SA"
            if (
                owner is None
                and (
                    re.match(r"[^,.;!?\n]{0,30},", text[match.end() :])
                    or re.match(r"[^,.;!?\n]{0,12}\s(?:elle|elles)\s", text[match.end() :])
                )
                and self._subject_after(text, match.end()) in ("third", "relative")
            ):
                owner = "relative"  # "enceinte de sept mois et demi, elle a pris du Feldène"
            if owner == "relative":
                negated = re.search(
                    r"(?:pas|plus|jamais)\s(?:encore\s)?$", text[max(0, match.start() - 12) : match.start()]
                )
                return not negated
        if any(w.person_partner.fullmatch(n) for n in names):
            return _PREGNANCY_EXPRESSION.search(text) is not None and not _OWN_PREGNANCY.search(text)
        if not author_pregnant:
            for match in _PREGNANCY_EXPRESSION.finditer(text):
                if self._owner(text, match.start(), 0) in ("third", "relative", None):
                    return True
        return False

    def _subject_after(self, text: str, position: int) -> str | None:
        """The first subject named after ``position`` in its sentence."""
        end = min((i for i in (text.find(c, position) for c in ".!?\n") if i != -1), default=len(text))
        span = text[position:end]
        firsts = [(m.start(), "self") for m in _SELF.finditer(span)] + [
            (m.start(), "third") for m in _THIRD.finditer(span)
        ]
        relative = _RELATIVE_NP.search(span)
        if relative:
            firsts.append((relative.start(), "relative"))
        return min(firsts)[1] if firsts else None

    def _owner(self, text: str, position: int, floor: int) -> str | None:
        """Whose is the pregnancy word or age at ``position``: the subject named last before it in its sentence."""
        key = (text, position, floor)
        if key not in self._owners:
            self._owners[key] = self._owner_of(text, position, floor)
        return self._owners[key]

    def _owner_of(self, text: str, position: int, floor: int) -> str | None:
        sentence_start = (
            max(
                text.rfind(".", floor, position),
                text.rfind("\n", floor, position),
                text.rfind("?", floor, position),
                text.rfind("!", floor, position),
                floor - 1,
            )
            + 1
        )
        found = self._subject_in(text[sentence_start:position])
        return found[0] if found else None

    # -- age at the intake ---------------------------------------------------------------------
    def time_marks(
        self,
        text: str,
        sentences: list[tuple[int, int]],
        ages: list[GestationalAge],
        dates: list[DateMention],
        ago: list[TimeAgo],
        lmp: date | None,
        posted: date | None,
    ) -> list[TimeMark]:
        """Every time expression of the post with its role (see :class:`TimeMark`), in order of position."""
        from perivigil.extract.text import sentence_index

        marks: list[TimeMark] = []
        for age in ages:
            marks.append(
                TimeMark(
                    age.start,
                    age.end,
                    "age",
                    age.sa,
                    age.sa_min,
                    age.sa_max,
                    {
                        "weeks_to_term": "weeks_to_term",
                        "late_pregnancy": "period",
                        "early_pregnancy": "period",
                        "trimester": "period",
                    }.get(age.unit, "stated"),
                )
            )
        for mention in dates:
            marks.append(
                TimeMark(
                    mention.start,
                    mention.end,
                    "year" if mention.year_only else "date",
                    day=mention.day,
                    source="date",
                    year_known=mention.year_known,
                )
            )
        for back in ago:
            marks.append(TimeMark(back.start, back.end, "ago", days=back.days, source="time_ago"))
        out = []
        for mark in sorted(marks, key=lambda m: m.start):
            sentence = sentences[sentence_index(sentences, mark.start)]
            role = self._role(text, mark, sentence)
            owner = self._owner(text, mark.start, sentence[0])
            current = mark.kind == "age" and bool(_CURRENT.search(text[max(sentence[0], mark.start - 30) : mark.start]))
            out.append(
                TimeMark(
                    mark.start,
                    mark.end,
                    mark.kind,
                    mark.sa,
                    mark.sa_min,
                    mark.sa_max,
                    mark.source,
                    mark.day,
                    mark.days,
                    role,
                    owner,
                    current,
                    mark.year_known,
                    text[max(sentence[0], mark.start - 40) : mark.start],
                    text[mark.end : min(sentence[1], mark.end + 30)],
                )
            )
        return out

    def _role(self, text: str, mark: TimeMark, sentence: tuple[int, int]) -> str:
        w = self.w
        # an age read with its preposition (" du 6e mois") keeps it in the words before it ("à partir du")
        lead = re.match(r"\s*(?:du|de|au|d')(?![a-z])", text[mark.start : mark.end])
        cut = mark.start + (lead.end() if lead else 0)
        before = " ".join(_WORD.findall(text[max(sentence[0], mark.start - 45) : cut])[-4:])
        if mark.kind == "date" and self._anchor(text, mark.start):
            return "anchor"
        if mark.kind in ("date", "ago") and _SINCE.search(text[max(sentence[0], mark.start - 12) : mark.start]):
            return "since"  # "sous Roaccutane depuis janvier": the start of an intake that goes on
        wider = " ".join(_WORD.findall(text[max(sentence[0], mark.start - 70) : mark.start])[-8:])
        if w.other_events.search(before) and not w.intake_taken.search(before) and not _UNTIL.search(wider):
            return "other_event"
        if mark.kind in ("ago", "date", "year") and _PREGNANCY_START.match(
            text, mark.end, min(sentence[1], mark.end + 40)
        ):
            return "other_event"  # "il y a cinq ans, en 2016, je suis tombée enceinte": the pregnancy's time
        whole = text[sentence[0] : sentence[1]]
        clause = next((c for c in clauses_of(text, sentence) if c.start <= mark.start < c.end), None)
        in_clause = text[clause.start : clause.end] if clause else whole
        if _hypothesis(w, in_clause) or w.hypothesis_pregnancy.search(whole):
            return "hypothetical"
        threshold = _THRESHOLD.search(before + " ")
        if threshold:
            if _UNTIL.search(threshold.group()):  # "jusqu'à 5 SA": a limit only in a rule
                return "threshold" if w.general_warnings.search(whole) else "intake"
            clause_intake = w.intake_taken.search(
                text, max(sentence[0], mark.start - 80), min(sentence[1], mark.end + 60)
            )
            if w.general_warnings.search(whole) or not clause_intake or not _SELF.search(whole):
                return "threshold"
        return "intake"

    def age_at_intake(
        self,
        text: str,
        mention: DrugMention,
        clauses: Sequence[Clause],
        index: int,
        sentence: tuple[int, int],
        earlier: list[tuple[int, int]],
        marks: list[TimeMark],
        lmp: date | None,
        posted: date | None,
        current: TimeMark | None,
        person: str,
        mentions: list[DrugMention] | None = None,
    ) -> AgeAtIntake | None:
        """The age at the intake: a time of the intake's clause, else of its sentence, else the time set by
        the one or two sentences before it (a narrative carries its time), else ``None``."""
        clause = clauses[index]
        owner = "relative" if person == "relative" else "self"
        owners = {None, "relative", "third"} if owner == "relative" else {None, "self", "general", "other"}
        scopes = [(clause.start, clause.end), sentence, *earlier]
        for number, scope in enumerate(scopes):
            usable = [m for m in marks if scope[0] <= m.start < scope[1] and m.role == "intake" and m.owner in owners]
            if number >= 2:  # carried from an earlier sentence: only what sets a time, not today's age
                usable = [m for m in usable if not m.current]
            if number < 2 and mentions:  # "du Curacné à 6 SA et du Spedifen à 32 SA": each drug its own time
                own = [m for m in usable if _own_segment(mention, mentions, m.start)]
                usable = own or usable
            converted = [(_gap(m, mention), self._convert(m, lmp, posted, current)) for m in usable]
            if (
                number == 0
                and any(m.kind in ("date", "year") for m in usable)
                and all(age is None for _, age in converted)
            ):
                return None  # "Curacné fini en 2019, et aujourd'hui test positif": its own time, not an age
            known = [(distance, age) for distance, age in converted if age is not None]
            if known:
                found = min(known, key=lambda c: c[0])[1]
                if number >= 2:
                    found = AgeAtIntake(
                        found.sa, found.sa_min, found.sa_max, f"{found.source}, told before", found.start, found.end
                    )
                return found
        return None

    @staticmethod
    def _convert(mark: TimeMark, lmp: date | None, posted: date | None, current: TimeMark | None) -> AgeAtIntake | None:
        """A time expression as a gestational age: as stated; a date from the last period (or from today's
        age and the post's date); a time back from today's age (or from the last period and the post's date)."""
        if mark.kind == "age":
            return AgeAtIntake(mark.sa, mark.sa_min, mark.sa_max, mark.source, mark.start, mark.end)
        sa = None
        if mark.kind == "date" and mark.day is not None:
            if lmp is not None:
                days = (mark.day - lmp).days
                if not mark.year_known:  # "DDR le 15 novembre ; le 20 mai": the May after that November
                    days = days % 365 if days < -60 or days > 320 else days
                sa = days / 7
            elif current is not None and current.sa is not None and posted is not None:
                sa = current.sa - (posted - mark.day).days / 7
        elif mark.kind == "ago" and mark.days is not None:
            if current is not None and current.sa is not None:
                # a stated age is a week's precision at best: "enceinte de 5 mois, hier" is at 5 months
                sa = current.sa - (mark.days / 7 if mark.days >= 7 else 0.0)
            elif lmp is not None and posted is not None:
                sa = ((posted - lmp).days - mark.days) / 7
        if sa is None:
            return None
        sa = round(sa, 1)
        return AgeAtIntake(sa, sa, sa, mark.source, mark.start, mark.end)

    @staticmethod
    def _anchor(text: str, position: int) -> bool:
        """A date that is the last period or the due date, not an intake ("DDR le 1er mars")."""
        return is_anchor(text, position)

    @staticmethod
    def _lmp_from_discovery(text: str, dates: list[DateMention]) -> date | None:
        """The last period from a dated positive test ("test positif le 3 mars", "TP+ en février"): a test turns
        positive at about 4 SA (:data:`POSITIVE_TEST_SA`)."""
        for mention in dates:
            if not mention.year_only and _DISCOVERY.search(text[max(0, mention.start - 40) : mention.start]):
                return mention.day - timedelta(days=round(POSITIVE_TEST_SA * 7))
        return None

    def current_age(
        self, marks: list[TimeMark], lmp: date | None, posted: date | None, past_until: int, owner: str = "self"
    ) -> TimeMark | None:
        """The person's age today: an age stated as today's ("je suis à 30 SA", "enceinte de 7 mois"), else the
        last age of the post that dates no other event, no warning and no earlier pregnancy; else the one the
        last period and the post's date give."""
        usable = [
            m
            for m in marks
            if m.kind == "age"
            and m.sa is not None
            and m.role == "intake"
            and m.start >= past_until
            and (m.owner in (None, owner) or (owner == "self" and m.owner == "general"))
        ]
        stated = [m for m in usable if m.current]
        if stated:
            return stated[-1]
        if usable:
            return usable[-1]
        if owner == "self":
            for mark in marks:  # "test positif il y a 7 mois": a test turns positive at about 4 SA (missed period)
                if (
                    mark.kind == "ago"
                    and mark.days is not None
                    and mark.start >= past_until
                    and (_DISCOVERY.search(mark.before) or _DISCOVERY.match(mark.after.lstrip(" ,:")))
                ):
                    sa = round(POSITIVE_TEST_SA + mark.days / 7, 1)
                    if sa <= 44:
                        return TimeMark(mark.start, mark.end, "age", sa, sa, sa, "positive test", current=True)
        if owner == "self" and lmp is not None and posted is not None:
            sa = round((posted - lmp).days / 7, 1)
            if 0 <= sa <= 44:
                return TimeMark(0, 0, "age", sa, sa, sa, "date", current=True)
        return None

    # -- timing ---------------------------------------------------------------------------------
    def timing(self, text: str, clause: Clause, sentence: tuple[int, int], age: AgeAtIntake | None) -> str:
        w = self.w
        clause_text = text[clause.start : clause.end]
        whole = text[sentence[0] : sentence[1]]
        undated = age is None or age.source.startswith("current")  # today's age is not the intake's own
        if w.timing_breastfeeding.search(clause_text) or (undated and w.timing_breastfeeding.search(whole)):
            return "breastfeeding"
        if w.timing_postpartum.search(clause_text) or (undated and w.timing_postpartum.search(whole)):
            return "postpartum"
        if (
            w.timing_before_conception.search(clause_text) or (age is None and w.timing_before_conception.search(whole))
        ) and not _STILL.search(clause_text):  # "qu'elle prenait déjà avant la grossesse": it went on
            return "before_conception"
        if (
            age is not None
            and age.sa is not None
            and (age.sa < 0 or (age.sa < 2 and age.source.split(",")[0] in ("date", "time_ago")))
        ):
            return "before_conception"  # an intake dated before the last period, or in the fortnight after it
        return "pregnancy"

    def without_greetings(self, text: str) -> str:
        """The text with the addressee of each greeting blanked ("Salut les mamans" → "Salut            "):
        offsets stay, and "les mamans", "tout le monde" are no longer read as the subject of an intake."""
        w = self.w
        if not w.greetings_openers.search(text):
            return text
        pattern = _greeting_pattern(w)
        return pattern.sub(lambda m: m.group(1) + " " * (len(m.group()) - len(m.group(1))), text)

    # -- all events of a post ----------------------------------------------------------------------
    def read(
        self,
        text: str,
        mentions: list[DrugMention],
        sentences: list[tuple[int, int]],
        ages: list[GestationalAge],
        posted: date | None,
        route_of=None,
    ) -> list[ExposureEvent]:
        from perivigil.extract.text import sentence_index

        text = self.without_greetings(text)
        self._owners.clear()
        dates = find_dates(text, posted)
        ago = find_times_ago(text, posted)
        lmp = last_period(text, dates) or self._lmp_from_discovery(text, dates)
        marks = self.time_marks(text, sentences, ages, dates, ago, lmp, posted)
        past_until = self._past_until(text, sentences)
        current = self.current_age(marks, lmp, posted, past_until)
        author_pregnant = _Lazy(lambda: lmp is not None or self.author_pregnant(text, marks))
        discovered = _Lazy(lambda: self._post_first_trimester(text))  # asked only for isotretinoin
        events = []
        for mention in mentions:
            index = sentence_index(sentences, mention.start)
            sentence = sentences[index]
            previous = sentences[index - 1] if index > 0 else None
            nxt = sentences[index + 1] if index + 1 < len(sentences) else None
            following = text[nxt[0] : nxt[1]] if nxt else ""
            clauses = clauses_of(text, sentence)
            c_index = _clause_index(clauses, mention.start)
            clause = clauses[c_index]
            status, why_status = self.status(text, mention, clauses, c_index, sentence, following)
            linked = self._linked_clause(text, mention, clauses, c_index, mentions)
            subject_at = None
            if linked is not None:  # "…d'Advil de ma vie, mais à 30 SA j'en ai pris": that clause tells the intake
                found = self._clause_status(text, linked, None)
                # a plan told after an intake adds to it ("j'en ai pris à 30 SA et je vais en reprendre"): kept
                if found is not None and (found[0] in ("taken", "not_taken") or status != "taken"):
                    status, why_status = (
                        found[0],
                        f"{found[1]} (a clause about it: '{text[linked.start : linked.end].strip(' ,;:')}')",
                    )
                    c_index = clauses.index(linked)
                    subject_at = linked.end
            told_by = None
            if status in ("mentioned", "intended"):
                told_by = self._anaphoric_intake(text, mention, sentences, index, mentions)
                if told_by is not None:
                    status, why_status = (
                        "taken",
                        "an intake told in a sentence around it ('je l'ai pris', '2 comprimés')",
                    )
            who: str | None
            if told_by == "self":  # "Mon mari avait des patchs Flector. […] J'en ai mis un": the author's intake
                person, who = "self", "the author ('j'en ai mis')"
            else:
                # a pronoun stands for the last relative named before it in the post ("Je vous écris pour ma
                # sœur. […] Elle était sous roacutan")
                person, who = self.person(text, mention, clauses, c_index, sentence, (0, 0), subject_at)
            if person == "self":
                pregnant: bool | None = bool(author_pregnant)
            elif person == "relative" and who:
                pregnant = self.relative_pregnant(text, who, sentence, previous, author_pregnant=bool(author_pregnant))
            else:
                pregnant = False
            in_past = sentence[0] < past_until
            earlier = self._earlier_sentences(text, sentences, index)
            if in_past:
                own_current = None
            elif person == "self":
                own_current = current
            else:
                own_current = self.current_age(marks, None, None, 0, owner="relative")
            age = self.age_at_intake(
                text, mention, clauses, c_index, sentence, earlier, marks, lmp, posted, own_current, person, mentions
            )
            if age is None:  # "… sous Curacné. Ma dernière gélule, je l'ai prise le 10 avril": told after
                age = self._age_told_after(text, mention, sentences, index, mentions, marks, lmp, posted, own_current)
            of_interest = mention.entry.drug_class != "other"  # the rules read these; the others keep defaults
            first = of_interest and self._first_trimester(text, sentence, mention, discovered, status)
            if age is None and own_current is not None and own_current.sa is not None and self._recent(text, sentence):
                age = AgeAtIntake(
                    own_current.sa,
                    own_current.sa_min,
                    own_current.sa_max,
                    "current",
                    own_current.start,
                    own_current.end,
                )
            timing = self.timing(text, clause, sentence, age)
            dose = find_dose(text, mention.start, mention.end, nxt[1] if nxt else sentence[1], mention.entry.unit_mg)
            route = (
                route_of(text, mention.start, mention.end, mention.entry.route)
                if route_of and of_interest
                else mention.entry.route
            )
            why = (f"status: {why_status}", f"person: {who or person}")
            events.append(
                ExposureEvent(
                    mention,
                    status,
                    person,
                    pregnant,
                    timing,
                    age,
                    first,
                    route,
                    dose,
                    (clause.start, clause.end),
                    sentence,
                    why,
                )
            )
        return events

    def _age_told_after(
        self,
        text: str,
        mention: DrugMention,
        sentences: list[tuple[int, int]],
        index: int,
        mentions: list[DrugMention],
        marks: list[TimeMark],
        lmp: date | None,
        posted: date | None,
        current: TimeMark | None,
    ) -> AgeAtIntake | None:
        """The time of an intake told in the one or two sentences after the drug, without naming it again
        ("ma dernière gélule, c'était le 15 janvier", "je l'ai pris jusqu'à 29 SA"), before another drug."""
        for sentence in sentences[index + 1 : index + 3]:
            if "\n\n" in text[mention.end : sentence[0]] or any(sentence[0] <= m.start < sentence[1] for m in mentions):
                return None
            clauses = clauses_of(text, sentence)
            for number, clause in enumerate(clauses):
                segment = text[clause.start : clause.end]
                if not _TOLD_AGAIN.search(segment):
                    continue
                # "Ma dernière gélule, c'était le 1er mars": the time may stand in the clause after the cue
                until = clauses[number + 1].end if number + 1 < len(clauses) else clause.end
                usable = [
                    m
                    for m in marks
                    if clause.start <= m.start < until
                    and m.role in ("intake", "anchor")
                    and not (m.kind == "date" and is_anchor(text, m.start))
                ]
                for mark in usable:
                    found = self._convert(mark, lmp, posted, current)
                    if found is not None:
                        return AgeAtIntake(
                            found.sa, found.sa_min, found.sa_max, f"{found.source}, told after", found.start, found.end
                        )
        return None

    @staticmethod
    def _linked_clause(
        text: str, mention: DrugMention, clauses: Sequence[Clause], index: int, mentions: list[DrugMention]
    ) -> Clause | None:
        """A later clause of the sentence that tells this drug's intake without naming it: a relative clause
        right after it (", que j'ai pris à 30 SA"), or a pronoun ("mais j'en ai pris", "je l'ai pas pris"),
        when no other drug is named in between."""
        others = [m.start for m in mentions if m is not mention and m.start > mention.end]
        for position, later in enumerate(clauses[index + 1 :], start=1):
            if any(o < later.start for o in others):
                return None
            segment = text[later.start : later.end].lstrip(" ,;:()")
            if position == 1 and _RELATIVE_INTAKE.match(segment):
                return later
            if (
                _PRONOUN_OBJECT_INTAKE.search(segment)
                or _PRONOUN_OBJECT_PLAN.search(segment)
                or _UNNAMED_INTAKE.search(segment)
            ):  # "une ordonnance de roaccutane, […] j'ai pris les comprimés"
                return later
        return None

    def _first_trimester(
        self, text: str, sentence: tuple[int, int], mention: DrugMention, discovered: object, status: str
    ) -> bool:
        """A first-trimester phrase for this intake (protocol §3): taken before the pregnancy was known, a positive
        test while on the drug, the very beginning of the pregnancy; or isotretinoin taken on and on ("sous",
        "je prenais", "depuis", "jusqu'à") in a post that tells how the pregnancy was found out."""
        w = self.w
        whole = text[sentence[0] : sentence[1]]
        if w.timing_first_trimester.search(whole):
            return True
        if (
            mention.entry.drug_class == "isotretinoin"
            and status == "taken"
            and _DISCOVERY.search(whole)
            and not _ENDED.search(whole)
        ):
            return True  # "Roaccutane + pilule oubliée = test positif": on the treatment when the test turned positive
        if _DISCOVERY.search(whole) and _ONGOING.search(whole):
            return True
        near = text[max(sentence[0], mention.start - 60) : min(sentence[1], mention.end + 60)]
        following = text[sentence[1] : sentence[1] + 120]  # "… roacc … . TP+ à 4 SA en plein traitement"
        return (
            mention.entry.drug_class == "isotretinoin"
            and status == "taken"
            and bool(discovered)
            and bool(_ONGOING.search(near) or _ONGOING.search(following))
        )

    def _post_first_trimester(self, text: str) -> bool:
        """The post tells a first-trimester exposure (protocol §3): found out while on the drug, a
        first-trimester phrase, a miscarriage; not in a condition ("si je tombe enceinte avant")."""
        for pattern in (_DISCOVERY, self.w.timing_first_trimester, _MISCARRIAGE):
            for match in pattern.finditer(text):
                if not _hypothesis(
                    self.w, text[max(0, match.start() - 20) : match.start()]
                ) and not _pregnancy_hypothesis(self.w, text[max(0, match.start() - 12) : match.end() + 4]):
                    return True
        return False

    @staticmethod
    def _recent(text: str, sentence: tuple[int, int]) -> bool:
        """Whether an undated intake belongs to the present of the post (not to an earlier time told in it)."""
        whole = text[sentence[0] : sentence[1]]
        return not _EARLIER.search(whole)

    def _past_until(self, text: str, sentences: list[tuple[int, int]]) -> int:
        """Where a retrospective passage ("pour ma première grossesse, …") ends: the end of its paragraph."""
        from perivigil.extract.text import sentence_index

        found = list(self.w.pregnancy_past.finditer(text))
        if not found:
            return 0
        last = found[-1].start()
        paragraph_end = text.find("\n\n", last)
        sentence_end = sentences[sentence_index(sentences, last)][1]
        return max(sentence_end, paragraph_end if paragraph_end != -1 else sentence_end)

    @staticmethod
    def _earlier_sentences(text: str, sentences: list[tuple[int, int]], index: int) -> list[tuple[int, int]]:
        """The two sentences before this one, nearest first, within its paragraph."""
        out = []
        for back in (1, 2):
            if index - back < 0:
                break
            earlier = sentences[index - back]
            if "\n\n" in text[earlier[1] : sentences[index - back + 1][0] + 1]:
                break
            out.append(earlier)
        return out

    def _anaphoric_intake(
        self, text: str, mention: DrugMention, sentences: list[tuple[int, int]], index: int, mentions: list[DrugMention]
    ) -> str | None:
        """An intake told around the drug without naming it: "… du Profénid. Je l'ai pris 2 jours" (the last
        drug named before it), or "J'ai pris deux comprimés. … c'était du Nurofen" (the next drug named).
        Returns who told it: ``self`` for a first-person intake ("j'en ai mis un"), ``unknown`` otherwise,
        ``None`` when there is no such intake."""
        for sentence in sentences[index + 1 : index + 3]:
            window = text[sentence[0] : sentence[1]]
            if any(sentence[0] <= m.start < sentence[1] for m in mentions if m is not mention):
                break
            if _PARTICIPLE_OPENING.match(window):
                return "self"  # "… m'a tendu un Advil. Avalé avant que mon cerveau se reconnecte."
            found = (
                _PRONOUN_INTAKE.search(window)
                or _UNNAMED_INTAKE_AFTER.search(window)
                or _LAST_UNIT_TAKEN.search(window)
            )
            if found and found.re is _LAST_UNIT_TAKEN:
                return "self"  # "dernière gélule avalée ce matin"
            if found and not self.w.negation_words.search(window[max(0, found.start() - 20) : found.end()]):
                first = _FIRST_PERSON_INTAKE.match(found.group()) or re.search(
                    r"(?:je|j'|j|g|jai)\s?(?:\w+\s)?$", window[max(0, found.start() - 8) : found.start()] + " "
                )
                # "ai", "avais" are the first person's ("moi-même, qui ai avalé le comprimé")
                return "self" if first or found.group().startswith(("g ", "jai ", "ai ", "avais ")) else "unknown"
        for sentence in reversed(sentences[max(0, index - 2) : index]):
            window = text[sentence[0] : sentence[1]]
            if any(sentence[0] <= m.start < sentence[1] for m in mentions):
                break
            if _UNNAMED_INTAKE.search(window) and not self.w.negation_words.search(window):
                return "self"
        return None

    def author_pregnant(self, text: str, marks: list[TimeMark]) -> bool:
        """Whether the post speaks of the author's own pregnancy, now or in retrospect: a pregnancy word whose
        subject is the author (or none), not in a condition nor negated; or an age of hers."""
        w = self.w
        for match in w.pregnancy_signals.finditer(text):
            sentence_start = (
                max(
                    text.rfind(".", 0, match.start()),
                    text.rfind("\n", 0, match.start()),
                    text.rfind("?", 0, match.start()),
                    text.rfind("!", 0, match.start()),
                )
                + 1
            )
            local = text[sentence_start : match.end() + 25]
            if w.hypothesis_pregnancy.search(local) or w.pregnancy_not_pregnant.search(local):
                continue
            if w.hypothesis_markers.search(text[sentence_start : match.start()]):
                continue
            if self._owner(text, match.start(), sentence_start) in ("relative", "other", "general", "third"):
                continue
            return True
        return any(m.kind == "age" and m.role == "intake" and m.owner in (None, "self") for m in marks)


_GREETINGS: dict[int, re.Pattern] = {}


def _greeting_pattern(w: CueWords) -> re.Pattern:
    """An opener followed by an addressee: group 1 is the opener and the space after it."""
    key = id(w)
    if key not in _GREETINGS:
        openers = w.greetings_openers.pattern
        addressees = w.greetings_addressees.pattern
        _GREETINGS[key] = re.compile(f"({openers}[\\s,!]*)(?:{addressees})")
    return _GREETINGS[key]


def _pregnancy_hypothesis(w: CueWords, span: str) -> bool:
    """A pregnancy to come in ``span`` ("si je tombe enceinte"), not an indirect question ("sans me demander si
    j'étais enceinte")."""
    for match in w.hypothesis_pregnancy.finditer(span):
        if not _INDIRECT_QUESTION.search(span[max(0, match.start() - 14) : match.start()]):
            return True
    return False


def _hypothesis(w: CueWords, span: str) -> bool:
    """A condition in ``span`` ("si je prends", "au cas où"), not an indirect question ("je sais pas si je",
    and its "ou si …" that follows)."""
    indirect = False
    for match in w.hypothesis_markers.finditer(span):
        before = span[max(0, match.start() - 14) : match.start()]
        if _NOT_A_CONDITION.match(span, match.start()):
            continue  # "(si j'ai bien compris)", "si je compte bien"
        if _INDIRECT_QUESTION.search(before):
            indirect = True
        elif not (indirect and before.endswith("ou ")):
            return True
    return False


def _ends_with(pattern: re.Pattern, words: str) -> bool:
    """Whether one of the pattern's phrases ends the given words (the words just before a drug)."""
    for match in pattern.finditer(words):
        rest = words[match.end() :].split()
        # a determiner may sit between: "pas d'un advil", "aucun anti-inflammatoire", "sans l'avis" is not
        if len(rest) <= 1 and (
            not rest
            or rest[0]
            in (
                "le",
                "la",
                "les",
                "l",
                "un",
                "une",
                "de",
                "d",
                "du",
                "des",
                "mon",
                "ma",
                "mes",
                "son",
                "sa",
                "ses",
                "ton",
                "ta",
            )
        ):
            return True
    return False
