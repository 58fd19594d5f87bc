"""Exposure events (issue 12): status, person, pregnancy, timing and the age *at the intake*.

Every case is a French post written for this test, with the value the study protocol gives
(§2 labels, §3 gestational age: SA = SG + 2, months at their end, a test turns positive at
about 4 SA, term at 41 SA (CNGOF), due date = last period + 280 days (Naegele)). Dates are
computed by hand in the comments; the post's date is given where the post has dates.
"""

from __future__ import annotations

from datetime import date

import pytest

from perivigil.extract.cue_words import cue_words, phrase_pattern
from perivigil.extract.dates import find_dates, find_times_ago, last_period, resolve_year
from perivigil.extract.gestational_age import find_gestational_ages
from perivigil.extract.text import matching_form

POSTED = date(2024, 6, 1)  # a Saturday


def _event(extractor, text: str, drug: str, posted: date | None = POSTED):
    """The event of the drug named ``drug`` (in the matching form: no accents, lower case)."""
    start = matching_form(text).index(drug)
    for event in extractor.extract(text, posted).events:
        if event.mention.start == start:
            return event
    raise AssertionError(f"no event for {drug!r} in {text!r}")


# ----------------------------------------------------------------------------- status
# (text, drug as in matching form, expected status)
STATUS_CASES = [
    ("J'ai pris un advil hier soir.", "advil", "taken"),
    ("g pris 2 nurofen", "nurofen", "taken"),
    ("Je suis sous curacné depuis 3 mois", "curacne", "taken"),
    ("on m'a donné du profénid aux urgences, j'en ai pris deux", "profenid", "taken"),
    ("Je me suis mis du voltarène gel sur le genou", "voltarene", "taken"),
    ("J'ai pris un advil, c'est grave ?", "advil", "taken"),
    ("nurofen 200 x2 pour une rage de dents", "nurofen", "taken"),  # a count glued to the name
    ("on m'a posé une perfusion avec du Spasfon, du paracétamol... et du Profénid.", "profenid", "taken"),
    ("mon mari m'a tendu un truc et j'ai avalé sans regarder : c'était du nurofen", "nurofen", "taken"),
    ("Mon mari avait des patchs Flector. J'en ai mis un samedi soir.", "flector", "taken"),
    ("Roaccutane + pilule oubliée = test positif à 6 SA.", "roaccutane", "taken"),
    ("Je n'ai pas pris d'ibuprofène.", "ibuprofene", "not_taken"),
    ("Aucun anti-inflammatoire depuis le début", "anti inflammatoire", "not_taken"),
    ("J'ai failli prendre un nurofen", "nurofen", "not_taken"),
    ("Pas d'advil pour moi, que du doliprane", "advil", "not_taken"),
    ("Le médecin m'a prescrit du Profénid. Je ne l'ai pas pris.", "profenid", "not_taken"),
    ("Surtout pas d'AINS après 5 mois", "ains", "not_taken"),
    (
        "Advil à 33 SA pour la sciatique... j'y ai pensé toute la nuit, mais finalement je n'en ai pas pris.",
        "advil",
        "not_taken",
    ),
    (
        "Bien sûr que j'ai pris 3 advils à 8 mois 🙄 Non mais sérieux, zéro anti-inflammatoire.",
        "advils",
        "not_taken",
    ),  # irony, denied in the next sentence
    ("Est-ce que je peux prendre un advil à 30 SA ?", "advil", "intended"),
    ("J'hésite à prendre un nurofen", "nurofen", "intended"),
    ("Mon dermato veut me mettre sous curacné", "curacne", "intended"),
    ("Ibuprofène enceinte, c'est autorisé ?", "ibuprofene", "intended"),
    ("Est ce que je peux reprendre mon ancien traitement de curacné ?", "curacne", "intended"),
    ("Si je prends du roaccutane je pourrai faire un bébé ?", "roaccutane", "hypothetical"),
    ("8 mois et une angine. Si je prends du nurofen juste un jour ça va ?", "nurofen", "hypothetical"),
    ("L'ibuprofène est contre-indiqué à partir de 24 SA.", "ibuprofene", "general"),
    ("Rappel : le roaccutane est interdit enceinte", "roaccutane", "general"),
    ("Liste des médicaments interdits donnée par ma maternité : ibuprofène, kétoprofène.", "ketoprofene", "general"),
    ("Prenez de l'Advil à 8 mois, c'est génial.", "advil", "general"),  # an imperative to everyone
    ("> « un petit Advil en fin de grossesse ça n'a jamais tué personne »", "advil", "mentioned"),  # a quote
]


@pytest.mark.parametrize(("text", "drug", "status"), STATUS_CASES)
def test_status(extractor, text, drug, status):
    assert _event(extractor, text, drug).status == status


# ----------------------------------------------------------------------------- person and pregnancy
# (text, drug, expected person, whether that person was pregnant)
PERSON_CASES = [
    ("J'ai pris un advil", "advil", "self", False),
    ("Mon mari prend de l'ibuprofène tous les jours", "ibuprofene", "relative", False),
    ("Ma soeur est enceinte de 30 SA et elle a pris de l'advil", "advil", "relative", True),
    ("ma copine enceinte de 8 mois prend du nurofen", "nurofen", "relative", True),
    ("Ma mère met du voltarène gel sur ses genoux", "voltarene", "relative", False),
    ("Mon fils a eu de l'advil enfant", "advil", "relative", False),
    ("Mon mari m'a donné du Profénid", "profenid", "self", False),
    ("enceinte de mon fils, j'ai pris du nurofen", "nurofen", "self", True),
    ("des filles qui ont pris du roaccutane enceintes ?", "roaccutane", "other", False),
    ("Salut les mamans enceinte de six mois, j'ai pris de l'ibuprofene ce matin", "ibuprofene", "self", True),
    (
        "Coucou tout le monde Ma belle-soeur, enceinte de 34 SA, a pris de l'ibuprofene 400",
        "ibuprofene",
        "relative",
        True,
    ),
    ("la copine de mon frere a pris du roacutan pdt tt le 1er trimestre sans savoir", "roacutan", "relative", True),
    ("Enceinte de 9 SA et mon mari prend du curacné pour son acné.", "curacne", "relative", False),
    ("28 SG et ma meuf a pris un ibu hier soir pour son mal de dos, c grave ??", "ibu", "relative", True),
    (
        "Je vous écris pour ma sœur.\n\nElle était sous roacutan depuis trois mois. Elle a découvert sa "
        "grossesse à 8 SG.",
        "roacutan",
        "relative",
        True,
    ),
    (
        "Ça m'a fait penser à ma cousine. Il y a deux ans, enceinte de sept mois et demi, elle a pris du Feldène.",
        "feldene",
        "relative",
        True,
    ),
    ("Mon mari avait des patchs Flector. Je suis à 27 SA. J'en ai mis un samedi soir.", "flector", "self", True),
]


@pytest.mark.parametrize(("text", "drug", "person", "pregnant"), PERSON_CASES)
def test_person_and_pregnancy(extractor, text, drug, person, pregnant):
    event = _event(extractor, text, drug)
    assert (event.person, bool(event.pregnant)) == (person, pregnant)


# ----------------------------------------------------------------------------- timing
@pytest.mark.parametrize(
    ("text", "drug", "timing"),
    [
        ("Après mon accouchement j'ai pris de l'ibuprofène", "ibuprofene", "postpartum"),
        ("en post-partum, advil tous les jours", "advil", "postpartum"),
        ("J'allaite et j'ai pris du nurofen", "nurofen", "breastfeeding"),
        ("J'ai arrêté le roaccutane il y a 8 mois, je suis enceinte de 6 SA", "roaccutane", "before_conception"),
        ("enceinte de 30 SA, j'ai pris un advil", "advil", "pregnancy"),
        (
            "elle a pris du roaccutane alors qu'elle était enceinte, elle a accouché d'une fille",
            "roaccutane",
            "pregnancy",
        ),
        # "déjà … avant la grossesse": an intake that went on into it
        (
            "Enceinte de 8 mois, elle a repris l'Apranax qu'elle prenait déjà avant la grossesse.",
            "apranax",
            "pregnancy",
        ),
    ],
)
def test_timing(extractor, text, drug, timing):
    assert _event(extractor, text, drug).timing == timing


# ----------------------------------------------------------------------------- the age at the intake
@pytest.mark.parametrize(
    ("text", "drug", "sa", "source"),
    [
        # stated in the intake's own clause, not today's age
        ("Je suis à 30 SA, j'ai pris un Advil à 26 SA.", "advil", 26.0, "stated"),
        ("À 26 SG j'ai pris de l'ibuprofène.", "ibuprofene", 28.0, "stated"),  # SG + 2
        # each drug of a clause takes its own age
        ("J'ai pris une gélule de Curacné à 6 SA et un Spedifen à 32 SA.", "spedifen", 32.0, "stated"),
        # "à N semaines du terme": 41 - N (term at 41 SA, CNGOF); number words too
        ("J'étais à six semaines du terme. J'ai pris un Spedifen 400.", "spedifen", 35.0, "weeks_to_term, told before"),
        # a time back from today's stated age: 30 - 3 weeks
        ("Je suis à 30 SA, j'ai pris un Advil il y a 3 semaines.", "advil", 27.0, "time_ago"),
        # "hier" is within the week a stated age already spans
        ("Enceinte de 7 mois, j'ai pris un Advil hier.", "advil", 32.0, "time_ago"),
        # a positive test is about 4 SA: "TP+ il y a 7 semaines" makes today 11 SA
        ("TP+ il y a 7 semaines. J'ai pris un Advil hier.", "advil", 11.0, "time_ago"),
        # the scan's age is not the intake's; today's is (carried to an undated intake)
        ("Écho des 12 SA hier, tout va bien. Je suis à 20 SA et j'ai pris un Advil.", "advil", 20.0, "stated"),
        # a threshold quoted in a warning is not an age: today's age is
        ("Je suis à 20 SA. L'Advil est interdit après 24 SA et j'en ai pris un ce matin.", "advil", 20.0, "time_ago"),
        # an earlier pregnancy keeps its own age
        (
            "Pour ma première grossesse j'avais pris de l'ibuprofène à 34 SA. Là je suis à 10 SA.",
            "ibuprofene",
            34.0,
            "stated",
        ),
    ],
)
def test_age_at_intake(extractor, text, drug, sa, source):
    event = _event(extractor, text, drug, posted=None)
    assert (event.age.sa, event.age.source) == (sa, source)


def test_age_from_the_last_period_and_a_date(extractor):
    # DDR 1 March 2024, Advil 10 May 2024: 31 - 1 + 30 + 10 = 70 days = 10.0 SA
    event = _event(extractor, "DDR le 1er mars. Le 10 mai j'ai pris un Advil.", "advil")
    assert (event.age.sa, event.age.source) == (10.0, "date")


def test_age_from_the_due_date(extractor):
    # due date 1 December 2024 → last period 1 Dec - 280 days = 25 February 2024 (2024 is a leap year);
    # 25 Feb → 15 May = 4 (to 29 Feb) + 31 + 30 + 15 = 80 days = 11.4 SA
    event = _event(extractor, "Terme prévu le 1er décembre 2024. J'ai pris du Curacné le 15 mai.", "curacne")
    assert event.age.sa == 11.4


def test_age_from_the_posts_date_and_todays_age(extractor):
    # posted Saturday 1 June 2024 at 30 SA; intake on 11 May = 21 days before: 30 - 3 = 27 SA
    event = _event(extractor, "Je suis à 30 SA. Le 11 mai j'ai pris un Advil.", "advil")
    assert event.age.sa == 27.0


def test_an_intake_dated_before_the_last_period_is_before_conception(extractor):
    # last capsule 1 March, last period 2 April: 32 days before it → -4.6 SA
    text = "Ma dernière gélule de Curacné, c'était le 1er mars. Mes dernières règles datent du 2 avril."
    event = _event(extractor, text, "curacne", posted=date(2024, 5, 20))
    assert (event.age.sa, event.timing) == (-4.6, "before_conception")


def test_an_intake_told_after_the_drug_takes_the_date_told_after(extractor):
    # DDR 1 March 2024; "ma dernière gélule, c'était le 20 mars": 19 days = 2.7 SA
    text = "DDR le 1er mars. J'étais sous Curacné. Ma dernière gélule, c'était le 20 mars."
    event = _event(extractor, text, "curacne")
    assert (event.age.sa, event.age.source) == (2.7, "date, told after")


def test_every_event_keeps_the_text_its_age_came_from(extractor):
    text = "J'étais à six semaines du terme. J'ai pris un Spedifen 400."
    post = extractor.extract(text)
    age = post.events[0].age
    assert post.text[age.start : age.end] == "six semaines du terme"


# ----------------------------------------------------------------------------- first trimester
@pytest.mark.parametrize(
    ("text", "drug", "first"),
    [
        ("test positif ce matin alors que je suis sous roaccutane depuis janvier", "roaccutane", True),
        ("Première écho demain à 7 SA, j'étais sous Roaccutane jusqu'au test.", "roaccutane", True),
        ("J'ai pris du curacné avant de savoir que j'étais enceinte", "curacne", True),
        ("Enceinte de 20 SA, j'ai pris du curacné hier", "curacne", False),
    ],
)
def test_first_trimester_phrases(extractor, text, drug, first):
    assert _event(extractor, text, drug).first_trimester is first


# ----------------------------------------------------------------------------- dates
def test_a_date_without_a_year_is_the_last_one_before_the_post():
    # posted 1 June 2024: "le 12 mars" is 12 March 2024, "le 20 décembre" is 20 December 2023
    assert [d.day for d in find_dates("le 12 mars. le 20 decembre", POSTED)] == [date(2024, 3, 12), date(2023, 12, 20)]


def test_a_due_date_without_a_year_is_ahead_of_the_post():
    assert resolve_year(20, 1, None, POSTED, ahead=True) == date(2025, 1, 20)


def test_dates_of_one_sentence_are_in_story_order():
    # posted 7 October 2024: February is February 2024, and the August told before it is August 2023
    found = find_dates("derniere gelule en aout, test positif en fevrier", date(2024, 10, 7))
    assert [d.day for d in found] == [date(2023, 8, 15), date(2024, 2, 15)]


def test_last_year_sets_the_year_of_a_month():
    found = find_dates("g pris du curacne l'an dernier, arrete en mars", date(2017, 4, 1))
    assert [d.day for d in found] == [date(2016, 3, 15)]


@pytest.mark.parametrize(
    ("text", "lmp"),
    [
        ("DDR le 5 janvier", date(2024, 1, 5)),
        ("mes dernières règles ont commencé le 4 février", date(2024, 2, 4)),
        ("terme prévu le 12 octobre", date(2024, 1, 6)),  # 12 Oct 2024 - 280 days
        ("bébé conçu le 15 novembre", date(2023, 11, 1)),  # conception - 14 days
    ],
)
def test_last_period(text, lmp):
    form = matching_form(text)
    assert last_period(form, find_dates(form, POSTED)) == lmp


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("hier", 1.0),
        ("avant-hier", 2.0),
        ("ce matin", 0.0),
        ("il y a 3 semaines", 21.0),
        ("il y a deux jours", 2.0),
        ("la semaine dernière", 7.0),
        ("samedi", 7.0),
        ("mercredi dernier", 3.0),
    ],
)
def test_times_before_the_post(text, days):
    # posted on a Saturday: "samedi" is the Saturday before, "mercredi" 3 days before
    assert [t.days for t in find_times_ago(matching_form(text), POSTED)] == [days]


@pytest.mark.parametrize(
    ("text", "sa", "low", "high"),
    [
        ("à 5 semaines du terme", 36.0, 35.0, 36.0),
        ("à deux semaines du terme", 39.0, 38.0, 39.0),
        ("encore trois semaines à tenir", 38.0, 37.0, 38.0),
        ("plus que 10 semaines à tenir", 31.0, 30.0, 31.0),
    ],
)
def test_weeks_to_term(text, sa, low, high):
    (age,) = find_gestational_ages(matching_form(text))
    assert (age.sa, age.sa_min, age.sa_max) == (sa, low, high)


# ----------------------------------------------------------------------------- the vocabulary file
def test_phrases_match_on_word_boundaries_with_apostrophes_and_oe():
    pattern = phrase_pattern(["j ai pris", "pas", "soeur"])
    assert [m.group() for m in pattern.finditer("j'ai pris, passé, pas, sœur")] == ["j'ai pris", "pas", "sœur"]


def test_every_section_of_the_vocabulary_compiles():
    words = cue_words()
    assert {
        "intake_taken",
        "negation_words",
        "person_partner",
        "greetings_openers",
        "names_needing_context_iso",
    } <= set(words.patterns)


def test_a_greeting_names_no_subject(extractor):
    reader = extractor.reader
    assert reader.without_greetings("coucou tout le monde ma soeur") == "coucou               ma soeur"


def test_the_trie_finds_what_the_plain_alternation_finds():
    """phrase_pattern builds a trie for speed; it must match exactly what "phrase1|phrase2|…" (longest
    first, on word boundaries) matches, on every phrase list of the vocabulary and on French text."""
    import re

    def plain(phrases):
        parts = []
        for phrase in sorted({str(p) for p in phrases}, key=lambda p: (-len(p), p)):
            words = [re.escape(w).replace("oe", "(?:oe|œ)") for w in re.split(r"[\s']+", phrase.strip()) if w]
            parts.append(r"[\s']+".join(words))
        return re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + r")(?![a-z0-9])")

    text = matching_form(
        " ".join(case[0] for case in STATUS_CASES + PERSON_CASES)
        + " j'ai pris pas encore sœur soeurs belle-sœur avant hier c'est pas grave"
    )
    words = cue_words().words
    assert len(words) >= 39  # every list of resources/cues.yaml
    for name, phrases in words.items():
        trie, naive = phrase_pattern(sorted(phrases)), plain(phrases)
        assert [m.span() for m in trie.finditer(text)] == [m.span() for m in naive.finditer(text)], name
