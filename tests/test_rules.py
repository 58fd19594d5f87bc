"""The expert rule system on hand-written French posts: study protocol §2, every hard negative.

Each case gives the post and the protocol's decision (iso_t1, nsaid_late). None of these
posts is in the demo forum: they test the rules on text they were not tuned on.
"""

from __future__ import annotations

import dataclasses

import pytest

from perivigil.extract.pipeline import event_rows
from perivigil.models.rules import RuleThresholds, decide, decide_table, describe, labels_from_decisions


def _decide(extractor, text: str, thresholds: RuleThresholds | None = None, posted=None):
    """The rule system on one post: its events as rows (as in mentions.parquet), then the decision."""
    return decide(event_rows("p", extractor.extract(text, posted)), thresholds or RuleThresholds())


POSITIVE_ISO = [
    # oral isotretinoin in T1 (<= 14 SA), including before the pregnancy was known (protocol §2, §3)
    "J'ai pris du Procuta jusqu'à 7 SA, je viens de l'apprendre.",
    "test de grossesse positif ce matin alors que je prends du curacné depuis deux mois",
    "Enceinte de 10 SA et j'étais encore sous Acnetrait il y a trois semaines.",
    "j'ai avalé mes gélules de roaccutane tout le premier trimestre sans savoir que j'étais enceinte",
    "Je suis à 8 SG (10 SA) et j'ai continué l'isotrétinoïne 20 mg jusqu'à la semaine dernière.",
    "Fausse couche à 9 SA le mois dernier, j'étais sous Contracné quand je suis tombée enceinte.",
    "Ma belle-soeur est enceinte de 6 SA et elle prenait du curacné jusqu'au test positif.",
    "En 2018 j'ai pris du roacutan jusqu'à 5 SA sans le savoir, mon fils va bien aujourd'hui.",
    "enceinte de 2 mois et g pris du procuta avant de savoir 😭",
]

POSITIVE_NSAID = [
    # any NSAID, any route, any dose, at or beyond 24 SA (protocol §2)
    "J'ai pris un Advil à 31 SA pour une rage de dents.",
    "enceinte de 7 mois, j'ai avalé 2 nurofen hier soir",
    "À 26 SG j'ai pris de l'ibuprofène pendant trois jours.",  # 26 SG = 28 SA
    "Au début du 6e mois, j'ai pris un Spedifen pour une migraine.",  # 24 SA, the threshold itself
    "je suis à 35 SA et je me suis mis du Voltarène gel sur le dos",  # skin gels count
    "Ketum gel sur la cheville pendant 4 jours à 29 SA, c'est grave ?",
    "On m'a donné du Profénid aux urgences à 33 SA, j'en ai pris deux.",
    "6 mois et demi de grossesse, j'ai pris un Apranax ce matin.",
    "Ma femme est enceinte de 30 SA et elle a pris de l'advil toute la semaine.",
    "J'ai pris 2 Aspégic 1000 à 8 mois de grossesse.",  # aspirin >= 500 mg/day
    "Aspirine du Rhône 500, deux comprimés à 28 SA pour un mal de tête.",
    "à 30 SA j'ai pris une aspirine UPSA pour la fièvre",  # analgesic brand, dose not stated
    "Enceinte de 32 SA, j'ai pris du Celebrex pour mes douleurs.",
    "Pour ma première grossesse j'avais pris de l'ibuprofène à 34 SA, bébé va bien.",  # retrospective
]

NEGATIVE = [
    # questions, intentions (exposure intended)
    ("Est-ce que je peux prendre un advil à 30 SA ?", "question"),
    ("Je compte demander du roaccutane à mon dermato, on peut tomber enceinte dessous ?", "intention"),
    ("J'hésite à prendre un nurofen, je suis à 33 SA", "intention"),
    ("Si je prends un ibuprofène à 28 SA, c'est grave ?", "hypothesis"),
    # negations
    ("Je n'ai jamais pris de roaccutane, je suis enceinte de 6 SA.", "negation"),
    ("Aucun anti-inflammatoire à 30 SA, que du paracétamol.", "negation"),
    ("J'ai failli prendre un advil à 32 SA mais je me suis retenue.", "negation"),
    ("On m'a prescrit du kétoprofène à 29 SA. Je ne l'ai pas pris.", "negation"),
    # exposure outside the window
    ("J'ai pris de l'ibuprofène à 18 SA pendant deux jours.", "NSAID at 18 SA"),
    ("ibuprofène à 22 SA, une seule prise", "NSAID at 22 SA"),
    ("J'ai pris un nurofen au 5e mois de grossesse.", "au 5e mois = 19 SA"),
    ("Enceinte de 3 mois, j'ai pris deux advil pour une migraine.", "3 mois = 15 SA"),
    ("J'ai arrêté le roaccutane il y a 8 mois et je suis enceinte de 6 SA.", "isotretinoin stopped months before"),
    ("Curacné fini en 2019, et aujourd'hui test positif !", "isotretinoin stopped years before"),
    ("Enceinte de 20 SA, j'ai pris deux gélules de roaccutane.", "isotretinoin after T1"),
    ("Après mon accouchement on m'a donné du Profénid pendant 3 jours.", "NSAID after delivery"),
    ("J'allaite mon bébé de 2 mois et je prends de l'advil pour une mastite.", "NSAID while breastfeeding"),
    ("Post-partum : ibuprofène 400 trois fois par jour pour les tranchées.", "NSAID postpartum"),
    # low-dose aspirin (75-160 mg/day) and doses below the threshold
    ("Je prends du Kardégic 75 depuis 12 SA, je suis à 30 SA.", "low-dose aspirin"),
    ("Résitune 100 tous les soirs, 32 SA.", "low-dose aspirin"),
    ("Aspirine 100 mg par jour prescrite contre la prééclampsie, j'en suis à 28 SA.", "low-dose aspirin"),
    ("Sous Kardégic à 34 SA pour un retard de croissance.", "antiplatelet brand, dose not stated"),
    ("J'ai pris une aspirine Protect 300 par erreur à 30 SA.", "300 mg/day < 500"),
    # topical isotretinoin
    ("J'ai mis de l'Isotrex gel sur mes boutons jusqu'à 6 SA.", "topical isotretinoin"),
    ("crème à l'isotrétinoïne appliquée à 7 SA avant de savoir", "topical isotretinoin"),
    # a partner's or someone else's drugs
    ("Mon mari prend du roaccutane et je suis enceinte de 8 SA.", "partner's drug"),
    ("Mon conjoint est sous Profénid, moi je suis à 31 SA.", "partner's drug"),
    ("Ma mère met du voltarène gel, elle me masse les pieds, je suis à 30 SA.", "mother's drug"),
    # general warnings and advice
    ("Surtout pas d'AINS après 5 mois !", "warning"),
    ("L'ibuprofène est contre-indiqué à partir de 24 SA, même en gel.", "warning"),
    ("Rappel : le roaccutane est interdit pendant la grossesse.", "warning"),
    # other drugs, no drug
    ("Doliprane 1000 à 30 SA pour ma migraine.", "paracetamol"),
    ("Spasfon à 33 SA pour des contractions.", "not an NSAID"),
    ("Je suis à 30 SA et j'ai mal au dos, des conseils ?", "no drug"),
    # gestational age not established
    ("J'ai pris un advil pendant ma grossesse.", "no age: window not established"),
    ("J'ai pris un advil au deuxième trimestre.", "T2 range 15-28 straddles 24"),
]


@pytest.mark.parametrize("text", POSITIVE_ISO)
def test_iso_t1_positive(extractor, text):
    decision = _decide(extractor, text)
    assert (decision.iso_t1, decision.nsaid_late) == (1, 0)


@pytest.mark.parametrize("text", POSITIVE_NSAID)
def test_nsaid_late_positive(extractor, text):
    decision = _decide(extractor, text)
    assert (decision.iso_t1, decision.nsaid_late) == (0, 1)


@pytest.mark.parametrize(("text", "why"), NEGATIVE, ids=[why for _, why in NEGATIVE])
def test_hard_negatives(extractor, text, why):
    decision = _decide(extractor, text)
    assert (decision.iso_t1, decision.nsaid_late) == (0, 0), why


def test_a_post_can_be_positive_for_both(extractor):
    decision = _decide(extractor, "Sous curacné jusqu'à 5 SA sans le savoir, et hier à 30 SA j'ai pris un advil.")
    assert (decision.iso_t1, decision.nsaid_late) == (1, 1)


def test_evidence_names_the_mention_the_age_and_the_dose(extractor):
    decision = _decide(extractor, "Enceinte de 8 mois, j'ai pris 2 Aspégic 1000 pour la fièvre.")
    (evidence,) = decision.nsaid_late_evidence
    assert (
        evidence.inn,
        evidence.evidence,
        evidence.gestational_age_sa,
        evidence.gestational_age_text,
        evidence.dose_mg_day,
        evidence.dose_text,
    ) == ("aspirin", "Aspégic", 36.0, "8 mois", 2000.0, "2 Aspégic 1000")
    assert describe(evidence) == (
        "aspirin ('Aspégic') at 36 SA ('8 mois', stated) 2000 mg/day ('2 Aspégic 1000') taken by self"
    )


def test_thresholds_come_from_config(extractor):
    """Sensitivity analysis of protocol §4: aspirin at 100 mg/day; and a later NSAID threshold."""
    text = "J'ai pris un Kardégic 300 par erreur à 30 SA."
    assert _decide(extractor, text).nsaid_late == 0
    assert _decide(extractor, text, RuleThresholds(aspirin_min_mg_day=100)).nsaid_late == 1
    assert _decide(extractor, "J'ai pris un advil à 25 SA.", RuleThresholds(nsaid_late_min_sa=26)).nsaid_late == 0


def test_decisions_are_one_row_per_post_and_label_in_the_posts_order(extractor):
    import pandas as pd

    rows = event_rows("b", extractor.extract("J'ai pris un advil à 30 SA."))
    events = pd.DataFrame([dataclasses.asdict(row) for row in rows])
    table = decide_table(["a", "b"], events, RuleThresholds())
    assert table[["post_id", "label", "value", "mention_indexes"]].values.tolist() == [
        ["a", "iso_t1", 0, ""],
        ["a", "nsaid_late", 0, ""],
        ["b", "iso_t1", 0, ""],
        ["b", "nsaid_late", 1, "0"],
    ]
    assert labels_from_decisions(table).values.tolist() == [["a", 0, 0], ["b", 0, 1]]


@pytest.mark.parametrize(
    "text", ["", "😭😭😭", "<p>J'ai pris un <b>advil</b> à 30 SA</p>", "I took ibuprofen at 30 weeks", "a" * 1_000_000]
)
def test_odd_input_does_not_crash(extractor, text):
    decision = _decide(extractor, text)
    assert decision.iso_t1 in (0, 1) and decision.nsaid_late in (0, 1)


def test_html_fragments_are_read_as_text(extractor):
    assert _decide(extractor, "<p>J'ai pris un <b>advil</b> à 30 SA</p>").nsaid_late == 1


AGES = [  # (gestational_age_sa, _min_sa, _max_sa, text): none, points on and around each threshold, ranges
    (None, None, None, None),
    (10.0, 10.0, 10.0, "10 SA"),
    (14.0, 14.0, 14.0, "14 SA"),
    (15.0, 15.0, 15.0, "15 SA"),
    (20.0, 20.0, 20.0, "20 SA"),
    (24.0, 24.0, 24.0, "6 mois"),
    (30.0, 30.0, 30.0, "30 SA"),
    (None, 8.0, 13.0, "entre 8 et 13 SA"),
    (None, 12.0, 16.0, "3e mois"),
    (None, 22.0, 26.0, "6e mois"),
]


def event_grid(events_per_post: int = 3):
    """Every combination of the fields the rules read (missing values included), several events a post,
    as rows of ``mentions.parquet``; the last post is absent from the posts and one post has no event."""
    import itertools

    import pandas as pd

    rows = []
    combinations = itertools.product(
        ["isotretinoin", "nsaid", "aspirin", "aspirin_analgesic", "aspirin_antiplatelet", "other"],
        ["oral", "cutaneous"],
        ["taken", "intended"],
        [True, False, None],
        ["pregnancy", "postpartum", "unknown"],
        [True, False],
        AGES,
        [None, 100.0, 300.0, 500.0],
    )
    for i, (drug, route, status, pregnant, timing, first, (sa, low, high, text), dose) in enumerate(combinations):
        rows.append(
            {
                "post_id": f"p{i // events_per_post}",
                "mention_index": i % events_per_post,
                "evidence": f"{drug}-{i}",
                "inn": drug,
                "drug_class": drug,
                "route": route,
                "status": status,
                "person": "self" if i % 2 else "relative",
                "person_pregnant": pregnant,
                "timing": timing,
                "first_trimester": first,
                "gestational_age_sa": sa,
                "gestational_age_min_sa": low,
                "gestational_age_max_sa": high,
                "gestational_age_source": None if text is None else "stated",
                "gestational_age_text": text,
                "dose_mg_day": dose,
                "dose_text": None if dose is None else f"{dose:g} mg",
            }
        )
    events = pd.DataFrame(rows).astype({f"gestational_age{p}_sa": float for p in ("", "_min", "_max")})
    events = events.astype({"dose_mg_day": float})
    last = events["post_id"].iloc[-1]
    post_ids = ["p-none", *dict.fromkeys(events["post_id"].iloc[::-1])]  # reversed: the posts' order wins
    return [p for p in post_ids if p != last], events


def row_wise_table(post_ids, events, thresholds):
    """``decisions.parquet`` as the rule system wrote it before issue 17: :func:`decide` post by post."""
    import pandas as pd

    from perivigil.models.rules import DECISION_COLUMNS, decision_rows

    by_post = {}
    for row in events.itertuples(index=False):
        by_post.setdefault(row.post_id, []).append(row)
    rows = [row for post in post_ids for row in decision_rows(post, decide(by_post.get(post, ()), thresholds))]
    frame = pd.DataFrame(rows, columns=DECISION_COLUMNS)
    return frame.astype({"value": "int64"})


@pytest.mark.parametrize("thresholds", [RuleThresholds(), RuleThresholds(12.0, 20.0, 100.0)])
def test_the_column_wise_decisions_are_the_row_wise_ones(thresholds):
    import pandas as pd

    post_ids, events = event_grid()
    expected = row_wise_table(post_ids, events, thresholds)
    assert 0 < expected["value"].sum() < len(expected) / 4  # both values, several events per positive
    assert expected["mention_indexes"].str.contains(",").any()
    pd.testing.assert_frame_equal(decide_table(post_ids, events, thresholds), expected)


def test_decide_file_streams_the_same_decisions(tmp_path):
    """Batches of posts and of mentions, the columns it uses only: the rows of the row-wise rule system."""
    import pandas as pd

    from perivigil.models.rules import decide_file

    post_ids, events = event_grid()
    mentions = tmp_path / "mentions.parquet"
    events.assign(sentence="s", why="w").to_parquet(mentions, row_group_size=500)
    posts = tmp_path / "posts.parquet"
    pd.DataFrame({"post_id": post_ids, "text": "t"}).to_parquet(posts)
    expected = row_wise_table(post_ids, events, RuleThresholds())
    for batch_size in (7, 100_000):
        output = tmp_path / f"decisions-{batch_size}.parquet"
        written = decide_file(str(posts), str(mentions), str(output), RuleThresholds(), batch_size=batch_size)
        assert written == len(expected)
        pd.testing.assert_frame_equal(pd.read_parquet(output), expected)
    # one batch writes the bytes pandas writes for the whole table
    expected.to_parquet(tmp_path / "whole.parquet", index=False)
    assert (tmp_path / "decisions-100000.parquet").read_bytes() == (tmp_path / "whole.parquet").read_bytes()


def test_decide_file_refuses_a_post_id_twice(tmp_path):
    import pandas as pd

    from perivigil.models.rules import decide_file

    _, events = event_grid()
    events.to_parquet(tmp_path / "mentions.parquet")
    pd.DataFrame({"post_id": ["p1", "p2", "p1"]}).to_parquet(tmp_path / "posts.parquet")
    with pytest.raises(ValueError, match=r"posts\.parquet: post_id 'p1' appears more than once$"):
        decide_file(
            str(tmp_path / "posts.parquet"),
            str(tmp_path / "mentions.parquet"),
            str(tmp_path / "d.parquet"),
            RuleThresholds(),
        )
    assert not (tmp_path / "d.parquet").exists()
