"""The shards of each source: the unit one collection job reads and writes.

A forum is crawled in one job (its shard is ``posts``: a crawl cannot be cut by date); a
Reddit source in one job per dump file (shard ``RS_2024-01``, ``RC_2024-01``, …, the file's
stem); a Bluesky source in one job per calendar month (shard ``2024-01``); a JSONL export in one
job per file its ``path`` (a file or a glob) names (shard ``export`` for ``export.jsonl``,
files in sorted order). On a cluster the
shards of every source run in parallel (architecture: "Scale"). Each shard writes
``raw/<source>/<shard>.jsonl`` and its counts to
``results/corpus/collection/<source>/<shard>.csv`` (a forum keeps the shorter
``results/corpus/collection/<source>.csv`` it always had).
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FORUM_SHARD = "posts"


def months(since: str, until: str) -> list[str]:
    """Every month from ``since`` to ``until`` (``YYYY-MM``, both included): ``2024-11``..``2025-02`` → 4."""
    year, month = int(since[:4]), int(since[5:7])
    last = (int(until[:4]), int(until[5:7]))
    found = []
    while (year, month) <= last:
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def dump_stem(path: str) -> str:
    """``RC_2024-01`` for ``/data/reddit/RC_2024-01.zst``."""
    name = Path(path).name
    return name[: -len(".zst")] if name.endswith(".zst") else name


def export_files(source: Mapping[str, Any], root: Path | str = ".") -> list[str]:
    """The files of a JSONL source: its ``path``, or every file its glob matches under ``root``, sorted.

    Paths are returned as the pattern writes them (relative ones stay relative to ``root``).
    """
    pattern = str(source["path"])
    if not glob.has_magic(pattern):
        return [pattern]
    return sorted(glob.glob(pattern, root_dir=str(root)))


def shards(source: Mapping[str, Any], root: Path | str = ".") -> list[str]:
    """The shards of one configured source, in the order their posts are preprocessed."""
    kind = source.get("type", "forum")
    if kind == "reddit_dump":
        return [dump_stem(path) for path in source["dumps"]]
    if kind == "bluesky":
        return months(source["since"], source["until"])
    if kind == "jsonl":
        from perivigil.collect.jsonl import shard_name

        return [shard_name(path) for path in export_files(source, root)]
    return [FORUM_SHARD]


def raw_path(source: Mapping[str, Any], shard: str) -> str:
    """Where a shard's raw posts go: ``raw/<source>/<shard>.jsonl``."""
    return f"raw/{source['name']}/{shard}.jsonl"


def report_path(source: Mapping[str, Any], shard: str) -> str:
    """Where a shard's collection counts go (a forum's keep their historical name)."""
    if source.get("type", "forum") == "forum":
        return f"results/corpus/collection/{source['name']}.csv"
    return f"results/corpus/collection/{source['name']}/{shard}.csv"


def export_of(source: Mapping[str, Any], shard: str, root: Path | str = ".") -> str:
    """The export file of a JSONL source's shard."""
    from perivigil.collect.jsonl import shard_name

    for path in export_files(source, root):
        if shard_name(path) == shard:
            return path
    raise KeyError(f"source {source['name']}: no JSONL file for shard {shard!r} (path: {source['path']})")


def dump_of(source: Mapping[str, Any], shard: str) -> str:
    """The dump file of a Reddit source's shard."""
    for path in source["dumps"]:
        if dump_stem(path) == shard:
            return str(path)
    raise KeyError(f"source {source['name']}: no dump file for shard {shard!r}")


def collect_shard(
    source: Mapping[str, Any], shard: str | None, politeness: Mapping[str, Any], output: Path, report_path: Path
) -> Any:
    """Collect one shard of any source by hand (``perivigil collect``); the rules call each connector directly.

    A forum has one shard (``shard`` may be omitted); a Reddit source's shard is a dump's stem
    (``RS_2024-01``), a Bluesky source's a month (``2024-01``), a JSONL source's a file's stem.
    Returns the collection report.
    """
    from perivigil.errors import InputError

    kind = source.get("type", "forum")
    known = shards(source)
    if shard is None and len(known) == 1:
        shard = known[0]
    if shard not in known:
        raise InputError(f"source {source['name']}: --shard {shard!r} is not one of its shards ({', '.join(known)})")
    if kind == "reddit_dump":
        from perivigil.collect.reddit import collect_dump

        return collect_dump(
            Path(dump_of(source, shard)),
            Path(output),
            source=source["name"],
            subreddits=source["subreddits"],
            report_path=Path(report_path),
        )
    if kind == "bluesky":
        from perivigil.collect.bluesky import collect_bluesky

        return collect_bluesky(source, shard, Path(output), Path(report_path))
    if kind == "jsonl":
        from perivigil.collect.jsonl import collect_export

        return collect_export(
            Path(export_of(source, shard)), Path(output), source=source["name"], report_path=Path(report_path)
        )
    from perivigil.collect.run import collect_source

    return collect_source(source, politeness, Path(output), Path(report_path))
