"""The corpus at a glance: posts by source, board and month (table, LaTeX table, figure)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from perivigil.report.figures import save_figure, write_csv, write_latex
from perivigil.schemas import CORPUS_BY_BOARD_MONTH, check


def posts_by_board_month(posts: pd.DataFrame) -> pd.DataFrame:
    """Count posts per (source, board, month of ``created_at`` in UTC); sorted, no empty cells."""
    months = posts["created_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m")
    table = (
        posts.assign(month=months)
        .groupby(["source", "board", "month"], sort=True)
        .size()
        .rename("n_posts")
        .reset_index()
    )
    table["n_posts"] = table["n_posts"].astype("int64")
    return check(CORPUS_BY_BOARD_MONTH, table, "corpus_by_board_month")


def posts_by_board_year(table: pd.DataFrame) -> pd.DataFrame:
    """Boards × years (and a total row and column), from :func:`posts_by_board_month`."""
    years = table.assign(year=table["month"].str[:4])
    wide = years.pivot_table(index="board", columns="year", values="n_posts", aggfunc="sum", fill_value=0)
    wide["Total"] = wide.sum(axis=1)
    wide.loc["Total"] = wide.sum(axis=0)
    wide = wide.astype("int64").reset_index().rename(columns={"board": "Board"})
    wide.columns.name = None
    return wide


def plot_posts_by_board_month(table: pd.DataFrame) -> Figure:
    """Stacked monthly bars, one colour per board (all sources together)."""
    wide = table.pivot_table(index="month", columns="board", values="n_posts", aggfunc="sum", fill_value=0)
    months = pd.period_range(wide.index.min(), wide.index.max(), freq="M").strftime("%Y-%m")
    wide = wide.reindex(months, fill_value=0)
    wide = wide[wide.sum().sort_values(ascending=False).index]  # largest board at the bottom
    figure = Figure(figsize=(10, 4.5))
    axes = figure.subplots()
    bottom = pd.Series(0, index=wide.index)
    colours = [f"C{i}" for i in range(wide.shape[1])]
    for colour, board in zip(colours, wide.columns):
        axes.bar(range(len(wide)), wide[board], bottom=bottom, width=0.9, color=colour, label=board, linewidth=0)
        bottom += wide[board]
    ticks = [i for i, month in enumerate(wide.index) if month.endswith("-01")]
    axes.set_xticks(ticks, [wide.index[i][:4] for i in ticks])
    axes.set_xlim(-1, len(wide))
    axes.set_ylabel("posts per month")
    axes.set_title(f"Corpus: {int(table['n_posts'].sum()):,} posts by board and month".replace(",", "\u202f"))
    axes.legend(fontsize="small", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def write_corpus_overview(
    posts_path: Path | str, *, table_path: Path | str, latex_path: Path | str, figure: tuple[Path | str, Path | str]
) -> pd.DataFrame:
    """Read ``posts.parquet``; write the table of posts by board and month (CSV), by board and year
    (LaTeX) and its figure (PNG, PDF)."""
    posts = pd.read_parquet(posts_path, columns=["source", "board", "created_at"])
    table = posts_by_board_month(posts)
    write_csv(table, table_path)
    write_latex(
        posts_by_board_year(table),
        latex_path,
        caption="Posts of the corpus by board and year.",
        label="tab:corpus-by-board-year",
    )
    save_figure(plot_posts_by_board_month(table), *figure)
    return table
