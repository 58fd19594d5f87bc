"""Turn raw JSONL posts into ``posts.parquet``: pseudonymised, masked, normalised, language, duplicates.

Streaming: records are read line by line and written in Parquet row groups of
``row_group_size`` posts, so memory holds one row group plus the duplicate
index and the language of each distinct text, both kept as hashes (see
:mod:`perivigil.preprocess.dedup` and :mod:`perivigil.preprocess.language`).
Thread titles, boards and pseudonyms repeat from post to post: each is worked
out once and kept in a bounded cache.
Two passes over the raw files: the first collects author handles (to mask
them where they appear in text), the second writes the table.

The raw author name, e-mails, phone numbers, URLs and @mentions stop here: the
output holds pseudonyms and placeholders only (study protocol §7).
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from perivigil.collect.records import iter_raw_records
from perivigil.errors import InputError
from perivigil.files import atomic_path
from perivigil.logs import Progress
from perivigil.preprocess.dedup import DuplicateFinder
from perivigil.preprocess.language import LanguageCache, LanguageDetectors
from perivigil.preprocess.mask import HandleMasker, mask_pii
from perivigil.preprocess.normalise import normalise_text
from perivigil.preprocess.pseudonymise import pseudonym
from perivigil.schemas import POSTS, check

LOG = logging.getLogger("perivigil.preprocess")
REPEATED_FIELDS_CACHE = 1 << 16  # distinct titles, boards and handles remembered at once

ARROW_SCHEMA = pa.schema(
    [
        ("post_id", pa.string()),
        ("source", pa.string()),
        ("thread_id", pa.string()),
        ("thread_title", pa.string()),
        ("board", pa.string()),
        ("author_id", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("text", pa.string()),
        ("quote_text", pa.string()),
        ("quote_author_id", pa.string()),
        ("quoted_post_id", pa.string()),
        ("lang", pa.string()),
        ("lang_confidence", pa.float64()),
        ("n_chars", pa.int64()),
        ("masked_emails", pa.int64()),
        ("masked_phones", pa.int64()),
        ("masked_urls", pa.int64()),
        ("masked_mentions", pa.int64()),
        ("masked_handles", pa.int64()),
        ("duplicate_of", pa.string()),
        ("near_duplicate_of", pa.string()),
        ("collected_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class PreprocessSettings:
    """Knobs of preprocessing (config key ``preprocess``); the key comes from the environment."""

    pseudonym_key: bytes
    language_candidates: tuple[str, ...] = ("fr", "en", "es", "it", "de", "pt", "nl", "ar")
    language_min_confidence: float = 0.5
    language_fasttext_min_probability: float = 0.9
    jaccard_threshold: float = 0.8
    shingle_words: int = 3
    num_perm: int = 64
    minhash_seed: int = 1
    row_group_size: int = 10_000


@dataclass
class PreprocessSummary:
    """What preprocessing did, for the corpus report."""

    posts: int = 0
    languages: Counter = field(default_factory=Counter)
    masked: Counter = field(default_factory=Counter)
    exact_duplicates: int = 0
    near_duplicates: int = 0
    quotes: int = 0
    quotes_linked: int = 0
    empty_after_normalisation: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "posts": self.posts,
            "languages": dict(sorted(self.languages.items())),
            "masked": dict(sorted(self.masked.items())),
            "exact_duplicates": self.exact_duplicates,
            "near_duplicates": self.near_duplicates,
            "quotes": self.quotes,
            "quotes_linked_to_a_post": self.quotes_linked,
            "dropped_empty_after_normalisation": self.empty_after_normalisation,
        }


def clean_text(text: str, masker: HandleMasker) -> tuple[str, Counter]:
    """Normalise, then mask personal data and member handles; counts per kind of mask."""
    text, counts = mask_pii(normalise_text(text))
    text, handles = masker.mask(text)
    counts["handles"] += handles
    return text, counts


def iter_records(paths: Sequence[Path]) -> Iterator[tuple[str, dict[str, str]]]:
    """All raw records of all files with their file and line, in file order then line order."""
    for path in paths:
        yield from iter_raw_records(path)


def collect_handles(paths: Sequence[Path]) -> list[str]:
    """Every author and quoted-author handle of the raw files (first pass)."""
    handles: set[str] = set()
    for _, record in iter_records(paths):
        handles.add(record["author"])
        if record.get("quote_author"):
            handles.add(record["quote_author"])
    return sorted(handles)


class _Repeated:
    """Bounded caches of what repeats from post to post: cleaned titles, normalised boards, pseudonyms."""

    def __init__(self, key: bytes, masker: HandleMasker) -> None:
        self.title = functools.lru_cache(REPEATED_FIELDS_CACHE)(lambda title: clean_text(title, masker))
        self.board = functools.lru_cache(REPEATED_FIELDS_CACHE)(normalise_text)
        self.pseudonym = functools.lru_cache(REPEATED_FIELDS_CACHE)(
            lambda author, source: pseudonym(author, source, key)
        )


def _row(record: dict[str, str], masker: HandleMasker, repeated: _Repeated, summary: PreprocessSummary) -> dict:
    source = record["source"]
    text, counts = clean_text(record["text"], masker)
    quote_text, quote_author_id = None, None
    if record.get("quote_text"):
        quote_text, quote_counts = clean_text(record["quote_text"], masker)
        counts.update(quote_counts)
        quote_author_id = repeated.pseudonym(record["quote_author"], source) if record.get("quote_author") else None
    title, title_counts = repeated.title(record["thread_title"])
    counts.update(title_counts)
    summary.masked.update({k: v for k, v in counts.items() if v})
    return {
        "post_id": f"{source}-{record['post_id']}",
        "source": source,
        "thread_id": f"{source}-{record['thread_id']}",
        "thread_title": title,
        "board": repeated.board(record["board"]),
        "author_id": repeated.pseudonym(record["author"], source),
        "created_at": record["created_at"],
        "text": text,
        "quote_text": quote_text,
        "quote_author_id": quote_author_id,
        "quoted_post_id": None,
        "lang": "und",
        "lang_confidence": 0.0,
        "n_chars": len(text),
        "masked_emails": counts["emails"],
        "masked_phones": counts["phones"],
        "masked_urls": counts["urls"],
        "masked_mentions": counts["mentions"],
        "masked_handles": counts["handles"],
        "duplicate_of": None,
        "near_duplicate_of": None,
        "collected_at": record["collected_at"],
    }


def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=ARROW_SCHEMA.names)
    for column in ("created_at", "collected_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601").astype("datetime64[us, UTC]")
    for column in ARROW_SCHEMA.names:
        if ARROW_SCHEMA.field(column).type == pa.string():
            frame[column] = frame[column].astype(object)
    return frame


def preprocess(raw_paths: Sequence[Path], output: Path, settings: PreprocessSettings) -> PreprocessSummary:
    """Write ``output`` (Parquet) from the raw JSONL files; return what was done."""
    raw_paths = [Path(p) for p in raw_paths]
    masker = HandleMasker(collect_handles(raw_paths))
    LOG.info("masking %d member handles in running text", masker.size)
    languages = LanguageCache(
        LanguageDetectors.build(
            settings.language_candidates, settings.language_fasttext_min_probability, settings.language_min_confidence
        )
    )
    repeated = _Repeated(settings.pseudonym_key, masker)
    finder = DuplicateFinder(
        jaccard_threshold=settings.jaccard_threshold,
        shingle_words=settings.shingle_words,
        num_perm=settings.num_perm,
        seed=settings.minhash_seed,
    )
    summary = PreprocessSummary()
    seen: set[str] = set()
    progress = Progress("preprocess", "posts")
    try:
        with atomic_path(output) as tmp:
            with pq.ParquetWriter(tmp, ARROW_SCHEMA, compression="zstd") as writer:
                batch: list[dict] = []
                for where, record in iter_records(raw_paths):
                    row = _row(record, masker, repeated, summary)
                    if row["post_id"] in seen:
                        raise InputError(f"{where}: field 'post_id' {row['post_id']!r} appears twice in the raw files")
                    seen.add(row["post_id"])
                    if not row["text"]:  # only invisible characters: nothing left to read
                        summary.empty_after_normalisation += 1
                        LOG.warning("post %s dropped (empty_after_normalisation)", row["post_id"])
                        continue
                    batch.append(row)
                    if len(batch) == settings.row_group_size:
                        _write_batch(batch, writer, languages, finder, summary, output)
                        progress.advance(len(batch))
                        batch = []
                if summary.posts + len(batch) == 0:
                    files = ", ".join(str(p) for p in raw_paths)
                    raise InputError(
                        f"{files}: no post to preprocess (empty raw files, or every post empty after normalisation)"
                    )
                if batch:
                    _write_batch(batch, writer, languages, finder, summary, output)
                    progress.advance(len(batch))
    finally:
        finder.close()
    progress.finish(f"{summary.exact_duplicates:,} exact and {summary.near_duplicates:,} near duplicates")
    LOG.info("language detected on %d distinct texts of %d posts", languages.detections, summary.posts)
    return summary


def _write_batch(
    batch: list[dict],
    writer: pq.ParquetWriter,
    languages: LanguageCache,
    finder: DuplicateFinder,
    summary: PreprocessSummary,
    output: Path,
) -> None:
    found = finder.observe(
        [
            (row["post_id"], row["thread_id"], row["author_id"], row["text"], row["quote_author_id"], row["quote_text"])
            for row in batch
        ]
    )
    for row, (lang, confidence), duplicates in zip(batch, languages.languages([row["text"] for row in batch]), found):
        row["lang"], row["lang_confidence"] = lang, confidence
        summary.languages[lang] += 1
        row["duplicate_of"] = duplicates.duplicate_of
        row["near_duplicate_of"] = duplicates.near_duplicate_of
        summary.exact_duplicates += row["duplicate_of"] is not None
        summary.near_duplicates += row["near_duplicate_of"] is not None
        if row["quote_text"] is not None:
            summary.quotes += 1
            row["quoted_post_id"] = duplicates.quoted_post_id
            summary.quotes_linked += row["quoted_post_id"] is not None
    frame = check(POSTS, _frame(batch), str(output))
    writer.write_table(pa.Table.from_pandas(frame, schema=ARROW_SCHEMA, preserve_index=False))
    summary.posts += len(batch)
