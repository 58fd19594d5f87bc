"""The challenge suite (issue 12): its expansion, its table, and the rule system's score on it."""

from __future__ import annotations

import pytest
import yaml

from perivigil.challenge import (
    Case,
    challenge_table,
    expand,
    protocol_namespace,
    run_cases,
    suite_results,
    write_challenge,
)
from perivigil.errors import InputError

MONTHS = [6, 10, 15, 19, 24, 28, 32, 36, 41]
NAMESPACE = protocol_namespace(MONTHS, 14, 24, 500)


def _templates(tmp_path, phenomena, fillers=None):
    path = tmp_path / "templates.yaml"
    path.write_text(
        yaml.safe_dump({"fillers": fillers or {}, "phenomena": phenomena}, allow_unicode=True), encoding="utf-8"
    )
    return path


def test_a_template_gives_every_combination_with_its_protocol_labels(tmp_path):
    path = _templates(
        tmp_path,
        [
            {
                "name": "months",
                "templates": [
                    {
                        "text": "Enceinte de {m} mois, j'ai pris {drug}.",
                        "vars": {"m": [5, 6]},
                        "expect": {"iso_t1": "0", "nsaid_late": "months_sa(m) >= late"},
                    }
                ],
            }
        ],
        fillers={"drug": ["un Advil", "du Nurofen"]},
    )
    cases = list(expand(path, NAMESPACE))
    # months_sa(5) = 24 SA (the threshold itself counts), months_sa(6) = 28 SA: both positive
    assert [(c.text, c.expected["nsaid_late"]) for c in cases] == [
        ("Enceinte de 5 mois, j'ai pris un Advil.", 1),
        ("Enceinte de 5 mois, j'ai pris du Nurofen.", 1),
        ("Enceinte de 6 mois, j'ai pris un Advil.", 1),
        ("Enceinte de 6 mois, j'ai pris du Nurofen.", 1),
    ]


def test_the_sample_of_a_large_template_is_seeded(tmp_path):
    path = _templates(
        tmp_path,
        [
            {
                "name": "ages",
                "templates": [
                    {
                        "text": "{a} {b}",
                        "vars": {"a": list(range(10)), "b": list(range(10))},
                        "expect": {"iso_t1": "0", "nsaid_late": "0"},
                    }
                ],
            }
        ],
    )
    first = [c.text for c in expand(path, NAMESPACE, seed=3, max_per_template=7)]
    assert len(first) == 7
    assert first == [c.text for c in expand(path, NAMESPACE, seed=3, max_per_template=7)]
    assert first != [c.text for c in expand(path, NAMESPACE, seed=4, max_per_template=7)]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ({"expect": {"iso_t1": "0", "nsaid_late": "0"}}, "template 1: key 'text' is missing"),
        ({"text": "{nothing}", "expect": {"iso_t1": "0", "nsaid_late": "0"}}, "no values for '{nothing}'"),
        ({"text": "x", "expect": {"iso_t1": "0"}}, "key 'expect' must give ['iso_t1', 'nsaid_late']"),
        ({"text": "x", "expect": {"iso_t1": "open('f')", "nsaid_late": "0"}}, "cannot be evaluated"),
    ],
)
def test_a_broken_template_is_named(tmp_path, template, message):
    path = _templates(tmp_path, [{"name": "broken", "templates": [template]}])
    with pytest.raises(InputError, match="phenomenon 'broken'") as error:
        list(expand(path, NAMESPACE))
    assert message in str(error.value)


def test_the_table_counts_cases_and_shows_failures_with_their_labels():
    cases = [
        Case("p", "a", {"iso_t1": 0, "nsaid_late": 1}),
        Case("p", "b", {"iso_t1": 0, "nsaid_late": 0}),
        Case("q", "c", {"iso_t1": 1, "nsaid_late": 0}),
    ]
    results = run_cases(cases, lambda text: {"iso_t1": 0, "nsaid_late": int(text == "a")})
    table = challenge_table(results)
    assert table[["phenomenon", "cases", "passed", "share_passed"]].values.tolist() == [
        ["p", 2, 2, 1.0],
        ["q", 1, 0, 0.0],
    ]
    assert table["failures"].tolist() == ["", "c (expected iso_t1=1 nsaid_late=0)"]


@pytest.fixture(scope="module")
def shipped_suite(root, study_config):
    import os

    from perivigil.extract.run import lexicon_from_config

    cwd = os.getcwd()
    os.chdir(root)
    try:
        return suite_results(study_config, lexicon_from_config(study_config))
    finally:
        os.chdir(cwd)


def test_the_shipped_suite_is_large_and_broad(shipped_suite):
    # issue 12: at least 1,500 generated cases over at least 30 phenomena
    assert len(shipped_suite) >= 1500
    assert shipped_suite["phenomenon"].nunique() >= 30


def test_the_rule_system_passes_95_percent_of_every_phenomenon(shipped_suite):
    table = challenge_table(shipped_suite)
    below = table[table["share_passed"] < 0.95]
    assert below.empty, below[["phenomenon", "share_passed", "failures"]].to_string()


def test_write_challenge_writes_a_checked_table(tmp_path, root, study_config, monkeypatch):
    from perivigil.extract.run import write_lexicon

    monkeypatch.chdir(root)
    write_lexicon(study_config, tmp_path / "lexicon.parquet", tmp_path / "lexicon.tsv")
    path = _templates(
        tmp_path,
        [
            {
                "name": "stated",
                "templates": [
                    {
                        "text": "J'ai pris un Advil à {sa} SA.",
                        "vars": {"sa": [23, 24]},
                        "expect": {"iso_t1": "0", "nsaid_late": "sa >= late"},
                    }
                ],
            }
        ],
    )
    table = write_challenge(path, tmp_path / "lexicon.parquet", tmp_path / "challenge.csv", study_config)
    assert table.values.tolist() == [["stated", 2, 2, 1.0, ""]]
    assert (tmp_path / "challenge.csv").read_text(encoding="utf-8").splitlines()[
        0
    ] == "phenomenon,cases,passed,share_passed,failures"
