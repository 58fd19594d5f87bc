"""The drug lexicon: the gaps of study protocol §4, each with a test, and its inputs' errors."""

from __future__ import annotations

import pytest

from perivigil.errors import InputError
from perivigil.extract.lexicon import build_lexicon, read_bdpm, read_substances, subset_bdpm
from perivigil.extract.text import matching_form


@pytest.fixture(scope="module")
def lexicon(root):
    frame = build_lexicon(
        root / "resources/bdpm", root / "config/lexicon/substances.tsv", root / "config/lexicon/forum_variants.tsv"
    )
    return frame.set_index("surface")


def _row(lexicon, name: str):
    return lexicon.loc[matching_form(name)]


# Study protocol §4: oral isotretinoin (ATC D10BA01) and its brands; Roaccutane survives as the
# colloquial name of the oral drug; Isotrex / Isotrexin are gels.
@pytest.mark.parametrize(
    ("name", "route", "atc"),
    [
        ("Acnetrait", "oral", "D10BA01"),
        ("Contracné", "oral", "D10BA01"),
        ("Curacné", "oral", "D10BA01"),
        ("Procuta", "oral", "D10BA01"),
        ("Roaccutane", "oral", "D10BA01"),
        ("isotrétinoïne", "any", "D10BA01"),
        ("Isotrex", "cutaneous", "D10AD04"),
        ("Isotrexin", "cutaneous", "D10AD04"),
        ("Roaccutane gel", "cutaneous", "D10AD04"),
    ],
)
def test_isotretinoin_forms(lexicon, name, route, atc):
    row = _row(lexicon, name)
    assert (row.inn, row.drug_class, row.route, row.atc) == ("isotretinoin", "isotretinoin", route, atc)


# Study protocol §4: ibuprofen brands that edsnlp files under N02BG must map to the NSAID class,
# and every NSAID of the list to its INN.
@pytest.mark.parametrize(
    ("name", "inn"),
    [
        ("Spedifen", "ibuprofen"),
        ("Upfen", "ibuprofen"),
        ("Nurofen", "ibuprofen"),
        ("Advil", "ibuprofen"),
        ("Antarène", "ibuprofen"),
        ("Spifen", "ibuprofen"),
        ("Gélufène", "ibuprofen"),
        ("Nureflex", "ibuprofen"),
        ("ibuprofène", "ibuprofen"),
        ("Profénid", "ketoprofen"),
        ("Bi-Profénid", "ketoprofen"),
        ("Toprec", "ketoprofen"),
        ("Ketum gel", "ketoprofen"),
        ("Ketesse", "dexketoprofen"),
        ("Apranax", "naproxen"),
        ("Naprosyne", "naproxen"),
        ("Antalnox", "naproxen"),
        ("Alevetabs", "naproxen"),
        ("Voltarène", "diclofenac"),
        ("Flector", "diclofenac"),
        ("célécoxib", "celecoxib"),
        ("Celebrex", "celecoxib"),
        ("étoricoxib", "etoricoxib"),
        ("Arcoxia", "etoricoxib"),
        ("piroxicam", "piroxicam"),
        ("Feldène", "piroxicam"),
        ("indométacine", "indometacin"),
        ("Indocid", "indometacin"),
    ],
)
def test_nsaids_map_to_their_inn_and_the_nsaid_class(lexicon, name, inn):
    row = _row(lexicon, name)
    assert (row.inn, row.drug_class) == (inn, "nsaid")


def test_ibuprofen_brands_get_an_nsaid_atc_code_not_n02bg(lexicon):
    for name in ("Spedifen", "Upfen", "Nurofen", "Gélufène"):
        assert _row(lexicon, name).atc == "M01AE01"


@pytest.mark.parametrize(
    ("name", "route"),
    [
        ("Ketum gel", "cutaneous"),
        ("Flector", "cutaneous"),
        ("Voltarène Emulgel", "cutaneous"),
        ("Nurofen gel", "cutaneous"),
    ],
)
def test_skin_forms_of_nsaids_are_cutaneous_with_an_m02aa_code(lexicon, name, route):
    row = _row(lexicon, name)
    assert row.route == route and row.atc.startswith("M02AA")


# Study protocol §4: analgesic aspirin counts at >= 500 mg/day, antiplatelet forms do not by default.
@pytest.mark.parametrize(
    ("name", "drug_class"),
    [
        ("Aspégic", "aspirin_analgesic"),
        ("Aspirine du Rhône", "aspirin_analgesic"),
        ("Aspirine UPSA", "aspirin_analgesic"),
        ("Aspirine pH8", "aspirin_analgesic"),
        ("Aspro", "aspirin_analgesic"),
        ("Alka-Seltzer", "aspirin_analgesic"),
        ("Kardégic", "aspirin_antiplatelet"),
        ("Résitune", "aspirin_antiplatelet"),
        ("Aspirine Protect", "aspirin_antiplatelet"),
        ("Duoplavin", "aspirin_antiplatelet"),
        ("aspirine", "aspirin"),
    ],
)
def test_aspirin_forms(lexicon, name, drug_class):
    assert _row(lexicon, name).drug_class == drug_class


def test_alka_seltzer_tablet_strength_comes_from_the_bdpm(lexicon):
    # BDPM: "ALKA SELTZER 324 mg, comprimé effervescent" (CIS 66725120)
    assert _row(lexicon, "Alka-Seltzer").unit_mg == 324.0


def test_paracetamol_is_a_drug_but_not_of_interest(lexicon):
    assert (_row(lexicon, "Doliprane").inn, _row(lexicon, "Doliprane").drug_class) == ("paracetamol", "other")


def test_short_brand_names_of_other_drugs_are_left_out(lexicon):
    # edsnlp lists "ZINC" and "MUSE" as drugs: on a forum they are words
    assert "zinc" not in lexicon.index and "muse" not in lexicon.index


def test_bdpm_subset_keeps_only_products_of_interest(root):
    substances = read_substances(root / "config/lexicon/substances.tsv")
    cis, compo = read_bdpm(root / "resources/bdpm")
    assert (len(cis), len(compo)) == (425, 559)
    assert subset_bdpm(cis, compo, substances) == (cis, compo)  # the shipped subset is a fixed point
    names = {row[1].split(" ")[0] for row in cis}
    assert {"CURACNE", "ADVIL", "KARDEGIC", "ALKA"} <= names and "DOLIPRANE" not in names


def test_a_malformed_variants_file_names_file_row_and_field(root, tmp_path):
    bad = tmp_path / "variants.tsv"
    bad.write_text(
        "surface\tinn\tdrug_class\troute\tfuzzy\tunit_mg\tnote\nadvil\tibuprofen\tnsaid\tbuccal\t0\t\tx\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"variants\.tsv, row 2: field 'route' must be one of"):
        build_lexicon(root / "resources/bdpm", root / "config/lexicon/substances.tsv", bad)


def test_a_truncated_bdpm_file_names_the_row(root, tmp_path):
    (tmp_path / "CIS_bdpm.txt").write_text("60000001\tADVIL 400 mg\n", encoding="utf-8")
    (tmp_path / "CIS_COMPO_bdpm.txt").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"CIS_bdpm\.txt, row 1: expected at least 4 fields, got 2"):
        read_bdpm(tmp_path)


# ----------------------------------------------------------------------------- issue 12: precision and coverage
@pytest.fixture(scope="module")
def matcher(lexicon):
    from perivigil.extract.drugs import DrugMatcher

    return DrugMatcher(lexicon.reset_index())


def _interest(matcher, text: str) -> list[tuple[str, str]]:
    from perivigil.extract.drugs import INTEREST

    return [(m.entry.inn, m.matched_by) for m in matcher.find(matching_form(text)) if m.entry.drug_class in INTEREST]


def test_no_ordinary_french_word_near_a_drug_name_is_read_as_a_drug(matcher, root):
    """2,463 words of wordfreq within two edits of a drug name (tools/ordinary_words_near_drug_names.py)."""
    words = [
        w
        for w in (root / "tests/data/ordinary_words_near_drug_names.txt").read_text(encoding="utf-8").splitlines()
        if not w.startswith("#")
    ]
    assert len(words) >= 200
    assert [(w, _interest(matcher, w)) for w in words if _interest(matcher, w)] == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Au contraire, je me sens très bien ce matin",  # Contracné, two edits away
        "une célèbre sage-femme de la maternité",  # Celebrex, one edit away once accents go
        "j'ai des remontées acides, c'est de l'acide gastrique",  # Acide tiaprofénique: not "acide" alone
        "le carter de ma Clio est fissuré, et le cardan aussi",
        "ils contraignent les femmes à tout justifier",
        "est-ce que ça interagis avec la pilule ?",  # Intralgis
    ],
)
def test_everyday_words_are_not_drugs(matcher, sentence):
    assert _interest(matcher, sentence) == []


@pytest.mark.parametrize(
    ("text", "inn"),
    [
        ("j'ai pris 2 advils", "ibuprofen"),
        ("des nurofens", "ibuprofen"),
        ("un ibu 400", "ibuprofen"),
        ("sous roacc depuis 3 mois", "isotretinoin"),
        ("painkillers: ibuprofen", "ibuprofen"),
        ("an aspirin", "aspirin"),
        ("ketoprofen", "ketoprofen"),
        ("naproxen 550", "naproxen"),
        ("ibuprophène", "ibuprofen"),
        ("advile", "ibuprofen"),
        ("un anti-inflam", "nsaid (unspecified)"),
        ("voltaren", "diclofenac"),
        ("apranaxe", "naproxen"),
        ("ponstyl", "mefenamic acid"),
        ("Lodine 200", "etodolac"),
        ("nalgesic", "fenoprofen"),
    ],
)
def test_plurals_english_names_slang_and_misspellings_are_found(matcher, text, inn):
    assert [found for found, _ in _interest(matcher, text)] == [inn]


# Every non-steroidal anti-inflammatory (ATC M01A, M02AA) and salicylate (N02BA) the 2020 BDPM sells,
# by the substance name BDPM gives (WHO ATC/DDD index 2024, French INN spellings).
ATC_M01A_M02AA_N02BA = (
    "INDOMETACINE",
    "SULINDAC",
    "DICLOFENAC",
    "ETODOLAC",
    "KETOROLAC",
    "ACECLOFENAC",
    "PIROXICAM",
    "TENOXICAM",
    "MELOXICAM",
    "IBUPROFENE",
    "NAPROXENE",
    "KETOPROFENE",
    "FENOPROFENE",
    "FLURBIPROFENE",
    "TIAPROFENIQUE",
    "ALMINOPROFENE",
    "DEXKETOPROFENE",
    "MEFENAMIQUE",
    "CELECOXIB",
    "PARECOXIB",
    "ETORICOXIB",
    "NABUMETONE",
    "NIFLUMIQUE",
    "MORNIFLUMATE",
    "BENZYDAMINE",
    "ACETYLSALICYL",
    "SALICYLAMIDE",
)


def test_every_nsaid_and_salicylate_sold_in_france_is_in_the_lexicon_with_its_brands(root, lexicon):
    """Against the full 2020 BDPM (../shared/data/bdpm), not the subset the lexicon is built from."""
    full = root.parent / "shared/data/bdpm"
    if not (full / "CIS_COMPO_bdpm.txt").exists():
        pytest.skip("the full BDPM is in ../shared/data/bdpm (absent from a user's clone)")
    from perivigil.extract.lexicon import _denomination, _plain

    cis, compo = read_bdpm(full)
    names = {row[0]: row[1] for row in cis}
    wanted = {
        row[0]
        for row in compo
        if row[6].strip() == "SA"
        and any(name in _plain(row[3]) for name in ATC_M01A_M02AA_N02BA)
        and "AMINOSALICYL" not in _plain(row[3])
    }  # 5-ASA (mesalazine family) is A07EC, not N02BA
    missing = sorted(
        {names[c] for c in wanted if c in names and matching_form(_denomination(names[c])) not in lexicon.index}
    )
    assert len(wanted) > 400 and missing == []
