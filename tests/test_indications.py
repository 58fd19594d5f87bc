"""Why a drug was taken: indications read in French forum posts (hand-written cases)."""

from __future__ import annotations

import pytest

from perivigil.extract.indications import NOT_STATED, indications, indications_near


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Je suis sous Roaccutane pour mon acné sévère", ["acne"]),
        ("Curacné depuis 4 mois, mes boutons partaient enfin", ["acne"]),
        ("une migraine horrible, j'ai pris un Advil", ["headache"]),
        ("j'avais trop mal à la tête alors Nurofen", ["headache"]),
        ("ma sciatique me tue, le médecin m'a donné du Bi-Profénid", ["back_or_joint_pain"]),
        ("Mal de dos depuis 3 jours, Voltarène gel", ["back_or_joint_pain"]),
        ("rage de dents à 30 SA : ibuprofène", ["dental_pain"]),
        ("Le dentiste m'a prescrit du Ketesse", ["dental_pain"]),
        ("grosse angine et de la fièvre, j'ai pris de l'ibuprofène", ["fever_or_infection"]),
        ("Aspirine 1 g pour un état grippal", ["fever_or_infection"]),
        ("des contractions toute la nuit, on m'a donné de l'indocid", ["pelvic_or_uterine"]),
        ("Kardégic 100 pour éviter une pré-éclampsie", ["preeclampsia_prevention"]),
        ("Kardegic à cause d'une preeclampsie à ma première grossesse", ["preeclampsia_prevention"]),
        ("J'ai mal partout, j'ai pris un Spifen", ["pain_unspecified"]),
        # a specific pain makes the unspecified one redundant
        ("Douleurs terribles, une rage de dents", ["dental_pain"]),
        # two reasons in one post, in the table's order
        ("migraine et fièvre, donc Advil", ["headache", "fever_or_infection"]),
        ("J'ai pris un Advil à 30 SA", [NOT_STATED]),
        # words that contain an indication are not one
        ("les boutonnières de ma robe", [NOT_STATED]),
    ],
)
def test_indications(text, expected):
    assert indications(text) == expected


def test_the_scope_is_the_mention_sentence_and_the_one_before():
    text = (
        "Mon acné est revenue pendant la grossesse. J'ai une sciatique horrible. "
        "Alors j'ai pris du Voltarène. Bébé va bien."
    )
    drug = text.index("Voltarène")
    assert indications_near(text, [drug]) == ["back_or_joint_pain"]
    assert indications_near(text, [0]) == ["acne"]
    assert indications_near(text, []) == ["acne", "back_or_joint_pain"]
