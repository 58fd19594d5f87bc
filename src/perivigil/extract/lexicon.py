"""The drug lexicon: surface form → substance (INN), ATC code, class, route, unit strength.

Three sources, merged with a fixed precedence (study protocol §4):

1. ``config/lexicon/forum_variants.tsv`` — hand-kept forum spellings and the fixes the
   two other sources need for forum use (Roaccutane as the oral drug's colloquial name,
   Isotrex as a gel, ibuprofen brands filed by edsnlp under N02BG, "anti-inflammatoire");
2. the BDPM (French public drug database): every product containing a substance of
   ``config/lexicon/substances.tsv``, with its routes and strengths; names are cut
   before the strength ("ADVIL 400 mg, comprimé" → "advil");
3. edsnlp's ATC-coded ``drugs.json`` (derived from ROMEDI) for every other drug, as
   class ``other`` (so that paracetamol is a mention, and a hard negative).

Surfaces are kept in :func:`perivigil.extract.text.matching_form` (lower case, no
accents, hyphens as spaces).
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import pandas as pd

from perivigil.errors import InputError
from perivigil.extract.text import matching_form
from perivigil.extract.vocabulary import is_ordinary
from perivigil.files import check_input_file, decode_text, read_text

CLASSES = ("isotretinoin", "nsaid", "aspirin_analgesic", "aspirin_antiplatelet", "aspirin", "other")
ROUTES = ("oral", "cutaneous", "rectal", "parenteral", "other", "any")
LEXICON_COLUMNS = ("surface", "inn", "atc", "drug_class", "route", "unit_mg", "fuzzy", "source")
ANTIPLATELET_NAMES = re.compile(r"KARDEGIC|RESITUNE|PROTECT|DUOPLAVIN|CLOPIDOGREL|ASASANTINE")
# Words that name a form or a population, not a drug, at the end of a BDPM denomination.
_TRAILING_WORDS = re.compile(r"(\s+(ENFANTS?|ADULTES?|NOURRISSONS?|L\.?P\.?|GE|CONSEIL|MED))+$")
# Brand names of other drugs (edsnlp) that are everyday French words on forums.
COMMON_WORDS = frozenset(
    {
        "bien",
        "calme",
        "repos",
        "dormir",
        "sommeil",
        "stress",
        "enfant",
        "sante",
        "forme",
        "serenite",
        "vitamine",
        "vitamines",
        "magnesium",
        "calcium",
        "fer",
        "bebe",
        "maman",
        "equilibre",
        "energie",
        "detente",
        "confort",
        "soleil",
        "ecran",
        "gelules",
        "sirop",
        "glucose",
    }
)
_BDPM_ROUTES = {
    "orale": "oral",
    "sublinguale": "oral",
    "voie buccale autre": "oral",
    "buccale": "oral",
    "cutanee": "cutaneous",
    "transdermique": "cutaneous",
    "rectale": "rectal",
    "intraveineuse": "parenteral",
    "intramusculaire": "parenteral",
    "sous cutanee": "parenteral",
}


class LexiconEntry(TypedDict):
    """One row of the lexicon (LEXICON_COLUMNS), as each source gives it before the merge."""

    surface: str
    inn: str
    atc: str
    drug_class: str
    route: str
    unit_mg: float | None
    fuzzy: bool
    source: str


@dataclass(frozen=True)
class Substance:
    inn: str
    drug_class: str
    bdpm_pattern: re.Pattern
    atc_oral: str
    atc_topical: str


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a tab-separated file with a header; lines starting with '#' are comments."""
    path = Path(path)
    lines = [line for line in read_text(path, "TSV file").splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t")
    rows = []
    for number, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            raise InputError(f"{path}, row {number}: expected {len(reader.fieldnames or ())} tab-separated fields")
        rows.append(row)
    return rows


def read_substances(path: Path) -> list[Substance]:
    substances = []
    for number, row in enumerate(read_tsv(path), start=2):
        if row["class"] not in ("isotretinoin", "nsaid", "aspirin", "other"):
            raise InputError(f"{path}, row {number}: field 'class' must be isotretinoin, nsaid, aspirin or other")
        substances.append(
            Substance(row["inn"], row["class"], re.compile(row["bdpm_pattern"]), row["atc_oral"], row["atc_topical"])
        )
    return substances


def _plain(text: str) -> str:
    """Upper case without accents, as BDPM patterns are written."""
    return matching_form(text).upper().replace(" ", " ")


def read_bdpm(directory: Path) -> tuple[list[list[str]], list[list[str]]]:
    """Rows of ``CIS_bdpm.txt`` and ``CIS_COMPO_bdpm.txt`` (tab-separated, no header; UTF-8 or Windows-1252)."""

    def rows(name: str, min_fields: int) -> list[list[str]]:
        path = Path(directory) / name
        # UTF-8 with a BOM in the 2020 copy; older and newer downloads have been Windows-1252
        text = decode_text(check_input_file(path, "BDPM file").read_bytes(), path)
        out = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            fields = line.rstrip("\r").split("\t")
            if len(fields) < min_fields:
                raise InputError(f"{path}, row {number}: expected at least {min_fields} fields, got {len(fields)}")
            out.append(fields)
        return out

    return rows("CIS_bdpm.txt", 4), rows("CIS_COMPO_bdpm.txt", 7)


def subset_bdpm(
    cis_rows: list[list[str]], compo_rows: list[list[str]], substances: list[Substance]
) -> tuple[list[list[str]], list[list[str]]]:
    """The products (and their composition lines) that contain a substance of interest."""
    keep = {row[0] for row in compo_rows if any(s.bdpm_pattern.search(_plain(row[3])) for s in substances)}
    return [r for r in cis_rows if r[0] in keep], [r for r in compo_rows if r[0] in keep]


def _denomination(name: str) -> str:
    """'ADVIL 400 mg, comprimé enrobé' → 'ADVIL'; 'KETUM 2,5 POUR CENT, gel' → 'KETUM'."""
    head = name.split(",")[0]
    head = re.split(r"\s\d", head)[0]
    return _TRAILING_WORDS.sub("", head.strip()).strip()


def _strength_mg(text: str) -> float | None:
    match = re.match(r"\s*([\d\s]+(?:,\d+)?)\s*(mg|g)\b", text)
    if not match:
        return None
    value = float(match.group(1).replace(" ", "").replace(",", "."))
    return value * 1000 if match.group(2) == "g" else value


def _route(bdpm_routes: str) -> set[str]:
    return {_BDPM_ROUTES.get(matching_form(r.strip()), "other") for r in bdpm_routes.split(";") if r.strip()}


def bdpm_entries(
    cis_rows: list[list[str]], compo_rows: list[list[str]], substances: list[Substance]
) -> list[LexiconEntry]:
    """Lexicon rows from BDPM products: one per surface (denomination, and its first word)."""
    by_cis: dict[str, list[tuple[Substance, float | None]]] = defaultdict(list)
    for row in compo_rows:
        if row[6].strip() != "SA":
            continue
        for substance in substances:
            if substance.bdpm_pattern.search(_plain(row[3])):
                by_cis[row[0]].append((substance, _strength_mg(row[4])))
    grouped: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for row in cis_rows:
        if row[0] not in by_cis:
            continue
        denomination = _denomination(row[1])
        routes = _route(row[3])
        plain = _plain(denomination)
        surfaces = {matching_form(denomination)}
        first = matching_form(denomination.split()[0])
        if len(first) >= 4 and not is_ordinary(first):  # "ACIDE TIAPROFENIQUE ARROW": not "acide"
            surfaces.add(first)
        for substance, strength in by_cis[row[0]]:
            drug_class = substance.drug_class
            if drug_class == "aspirin":
                drug_class = "aspirin_antiplatelet" if ANTIPLATELET_NAMES.search(plain) else "aspirin_analgesic"
            for surface in surfaces:
                entry = grouped[surface]
                entry["inn"].add(substance.inn)
                entry["class"].add(drug_class)
                entry["routes"].update(routes)
                entry["substance"].add(substance)
                if strength:
                    entry["strength"].add(strength)
    rows: list[LexiconEntry] = []
    for surface, entry in sorted(grouped.items()):
        classes = entry["class"]
        if len(classes) > 1 and classes <= {"aspirin_analgesic", "aspirin_antiplatelet"}:
            drug_class = "aspirin"
        else:
            drug_class = next(
                c
                for c in ("isotretinoin", "nsaid", "aspirin_analgesic", "aspirin_antiplatelet", "other")
                if c in classes
            )
        routes = entry["routes"]
        route = "oral" if "oral" in routes else next(iter(routes)) if len(routes) == 1 else "any"
        substance = sorted(entry["substance"], key=lambda s: s.inn)[0]
        atc = substance.atc_topical if route == "cutaneous" and substance.atc_topical else substance.atc_oral
        if drug_class == "aspirin_antiplatelet":
            atc = "B01AC06"
        strengths = entry["strength"]
        rows.append(
            {
                "surface": surface,
                "inn": "+".join(sorted(entry["inn"])),
                "atc": atc,
                "drug_class": drug_class,
                "route": route,
                "unit_mg": next(iter(strengths)) if len(strengths) == 1 else None,
                # misspelt brands of interest are looked for too ("voltaren", "apranaxe")
                "fuzzy": drug_class != "other" and len(surface) >= 7 and surface.isalpha(),
                "source": "bdpm",
            }
        )
    return rows


def edsnlp_entries(drugs: dict[str, list[str]], substances: list[Substance]) -> list[LexiconEntry]:
    """Lexicon rows from edsnlp's ``drugs.json`` (ATC code → names).

    Only full 7-character ATC codes are used: under a shorter code (e.g. N02BG,
    "other analgesics") the lower-case entry is a category label, not a drug, and
    the brands are a mix that the BDPM resolves better.
    """
    atc_class: dict[str, tuple[str, str, str]] = {}
    for s in substances:
        for code, route in ((s.atc_oral, "oral"), (s.atc_topical, "cutaneous")):
            if code:
                atc_class[code] = (s.inn, s.drug_class, route)
    atc_class["B01AC06"] = ("aspirin", "aspirin_antiplatelet", "oral")
    atc_class["N02BA01"] = ("aspirin", "aspirin_analgesic", "oral")
    rows: list[LexiconEntry] = []
    for code, names in sorted(drugs.items()):
        if len(code) != 7:
            continue
        inn_names = [n for n in names if n == n.lower()]
        inn, drug_class, route = atc_class.get(code, (inn_names[0] if inn_names else code, "other", "any"))
        for name in names:
            surface = matching_form(name)
            # Short brand names of other drugs are ordinary words too often ("zinc", "muse").
            if (
                len(surface) >= (4 if drug_class != "other" else 5)
                and surface not in COMMON_WORDS
                and not (drug_class == "other" and is_ordinary(surface))
            ):
                rows.append(
                    {
                        "surface": surface,
                        "inn": inn,
                        "atc": code,
                        "drug_class": drug_class,
                        "route": route,
                        "unit_mg": None,
                        "fuzzy": False,
                        "source": "edsnlp",
                    }
                )
    return rows


def variant_entries(path: Path, substances: list[Substance]) -> list[LexiconEntry]:
    atc = {s.inn: (s.atc_oral, s.atc_topical) for s in substances}
    rows: list[LexiconEntry] = []
    for number, row in enumerate(read_tsv(path), start=2):
        where = f"{path}, row {number}"
        if row["drug_class"] not in CLASSES:
            raise InputError(f"{where}: field 'drug_class' must be one of {CLASSES}, got {row['drug_class']!r}")
        if row["route"] not in ROUTES:
            raise InputError(f"{where}: field 'route' must be one of {ROUTES}, got {row['route']!r}")
        if row["fuzzy"] not in ("0", "1"):
            raise InputError(f"{where}: field 'fuzzy' must be 0 or 1")
        oral, topical = atc.get(row["inn"], ("", ""))
        code = topical if row["route"] == "cutaneous" and topical else oral
        if row["drug_class"] == "aspirin_antiplatelet":
            code = "B01AC06"
        elif row["drug_class"] in ("aspirin_analgesic", "aspirin"):
            code = "N02BA01"
        try:
            unit = float(row["unit_mg"]) if row["unit_mg"] else None
        except ValueError:
            raise InputError(f"{where}: field 'unit_mg' is not a number: {row['unit_mg']!r}") from None
        rows.append(
            {
                "surface": matching_form(row["surface"]).strip(),
                "inn": row["inn"],
                "atc": code,
                "drug_class": row["drug_class"],
                "route": row["route"],
                "unit_mg": unit,
                "fuzzy": row["fuzzy"] == "1",
                "source": "forum_variants",
            }
        )
    return rows


def edsnlp_drugs_path() -> Path:
    """Where the installed edsnlp keeps its ATC-coded drug lexicon."""
    import importlib.util

    spec = importlib.util.find_spec("edsnlp")
    if spec is None or spec.origin is None:
        raise InputError("edsnlp is not installed: its resources/drugs.json is an input of the lexicon")
    return Path(spec.origin).parent / "resources" / "drugs.json"


def build_lexicon(
    bdpm_dir: Path, substances_path: Path, variants_path: Path, edsnlp_drugs: Path | None = None
) -> pd.DataFrame:
    """Merge the three sources (forum variants > BDPM > edsnlp), one row per surface, sorted."""
    substances = read_substances(substances_path)
    cis_rows, compo_rows = read_bdpm(bdpm_dir)
    drugs_path = edsnlp_drugs or edsnlp_drugs_path()
    try:
        drugs = json.loads(Path(drugs_path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{drugs_path}: cannot read edsnlp's drug lexicon: {exc}") from exc
    merged: dict[str, LexiconEntry] = {}
    for rows in (
        edsnlp_entries(drugs, substances),
        bdpm_entries(cis_rows, compo_rows, substances),
        variant_entries(variants_path, substances),
    ):
        for row in rows:
            previous = merged.get(row["surface"])
            # An edsnlp entry never replaces another edsnlp entry of a drug of interest.
            if previous and previous["source"] == row["source"] == "edsnlp" and previous["drug_class"] != "other":
                continue
            if previous and not row["atc"]:
                row = {**row, "atc": previous["atc"]}
            merged[row["surface"]] = row
    frame = pd.DataFrame(sorted(merged.values(), key=lambda r: r["surface"]), columns=LEXICON_COLUMNS)
    frame["unit_mg"] = frame["unit_mg"].astype("float64")
    frame["fuzzy"] = frame["fuzzy"].astype(bool)
    return frame.reset_index(drop=True)
