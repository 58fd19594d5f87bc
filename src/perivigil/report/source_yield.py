"""Source yield: what each source brings, period by period, before anyone annotates a post.

The intern chooses the sources worth annotating, and sizes the annotation sample, from this
table (issue 13). One row per source × month (UTC, like the corpus overview), counting:

- ``posts``: every preprocessed post (duplicates included: they are what the source sends);
- ``french_posts``: posts whose detected language is French (``lang == "fr"``, the study's
  own detection, not the platform's tag);
- ``drug_of_interest_posts``: posts where the lexicon finds isotretinoin, an NSAID or aspirin;
- ``pregnancy_term_posts``: posts holding one of the extractor's pregnancy signals
  (``pregnancy: signals`` of ``extract/resources/cues.yaml``: "enceinte", "grossesse", "SA",
  "test positif", …), matched on the same folded text as the extractor;
- ``candidates_iso`` and ``candidates_nsaid``: the annotation sampling frame's candidates of
  each situation (:func:`perivigil.annotation.sampling.situations`; a post naming both
  counts in both; exact duplicates are not candidates, as in the frame);
- ``rule_iso_t1`` and ``rule_nsaid_late``: posts the rule system labels positive
  (``decisions.parquet``), duplicates included;
- ``exact_duplicates`` and ``near_duplicates``: posts preprocessing marked as such.

A source × month without posts has no row. Every count comes from tables the DAG already
wrote (posts, mentions, decisions): no post is read twice by the extractor.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from perivigil.annotation.sampling import situations
from perivigil.extract.cue_words import cue_words
from perivigil.extract.text import matching_form
from perivigil.models.apply import corpus_labels
from perivigil.report.figures import save_figure, write_csv
from perivigil.schemas import SOURCE_YIELD, check

COUNTS = (
    "posts",
    "french_posts",
    "drug_of_interest_posts",
    "pregnancy_term_posts",
    "candidates_iso",
    "candidates_nsaid",
    "rule_iso_t1",
    "rule_nsaid_late",
    "exact_duplicates",
    "near_duplicates",
)
# The counts drawn in the figure, from the widest to the narrowest.
PLOTTED = {
    "posts": "posts",
    "french_posts": "French",
    "pregnancy_term_posts": "pregnancy term",
    "drug_of_interest_posts": "drug of interest",
    "candidates_iso": "candidates: isotretinoin",
    "candidates_nsaid": "candidates: NSAID / aspirin",
}


def has_pregnancy_term(text: str) -> bool:
    """Whether ``text`` holds one of the extractor's pregnancy signals (folded like the extractor folds)."""
    return cue_words().pregnancy_signals.search(matching_form(text)) is not None


def post_counts(posts: pd.DataFrame, situation: pd.Series, labels: pd.DataFrame) -> pd.DataFrame:
    """The counts of :data:`COUNTS` per (source, UTC month) for ``posts``; ``situation`` (iso, nsaid, both or
    missing) and ``labels`` (the rule system's 0/1) are those of the posts, in their order."""
    frame = posts[["post_id", "source"]].copy()
    frame["period"] = posts["created_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m")
    frame["posts"] = 1
    frame["french_posts"] = (posts["lang"] == "fr").astype(int)
    situation = pd.Series(situation.to_numpy(), index=frame.index)
    frame["drug_of_interest_posts"] = situation.notna().astype(int)
    frame["pregnancy_term_posts"] = posts["text"].map(has_pregnancy_term).astype(int)
    eligible = posts["duplicate_of"].isna()
    frame["candidates_iso"] = (eligible & situation.isin(["iso", "both"])).astype(int)
    frame["candidates_nsaid"] = (eligible & situation.isin(["nsaid", "both"])).astype(int)
    frame["rule_iso_t1"] = labels["iso_t1"].to_numpy()
    frame["rule_nsaid_late"] = labels["nsaid_late"].to_numpy()
    frame["exact_duplicates"] = (~eligible).astype(int)
    frame["near_duplicates"] = posts["near_duplicate_of"].notna().astype(int)
    return frame.groupby(["source", "period"], sort=True)[list(COUNTS)].sum().reset_index()


def yield_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The counts of consecutive batches of posts (:func:`post_counts`) summed per (source, month)."""
    table = pd.concat(parts, ignore_index=True).groupby(["source", "period"], sort=True)[list(COUNTS)].sum()
    table = table.reset_index()
    table[list(COUNTS)] = table[list(COUNTS)].astype("int64")
    return check(SOURCE_YIELD, table, "source_yield")


def source_yield(posts: pd.DataFrame, mentions: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """One row per (source, UTC month) with the counts of :data:`COUNTS`; sorted by source then month.

    ``posts``: post_id, source, created_at, lang, duplicate_of, near_duplicate_of, text;
    ``mentions``: post_id, drug_class; ``decisions``: the long ``decisions.parquet``.
    """
    situation = posts["post_id"].map(situations(mentions))
    return yield_table([post_counts(posts, situation, corpus_labels(decisions, posts["post_id"]))])


def plot_source_yield(table: pd.DataFrame) -> Figure:
    """One panel per source: each count of :data:`PLOTTED` by month (log scale: posts dwarf candidates)."""
    sources = list(dict.fromkeys(table["source"]))
    figure = Figure(figsize=(10, 2.8 * max(len(sources), 1)))
    axes_list = figure.subplots(max(len(sources), 1), 1, squeeze=False)[:, 0]
    for axes, source in zip(axes_list, sources):
        rows = table[table["source"] == source].set_index("period")[list(COUNTS)]
        months = pd.period_range(rows.index.min(), rows.index.max(), freq="M").strftime("%Y-%m")
        rows = rows.reindex(months, fill_value=0)  # a month without posts is drawn at the floor
        for colour, (column, name) in enumerate(PLOTTED.items()):
            axes.plot(
                range(len(rows)), rows[column].clip(lower=0.8), marker="o", markersize=3, color=f"C{colour}", label=name
            )
        axes.set_yscale("log")
        step = max(1, len(rows) // 12)
        axes.set_xticks(range(0, len(rows), step), list(rows.index[::step]), rotation=45, ha="right", fontsize="small")
        axes.set_title(f"{source}: {int(rows['posts'].sum()):,} posts".replace(",", "\u202f"), fontsize="medium")
        axes.set_ylabel("posts per month")
    axes_list[0].legend(fontsize="small", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    return figure


def write_source_yield(
    posts_path: Path | str,
    mentions_path: Path | str,
    decisions_path: Path | str,
    *,
    table_path: Path | str,
    figure: tuple[Path | str, Path | str],
    batch_size: int = 65_536,
) -> pd.DataFrame:
    """Read the corpus tables; write the yield table (CSV) and its figure (PNG, PDF).

    The posts are read batch by batch (their texts are most of the corpus), each batch counted on its own."""
    import pyarrow.parquet as pq

    ids = pd.read_parquet(posts_path, columns=["post_id"])["post_id"]
    mentions = pd.read_parquet(mentions_path, columns=["post_id", "drug_class"])
    situation = ids.map(situations(mentions))
    del mentions
    labels = corpus_labels(pd.read_parquet(decisions_path, columns=["post_id", "label", "value"]), ids)
    columns = ["post_id", "source", "created_at", "lang", "duplicate_of", "near_duplicate_of", "text"]
    parts, start = [], 0
    for batch in pq.ParquetFile(posts_path).iter_batches(batch_size=batch_size, columns=columns):
        posts = batch.to_pandas()
        stop = start + len(posts)
        parts.append(post_counts(posts, situation.iloc[start:stop], labels.iloc[start:stop]))
        start = stop
    if not parts:
        parts = [post_counts(pd.read_parquet(posts_path, columns=columns), situation, labels)]
    table = yield_table(parts)
    write_csv(table, table_path)
    save_figure(plot_source_yield(table), *figure)
    return table
