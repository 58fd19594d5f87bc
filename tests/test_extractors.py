"""The extractors, each on hand-written French cases with exact expected values.

Gestational-age conversions follow study protocol §3: SA = SG + 2; months convert at the
end of the month (1 → 6, 2 → 10, 3 → 15, 4 → 19, 5 → 24, 6 → 28, 7 → 32, 8 → 36, 9 → 41 SA);
"au Ne mois" is the start of month N.
"""

from __future__ import annotations

import pytest

from perivigil.extract.cues import route_of
from perivigil.extract.dose import find_dose
from perivigil.extract.gestational_age import find_gestational_ages
from perivigil.extract.text import matching_form, sentence_spans


@pytest.fixture(scope="module")
def matcher(root):
    from perivigil.extract.drugs import DrugMatcher
    from perivigil.extract.lexicon import build_lexicon

    return DrugMatcher(
        build_lexicon(
            root / "resources/bdpm", root / "config/lexicon/substances.tsv", root / "config/lexicon/forum_variants.tsv"
        )
    )


# ----------------------------------------------------------------------------- text forms
def test_matching_form_keeps_length_and_folds_case_accents_and_hyphens():
    text = "Enceinte à 30 SA, j’ai pris du Bi-Profénid ÉNORMÉMENT 😭"
    form = matching_form(text)
    assert len(form) == len(text)
    assert form == "enceinte a 30 sa, j'ai pris du bi profenid enormement 😭"


def test_sentences_split_on_punctuation_and_line_breaks():
    text = "Coucou. J'ai pris un advil!! Vous en pensez quoi ?\nmerci"
    assert [text[s:e].strip() for s, e in sentence_spans(text)] == [
        "Coucou.",
        "J'ai pris un advil!!",
        "Vous en pensez quoi ?",
        "merci",
    ]


def test_an_ellipsis_before_a_conjunction_goes_on_and_an_emoji_ends_a_sentence():
    text = "du Spasfon, du paracétamol... et du Profénid. Je l'ai su... le lendemain 😬 jsais pas"
    assert [text[s:e].strip() for s, e in sentence_spans(matching_form(text))] == [
        "du Spasfon, du paracétamol... et du Profénid.",
        "Je l'ai su...",
        "le lendemain 😬",
        "jsais pas",
    ]


# ----------------------------------------------------------------------------- gestational age
@pytest.mark.parametrize(
    ("text", "sa", "unit"),
    [
        ("je suis enceinte de 30 SA", 30.0, "SA"),
        ("30sa aujourd'hui", 30.0, "SA"),
        ("à 27 s.a. on m'a dit", 27.0, "SA"),
        ("12 semaines d'aménorrhée", 12.0, "SA"),
        ("12 semaines d amenorrhee", 12.0, "SA"),
        ("enceinte de 33 SA+4", 33.0, "SA"),
        ("je suis à 20 SG", 22.0, "SG"),
        ("26 semaines de grossesse", 28.0, "SG"),
        ("à 22 sg", 24.0, "SG"),
        ("enceinte de 25 semaines", 25.0, "weeks"),
        ("enceinte de sept mois", 32.0, "months"),
        ("enceinte de 6 mois", 28.0, "months"),
        ("enceinte de 5 mois", 24.0, "months"),
        ("à 8 mois de grossesse", 36.0, "months"),
        ("2 mois de grossesse", 10.0, "months"),
        ("enceinte de 6 mois et demi", 30.0, "months"),
        ("enceinte de 4 mois et demi", 21.5, "months"),
        ("au 6e mois", 24.0, "month_ordinal"),
        ("au 6ème mois de grossesse", 24.0, "month_ordinal"),
        ("au sixième mois", 24.0, "month_ordinal"),
        ("au début du 7e mois", 28.0, "month_ordinal"),
        ("à la fin du 7ème mois", 32.0, "month_ordinal"),
        ("au milieu du 8e mois", 34.0, "month_ordinal"),
        ("au 5e mois", 19.0, "month_ordinal"),
        ("Huit mois et j'en peux plus", 36.0, "months"),
    ],
)
def test_gestational_age_in_sa(text, sa, unit):
    ages = find_gestational_ages(matching_form(text))
    assert [(a.sa, a.unit) for a in ages] == [(sa, unit)]


def test_bare_weeks_are_kept_as_sa_and_flagged_ambiguous():
    (age,) = find_gestational_ages(matching_form("enceinte de 25 semaines"))
    assert (age.ambiguous, age.sa_min, age.sa_max) == (True, 23.0, 27.0)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("au premier trimestre", 0.0, 14.0),
        ("au 1er trimestre", 0.0, 14.0),
        ("au deuxième trimestre", 15.0, 28.0),
        ("au 3e trimestre", 29.0, 42.0),
        ("en fin de grossesse", 29.0, 42.0),
    ],
)
def test_trimesters_give_a_range_and_no_point(text, low, high):
    (age,) = find_gestational_ages(matching_form(text))
    assert (age.sa, age.sa_min, age.sa_max) == (None, low, high)


@pytest.mark.parametrize(
    "text",
    [
        "mon bébé a 6 mois",
        "j'ai arrêté il y a 8 mois",
        "sous traitement depuis 3 mois",
        "pendant 2 semaines",
        "ma fille de 5 mois dort mal",
        "bébé de 3 semaines",
        "22 SA (et pas 22 SG)",
    ],
)
def test_durations_and_baby_ages_are_not_gestational_ages(text):
    ages = find_gestational_ages(matching_form(text))
    assert [a.sa for a in ages] in ([], [22.0])  # the last case keeps only its SA


def test_months_to_sa_table_comes_from_config():
    table = {1: 5, 2: 9, 3: 14, 4: 18, 5: 23, 6: 27, 7: 31, 8: 35, 9: 40}
    (age,) = find_gestational_ages(matching_form("enceinte de 6 mois"), table)
    assert age.sa == 27.0


# ----------------------------------------------------------------------------- dose
def _dose(text: str, drug: str, unit_mg: float | None = None):
    form = matching_form(text)
    start = form.index(drug)
    return find_dose(form, start, start + len(drug), len(form), unit_mg)


@pytest.mark.parametrize(
    ("text", "drug", "unit_mg", "mg_day"),
    [
        ("j'ai pris un Aspégic 1000", "aspegic", None, 1000.0),
        ("un Aspégic 1g", "aspegic", None, 1000.0),
        ("1g d'aspirine hier soir", "aspirine", None, 1000.0),
        ("2 Advil 400 d'un coup", "advil", None, 800.0),
        ("deux aspirines 500 mg", "aspirines", None, 1000.0),
        ("advil400 hier", "advil", None, 400.0),
        ("ibuprofène 400 trois fois par jour", "ibuprofene", None, 1200.0),
        ("ibuprofène 200 mg 3 fois par jour", "ibuprofene", None, 600.0),
        ("Aspirine 500, matin et soir", "aspirine", None, 1000.0),
        ("ibuprofène 400 matin, midi et soir", "ibuprofene", None, 1200.0),
        ("aspirine 500 toutes les 6 heures", "aspirine", None, 2000.0),
        ("nurofen 200 x2", "nurofen", None, 400.0),
        ("Kardégic 75 mg le soir", "kardegic", None, 75.0),
        ("Kardégic 160", "kardegic", None, 160.0),
        ("Aspirine Protect 100 tous les jours", "aspirine protect", None, 100.0),
        ("un comprimé d'Aspro 320", "aspro", None, 320.0),
        ("aspirine à 150 mg le soir", "aspirine", None, 150.0),
        ("Alka-Seltzer, deux comprimés", "alka seltzer", 324.0, 648.0),
        ("un Alka-Seltzer", "alka seltzer", 324.0, 324.0),
        ("ibuprofène 1 200 mg par jour", "ibuprofene", None, 1200.0),
    ],
)
def test_daily_dose_in_mg(text, drug, unit_mg, mg_day):
    assert _dose(text, drug, unit_mg).dose_mg_day == mg_day


@pytest.mark.parametrize(
    ("text", "drug"),
    [
        ("un advil à 30 SA", "advil"),
        ("2 nurofen pour une migraine", "nurofen"),
        ("de l'aspirine à 28 SA", "aspirine"),
        ("voltarène gel 3 jours", "voltarene"),
    ],
)
def test_no_strength_means_no_dose(text, drug):
    assert _dose(text, drug) is None


# ----------------------------------------------------------------------------- drugs
@pytest.mark.parametrize(
    ("text", "surfaces"),
    [
        ("J'AI PRIS DU NUROFEN", ["nurofen"]),
        ("de l'ibuprofene et du Doliprane", ["ibuprofene", "doliprane"]),
        ("advil400 hier soir", ["advil"]),
        ("un ibu vite fait", ["ibu"]),
        ("mon advl est fini", ["advl"]),
        ("du roacutan", ["roacutan"]),
        ("Voltarène Emulgel", ["voltarene emulgel"]),
        ("l'anti-inflammatoire", ["anti inflammatoire"]),
        ("2 Alka-Seltzer", ["alka seltzer"]),
        ("ma curacnee", ["curacne"]),
        ("de l'ibuprofne", ["ibuprofene"]),
        ("du kardegik", ["kardegic"]),
        ("sous procutta", ["procuta"]),
        ("du nurophen", ["nurofen"]),  # spelt as heard: ph = f (drugs.sound_of)
        ("2 aspriines du Rhône 500", ["aspirine du rhone"]),  # a misspelt plural, then the rest of the name
        ("sous iso pour mon acné", ["iso"]),  # a slang name beside a word of its use
    ],
)
def test_drug_mentions_exact_and_misspelt(extractor, text, surfaces):
    assert [e.mention.entry.surface for e in extractor.extract(text).events] == surfaces


@pytest.mark.parametrize(
    "text",
    [
        "un profond malaise",
        "une proposition",
        "la procédure",
        "une caravane",
        "les vacances",
        "surtout",
        "advilation",
        "l'ibuprofenique",
        "deux kardes",
        "bonne soirée les filles",
        "la norme iso 9001",
        "en iso",
        "les contraires",  # "iso" without a word of acne treatment near it
    ],
)
def test_fuzzy_matching_does_not_flood_ordinary_words(extractor, text):
    assert [e.mention.entry.surface for e in extractor.extract(text).events] == []


# ----------------------------------------------------------------------------- route
@pytest.mark.parametrize(
    ("text", "drug", "default", "route"),
    [
        ("du voltarène en gel", "voltarene", "oral", "cutaneous"),
        ("de la crème à l'isotrétinoïne", "isotretinoine", "any", "cutaneous"),
        ("un suppo de kétoprofène", "ketoprofene", "any", "rectal"),
        ("du ketoprofene sur le genou", "ketoprofene", "any", "cutaneous"),
        ("deux gélules de roaccutane", "roaccutane", "oral", "oral"),
    ],
)
def test_route_from_context(text, drug, default, route):
    form = matching_form(text)
    start = form.index(drug)
    assert route_of(form, start, start + len(drug), default) == route


@pytest.mark.parametrize(
    "text, expected",
    [
        ("J'ai pris 2 Nurofen hier soir", True),  # a brand of ibuprofen (NSAID)
        ("sous roacutane depuis 3 mois", True),  # a misspelt isotretinoin brand, found by the fuzzy pass
        ("Kardegic 75 mg tous les soirs", True),  # low-dose aspirin is still aspirin for the pre-filter
        ("Doliprane 1000 et rien d'autre", False),  # paracetamol: not a drug of interest
        ("Le contraire de ce que dit le médecin", False),  # an ordinary word near a brand name
    ],
)
def test_the_reddit_pre_filter_keeps_posts_naming_a_drug_of_interest(extractor, text, expected):
    from perivigil.extract.drugs import names_a_drug_of_interest

    assert names_a_drug_of_interest(extractor.matcher)(text) is expected
