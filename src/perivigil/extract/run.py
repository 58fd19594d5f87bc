"""Run the lexicon and extraction stages from the study configuration (files in, files out)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from perivigil.errors import InputError
from perivigil.extract.drugs import DrugMatcher
from perivigil.extract.gestational_age import trimester_bands
from perivigil.extract.lexicon import build_lexicon
from perivigil.extract.pipeline import EVENT_COLUMNS, EventRow, Extractor, event_rows, posted_date
from perivigil.files import atomic_path
from perivigil.logs import Progress
from perivigil.schemas import LEXICON, MENTIONS, check

LOG = logging.getLogger("perivigil.extract")


def lexicon_from_config(config: Mapping[str, Any], root: Path = Path(".")) -> pd.DataFrame:
    section = config["lexicon"]
    return check(
        LEXICON,
        build_lexicon(root / section["bdpm"], root / section["substances"], root / section["forum_variants"]),
        "lexicon",
    )


def write_lexicon(config: Mapping[str, Any], parquet: Path, tsv: Path) -> pd.DataFrame:
    """The lexicon of the config's ``lexicon`` files as Parquet (for the DAG) and TSV (for people to read)."""
    section = config["lexicon"]
    return write_lexicon_from(
        Path(section["bdpm"]), Path(section["substances"]), Path(section["forum_variants"]), parquet, tsv
    )


def write_lexicon_from(
    bdpm: Path, substances: Path, forum_variants: Path, parquet: Path | str, tsv: Path | str
) -> pd.DataFrame:
    """The lexicon built from its three sources (the BDPM folder, the substances of interest, the
    forum variants) as Parquet (for the DAG) and TSV (for people to read)."""
    lexicon = check(LEXICON, build_lexicon(Path(bdpm), Path(substances), Path(forum_variants)), "lexicon")
    with atomic_path(parquet) as tmp:
        lexicon.to_parquet(tmp, index=False)
    with atomic_path(tsv) as tmp:
        lexicon.to_csv(tmp, sep="\t", index=False, lineterminator="\n")
    LOG.info("lexicon: %d surfaces (%s)", len(lexicon), lexicon["drug_class"].value_counts().to_dict())
    return lexicon


@dataclass(frozen=True)
class ExtractSettings:
    """Config ``extract``: SA at the end of each pregnancy month (months 1 to 9) and the ends of T1
    and T2 in SA (study protocol §3)."""

    months_to_sa: tuple[float, ...]
    t1_max_sa: float
    t2_max_sa: float

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> ExtractSettings:
        """From the validated config's ``extract`` section."""
        return cls(
            tuple(float(v) for v in section["months_to_sa"]), float(section["t1_max_sa"]), float(section["t2_max_sa"])
        )

    def months(self) -> dict[int, float]:
        """Pregnancy month (1-9) -> SA at its end."""
        return {i + 1: v for i, v in enumerate(self.months_to_sa)}

    def trimesters(self) -> dict[int, tuple[float, float]]:
        """Trimester -> (first, last) SA."""
        return trimester_bands(self.t1_max_sa, self.t2_max_sa)


def extractor_from_settings(settings: ExtractSettings, lexicon: pd.DataFrame) -> Extractor:
    """The extractor of the lexicon's drugs with the settings' gestational-age conventions."""
    return Extractor(DrugMatcher(check(LEXICON, lexicon, "lexicon")), settings.months(), settings.trimesters())


def extractor_from_config(config: Mapping[str, Any], lexicon: pd.DataFrame) -> Extractor:
    """:func:`extractor_from_settings` with the settings of the config's ``extract`` section."""
    return extractor_from_settings(ExtractSettings.from_section(config["extract"]), lexicon)


ARROW_MENTIONS = pa.schema(
    [
        ("post_id", pa.string()),
        ("mention_index", pa.int64()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("evidence", pa.string()),
        ("sentence", pa.string()),
        ("surface", pa.string()),
        ("inn", pa.string()),
        ("atc", pa.string()),
        ("drug_class", pa.string()),
        ("route", pa.string()),
        ("matched_by", pa.string()),
        ("status", pa.string()),
        ("person", pa.string()),
        ("person_pregnant", pa.bool_()),
        ("timing", pa.string()),
        ("first_trimester", pa.bool_()),
        ("gestational_age_sa", pa.float64()),
        ("gestational_age_min_sa", pa.float64()),
        ("gestational_age_max_sa", pa.float64()),
        ("gestational_age_source", pa.string()),
        ("gestational_age_text", pa.string()),
        ("dose_mg_day", pa.float64()),
        ("dose_text", pa.string()),
        ("why", pa.string()),
    ]
)


def _mentions_frame(rows: list[EventRow]) -> pd.DataFrame:
    frame = pd.DataFrame([asdict(r) for r in rows], columns=list(EVENT_COLUMNS))
    frame["person_pregnant"] = frame["person_pregnant"].astype("boolean")
    frame["first_trimester"] = frame["first_trimester"].astype(bool)
    for column in ("mention_index", "start", "end"):
        frame[column] = frame[column].astype("int64")
    for column in ("gestational_age_sa", "gestational_age_min_sa", "gestational_age_max_sa", "dose_mg_day"):
        frame[column] = frame[column].astype("float64")
    for column in ARROW_MENTIONS.names:
        if ARROW_MENTIONS.field(column).type == pa.string():
            frame[column] = frame[column].astype(object)
    return frame


def extract_posts_file(posts: Path, lexicon_path: Path, output: Path, settings: ExtractSettings) -> dict[str, int]:
    """Read ``posts.parquet`` row group by row group; write its events to ``mentions.parquet``; return counts."""
    extractor = extractor_from_settings(settings, pd.read_parquet(lexicon_path))
    counts = {"posts": 0, "posts_with_mentions": 0, "mentions": 0, "taken": 0, "truncated": 0}
    source = pq.ParquetFile(posts)
    names = source.schema_arrow.names
    if "text" not in names or "post_id" not in names:
        raise InputError(f"{posts}: expected columns 'post_id' and 'text'")
    columns = ["post_id", "text", *(["created_at"] if "created_at" in names else [])]
    progress = Progress("extract", "posts", total=source.metadata.num_rows)
    with atomic_path(output) as tmp:
        with pq.ParquetWriter(tmp, ARROW_MENTIONS, compression="zstd") as writer:
            for group in range(source.num_row_groups):
                table = source.read_row_group(group, columns=columns)
                dates = table.column("created_at").to_pylist() if "created_at" in columns else [None] * table.num_rows
                rows: list[EventRow] = []
                for post_id, text, created in zip(
                    table.column("post_id").to_pylist(), table.column("text").to_pylist(), dates
                ):
                    post = extractor.extract(text, posted_date(created))
                    counts["posts"] += 1
                    counts["posts_with_mentions"] += bool(post.events)
                    counts["truncated"] += post.truncated
                    found = event_rows(post_id, post)
                    counts["taken"] += sum(r.status == "taken" for r in found)
                    rows.extend(found)
                counts["mentions"] += len(rows)
                frame = check(MENTIONS, _mentions_frame(rows), str(output))
                writer.write_table(pa.Table.from_pandas(frame, schema=ARROW_MENTIONS, preserve_index=False))
                progress.advance(table.num_rows, f"{counts['mentions']:,} drug mentions")
    progress.finish(f"{counts['mentions']:,} drug mentions in {counts['posts_with_mentions']:,} posts")
    LOG.info("extraction: %s", counts)
    return counts


def write_summary(counts: Mapping[str, int], path: Path) -> None:
    import json

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(dict(counts), indent=2, sort_keys=True) + "\n", encoding="utf-8")
