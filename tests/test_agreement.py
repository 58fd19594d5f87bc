"""Inter-annotator agreement against published values, invariances, degenerate data and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from perivigil.agreement import (
    agreement_for_label,
    cohen_kappas,
    fleiss_kappa,
    krippendorff_alpha,
    read_long_csv,
    reliability_data,
)
from perivigil.cli import main
from perivigil.errors import InputError

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 coders x 12 units,
# with missing values (None). Published: nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _long(matrix, label="x") -> pd.DataFrame:
    rows = [
        (f"u{j:02d}", f"coder{i}", label, str(v))
        for i, row in enumerate(matrix)
        for j, v in enumerate(row)
        if v is not None
    ]
    return pd.DataFrame(rows, columns=["unit_id", "annotator", "label", "value"])


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_2011_reliability_data(level, published):
    result = agreement_for_label(_long(KRIPPENDORFF_2011), level, n_boot=200, seed=1)
    assert result["krippendorff_alpha"] == pytest.approx(published, abs=1e-3)
    low, high = result["krippendorff_alpha_ci95"]
    assert low < result["krippendorff_alpha"] < high


def test_fleiss_1971_diagnoses():
    # Fleiss (1971): 30 patients x 6 psychiatrists, 5 diagnoses; kappa 0.430 (the data as
    # statsmodels ships them with its tests, read at test time).
    from statsmodels.stats.tests.test_inter_rater import diagnoses

    result = agreement_for_label(_long(diagnoses.T.tolist()), "nominal", n_boot=100, seed=1)
    assert result["fleiss_kappa"] == pytest.approx(0.430, abs=1e-3)


def test_fleiss_wikipedia_example():
    # Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories: 0.210.
    counts = np.array(
        [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ],
        float,
    )
    assert fleiss_kappa(counts)[0] == pytest.approx(0.210, abs=1e-3)


def test_cohen_kappa_and_its_asymptotic_standard_error():
    # The 3x3 table [[0,4,1],[0,8,0],[0,1,5]] (SAS PROC FREQ example, statsmodels' test): 0.4842, ASE 0.138.
    table = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]
    a, b = [], []
    for i, row in enumerate(table):
        for j, n in enumerate(row):
            a += [str(i)] * n
            b += [str(j)] * n
    long = pd.DataFrame(
        {
            "unit_id": [f"u{k}" for k in range(len(a))] * 2,
            "annotator": ["A"] * len(a) + ["B"] * len(b),
            "label": "x",
            "value": a + b,
        }
    )
    result = cohen_kappas(reliability_data(long, "nominal"))["A|B"]
    assert result["kappa"] == pytest.approx(0.4842, abs=1e-4)
    assert result["ase"] == pytest.approx(0.138, abs=1e-3)


def test_perfect_agreement_gives_one():
    matrix = [[1, 2, 3, 1, 2], [1, 2, 3, 1, 2], [1, 2, 3, 1, 2]]
    result = agreement_for_label(_long(matrix), "nominal", n_boot=100, seed=1)
    assert (result["krippendorff_alpha"], result["fleiss_kappa"], result["gwet_ac1"], result["percent_agreement"]) == (
        1.0,
        1.0,
        1.0,
        1.0,
    )


def test_permuting_annotators_units_and_relabelling_nominal_categories_changes_nothing():
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 3, size=(4, 30)).tolist()
    base = agreement_for_label(_long(matrix), "nominal", n_boot=50, seed=1)
    permuted = [row[::-1] for row in matrix[::-1]]
    relabelled = [[{0: "c", 1: "a", 2: "b"}[v] for v in row] for row in matrix]
    for other in (permuted, relabelled):
        result = agreement_for_label(_long(other), "nominal", n_boot=50, seed=1)
        for key in ("krippendorff_alpha", "fleiss_kappa", "gwet_ac1", "percent_agreement"):
            assert result[key] == pytest.approx(base[key], abs=1e-12)


@pytest.mark.parametrize(
    ("matrix", "reason"),
    [
        ([[1, 1, 1], [1, 1, 1]], "only one value observed"),
        ([[1, 2, 1]], "fewer than two annotators"),
        ([[1, None, None], [None, 2, None]], "no unit with two or more judgements"),
    ],
)
def test_degenerate_data_give_null_with_a_reason(matrix, reason):
    result = agreement_for_label(_long(matrix), "nominal", n_boot=50, seed=1)
    assert result["krippendorff_alpha"] is None
    assert reason in result["null_reasons"]["krippendorff_alpha"]


def test_pairs_bootstrap_is_seeded_and_brackets_the_estimate():
    rel = reliability_data(_long(KRIPPENDORFF_2011), "nominal")
    first = krippendorff_alpha(rel, "nominal", n_boot=500, seed=7)
    assert first == krippendorff_alpha(rel, "nominal", n_boot=500, seed=7)
    assert 0.0 <= first.p_below_0667 <= first.p_below_0800 <= 1.0
    units = krippendorff_alpha(rel, "nominal", n_boot=200, seed=7, bootstrap="units")
    assert units.ci95[0] < units.alpha < units.ci95[1]


def test_cli_writes_agreement_json(tmp_path, capsys):
    long = _long(KRIPPENDORFF_2011, "reliability")
    path = tmp_path / "long.csv"
    long.to_csv(path, index=False)
    assert (
        main(
            [
                "agreement",
                "--input",
                str(path),
                "--level",
                "interval",
                "--output",
                str(tmp_path / "out"),
                "--n-boot",
                "200",
            ]
        )
        == 0
    )
    result = json.loads((tmp_path / "out" / "agreement.json").read_text())["reliability"]
    assert result["krippendorff_alpha"] == pytest.approx(0.849, abs=1e-3)
    assert {
        "krippendorff_alpha",
        "krippendorff_alpha_ci95",
        "fleiss_kappa",
        "gwet_ac1",
        "percent_agreement",
        "cohen_kappa",
        "n_units",
        "n_annotators",
    } <= set(result)
    assert result["n_units"] == 12 and result["n_annotators"] == 4
    assert "reliability" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("unit,annotator,label,value\nu1,A,x,1\n", "missing column(s) ['unit_id']"),
        ("unit_id,annotator,label,value\nu1,A,x,1\nu1,A,x,0\n", "row 3: unit 'u1' has two judgements by 'A'"),
    ],
)
def test_bad_long_csv_gets_one_line(tmp_path, content, message):
    path = tmp_path / "long.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_long_csv(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_unknown_level_is_refused(tmp_path, capsys):
    path = tmp_path / "long.csv"
    _long(KRIPPENDORFF_2011).to_csv(path, index=False)
    assert main(["agreement", "--input", str(path), "--level", "cardinal", "--output", str(tmp_path / "o")]) == 2
    assert "--level cardinal: expected one of nominal, ordinal, interval, ratio" in capsys.readouterr().err
