"""The source yield table: what each source and period brings, before any annotation (issue 13)."""

from __future__ import annotations

import pandas as pd
import pytest

from perivigil.report.source_yield import has_pregnancy_term, source_yield


def _posts() -> pd.DataFrame:
    # Six posts: four from a forum in January 2024 (one exact duplicate, one English), two from
    # Reddit in February 2024 (one near duplicate). Dates are in Paris time on purpose: the period
    # is the UTC month, so the forum's "2024-02-01 00:30 +01:00" post belongs to January.
    return pd.DataFrame(
        {
            "post_id": ["f-1", "f-2", "f-3", "f-4", "r-1", "r-2"],
            "source": ["forum", "forum", "forum", "forum", "reddit", "reddit"],
            "created_at": pd.to_datetime(
                [
                    "2024-01-03T10:00:00+01:00",
                    "2024-01-20T10:00:00+01:00",
                    "2024-02-01T00:30:00+01:00",
                    "2024-01-05T08:00:00+01:00",
                    "2024-02-10T12:00:00+00:00",
                    "2024-02-11T12:00:00+00:00",
                ],
                utc=True,
            ),
            "lang": ["fr", "fr", "fr", "en", "fr", "fr"],
            "duplicate_of": [None, None, "f-1", None, None, None],
            "near_duplicate_of": [None, None, None, None, None, "r-1"],
            "text": [
                "Je suis enceinte de 30 SA et j'ai pris de l'ibuprofène",
                "Roaccutane et Advil, une question pour ma sœur",
                "Je suis enceinte de 30 SA et j'ai pris de l'ibuprofène",
                "Is isotretinoin safe?",
                "Grossesse : le Doliprane suffit-il ?",
                "Rien à voir : une recette de crêpes",
            ],
        }
    )


def _mentions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "post_id": ["f-1", "f-2", "f-2", "f-3", "f-4", "r-1"],
            "drug_class": ["nsaid", "isotretinoin", "nsaid", "nsaid", "isotretinoin", "other"],
        }
    )


def _decisions() -> pd.DataFrame:
    rows = []
    for post_id in ["f-1", "f-2", "f-3", "f-4", "r-1", "r-2"]:
        rows += [
            {"post_id": post_id, "label": "iso_t1", "value": 0},
            {"post_id": post_id, "label": "nsaid_late", "value": int(post_id in {"f-1", "f-3"})},
        ]
    return pd.DataFrame(rows)


def test_the_yield_counts_each_source_and_utc_month_by_hand():
    table = source_yield(_posts(), _mentions(), _decisions())
    rows = table.set_index(["source", "period"]).to_dict("index")
    assert list(rows) == [("forum", "2024-01"), ("reddit", "2024-02")]
    # forum, January (UTC): f-1, f-2, f-3 (00:30 Paris = 23:30 UTC on 31 January), f-4
    assert rows[("forum", "2024-01")] == {
        "posts": 4,
        "french_posts": 3,
        "drug_of_interest_posts": 4,
        "pregnancy_term_posts": 2,
        "candidates_iso": 2,  # f-2 (iso + nsaid: "both") and f-4; f-3 is a duplicate, not a candidate
        "candidates_nsaid": 2,  # f-1 and f-2
        "rule_iso_t1": 0,
        "rule_nsaid_late": 2,  # decisions of f-1 and of its duplicate f-3
        "exact_duplicates": 1,
        "near_duplicates": 0,
    }
    # reddit, February: r-1 names only paracetamol (class "other"); r-2 no drug at all
    assert rows[("reddit", "2024-02")] == {
        "posts": 2,
        "french_posts": 2,
        "drug_of_interest_posts": 0,
        "pregnancy_term_posts": 1,
        "candidates_iso": 0,
        "candidates_nsaid": 0,
        "rule_iso_t1": 0,
        "rule_nsaid_late": 0,
        "exact_duplicates": 0,
        "near_duplicates": 1,
    }


def test_a_source_and_month_without_posts_has_no_row_and_no_post_is_lost():
    table = source_yield(_posts(), _mentions(), _decisions())
    assert table["posts"].sum() == 6
    assert ("reddit", "2024-01") not in set(zip(table["source"], table["period"]))


def test_a_post_missing_from_the_decisions_is_an_error_naming_it():
    decisions = _decisions()
    decisions = decisions[decisions["post_id"] != "r-2"]
    with pytest.raises(ValueError, match="decisions: 1 post\\(s\\) have no decision, first 'r-2'"):
        source_yield(_posts(), _mentions(), decisions)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Je suis enceinte de 5 mois", True),
        ("ENCEINTE !!", True),  # case and punctuation do not matter
        ("ma grossesse se passe bien", True),
        ("test de grossesse positif ce matin", True),
        ("je suis à 32 SA", True),
        ("j'ai mal au dos depuis lundi", False),
        ("le sable de la plage", False),  # "sa" is a word, not a piece of a word
    ],
)
def test_pregnancy_terms_are_the_extractors_pregnancy_signals(text, expected):
    assert has_pregnancy_term(text) is expected


def test_the_figure_has_a_panel_per_source_and_a_point_per_month_gaps_included():
    from perivigil.report.source_yield import PLOTTED, plot_source_yield

    table = source_yield(_posts(), _mentions(), _decisions())
    gap = table.iloc[[0]].assign(period="2024-04")  # forum: January and April, nothing in between
    figure = plot_source_yield(pd.concat([table, gap], ignore_index=True))
    forum, reddit = figure.axes
    assert [axes.get_title() for axes in figure.axes] == ["forum: 8 posts", "reddit: 2 posts"]
    assert [len(line.get_xdata()) for line in forum.get_lines()] == [4] * len(PLOTTED)  # Jan, Feb, Mar, Apr
    assert [len(line.get_xdata()) for line in reddit.get_lines()] == [1] * len(PLOTTED)


@pytest.mark.parametrize("batch_size", [1, 4, 100])
def test_the_files_read_batch_by_batch_give_the_whole_tables_counts(tmp_path, batch_size):
    """Posts read in batches (a source and month spread over two batches) count as the whole table does."""
    from perivigil.report.source_yield import write_source_yield

    paths = {name: tmp_path / f"{name}.parquet" for name in ("posts", "mentions", "decisions")}
    _posts().to_parquet(paths["posts"], row_group_size=3)
    _mentions().to_parquet(paths["mentions"])
    _decisions().to_parquet(paths["decisions"])
    figure = (tmp_path / "yield.png", tmp_path / "yield.pdf")
    table = write_source_yield(*paths.values(), table_path=tmp_path / "yield.csv", figure=figure, batch_size=batch_size)
    expected = source_yield(_posts(), _mentions(), _decisions())
    pd.testing.assert_frame_equal(table, expected)
    assert table["posts"].tolist() == [4, 2]  # forum January (4 posts) spans the batches of 1 and 4 posts
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "yield.csv", dtype={"period": str}), expected)
