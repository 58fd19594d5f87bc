"""Run the lexicon and extraction stages from the study configuration (files in, files out)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from perivigil.errors import InputError
from perivigil.extract.drugs import DrugMatcher
from perivigil.extract.lexicon import build_lexicon
from perivigil.extract.pipeline import Extractor, PostFacts
from perivigil.files import atomic_path
from perivigil.logs import Progress
from perivigil.models.rules import RuleThresholds, decide, iso_t1_mention, nsaid_late_mention
from perivigil.schemas import LEXICON, MENTIONS, check

LOG = logging.getLogger("perivigil.extract")
MENTION_COLUMNS = tuple(MENTIONS.columns)


def lexicon_from_config(config: Mapping[str, Any], root: Path = Path(".")) -> pd.DataFrame:
    section = config["lexicon"]
    return check(LEXICON, build_lexicon(root / section["bdpm"], root / section["substances"],
                                        root / section["forum_variants"]), "lexicon")


def write_lexicon(config: Mapping[str, Any], parquet: Path, tsv: Path) -> pd.DataFrame:
    """The lexicon as Parquet (for the DAG) and TSV (for people to read)."""
    lexicon = lexicon_from_config(config)
    with atomic_path(parquet) as tmp:
        lexicon.to_parquet(tmp, index=False)
    with atomic_path(tsv) as tmp:
        lexicon.to_csv(tmp, sep="\t", index=False, lineterminator="\n")
    LOG.info("lexicon: %d surfaces (%s)", len(lexicon), lexicon["drug_class"].value_counts().to_dict())
    return lexicon


def extractor_from_config(config: Mapping[str, Any], lexicon: pd.DataFrame) -> Extractor:
    section = config["extract"]
    months = {i + 1: float(v) for i, v in enumerate(section["months_to_sa"])}
    t1, t2 = float(section["t1_max_sa"]), float(section["t2_max_sa"])
    trimesters = {1: (0.0, t1), 2: (t1 + 1, t2), 3: (t2 + 1, 42.0)}
    return Extractor(DrugMatcher(check(LEXICON, lexicon, "lexicon")), months, trimesters)


def thresholds_from_config(config: Mapping[str, Any]) -> RuleThresholds:
    section = config["rules"]
    return RuleThresholds(float(section["iso_t1_max_sa"]), float(section["nsaid_late_min_sa"]),
                          float(section["aspirin_min_mg_day"]))


def mention_rows(post_id: str, facts: PostFacts, thresholds: RuleThresholds) -> list[dict[str, object]]:
    """One row per mention of a post (the columns of ``mentions.parquet``)."""
    rows = []
    for index, m in enumerate(facts.mentions):
        entry, age, dose = m.mention.entry, m.age, m.dose
        rows.append({
            "post_id": post_id, "mention_index": index, "start": m.mention.start, "end": m.mention.end,
            "evidence": m.evidence, "sentence": m.sentence, "surface": entry.surface, "inn": entry.inn,
            "atc": entry.atc, "drug_class": entry.drug_class, "route": m.route, "matched_by": m.mention.matched_by,
            "exposure": m.exposure, "person": m.person, "person_pregnant": m.person_pregnant, "timing": m.timing,
            "first_trimester_cue": m.first_trimester_cue,
            "gestational_age_sa": age.sa if age else None,
            "gestational_age_min_sa": age.sa_min if age else None,
            "gestational_age_max_sa": age.sa_max if age else None,
            "gestational_age_unit": age.unit if age else None,
            "gestational_age_ambiguous": age.ambiguous if age else None,
            "gestational_age_text": m.age_text,
            "dose_mg_day": dose.dose_mg_day if dose else None, "dose_text": m.dose_text,
            "supports_iso_t1": iso_t1_mention(m, facts, thresholds),
            "supports_nsaid_late": nsaid_late_mention(m, facts, thresholds),
        })
    return rows


ARROW_MENTIONS = pa.schema([
    ("post_id", pa.string()), ("mention_index", pa.int64()), ("start", pa.int64()), ("end", pa.int64()),
    ("evidence", pa.string()), ("sentence", pa.string()), ("surface", pa.string()), ("inn", pa.string()),
    ("atc", pa.string()), ("drug_class", pa.string()), ("route", pa.string()), ("matched_by", pa.string()),
    ("exposure", pa.string()), ("person", pa.string()), ("person_pregnant", pa.bool_()), ("timing", pa.string()),
    ("first_trimester_cue", pa.bool_()), ("gestational_age_sa", pa.float64()),
    ("gestational_age_min_sa", pa.float64()), ("gestational_age_max_sa", pa.float64()),
    ("gestational_age_unit", pa.string()), ("gestational_age_ambiguous", pa.bool_()),
    ("gestational_age_text", pa.string()), ("dose_mg_day", pa.float64()), ("dose_text", pa.string()),
    ("supports_iso_t1", pa.bool_()), ("supports_nsaid_late", pa.bool_()),
])


def _mentions_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=MENTION_COLUMNS)
    for column in ("person_pregnant", "gestational_age_ambiguous"):
        frame[column] = frame[column].astype("boolean")
    for column in ("first_trimester_cue", "supports_iso_t1", "supports_nsaid_late"):
        frame[column] = frame[column].astype(bool)
    for column in ("mention_index", "start", "end"):
        frame[column] = frame[column].astype("int64")
    for column in ("gestational_age_sa", "gestational_age_min_sa", "gestational_age_max_sa", "dose_mg_day"):
        frame[column] = frame[column].astype("float64")
    for column in ARROW_MENTIONS.names:
        if ARROW_MENTIONS.field(column).type == pa.string():
            frame[column] = frame[column].astype(object)
    return frame


def extract_posts_file(posts: Path, lexicon_path: Path, output: Path, config: Mapping[str, Any]) -> dict[str, int]:
    """Read ``posts.parquet`` row group by row group; write ``mentions.parquet``; return counts."""
    lexicon = pd.read_parquet(lexicon_path)
    extractor = extractor_from_config(config, lexicon)
    thresholds = thresholds_from_config(config)
    counts = {"posts": 0, "posts_with_mentions": 0, "mentions": 0, "iso_t1": 0, "nsaid_late": 0, "truncated": 0}
    source = pq.ParquetFile(posts)
    if "text" not in source.schema_arrow.names or "post_id" not in source.schema_arrow.names:
        raise InputError(f"{posts}: expected columns 'post_id' and 'text'")
    progress = Progress("extract", "posts", total=source.metadata.num_rows)
    with atomic_path(output) as tmp:
        with pq.ParquetWriter(tmp, ARROW_MENTIONS, compression="zstd") as writer:
            for group in range(source.num_row_groups):
                table = source.read_row_group(group, columns=["post_id", "text"])
                rows: list[dict[str, object]] = []
                for post_id, text in zip(table.column("post_id").to_pylist(), table.column("text").to_pylist()):
                    facts = extractor.extract(text)
                    decision = decide(facts, thresholds)
                    counts["posts"] += 1
                    counts["posts_with_mentions"] += bool(facts.mentions)
                    counts["truncated"] += facts.truncated
                    counts["iso_t1"] += decision.iso_t1
                    counts["nsaid_late"] += decision.nsaid_late
                    rows.extend(mention_rows(post_id, facts, thresholds))
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
