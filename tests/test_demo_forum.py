"""The demo forum: hand-written seeds, their truth, the seeded generator, byte-identical output."""

from __future__ import annotations

import csv
import hashlib
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perivigil.demo.forum import one_typo, perturb, slugify, sms_spelling, strip_accents
from perivigil.demo.seeds import load_fragments, load_seed_posts
from perivigil.errors import InputError


@pytest.fixture(scope="module")
def seeds(root):
    return load_seed_posts(root / "resources/demo_forum/seeds")


@pytest.fixture(scope="module")
def fragments(root):
    return load_fragments(root / "resources/demo_forum/fragments.yaml")


def test_at_least_300_distinct_hand_written_posts(seeds):
    assert len({s.text for s in seeds}) == len(seeds) >= 300


def test_every_hard_negative_of_the_protocol_is_covered(seeds):
    """Study protocol §2-§4: each hard negative has several seed posts."""
    cases = Counter(s.case for s in seeds)
    required = {
        "iso_neg_negation": 3,
        "iso_neg_intended": 5,
        "iso_neg_topical": 4,
        "iso_neg_before_conception": 5,
        "iso_neg_partner": 3,
        "iso_neg_warning": 5,
        "iso_neg_postpartum": 2,
        "iso_neg_outside_window": 1,
        "nsaid_neg_negation": 5,
        "nsaid_neg_intended": 8,
        "nsaid_neg_low_dose_aspirin": 10,
        "nsaid_neg_aspirin_mid_dose": 3,
        "nsaid_neg_early": 8,
        "nsaid_neg_postpartum": 4,
        "nsaid_neg_breastfeeding": 4,
        "nsaid_neg_partner": 4,
        "nsaid_neg_warning": 6,
        "nsaid_neg_months": 2,
        "nsaid_neg_sa_vs_sg": 2,
        "nsaid_neg_bare_weeks": 1,
        "nsaid_pos_sg": 2,
        "nsaid_pos_months": 3,
        "nsaid_pos_topical": 5,
        "nsaid_pos_aspirin_high": 5,
        "iso_pos": 15,
        "nsaid_pos": 25,
        "both_pos": 2,
        "chatter": 40,
    }
    short = {case: (cases[case], n) for case, n in required.items() if cases[case] < n}
    assert not short, f"cases with too few seed posts (have, need): {short}"


def test_truth_follows_the_protocol_windows(seeds):
    """Positive iso_t1 at <= 14 SA, positive nsaid_late at >= 24 SA; aspirin positive only at >= 500 mg/day."""
    for s in seeds:
        t = s.truth
        if t.iso_t1 and t.gestational_age_sa is not None and "iso" in s.case:
            assert t.gestational_age_sa <= 14, s.id
        if t.nsaid_late and t.drug != "isotretinoin" and t.gestational_age_sa is not None:
            assert t.gestational_age_sa >= 24, s.id
        if t.drug == "aspirin" and t.dose_mg_day is not None:
            assert bool(t.nsaid_late) == (t.dose_mg_day >= 500), s.id
        if "_neg_" in s.case:
            assert not (t.iso_t1 or t.nsaid_late), s.id
        if s.case.startswith(("iso_pos", "nsaid_pos", "both_pos")):
            assert t.exposure == "actual" and (t.iso_t1 or t.nsaid_late), s.id


def test_seed_loader_names_file_post_and_field(tmp_path):
    (tmp_path / "a.yaml").write_text("- id: x1\n  board: b\n  case: c\n  text: t\n  truth: {iso_t1: 2}\n")
    with pytest.raises(InputError, match=r"a\.yaml, post 'x1': field 'truth.iso_t1' must be 0 or 1, got 2"):
        load_seed_posts(tmp_path)


def test_seed_loader_refuses_a_positive_that_was_not_taken(tmp_path):
    (tmp_path / "a.yaml").write_text(
        "- id: x1\n  board: b\n  case: c\n  text: t\n  truth: {nsaid_late: 1, exposure: intended}\n"
    )
    with pytest.raises(InputError, match="a positive post needs truth.exposure 'actual'"):
        load_seed_posts(tmp_path)


def test_seed_loader_refuses_duplicate_ids(tmp_path):
    (tmp_path / "a.yaml").write_text("- {id: x1, board: b, case: c, text: t}\n- {id: x1, board: b, case: c, text: u}\n")
    with pytest.raises(InputError, match="field 'id' duplicates a post"):
        load_seed_posts(tmp_path)


def test_strip_accents_keeps_emoji():
    assert strip_accents("Enceinte à 7 mois, j'ai pris du Profénid 😭") == "Enceinte a 7 mois, j'ai pris du Profenid 😭"


def test_sms_spelling_replaces_whole_words_only():
    class Always(random.Random):
        def random(self):
            return 0.0

    assert sms_spelling("C'est pour quoi ? Je suis quoique", Always()) == "c pr koi ? jsuis quoique"


def test_one_typo_swaps_two_adjacent_letters_of_a_long_word():
    text = one_typo("ibuprofène 400", random.Random(3))
    assert text != "ibuprofène 400" and sorted(text) == sorted("ibuprofène 400") and text.endswith(" 400")


def test_slugify():
    assert slugify("Médicament et grossesse ??") == "medicament-et-grossesse"


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**6), index=st.integers(0, 313))
def test_perturbation_never_changes_numbers(seeds, fragments, seed, index):
    """Noise is label-neutral: every number of the post (SA, mg, months) survives, in order."""
    text = seeds[index % len(seeds)].text
    noisy = perturb(text, random.Random(seed), fragments)
    # greetings and sign-offs hold no digit; a contact line (with a phone number) can only come last
    assert not any(re.search(r"\d", f) for f in fragments.openers + fragments.closers + fragments.emoji)
    body_numbers = re.findall(r"\d+", text)
    assert re.findall(r"\d+", noisy)[: len(body_numbers)] == body_numbers


def test_default_forum_size_and_shape(root):
    truth = list(csv.DictReader((root / "resources/demo_forum/truth.csv").open(encoding="utf-8")))
    threads = {row["thread_id"] for row in truth}
    assert len(truth) == 3000
    assert 350 <= len(threads) <= 450
    assert Counter(row["status"] for row in truth)["ok"] >= 2900


def test_truth_is_kept_outside_the_pages(root):
    site = root / "resources/demo_forum/site"
    assert not list(site.rglob("*.csv"))
    sample = (site / "index.html").read_text(encoding="utf-8")
    assert "iso_t1" not in sample and "nsaid_late" not in sample


def test_regenerating_gives_byte_identical_files(root, study_config, tmp_path):
    """Generator + seed are committed: rebuilding in a temp folder gives the committed manifest and truth."""
    from perivigil.demo.build import build_demo_forum

    settings = dict(study_config["demo_forum"])
    for key in ("seeds", "fragments"):
        settings[key] = str(root / settings[key])
    settings.update(
        site=str(tmp_path / "site"), manifest=str(tmp_path / "site.sha256"), truth=str(tmp_path / "truth.csv")
    )
    build_demo_forum(settings)
    committed = root / "resources/demo_forum"
    assert (tmp_path / "site.sha256").read_bytes() == (committed / "site.sha256").read_bytes()
    assert (tmp_path / "truth.csv").read_bytes() == (committed / "truth.csv").read_bytes()


def test_committed_snapshot_matches_its_manifest(root):
    site = root / "resources/demo_forum/site"
    for line in (root / "resources/demo_forum/site.sha256").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((site / name).read_bytes()).hexdigest() == digest, name


def test_every_post_author_sits_in_an_element_whose_class_contains_author(small_forum):
    page = next((Path(small_forum["site"]) / "sujet").glob("*.html")).read_text(encoding="utf-8")
    assert re.search(r'<a class="[^"]*author[^"]*"[^>]*>[^<]+</a>', page)


def test_generator_makes_exactly_the_requested_posts(small_forum):
    assert small_forum["counts"]["posts"] == 150
    rows = list(csv.DictReader(Path(small_forum["truth"]).open(encoding="utf-8")))
    assert len(rows) == 150 and len({r["post_id"] for r in rows}) == 150


def test_the_jsonl_corpus_and_its_truth_table_hold_the_same_posts(root, study_config, tmp_path):
    """bench/dag.py feeds ``write_demo_jsonl``'s posts to the DAG and ``write_demo_truth``'s table to the
    simulated annotators: the same generator, settings and N, so the same post ids in the same order."""
    import json

    from perivigil.demo.build import write_demo_jsonl, write_demo_truth

    settings = dict(study_config["demo_forum"])
    for key in ("seeds", "fragments"):
        settings[key] = str(root / settings[key])
    assert write_demo_jsonl(settings, 400, tmp_path / "posts.jsonl") == 400
    write_demo_truth(settings, 400, tmp_path / "truth.csv")
    jsonl_ids = [json.loads(line)["post_id"] for line in (tmp_path / "posts.jsonl").read_text().splitlines()]
    with (tmp_path / "truth.csv").open(encoding="utf-8") as handle:
        truth_ids = [row["post_id"] for row in csv.DictReader(handle)]
    assert len(jsonl_ids) == 400
    assert jsonl_ids == truth_ids
