"""The corpus overview: counts by board and month, the year table, and reproducible figures."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from perivigil.errors import InputError
from perivigil.report.corpus import posts_by_board_month, posts_by_board_year, write_corpus_overview


def _posts() -> pd.DataFrame:
    created = pd.to_datetime(
        [
            "2020-01-31T23:30:00+00:00",
            "2020-01-05T10:00:00+00:00",
            "2020-02-01T00:10:00+00:00",
            "2021-03-03T12:00:00+00:00",
            "2020-01-20T08:00:00+00:00",
        ],
        utc=True,
    ).astype("datetime64[us, UTC]")
    return pd.DataFrame(
        {"source": ["f"] * 5, "board": ["Santé", "Santé", "Santé", "Blabla", "Blabla"], "created_at": created}
    )


def test_posts_by_board_month_counts_by_utc_month():
    table = posts_by_board_month(_posts())
    assert table.to_dict("records") == [
        {"source": "f", "board": "Blabla", "month": "2020-01", "n_posts": 1},
        {"source": "f", "board": "Blabla", "month": "2021-03", "n_posts": 1},
        {"source": "f", "board": "Santé", "month": "2020-01", "n_posts": 2},
        {"source": "f", "board": "Santé", "month": "2020-02", "n_posts": 1},
    ]


def test_posts_by_board_year_adds_totals():
    wide = posts_by_board_year(posts_by_board_month(_posts()))
    assert wide.to_dict("records") == [
        {"Board": "Blabla", "2020": 1, "2021": 1, "Total": 2},
        {"Board": "Santé", "2020": 3, "2021": 0, "Total": 3},
        {"Board": "Total", "2020": 4, "2021": 1, "Total": 5},
    ]


def test_schema_refuses_a_broken_month():
    from perivigil.schemas import CORPUS_BY_BOARD_MONTH, check

    bad = pd.DataFrame({"source": ["f"], "board": ["b"], "month": ["2020-1"], "n_posts": [1]})
    with pytest.raises(InputError, match="table 'corpus_by_board_month' breaks its schema"):
        check(CORPUS_BY_BOARD_MONTH, bad, "x.csv")


def test_outputs_are_byte_identical_across_runs(tmp_path):
    posts = tmp_path / "posts.parquet"
    _posts().to_parquet(posts)
    digests = []
    for run in ("a", "b"):
        out = SimpleNamespace(
            **{
                k: tmp_path / f"{run}.{ext}"
                for k, ext in (("table", "csv"), ("latex", "tex"), ("png", "png"), ("pdf", "pdf"))
            }
        )
        write_corpus_overview(posts, table_path=out.table, latex_path=out.latex, figure=(out.png, out.pdf))
        digests.append([p.read_bytes() for p in vars(out).values()])
    assert digests[0] == digests[1]
    latex = (tmp_path / "a.tex").read_text()
    assert "\\toprule" in latex and "Santé & 3 & 0 & 3" in latex.replace("\\\\", "")


def test_figures_use_matplotlibs_own_fonts_whatever_the_machine_has():
    """A system DejaVu (Debian's fonts-dejavu) or another clone's in the shared font cache would change the
    PDFs' font subsets, hence their bytes; the figures read matplotlib's bundled copy only."""
    from pathlib import Path

    import matplotlib
    from matplotlib import font_manager

    from perivigil.report.figures import BUNDLED_FONTS

    found = Path(font_manager.findfont("DejaVu Sans"))
    assert found == Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"
    assert all(Path(font.fname).is_relative_to(BUNDLED_FONTS) for font in font_manager.fontManager.ttflist)
